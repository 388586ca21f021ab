"""The lead queue: turn matches into leads, one per (listing, mark or GI), updated on re-crawl.

A new lead is ranked (alerts/ranking.py), assigned to a bureau (alerts/jurisdiction.py), linked
to the lead of a listing it relists (alerts/relisting.py) and suppressed when an officer's
verdict says the seller or phrase is legitimate (alerts/suppress.py). Never commits.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.types import Match
from store.models import Lead, LeadEvent, Listing, Suppression, utcnow

from .jurisdiction import Bureaus, BureauConfigError, configured_bureaus
from .ranking import RankContext, apply_rank
from .relisting import find_relisted
from .suppress import find_rule, suppress_lead, active_rules

log = logging.getLogger("markwatch.queue")

GONE_REFRESH_S = 60.0  # seconds a pass keeps its set of sellers with gone listings before re-reading it


@dataclass
class QueueContext:
    rank: RankContext
    rules: list[Suppression]
    bureaus: Bureaus | None
    language: str = "zh-CN"
    gone: tuple = (set(), set())
    gone_read_at: float = field(default_factory=time.monotonic)  # when `gone` was read (monotonic s)

    @classmethod
    def load(cls, s: Session, settings=None) -> "QueueContext":
        from config.settings import get_settings

        from .settings import get_alert_settings

        st = settings or get_settings()
        ast = get_alert_settings()
        try:
            bureaus = configured_bureaus(st, ast)
        except BureauConfigError as e:  # a bad bureaus file must not stop matching
            log.error("jurisdiction not assigned: %s", e)
            bureaus = None
        from store.models import utcnow as _now

        from .relisting import gone_sellers

        return cls(RankContext.load(s, st.language, ast.turnover_police), active_rules(s), bureaus, st.language,
                   gone_sellers(s, _now()))

    def refresh(self, s: Session) -> "QueueContext":
        """Re-read what changes under a long pass and must be bound to session `s`: the
        suppression rules (ORM rows whose hit counts are updated), and the sellers with gone
        listings when they were read more than :data:`GONE_REFRESH_S` ago (that query scans the
        listings: per 1,000-listing batch it cost more than matching the batch; a listing only
        becomes gone by a crawl marking it removed or by a day passing). The rest (targets, key
        shops, verdicts, bureaus) is read once per pass."""
        from store.models import utcnow as _now

        from .relisting import gone_sellers

        self.rules = active_rules(s)
        if time.monotonic() - self.gone_read_at >= GONE_REFRESH_S:
            self.gone = gone_sellers(s, _now())
            self.gone_read_at = time.monotonic()
        return self


def assign_jurisdiction(lead: Lead, listing: Listing, ctx: QueueContext) -> None:
    if ctx.bureaus is None:
        return
    bid, why = ctx.bureaus.assign(listing.seller_location, ctx.language)
    lead.jurisdiction = bid
    lead.priority_reasons = [r for r in (lead.priority_reasons or [])
                             if not r.startswith(("卖家所在地", "seller location"))] + [why]


def record_matches(s: Session, listing: Listing, matches: list[Match], run_id: int | None = None,
                   ctx: QueueContext | None = None) -> dict:
    """Create or update leads for a listing's matches. Never commits. Returns counts."""
    ctx = ctx or QueueContext.load(s)
    with s.no_autoflush:  # flushed once per batch by the caller's commit
        return _record(s, listing, matches, run_id, ctx)


def record_batch(s: Session, items: list[tuple[Listing, list[Match]]], run_id: int | None,
                 ctx: QueueContext) -> dict:
    """:func:`record_matches` for many listings at once: their existing leads are read in one
    query (per 500 listings) and the new leads are flushed together. Listings without matches
    cost nothing. Never commits. Returns summed counts {new, updated, suppressed, relisted}."""
    counts = {"new": 0, "updated": 0, "suppressed": 0, "relisted": 0}
    items = [(li, ms) for li, ms in items if ms]
    if not items:
        return counts
    existing: dict[int, dict[str, Lead]] = {}
    pks = [li.id for li, _ in items]
    for i in range(0, len(pks), 500):
        for lead in s.scalars(select(Lead).where(Lead.listing_pk.in_(pks[i:i + 500]))):
            existing.setdefault(lead.listing_pk, {})[lead.target_id] = lead
    with s.no_autoflush:
        for li, ms in items:
            c = _record(s, li, ms, run_id, ctx, existing.get(li.id, {}))
            for k in counts:
                counts[k] += c[k]
    return counts


def _record(s: Session, listing: Listing, matches: list[Match], run_id: int | None, ctx: QueueContext,
            existing: dict[str, Lead] | None = None) -> dict:
    now = utcnow()
    counts = {"new": 0, "updated": 0, "suppressed": 0, "relisted": 0}
    if existing is None:
        existing = {l.target_id: l for l in s.scalars(select(Lead).where(Lead.listing_pk == listing.id))}
    for mt in matches:
        lead = existing.get(mt.target_id)
        if lead is None:
            lead = Lead(listing_pk=listing.id, target_id=mt.target_id, target_kind=mt.target_kind, score=mt.score,
                        reasons=list(mt.reasons), evidence=dict(mt.evidence), status="new", first_seen=now,
                        last_seen=now, first_run_id=run_id, last_run_id=run_id, priority=float(mt.score),
                        priority_reasons=[])
            lead.events.append(LeadEvent(at=now, actor="system", action="created", to_status="new",
                                         note=f"score {mt.score}" + (f", run {run_id}" if run_id else "")))
            s.add(lead)
            counts["new"] += 1
            rel = find_relisted(s, listing, mt.target_id, ctx.gone)
            if rel is not None:
                old, why = rel
                lead.related_lead_id = old.id
                lead.events.append(LeadEvent(at=now, actor="system", action="linked", from_status="new", to_status="new",
                                             note=f"relisting of lead #{old.id} (listing {old.listing.platform}/"
                                                  f"{old.listing.listing_id}, same seller, same "
                                                  f"{'title' if why == 'title' else 'images'})"))
                counts["relisted"] += 1
            rule = find_rule(ctx.rules, listing, mt.target_id)
            if rule is not None:
                suppress_lead(s, lead, rule, ctx.language)
                counts["suppressed"] += 1
        else:
            lead.score, lead.reasons, lead.evidence = mt.score, list(mt.reasons), dict(mt.evidence)
            lead.last_seen, lead.last_run_id = now, run_id
            counts["updated"] += 1
        assign_jurisdiction(lead, listing, ctx)
        apply_rank(s, lead, listing, ctx.rank)
    return counts
