"""The stored pipeline at scale (issue 17) and re-match of new or changed targets (issue 16.5):
the stored pass gives the same leads as the stateless matcher, bulk import behaves like the
one-by-one path, forked workers change nothing but speed, a newly registered mark finds its
leads among listings stored before it."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from store import repo
from store.db import session_scope
from store.models import Lead, Listing as ListingRow, ListingSnapshot

from .conftest import DEVSET


@pytest.fixture
def text_only(monkeypatch):
    """Word marks and GIs only (no OCR or logo work): fast, and what the stateless match sees."""
    from config.settings import get_settings, reset_settings_cache

    monkeypatch.setenv("MARKWATCH_OCR_ENABLED", "false")
    monkeypatch.setenv("MARKWATCH_LOGO_ENABLED", "false")
    reset_settings_cache()
    return get_settings()


def stateless_leads(wl_path, listings_path, workers=1) -> list[tuple]:
    from matcher.batch import match_file
    from matcher.engine import EngineOptions

    out = io.StringIO()
    match_file(wl_path, listings_path, out, EngineOptions(ocr=False, logos=False), workers=workers,
               err=io.StringIO())
    return out.getvalue()


def as_pairs(jsonl: str) -> set[tuple]:
    return {(d["platform"], d["listing_id"], d["target_id"], d["score"])
            for d in map(json.loads, jsonl.splitlines())}


def stored_pairs(engine) -> set[tuple]:
    with session_scope(engine) as s:
        return set(s.execute(select(ListingRow.platform, ListingRow.listing_id, Lead.target_id, Lead.score)
                             .join(ListingRow, Lead.listing_pk == ListingRow.id)).all())


def test_import_then_pass_gives_the_stateless_leads(db, text_only):
    from pipeline.stages import import_listings_file, match_pending
    from watchlist import load_watchlist

    with session_scope(db) as s:
        repo.upsert_watchlist(s, load_watchlist(DEVSET / "watchlist.yaml"))
    c = import_listings_file(db, DEVSET / "listings.jsonl", chunk=100)  # several chunks
    assert c["new"] > 800 and c["changed"] == 0
    counts = match_pending(db, text_only, batch=64)
    assert counts["listings_matched"] == c["new"]
    want = as_pairs(stateless_leads(DEVSET / "watchlist.yaml", DEVSET / "listings.jsonl"))
    assert want and stored_pairs(db) == want
    # matching again finds nothing to do; re-import of the same file changes nothing
    assert match_pending(db, text_only)["listings_matched"] == 0
    again = import_listings_file(db, DEVSET / "listings.jsonl")
    assert again["new"] == 0 and again["changed"] == 0 and again["unchanged"] == c["new"]
    with session_scope(db) as s:
        assert s.scalar(select(func.count()).select_from(ListingRow).where(ListingRow.match_state != "done")) == 0


def test_bulk_import_keeps_history_and_outcomes_like_one_by_one(db, tmp_path):
    from pipeline.stages import import_listings_file

    lines = [dict(platform="mall", listing_id="A1", title="山河行 夹克", price=100.0, sales=5),
             dict(platform="mall", listing_id="B1", title="普通 夹克", price=10.0),
             "{not json",
             dict(platform="mall", listing_id="A1", title="山河行 夹克", price=60.0, sales=9),  # repeated key
             dict(platform="live", listing_id="A1", title="山河行 直播", price=1.0)]
    f = tmp_path / "l.jsonl"
    f.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                 encoding="utf-8")
    errors = []
    c = import_listings_file(db, f, err=errors.append)
    assert c == {"new": 3, "changed": 1, "unchanged": 0, "bad_lines": 1}
    assert "l.jsonl" in errors[0] and ":3" in errors[0]
    with session_scope(db) as s:
        a1 = s.scalar(select(ListingRow).where(ListingRow.platform == "mall", ListingRow.listing_id == "A1"))
        assert (a1.price, a1.sales, a1.match_state, a1.source) == (60.0, 9, "pending", None)
        assert [(h.price, h.sales) for h in a1.snapshots] == [(100.0, 5), (60.0, 9)]
        a1.match_state = "done"
    # only sales moved: no re-match, one more snapshot; the stored source stays when none is named
    f.write_text(json.dumps(dict(platform="mall", listing_id="A1", title="山河行 夹克", price=60.0, sales=11),
                            ensure_ascii=False) + "\n", encoding="utf-8")
    assert import_listings_file(db, f, source="crawl-x")["unchanged"] == 1
    with session_scope(db) as s:
        a1 = s.scalar(select(ListingRow).where(ListingRow.platform == "mall", ListingRow.listing_id == "A1"))
        assert (a1.sales, a1.match_state, a1.source) == (11, "done", "crawl-x")
        assert s.scalar(select(func.count()).select_from(ListingSnapshot)) == 5


def test_new_mark_is_matched_against_stored_listings(db, text_only):
    """Issue 16.5: a mark registered after the listings were matched finds every lead a full
    match finds, in the next pass, without matching the listings against the other marks again."""
    from pipeline.stages import import_listings_file, match_pending
    from watchlist import load_watchlist

    full = load_watchlist(DEVSET / "watchlist.yaml")
    want = as_pairs(stateless_leads(DEVSET / "watchlist.yaml", DEVSET / "listings.jsonl"))
    late = max({t for _, _, t, _ in want}, key=lambda t: sum(1 for x in want if x[2] == t))  # most leads
    ent = next(e for e in full.enterprises if any(k.id == late for k in e.marks))
    early = full.model_copy(update={"enterprises": [e for e in full.enterprises if e.id != ent.id]})
    with session_scope(db) as s:
        repo.upsert_watchlist(s, early)
    import_listings_file(db, DEVSET / "listings.jsonl")
    match_pending(db, text_only)
    assert not any(t == late for _, _, t, _ in stored_pairs(db))
    with session_scope(db) as s:  # registered by any writer: nothing calls the re-match
        repo.upsert_watchlist(s, full)
    c = match_pending(db, text_only)
    late_marks = {k.id for k in ent.marks}
    assert c["rematch_targets"] == len(late_marks) and c["listings_matched"] == 0
    assert c["rematch_leads_new"] == sum(1 for x in want if x[2] in late_marks) > 0
    assert stored_pairs(db) == want
    # nothing changed since: no re-match; an edited alias re-matches that mark only
    assert "rematch_targets" not in match_pending(db, text_only)
    with session_scope(db) as s:
        from store.models import Mark
        mk = s.get(Mark, late)
        mk.aliases = [*mk.aliases, "ZZQX"]
    c = match_pending(db, text_only)
    assert c["rematch_targets"] == 1 and c["rematch_leads_new"] == 0


def test_rematch_resumes_after_a_kill(db, text_only, monkeypatch):
    from pipeline import stages
    from watchlist import load_watchlist

    full = load_watchlist(DEVSET / "watchlist.yaml")
    with session_scope(db) as s:
        repo.upsert_watchlist(s, full.model_copy(update={"enterprises": full.enterprises[:1]}))
    stages.import_listings_file(db, DEVSET / "listings.jsonl")
    stages.match_pending(db, text_only)
    with session_scope(db) as s:
        repo.upsert_watchlist(s, full)
    calls = {"n": 0}

    def boom(n):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # killed after two committed batches
    with pytest.raises(KeyboardInterrupt):
        stages.rematch(db, text_only, batch=200, progress=boom)
    c = stages.rematch(db, text_only, batch=200)
    assert c["rematch_listings"] < 845 - 300  # resumed from the cursor, not from the start
    want = as_pairs(stateless_leads(DEVSET / "watchlist.yaml", DEVSET / "listings.jsonl"))
    assert stored_pairs(db) == want


def test_workers_change_nothing_but_speed(db, text_only, tmp_path):
    from pipeline.stages import import_listings_file, match_pending
    from watchlist import load_watchlist

    one = stateless_leads(DEVSET / "watchlist.yaml", DEVSET / "listings.jsonl")
    two = stateless_leads(DEVSET / "watchlist.yaml", DEVSET / "listings.jsonl", workers=2)
    assert one == two  # same lines in the same order
    with session_scope(db) as s:
        repo.upsert_watchlist(s, load_watchlist(DEVSET / "watchlist.yaml"))
    import_listings_file(db, DEVSET / "listings.jsonl")
    c = match_pending(db, text_only, batch=50, workers=2)
    assert c["listings_matched"] == 845 - c.get("match_errors", 0)
    assert stored_pairs(db) == as_pairs(one)


def test_rematch_cli_unknown_target_is_named(db, text_only):
    from typer.testing import CliRunner

    from pipeline.cli import app

    r = CliRunner().invoke(app, ["rematch", "--target", "no-such-mark"])
    assert r.exit_code == 2 and "no-such-mark" in r.output


def test_schema_check_reads_the_revision_without_alembic(db):
    from alembic.script import ScriptDirectory

    from store.db import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config(str(db.url))).get_current_head()


def test_officer_commands_start_light(db, tmp_path):
    """`leads list` on an upgraded store imports neither Alembic nor the matcher's heavy parts."""
    import os
    import subprocess
    import sys

    from .conftest import REPO

    code = ("import sys; sys.argv=['markwatch','leads','list']\n"
            "from pipeline.cli import app\n"
            "try: app()\nexcept SystemExit: pass\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'alembic','openpyxl','jieba','scrapy','numpy','rapidfuzz','ahocorasick','PIL'}), file=sys.stderr)")
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert p.returncode == 0, p.stderr
    assert p.stderr.strip().splitlines()[-1] == "[]"


def test_reactivated_mark_is_matched_against_listings_stored_while_inactive(db, text_only, tmp_path):
    from pipeline.stages import import_listings_file, match_pending
    from watchlist import load_watchlist

    full = load_watchlist(DEVSET / "watchlist.yaml")
    want = as_pairs(stateless_leads(DEVSET / "watchlist.yaml", DEVSET / "listings.jsonl"))
    with session_scope(db) as s:
        repo.upsert_watchlist(s, full)
    match_pending(db, text_only)  # no listings yet: the marks' hashes are recorded
    with session_scope(db) as s:  # every mark switched off, then listings arrive and are matched
        from sqlalchemy import update

        from store.models import GeographicalIndication, Mark
        s.execute(update(Mark).values(active=False))
        s.execute(update(GeographicalIndication).values(active=False))
    import_listings_file(db, DEVSET / "listings.jsonl")
    match_pending(db, text_only)
    assert stored_pairs(db) == set()
    with session_scope(db) as s:  # switched on again (same content): matched against what came meanwhile
        repo.upsert_watchlist(s, full)
    c = match_pending(db, text_only)
    assert c["rematch_targets"] > 0
    assert stored_pairs(db) == want


def test_forked_workers_die_with_their_parent(tmp_path):
    """A SIGKILLed pass leaves no matcher worker behind (prctl death signal)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from .conftest import REPO

    pidfile = tmp_path / "child.pid"
    code = ("import os, sys, time\n"
            "from matcher.batch import die_with_parent\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    die_with_parent()\n"
            f"    open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
            "    while True: time.sleep(1)\n"
            "os.waitpid(pid, 0)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 60
    while not (pidfile.exists() and pidfile.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child = int(pidfile.read_text())
    parent.send_signal(signal.SIGKILL)
    parent.wait()

    def alive(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(")")[-1].split()[0] != "Z"
        except FileNotFoundError:
            return False
    while alive(child):
        assert time.monotonic() < deadline, "the worker outlived its killed parent"
        time.sleep(0.05)
