"""Read side of the console: who may see what, and the paged lead queue.

Visibility (issue 15): admins and officers see everything; a holder sees the leads of the marks of
the enterprise they are bound to, plus GIs they registered (``web_holder_gis``) or are bound to
(a GI authority's account is bound to the GI id). ``visible_targets`` returns None for "all".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from store.models import (Enterprise, GeographicalIndication, HolderGI, Lead, Listing, Mark, WebUser)

SORTS = {"priority": (Lead.priority.desc(), Lead.score.desc(), Lead.id.desc()),
         "score": (Lead.score.desc(), Lead.id.desc()),
         "newest": (Lead.first_seen.desc(), Lead.id.desc()),
         "price": (Listing.price.asc(), Lead.id.desc())}
OPEN = ("new", "in_review")


def visible_targets(s: Session, user: WebUser) -> set[str] | None:
    if user.role in ("admin", "officer"):
        return None
    ent = user.enterprise_id or ""
    ids = set(s.scalars(select(Mark.id).where(Mark.enterprise_id == ent)))
    ids |= set(s.scalars(select(HolderGI.gi_id).where(HolderGI.enterprise_id == ent)))
    if s.get(GeographicalIndication, ent) is not None:
        ids.add(ent)
    return ids


def holder_gis(s: Session, user: WebUser) -> list[GeographicalIndication]:
    ent = user.enterprise_id or ""
    ids = set(s.scalars(select(HolderGI.gi_id).where(HolderGI.enterprise_id == ent)))
    if s.get(GeographicalIndication, ent) is not None:
        ids.add(ent)
    return list(s.scalars(select(GeographicalIndication).where(GeographicalIndication.id.in_(ids))
                          .order_by(GeographicalIndication.id))) if ids else []


@dataclass
class QueueFilter:
    status: str = "open"  # open (new + in_review) | all | a status
    platform: str = ""
    target: str = ""
    enterprise: str = ""
    kind: str = ""  # word | logo | gi
    bureau: str = ""
    since: str = ""  # YYYY-MM-DD (first seen, UTC)
    until: str = ""
    q: str = ""  # search in title, seller name, listing id
    sort: str = "priority"
    page: int = 1
    per_page: int = 50

    def args(self, **over) -> dict:
        d = {k: getattr(self, k) for k in ("status", "platform", "target", "enterprise", "kind", "bureau",
                                           "since", "until", "q", "sort", "page")}
        d.update(over)
        return {k: v for k, v in d.items() if v not in ("", None)}


@dataclass
class QueuePage:
    rows: list[tuple[Lead, Listing]]
    total: int
    first: int  # 1-based index of the first row shown
    last: int
    page: int
    pages: int
    filt: QueueFilter = field(default_factory=QueueFilter)


def _date(v: str) -> datetime | None:
    try:
        return datetime.strptime(v, "%Y-%m-%d")
    except (TypeError, ValueError):
        return None


def queue_query(s: Session, f: QueueFilter, targets: set[str] | None, bureaus: list[str] | None = None):
    """The filtered select (no order/limit); joins Listing only when a filter needs it."""
    q = select(Lead.id)
    # Listing filters are semi-joins (listing_pk IN (...)): the planner keeps walking the leads in
    # priority order (ix_leads_priority covers status/target/kind) and only probes the set.
    need_listing = f.sort == "price"
    if need_listing:
        q = q.join(Listing, Lead.listing_pk == Listing.id)
    if f.status == "open":
        q = q.where(Lead.status.in_(OPEN))
    elif f.status and f.status != "all":
        q = q.where(Lead.status == f.status)
    if targets is not None:
        q = q.where(Lead.target_id.in_(sorted(targets) or ["\0none"]))
    if f.target:
        q = q.where(Lead.target_id == f.target)
    if f.enterprise:
        q = q.where(Lead.target_id.in_(select(Mark.id).where(Mark.enterprise_id == f.enterprise)))
    if f.kind:
        q = q.where(Lead.target_kind == f.kind)
    if bureaus is not None:
        q = q.where(Lead.jurisdiction.in_(bureaus))
    if f.platform:
        q = q.where(Lead.listing_pk.in_(select(Listing.id).where(Listing.platform == f.platform)))
    d = _date(f.since)
    if d:
        q = q.where(Lead.first_seen >= d)
    d = _date(f.until)
    if d:
        q = q.where(Lead.first_seen < d + timedelta(days=1))
    if f.q:
        q = q.where(Lead.listing_pk.in_(search_ids(s, f.q)))
    return q, need_listing


def search_ids(s: Session, text: str, cap: int = 20000):
    """Listing ids whose title, shop name or listing id contains `text` (case-insensitive for
    Latin letters): a list when at most `cap` match (scanned once per request), else a subquery."""
    needle = text.strip()[:100].replace("%", "").replace("_", "")
    like = f"%{needle}%"
    if s.get_bind().dialect.name == "postgresql":
        # one pass over the concatenation; ILIKE only when case can matter (Latin letters): it is
        # about 4x slower than LIKE on PostgreSQL
        hay = Listing.title + "\n" + Listing.seller_name + "\n" + Listing.listing_id
        caseless = any(ch.isascii() and ch.isalpha() for ch in needle)
        cond = hay.ilike(like) if caseless else hay.like(like)
    else:  # SQLite's LIKE ignores ASCII case already
        cond = or_(Listing.title.like(like), Listing.seller_name.like(like), Listing.listing_id.like(like))
    sub = select(Listing.id).where(cond)
    ids = list(s.scalars(sub.limit(cap + 1)))
    return ids if len(ids) <= cap else sub


def queue_page(s: Session, f: QueueFilter, targets: set[str] | None, bureaus: list[str] | None = None) -> QueuePage:
    """One page of the queue and the total count. Ordering uses ix_leads_priority (migration 0004)."""
    q, joined = queue_query(s, f, targets, bureaus)
    total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
    per = max(1, min(200, f.per_page))
    pages = max(1, -(-total // per))
    page = max(1, min(f.page, pages))
    order = SORTS.get(f.sort, SORTS["priority"])
    if not joined and f.sort == "price":
        q = q.join(Listing, Lead.listing_pk == Listing.id)
    ids = list(s.scalars(q.order_by(*order).limit(per).offset((page - 1) * per)))
    rows = []
    if ids:
        got = {l.id: (l, li) for l, li in s.execute(select(Lead, Listing).join(Listing, Lead.listing_pk == Listing.id)
                                                     .where(Lead.id.in_(ids)))}
        rows = [got[i] for i in ids if i in got]
    first = (page - 1) * per + 1 if total else 0
    return QueuePage(rows, total, first, first + len(rows) - 1 if rows else 0, page, pages, f)


def filter_options(s: Session, targets: set[str] | None) -> dict:
    """Values for the filter drop-downs (platforms, marks, enterprises, bureaus)."""
    plats = sorted(p for p in s.scalars(select(Listing.platform).distinct()) if p)
    mq = select(Mark.id, Mark.text, Mark.kind, Mark.enterprise_id).order_by(Mark.id)
    gq = select(GeographicalIndication.id, GeographicalIndication.name).order_by(GeographicalIndication.id)
    marks = [(i, t or i, k) for i, t, k, _ in s.execute(mq) if targets is None or i in targets]
    marks += [(i, n, "gi") for i, n in s.execute(gq) if targets is None or i in targets]
    ents = [] if targets is not None else list(s.execute(select(Enterprise.id, Enterprise.name).order_by(Enterprise.id)))
    bureaus = [] if targets is not None else sorted(b for b in s.scalars(select(Lead.jurisdiction).distinct()) if b)
    return {"platforms": plats, "marks": marks, "enterprises": ents, "bureaus": bureaus}
