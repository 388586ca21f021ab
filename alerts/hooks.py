"""What the alerts stage does at the end of every pass (called by pipeline/passes.py)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.models import Lead, Listing


def sync_last_seen(s) -> int:
    """A re-crawl of an unchanged listing is not matched again; carry its last_seen to its leads."""
    n = 0
    for lead, li in s.execute(select(Lead, Listing).join(Listing, Lead.listing_pk == Listing.id)
                              .where(Listing.last_seen > Lead.last_seen)):
        lead.last_seen = li.last_seen
        n += 1
    return n


def after_pass(settings, engine: Engine, run_id: int) -> dict:
    from .ranking import rerank_open
    from .sellers import update_key_markets
    from .settings import get_alert_settings

    ast = get_alert_settings()
    with session_scope(engine) as s:
        synced = sync_last_seen(s)
        km = update_key_markets(s, ast.key_market_window_days, ast.key_market_min_shop,
                                ast.key_market_min_platform, language=settings.language)
    with session_scope(engine) as s:  # rank after the key-market list changed
        ranked = rerank_open(s, settings.language, ast.turnover_police)
    return {"leads_seen_again": synced, "leads_ranked": ranked, "key_markets_entered": len(km["entered"]),
            "key_markets_left": len(km["left"]), "key_markets_active": km["active"]}
