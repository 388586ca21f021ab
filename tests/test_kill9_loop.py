"""kill -9 at random points of a real pass against the bundled sandbox (crawl, image fetch,
match, queue, evidence) and of the digest, N trials (default 20, MARKWATCH_KILL_TRIALS). After
every kill the store must be consistent (SQLite integrity, one listing per platform+id, one lead
per listing+target, no orphan rows, evidence ledger chain intact) and nothing stored before may be
lost (listings and leads only grow, lead ids stable). A final uninterrupted pass then completes
everything: every listing matched, every lead with fixed evidence, every killed run 'interrupted'.

The whole process group is killed (the pass, its crawl process and the sandbox site), as a
machine-level kill would. Screenshots and OCR/logo search are off to keep a trial short; pages,
images, hashes and the ledger are on. Figures are printed (run with -s) and written to
$MARKWATCH_KILL_REPORT when set."""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

DRIVER = textwrap.dedent("""
    import sys
    import crawler.evidence as ce
    from config.settings import get_settings
    from crawler.testing import live_source, mall_source
    from pipeline.passes import run_pass

    ce._screenshots = lambda settings, pages, say: {p["out"]: {"ok": False, "error": "screenshots off"} for p in pages}
    srcs = []
    for mk, name in ((mall_source, "k-mall"), (live_source, "k-live")):
        d = mk(None, name=name)
        d["sandbox"].update(listings=int(sys.argv[1]), rooms=3, slow_seconds=0.0)
        srcs.append(d)
    res = run_pass(get_settings(), trigger="cron", sources=[d["name"] for d in srcs], extra_sources=srcs)
    print("RESULT", res.status, res.error, flush=True)
""")
# where to kill: (stage seen on the run record, extra random delay range in seconds)
POINTS = {"crawl": ("crawl", (0.0, 3.0)), "image_fetch": ("crawl", (2.0, 6.0)), "match": ("match", (0.0, 0.4)),
          "queue": ("match", (0.3, 1.5)), "evidence": ("evidence", (0.0, 0.8)), "digest": (None, (0.3, 2.5))}


def _env(data: Path, tmp: Path) -> dict:
    from crawler.sandbox import DEMO_WATCHLIST

    (tmp / "no-sources").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKWATCH_")}
    env.update(MARKWATCH_DATA_DIR=str(data), MARKWATCH_SOURCES_DIR=str(tmp / "no-sources"),
               MARKWATCH_WATCHLIST=str(DEMO_WATCHLIST), MARKWATCH_OCR_ENABLED="false",
               MARKWATCH_LOGO_ENABLED="false", PYTHONPATH=str(REPO))
    return env


def q(data: Path, sql: str):
    con = sqlite3.connect(f"file:{data / 'markwatch.db'}?mode=ro", uri=True, timeout=60)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def stage_of_running(data: Path) -> str | None:
    try:
        rows = q(data, "SELECT counts FROM runs WHERE status='running' ORDER BY id DESC LIMIT 1")
    except sqlite3.OperationalError:
        return None
    return json.loads(rows[0][0] or "{}").get("stage") if rows else None


def check_store(data: Path, env: dict) -> dict:
    """Consistency after a kill; returns what is stored (for the nothing-lost check)."""
    assert q(data, "PRAGMA integrity_check") == [("ok",)]
    assert q(data, "PRAGMA foreign_key_check") == []
    assert q(data, "SELECT platform, listing_id FROM listings GROUP BY 1, 2 HAVING count(*) > 1") == []
    assert q(data, "SELECT listing_pk, target_id FROM leads GROUP BY 1, 2 HAVING count(*) > 1") == []
    assert q(data, "SELECT count(*) FROM leads WHERE listing_pk NOT IN (SELECT id FROM listings)") == [(0,)]
    assert q(data, "SELECT seq FROM evidence_ledger GROUP BY seq HAVING count(*) > 1") == []
    r = subprocess.run([sys.executable, "-m", "pipeline.cli", "evidence", "verify"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"evidence ledger after kill: {r.stdout}{r.stderr}"
    return {"listings": {(p, i) for p, i in q(data, "SELECT platform, listing_id FROM listings")},
            "leads": {tuple(k): lid for *k, lid in q(data, "SELECT l.platform, l.listing_id, d.target_id, d.id "
                                                   "FROM leads d JOIN listings l ON l.id = d.listing_pk")},
            "ledger": q(data, "SELECT count(*) FROM evidence_ledger")[0][0]}


def _kill_group(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait(timeout=60)


def test_kill9_at_random_points_loses_nothing(tmp_path):
    trials = int(os.environ.get("MARKWATCH_KILL_TRIALS", "20"))
    seed = int(os.environ.get("MARKWATCH_KILL_SEED", "16"))
    size = int(os.environ.get("MARKWATCH_KILL_LISTINGS", "24"))
    rng = random.Random(seed)
    data = tmp_path / "var"
    env = _env(data, tmp_path)
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    report: list[dict] = []
    prev = {"listings": set(), "leads": {}, "ledger": 0}
    points = list(POINTS)
    t_start = time.monotonic()
    for trial in range(trials):
        point = points[trial % len(points)] if trial < len(points) else rng.choice(points)
        stage, (lo, hi) = POINTS[point]
        delay = rng.uniform(lo, hi)
        if stage is None:
            cmd = [sys.executable, "-m", "pipeline.cli", "digest", "--no-send", "--output", str(tmp_path / "digest")]
        else:
            cmd = [sys.executable, str(driver), str(size)]
        p = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        t0 = time.monotonic()
        seen = None
        try:
            while stage is not None and p.poll() is None and time.monotonic() - t0 < 600:
                seen = stage_of_running(data)
                if seen == stage:
                    break
                time.sleep(0.05)
            time.sleep(delay)
            killed = p.poll() is None
            at = stage_of_running(data) if stage is not None else "digest"
            _kill_group(p)
        finally:
            if p.poll() is None:
                _kill_group(p)
        now = check_store(data, env)
        assert prev["listings"] <= now["listings"], "listings lost after a kill"
        for k, lid in prev["leads"].items():
            assert now["leads"].get(k) == lid, f"lead {k} lost or re-created after a kill"
        assert now["ledger"] >= prev["ledger"]
        report.append({"trial": trial + 1, "point": point, "delay_s": round(delay, 2), "killed": killed,
                       "stage_at_kill": at, "listings": len(now["listings"]), "leads": len(now["leads"]),
                       "ledger": now["ledger"], "seconds": round(time.monotonic() - t0, 1)})
        prev = now
    # one pass to completion finishes everything the killed passes left
    r = subprocess.run([sys.executable, str(driver), str(size)], cwd=REPO, env=env, capture_output=True, text=True,
                       timeout=900)
    assert "RESULT ok" in r.stdout or "RESULT partial" in r.stdout, r.stdout + r.stderr
    final = check_store(data, env)
    assert q(data, "SELECT count(*) FROM listings WHERE match_state = 'pending'") == [(0,)]
    assert q(data, "SELECT count(*) FROM leads WHERE listing_pk NOT IN "
                   "(SELECT listing_pk FROM evidence_ledger WHERE listing_pk IS NOT NULL)") == [(0,)]
    assert q(data, "SELECT count(*) FROM runs WHERE status = 'running'") == [(0,)]
    for k, lid in prev["leads"].items():
        assert final["leads"].get(k) == lid
    killed_runs = q(data, "SELECT count(*) FROM runs WHERE status = 'interrupted'")[0][0]
    summary = {"trials": trials, "seed": seed, "sandbox_listings": size, "killed_mid_work": sum(x["killed"] for x in report),
               "interrupted_runs": killed_runs, "final_listings": len(final["listings"]), "final_leads": len(final["leads"]),
               "ledger_entries": final["ledger"], "seconds": round(time.monotonic() - t_start, 1), "trials_detail": report}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    if os.environ.get("MARKWATCH_KILL_REPORT"):
        Path(os.environ["MARKWATCH_KILL_REPORT"]).write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    assert sum(x["killed"] for x in report) >= trials // 2, "most kills came after the work was done"
