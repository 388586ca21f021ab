"""Matcher workers of the stored pass (issue 17): on PostgreSQL a batch is claimed
``FOR UPDATE SKIP LOCKED``, so a second worker (another process or host) gets other listings at
once instead of waiting for, or repeating, the first one's batch; forked workers of one pass give
the leads of one process."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from config.listing import Listing as ListingRecord
from store import repo
from store.db import session_scope

from .test_alerts_postgres import pg  # noqa: F401  (fresh scratch database, dropped afterwards)


@pytest.mark.postgres
def test_second_worker_skips_the_batch_the_first_holds(pg):  # noqa: F811
    from pipeline.stages import claim_batch
    from store.db import make_engine, upgrade

    upgrade(pg)
    eng = make_engine(pg)
    try:
        with session_scope(eng) as s:
            repo.upsert_listings(s, [ListingRecord(platform="mall", listing_id=f"L{i}", title=f"标题 {i}")
                                     for i in range(10)])
        with session_scope(eng) as a, session_scope(eng) as b:
            first = claim_batch(a, 4)  # worker A holds these rows until its batch commits
            # worker B must not wait for A's locks: a plain FOR UPDATE would block here
            b.execute(text("SET LOCAL lock_timeout = '3s'"))
            second = claim_batch(b, 4)
            third = claim_batch(b, 4, after_id=second[-1].id)
            ids = [r.id for r in first], [r.id for r in second], [r.id for r in third]
        assert [len(x) for x in ids] == [4, 4, 2]
        assert len(set().union(*map(set, ids))) == 10  # disjoint: every listing claimed once
        with session_scope(eng) as s:  # A's batch is free again once its transaction ends
            assert [r.id for r in claim_batch(s, 4)] == ids[0]
    finally:
        eng.dispose()


def test_pass_with_forked_workers_gives_the_one_process_leads(db, tmp_path, monkeypatch):
    """Two forked matcher workers in the pass on SQLite: every listing matched once, and the
    same leads (scores, reasons) as one process."""
    from sqlalchemy import select

    from config.settings import get_settings, reset_settings_cache
    from pipeline.stages import import_listings_file, match_pending
    from store.db import make_engine, upgrade
    from store.models import Lead, Listing as ListingRow
    from watchlist.loader import parse_watchlist_yaml

    monkeypatch.setenv("MARKWATCH_OCR_ENABLED", "false")
    monkeypatch.setenv("MARKWATCH_LOGO_ENABLED", "false")
    reset_settings_cache()
    st = get_settings()
    wl = parse_watchlist_yaml("""
enterprises:
  - id: e1
    name: 山河行服饰有限公司
    marks: [{id: m1, kind: word, text: 山河行, aliases: [SHANHEXING], nice_classes: [25]}]
""")
    import json

    f = tmp_path / "l.jsonl"
    f.write_text("\n".join(json.dumps({"platform": "mall", "listing_id": f"L{i}", "category": "服装/夹克",
                                       "title": f"山河行 夹克 高仿 {i}" if i % 4 == 0 else f"普通 夹克 {i}"},
                                      ensure_ascii=False) for i in range(200)) + "\n", encoding="utf-8")

    def leads(engine, workers):
        with session_scope(engine) as s:
            repo.upsert_watchlist(s, wl)
        import_listings_file(engine, f)
        c = match_pending(engine, st, batch=16, workers=workers)
        with session_scope(engine) as s:
            rows = sorted(s.execute(select(ListingRow.listing_id, Lead.target_id, Lead.score, Lead.reasons)
                                    .join(ListingRow, Lead.listing_pk == ListingRow.id)).all())
        return c, [tuple(r[:3]) + (tuple(r[3]),) for r in rows]

    other = tmp_path / "one.db"
    upgrade(f"sqlite:///{other}")
    one_eng = make_engine(f"sqlite:///{other}")
    try:
        c1, one = leads(one_eng, 1)
    finally:
        one_eng.dispose()
    c2, two = leads(db, 2)
    assert c1["listings_matched"] == c2["listings_matched"] == 200
    assert c1["leads_new"] == c2["leads_new"] == len(one) == 50
    assert two == one
