"""Match one new or changed word mark or GI against the listings already stored (issue 15: "a new
or changed mark is matched against the listings already stored, not only future ones").

Word marks and GIs are matched here at once (text only: titles, descriptions, captions and OCR
text already cached; no new OCR, no logo search) over the most recently seen ``limit`` listings.
Logo marks need the logo search over every photo, which is the pass's job: they are matched in the
next pass (``markwatch run``, or ``markwatch rematch`` where available). Commits per batch.
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from store import repo
from store.db import session_scope
from store.models import Lead, Listing, utcnow
from watchlist.model import Watchlist

log = logging.getLogger("markwatch.web.rematch")


def _only(wl: Watchlist, target_ids: set[str]) -> Watchlist:
    ents = []
    for e in wl.enterprises:
        marks = [m for m in e.marks if m.id in target_ids and m.kind == "word"]
        if marks:
            ents.append(e.model_copy(update={"marks": marks}))
    gis = [g for g in wl.geographical_indications if g.id in target_ids]
    return Watchlist(enterprises=ents, geographical_indications=gis, base_dir=wl.base_dir)


def rematch_target(engine: Engine, settings, target_id: str | list[str], limit: int = 20000,
                   batch: int = 500) -> dict:
    """Match word marks / GIs `target_id` (one id or a list: one pass for all) against the most
    recent `limit` stored listings. Returns {"listings": n matched, "leads_new": k,
    "leads_updated": u, "errors": e}; one bad listing is logged and skipped."""
    from alerts.queue import QueueContext, record_matches
    from matcher.engine import EngineOptions, MatchEngine

    with session_scope(engine) as s:
        wl = _only(repo.load_watchlist_from_db(s), {target_id} if isinstance(target_id, str) else set(target_id))
    if not any(True for _ in wl.marks()) and not wl.geographical_indications:
        return {"listings": 0, "leads_new": 0, "leads_updated": 0, "errors": 0}
    me = MatchEngine(wl, EngineOptions(threshold=settings.queue_threshold, ocr=False, logos=False,
                                       cache_dir=settings.resolved_data_dir / "cache"))
    out = {"listings": 0, "leads_new": 0, "leads_updated": 0, "errors": 0}
    ids = {target_id} if isinstance(target_id, str) else set(target_id)
    started = utcnow()
    last = None
    while out["listings"] < limit:
        with session_scope(engine) as s:
            q = select(Listing).where(Listing.status == "active").order_by(Listing.id.desc()).limit(batch)
            if last is not None:
                q = q.where(Listing.id < last)
            rows = list(s.scalars(q))
            if not rows:
                break
            found = []
            for row in rows:
                last = row.id
                try:
                    found.append((row, me.match(repo.to_record(row))))
                except Exception as e:  # one bad listing never stops the rest
                    out["errors"] += 1
                    log.warning("rematch %s: listing %s: %s: %s", target_id, row.id, type(e).__name__, e)
            out["listings"] += len(rows)
            hits = [(r, m) for r, m in found if m]
            if hits:
                ctx = QueueContext.load(s, settings)
                for row, matches in hits:
                    c = record_matches(s, row, matches, None, ctx=ctx)
                    out["leads_new"] += c["new"]
                    out["leads_updated"] += c["updated"]
    with session_scope(engine) as s:  # new leads per target, for each mark's own message
        out["per_target"] = {t: n for t, n in s.execute(
            select(Lead.target_id, func.count()).where(Lead.target_id.in_(ids), Lead.first_seen >= started)
            .group_by(Lead.target_id))}
    return out
