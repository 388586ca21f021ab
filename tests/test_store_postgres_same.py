"""The same listings give the same leads on PostgreSQL as on SQLite (issue 17): bulk import,
the pass with two forked matcher workers (FOR UPDATE SKIP LOCKED on PostgreSQL) and the
re-match of a mark registered later, on both databases side by side."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from store import repo
from store.db import session_scope
from store.models import Lead, Listing as ListingRow

from .conftest import DEVSET
from .test_alerts_postgres import pg  # noqa: F401  (fresh scratch database, dropped afterwards)

pytestmark = pytest.mark.postgres


def lead_rows(engine) -> list[tuple]:
    with session_scope(engine) as s:
        return sorted(s.execute(select(ListingRow.platform, ListingRow.listing_id, Lead.target_id, Lead.target_kind,
                                       Lead.score, Lead.status, Lead.priority)
                                .join(ListingRow, Lead.listing_pk == ListingRow.id)).all())


def fill(engine, settings, workers: int) -> dict:
    from pipeline.stages import import_listings_file, match_pending
    from watchlist import load_watchlist

    full = load_watchlist(DEVSET / "watchlist.yaml")
    with session_scope(engine) as s:  # the first enterprise is registered after the first pass
        repo.upsert_watchlist(s, full.model_copy(update={"enterprises": full.enterprises[1:]}))
    imp = import_listings_file(engine, DEVSET / "listings.jsonl", chunk=300)
    first = match_pending(engine, settings, batch=100, workers=workers)
    with session_scope(engine) as s:
        repo.upsert_watchlist(s, full)
    second = match_pending(engine, settings, batch=100, workers=workers)
    return {"import": imp, "first": first["listings_matched"], "rematch": second.get("rematch_leads_new")}


def test_same_leads_on_postgresql_and_sqlite(db, pg, monkeypatch):  # noqa: F811
    from config.settings import get_settings, reset_settings_cache
    from store.db import make_engine, upgrade

    monkeypatch.setenv("MARKWATCH_OCR_ENABLED", "false")
    monkeypatch.setenv("MARKWATCH_LOGO_ENABLED", "false")
    monkeypatch.delenv("MARKWATCH_DATABASE_URL")
    reset_settings_cache()
    st = get_settings()
    assert db.dialect.name == "sqlite"
    lite = fill(db, st, workers=1)

    upgrade(pg)
    pge = make_engine(pg)
    try:
        assert pge.dialect.name == "postgresql"
        on_pg = fill(pge, st, workers=2)
        assert on_pg == lite and lite["rematch"]
        rows = lead_rows(pge)
        assert rows and rows == lead_rows(db)
    finally:
        pge.dispose()
