"""The lead queue: turn matches into leads, one per (listing, mark or GI), updated on re-crawl."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.types import Match
from store.models import Lead, LeadEvent, Listing, utcnow


def record_matches(s: Session, listing: Listing, matches: list[Match], run_id: int | None = None) -> dict:
    """Create or update leads for a listing's matches. Never commits. Returns counts."""
    now = utcnow()
    counts = {"new": 0, "updated": 0}
    existing = {l.target_id: l for l in s.scalars(select(Lead).where(Lead.listing_pk == listing.id))}
    for mt in matches:
        lead = existing.get(mt.target_id)
        if lead is None:
            lead = Lead(listing_pk=listing.id, target_id=mt.target_id, target_kind=mt.target_kind, score=mt.score,
                        reasons=list(mt.reasons), evidence=dict(mt.evidence), status="new", first_seen=now,
                        last_seen=now, first_run_id=run_id, last_run_id=run_id, priority=float(mt.score))
            s.add(lead)
            s.flush()
            s.add(LeadEvent(lead_id=lead.id, actor="system", action="created", to_status="new",
                            note=f"score {mt.score}"))
            counts["new"] += 1
        else:
            lead.score, lead.reasons, lead.evidence = mt.score, list(mt.reasons), dict(mt.evidence)
            lead.last_seen, lead.last_run_id = now, run_id
            counts["updated"] += 1
    return counts
