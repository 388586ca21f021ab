"""Unattended passes as real processes: the database run lock between two `markwatch run`s,
and passes killed with SIGKILL mid-crawl and mid-match, then re-run: nothing lost or duplicated."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from tests.test_alerts_support import MARKWATCH, REPO, env_for, run_cli

DEVSET = REPO.parent / "shared" / "devset"
pytestmark = pytest.mark.skipif(not (DEVSET / "listings.jsonl").is_file(), reason="devset not available")


def big_listings(path: Path, copies: int) -> int:
    """The devset listings `copies` times under new ids (no URLs or images: nothing to fetch)."""
    rows = [json.loads(l) for l in (DEVSET / "listings.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for c in range(copies):
            for r in rows:
                r2 = {**r, "listing_id": f"{r['listing_id']}-{c}", "url": "", "images": []}
                f.write(json.dumps(r2, ensure_ascii=False) + "\n")
                n += 1
    return n


def q(data: Path, sql: str, *args):
    con = sqlite3.connect(data / "markwatch.db", timeout=60)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def wait_for(cond, proc: subprocess.Popen, what: str, timeout: float = 300.0):
    """Poll the database until `cond()` holds (the process must still be running)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = cond()
        except sqlite3.OperationalError:  # schema not there yet
            v = None
        if v:
            return v
        if proc.poll() is not None:
            raise AssertionError(f"process ended (exit {proc.returncode}) before {what}: "
                                 f"{proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def prepare(data: Path, tmp: Path, copies: int, import_listings: bool = True) -> tuple[Path, int]:
    r = run_cli(data, "watchlist", "import", str(DEVSET / "watchlist.yaml"))
    assert r.returncode == 0, r.stderr
    f = tmp / "big.jsonl"
    n = big_listings(f, copies)
    if import_listings:
        r = run_cli(data, "listings", "import", str(f))
        assert r.returncode == 0, r.stderr
    return f, n


def reference_leads(data: Path, listings: Path, tmp: Path) -> set[tuple[str, str]]:
    """What the matcher alone finds in the file: the leads a complete pass must have stored."""
    out = tmp / "ref-leads.jsonl"
    r = run_cli(data, "match", "--watchlist", str(DEVSET / "watchlist.yaml"), "--listings", str(listings),
                "--output", str(out), "--no-ocr", "--no-logos")
    assert r.returncode == 0, r.stderr
    return {(d["listing_id"], d["target_id"]) for d in map(json.loads, out.read_text(encoding="utf-8").splitlines())}


def stored_leads(data: Path) -> list[tuple]:
    return q(data, "SELECT l.listing_id, d.target_id, d.id, d.first_run_id FROM leads d "
                   "JOIN listings l ON l.id = d.listing_pk")


def test_two_concurrent_runs_one_waits_or_exits_3(tmp_path):
    data = tmp_path / "var"
    prepare(data, tmp_path, copies=6)
    a = subprocess.Popen(MARKWATCH + ["run", "--no-crawl"], cwd=REPO, env=env_for(data), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        holder = wait_for(lambda: q(data, "SELECT pid, run_id FROM run_locks WHERE name='pass' AND run_id IS NOT NULL"), a, "the lock")
        assert holder[0][0] == a.pid
        b = run_cli(data, "run", "--no-crawl")
        assert a.poll() is None, "the first pass ended too early for this test; use more listings"
        assert b.returncode == 3
        assert f"another pass is running (run {holder[0][1]}, pid {a.pid}" in b.stderr
        assert "not starting a second pass" in b.stderr
        # a third pass that may wait starts once the first one is done
        c = subprocess.Popen(MARKWATCH + ["run", "--no-crawl", "--wait", "600"], cwd=REPO, env=env_for(data),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        c_out, c_err = c.communicate(timeout=900)
        a_out, _ = a.communicate(timeout=900)
    finally:
        if a.poll() is None:
            a.kill()
    assert a.returncode == 0 and c.returncode == 0, c_err
    runs = q(data, "SELECT id, status, started_at, finished_at FROM runs ORDER BY id")
    assert [r[1] for r in runs] == ["ok", "ok"]  # the refused pass left no run record
    assert runs[1][2] >= runs[0][3]  # the waiting pass started after the first finished
    assert "matched 0" in c_out and "leads new 0" in c_out
    assert q(data, "SELECT count(*) FROM run_locks") == [(0,)]


def test_sigkill_mid_match_then_rerun_completes(tmp_path):
    data = tmp_path / "var"
    f, n = prepare(data, tmp_path, copies=6)
    p = subprocess.Popen(MARKWATCH + ["run", "--no-crawl", "-q"], cwd=REPO, env=env_for(data),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: any(json.loads(c or "{}").get("listings_matched", 0) >= 600
                             for (c,) in q(data, "SELECT counts FROM runs WHERE status='running'")), p, "match progress")
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    done = q(data, "SELECT count(*) FROM listings WHERE match_state='done'")[0][0]
    assert 600 <= done < n, "killed too late for a mid-match test"
    before = {(l, t): (i, r) for l, t, i, r in stored_leads(data)}
    assert before and q(data, "SELECT status FROM runs") == [("running",)]
    assert q(data, "SELECT count(*) FROM run_locks") == [(1,)]  # the dead holder's lock is still there
    r = run_cli(data, "run", "--no-crawl", "-q")
    assert r.returncode == 0, r.stderr
    assert q(data, "SELECT id, status FROM runs ORDER BY id") == [(1, "interrupted"), (2, "ok")]
    assert q(data, "SELECT count(*) FROM listings WHERE match_state != 'done'") == [(0,)]
    after = {(l, t): (i, rr) for l, t, i, rr in stored_leads(data)}
    assert len(after) == len(stored_leads(data))  # one lead per (listing, target)
    for k, v in before.items():  # nothing stored before the kill was lost or re-created
        assert after[k] == v
    assert set(after) == reference_leads(data, f, tmp_path)
    # evidence for the leads of the killed run was fixed by the next pass
    assert q(data, "SELECT count(DISTINCT d.listing_pk) FROM leads d WHERE d.listing_pk NOT IN "
                   "(SELECT listing_pk FROM evidence_ledger WHERE listing_pk IS NOT NULL)") == [(0,)]
    show = run_cli(data, "runs", "show", "1")
    assert "interrupted" in show.stdout and "killed" in show.stdout


CRAWL_SCRIPT = textwrap.dedent("""
    import sys
    import crawler.runner as runner
    from config.settings import get_settings
    from matcher.listing import read_listings
    from pipeline.passes import run_pass
    from store.db import make_engine, session_scope
    from store.repo import upsert_listing

    def fake_crawl(settings, run_id=None, only=None, extra_sources=None, say=print):
        # stands in for the crawler: stores listings page by page (a commit per 25)
        eng = make_engine(settings=settings)
        items = list(read_listings(sys.argv[1]))
        c = {"new": 0, "changed": 0, "unchanged": 0}
        for i in range(0, len(items), 25):
            with session_scope(eng) as s:
                for it in items[i:i + 25]:
                    c[upsert_listing(s, it, run_id=run_id, source="fake")[1]] += 1
        return c

    runner.crawl = fake_crawl
    res = run_pass(get_settings(), trigger="cron")
    print(res.status, res.counts.get("crawl_new"), res.counts.get("listings_matched"))
""")


def test_sigkill_mid_crawl_then_rerun_completes(tmp_path):
    data = tmp_path / "var"
    f, n = prepare(data, tmp_path, copies=6, import_listings=False)
    script = tmp_path / "pass_with_fake_crawl.py"
    script.write_text(CRAWL_SCRIPT, encoding="utf-8")
    cmd = [MARKWATCH[0], str(script), str(f)]
    p = subprocess.Popen(cmd, cwd=REPO, env=env_for(data), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: q(data, "SELECT count(*) FROM listings")[0][0] >= 500, p, "crawl progress")
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    stored = q(data, "SELECT count(*) FROM listings")[0][0]
    assert 500 <= stored < n, "killed too late for a mid-crawl test"
    (counts,) = q(data, "SELECT counts FROM runs")[0]
    assert json.loads(counts)["stage"] == "crawl"
    assert q(data, "SELECT count(*) FROM leads") == [(0,)]
    first_seen = dict(q(data, "SELECT listing_id, first_seen FROM listings"))
    r = subprocess.run(cmd, cwd=REPO, env=env_for(data), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:3] == ["ok", str(n - stored), str(n)]
    assert q(data, "SELECT count(*), count(DISTINCT platform || '/' || listing_id) FROM listings") == [(n, n)]
    assert q(data, "SELECT count(*) FROM listing_snapshots") == [(n,)]  # no duplicate history either
    for lid, fs in q(data, "SELECT listing_id, first_seen FROM listings"):
        if lid in first_seen:
            assert fs == first_seen[lid]  # what was stored before the kill is kept as it was
    assert q(data, "SELECT id, status FROM runs ORDER BY id") == [(1, "interrupted"), (2, "ok")]
    got = {(l, t) for l, t, _, _ in stored_leads(data)}
    assert got == reference_leads(data, f, tmp_path)
