"""`markwatch run` over stored listings: leads queued once, a second run duplicates nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO
from tests.test_cli_match import WATCHLIST, listing

MARKWATCH = [sys.executable, "-m", "pipeline.cli"]


def mw(*args, env=None):
    return subprocess.run(MARKWATCH + list(args), cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MARKWATCH_OCR_ENABLED": "false", **(env or {})})


def test_run_twice_does_not_duplicate(tmp_path):
    wl = tmp_path / "wl.yaml"
    wl.write_text(WATCHLIST, encoding="utf-8")
    li = tmp_path / "l.jsonl"
    li.write_text("\n".join([listing(1, "山河行 夹克 高仿"), listing(2, "普通 夹克"), listing(3, "山河行同款 外套")]) + "\n",
                  encoding="utf-8")
    assert mw("watchlist", "import", str(wl)).returncode == 0
    assert "3 new" in mw("listings", "import", str(li)).stdout
    r1 = mw("run", "--no-crawl")
    assert r1.returncode == 0, r1.stderr
    assert "matched 3" in r1.stdout
    assert mw("listings", "import", str(li)).stdout.count("3 unchanged") == 1
    r2 = mw("run", "--no-crawl")
    assert r2.returncode == 0 and "matched 0" in r2.stdout and "leads new 0" in r2.stdout
    out = tmp_path / "leads.jsonl"
    assert mw("leads", "export", "--format", "jsonl", str(out)).returncode == 0
    rows = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    keys = [(r["platform"], r["listing_id"], r["target_id"]) for r in rows]
    assert len(keys) == len(set(keys)) >= 1
    assert {"L1"} <= {r["listing_id"] for r in rows} and "L2" not in {r["listing_id"] for r in rows}
    for r in rows:
        assert {"listing_id", "platform", "target_id", "target_kind", "score", "reasons", "kind", "url", "title",
                "seller_name", "status", "first_seen", "last_seen"} <= set(r)
    runs = mw("runs", "list").stdout.splitlines()
    assert len(runs) == 2 and all("\tok\t" in r for r in runs)


def test_bad_database_url_is_a_clear_error(tmp_path):
    r = mw("leads", "list", env={"MARKWATCH_DATABASE_URL": "postgresql+psycopg://127.0.0.1:1/none"})
    assert r.returncode != 0 and "cannot open database" in r.stderr


def test_pass_imports_the_good_rows_of_a_watchlist_with_a_bad_one(tmp_path):
    """MARKWATCH_WATCHLIST with one bad mark: the pass imports the others, names the bad row as a
    run failure (file, line, field) and ends 'partial', not 'failed' (review 2026-11-30)."""
    wl = tmp_path / "wl.yaml"
    wl.write_text(WATCHLIST + "      - {id: tm-bad, kind: word, text: 坏行, nice_classes: [99]}\n"
                  "      - {id: tm-sh2, kind: word, text: 云岭行, nice_classes: [25]}\n", encoding="utf-8")
    li = tmp_path / "l.jsonl"
    li.write_text("\n".join([listing(1, "山河行 夹克 高仿"), listing(2, "云岭行 夹克 高仿")]) + "\n", encoding="utf-8")
    env = {"MARKWATCH_WATCHLIST": str(wl), "MARKWATCH_DATA_DIR": str(tmp_path / "var")}
    assert "2 new" in mw("listings", "import", str(li), env=env).stdout
    r = mw("run", "--no-crawl", env=env)
    assert r.returncode in (0, 1), r.stderr
    out = tmp_path / "leads.jsonl"
    assert mw("leads", "export", "--format", "jsonl", str(out), env=env).returncode == 0
    got = {json.loads(l)["target_id"] for l in out.read_text(encoding="utf-8").splitlines()}
    assert got == {"tm-sh", "tm-sh2"}
    runs = mw("runs", "list", env=env).stdout.splitlines()
    assert len(runs) == 1 and "\tpartial\t" in runs[0]
    show = mw("runs", "show", runs[0].split("\t")[0], env=env).stdout
    assert "watchlist_row" in show and "wl.yaml:8" in show and "tm-bad" in show
