"""`markwatch demo` end to end on a small sandbox, then `markwatch run` as cron would call it."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys

import pytest
import yaml

from tests.conftest import CHROMIUM, REPO

pytestmark = pytest.mark.slow


def small_sources(tmp_path, listings=150, rooms=4):
    d = tmp_path / "sources"
    d.mkdir()
    for name in ("sandbox-mall.yaml", "sandbox-live.yaml"):
        cfg = yaml.safe_load((REPO / "config" / "sources" / name).read_text(encoding="utf-8"))
        cfg["sandbox"].update({"listings": listings, "rooms": rooms})
        if "slow_seconds" in cfg["sandbox"]:
            cfg["sandbox"]["slow_seconds"] = 0.2
        (d / name).write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return d


def test_demo_then_cron_run(tmp_path, isolated_settings):
    env = {**os.environ, "MARKWATCH_DATA_DIR": str(isolated_settings),
           "MARKWATCH_SOURCES_DIR": str(small_sources(tmp_path))}
    mw = [sys.executable, "-m", "pipeline.cli"]
    p = subprocess.run(mw + ["demo"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    new_listings = int(re.search(r"listings crawled this pass: (\d+) new", out).group(1))
    new_leads = int(re.search(r"leads queued this pass: (\d+) new", out).group(1))
    assert new_listings >= 100 and new_leads >= 10
    assert re.search(r"top 5 leads:\n(  #\d+ \[\d+\] .+\n){5}", out)
    assert str(isolated_settings) in out
    db = isolated_settings / "markwatch.db"
    con = sqlite3.connect(db)
    kinds = {k for (k,) in con.execute("select distinct l.kind from leads d join listings l on l.id = d.listing_pk")}
    assert "listing" in kinds
    if CHROMIUM:
        assert "live" in kinds  # live-room product cards rendered by the browser became leads
    leads_before = con.execute("select count(*) from leads").fetchone()[0]
    listings_before = con.execute("select count(*) from listings").fetchone()[0]
    con.close()
    # cron's plain `markwatch run` works against the same sandbox sources and duplicates nothing
    r = subprocess.run(mw + ["run", "--trigger", "cron", "-q"], cwd=REPO, env=env, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    con = sqlite3.connect(db)
    assert con.execute("select count(*) from listings").fetchone()[0] == listings_before
    dupes = con.execute("select count(*) from (select listing_pk, target_id from leads group by 1, 2 having count(*) > 1)").fetchone()[0]
    assert dupes == 0
    assert con.execute("select count(*) from leads").fetchone()[0] >= leads_before
    assert [s for (s,) in con.execute("select trigger from runs order by id")] == ["demo", "cron"]
    con.close()


def test_demo_accounts_say_when_earlier_passwords_stop_working(isolated_settings, capsys):
    """Re-running the demo resets the demo passwords; it says so (review 2026-11-30), and only then."""
    from pipeline.cli_demo import _console_accounts
    from store.db import ensure_schema, make_engine, session_scope
    from store.watchlist_ids import import_watchlist
    from watchlist import load_watchlist

    isolated_settings.mkdir(parents=True)
    eng = make_engine()
    ensure_schema(eng)
    wl = load_watchlist(REPO / "crawler" / "sandbox" / "demo_watchlist.yaml")
    with session_scope(eng) as s:
        import_watchlist(s, wl, "demo_watchlist.yaml")
    _console_accounts(eng, wl)
    first = capsys.readouterr().out
    _console_accounts(eng, wl)
    second = capsys.readouterr().out
    assert "demo-officer /" in first and "no longer work" not in first
    assert "no longer work" in second
    assert re.search(r"demo-officer / (\S+)", first).group(1) != re.search(r"demo-officer / (\S+)", second).group(1)
