"""Finding stored listings: filters, pages, one listing with its history (``markwatch listings``).

Repository functions take a Session and never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterator

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from . import models as m


@dataclass
class ListingFilter:
    """Which listings: ``platform`` (exact), ``seller`` (seller id exactly, or part of the seller
    name), ``since``/``until`` (dates, inclusive, on when the listing was last seen), ``has_leads``
    (True: with at least one lead, False: none, None: either), ``status`` (active | removed),
    ``text`` (part of the title)."""
    platform: str | None = None
    seller: str | None = None
    since: date | None = None
    until: date | None = None
    has_leads: bool | None = None
    status: str | None = None
    text: str | None = None

    def where(self):
        c = []
        if self.platform:
            c.append(m.Listing.platform == self.platform)
        if self.seller:
            c.append(or_(m.Listing.seller_id == self.seller, m.Listing.seller_name.contains(self.seller)))
        if self.since:
            c.append(m.Listing.last_seen >= datetime.combine(self.since, time.min))
        if self.until:
            c.append(m.Listing.last_seen < datetime.combine(self.until + timedelta(days=1), time.min))
        if self.status:
            c.append(m.Listing.status == self.status)
        if self.text:
            c.append(m.Listing.title.contains(self.text))
        if self.has_leads is not None:
            e = exists().where(m.Lead.listing_pk == m.Listing.id)
            c.append(e if self.has_leads else ~e)
        return and_(*c) if c else None


def _base(f: ListingFilter):
    q = select(m.Listing)
    w = f.where()
    return q.where(w) if w is not None else q


def count_listings(s: Session, f: ListingFilter) -> int:
    w = f.where()
    q = select(func.count()).select_from(m.Listing)
    return s.scalar(q.where(w) if w is not None else q) or 0


def find_listings(s: Session, f: ListingFilter, page: int = 1, per_page: int = 50) -> list[tuple[m.Listing, int]]:
    """One page (1-based) of listings, most recently seen first, each with its number of leads."""
    page, per_page = max(1, page), max(1, per_page)
    rows = s.scalars(_base(f).order_by(m.Listing.last_seen.desc(), m.Listing.id.desc())
                     .offset((page - 1) * per_page).limit(per_page)).all()
    counts = dict(s.execute(select(m.Lead.listing_pk, func.count()).where(m.Lead.listing_pk.in_([r.id for r in rows]))
                            .group_by(m.Lead.listing_pk)).all()) if rows else {}
    return [(r, counts.get(r.id, 0)) for r in rows]


def iter_listings(s: Session, f: ListingFilter, batch: int = 500) -> Iterator[m.Listing]:
    """Every matching listing in id order, read in batches (for exports)."""
    last = 0
    while True:
        rows = s.scalars(_base(f).where(m.Listing.id > last).order_by(m.Listing.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def get_listing(s: Session, ref: str) -> m.Listing:
    """A listing by ``PLATFORM:LISTING_ID`` or by a listing id that only one platform has.
    Raises LookupError saying why (none, or which platforms share the id)."""
    platform, sep, lid = ref.partition(":")
    if sep:
        row = s.scalar(select(m.Listing).where(m.Listing.platform == platform, m.Listing.listing_id == lid))
        if row is not None:
            return row
    rows = s.scalars(select(m.Listing).where(m.Listing.listing_id == ref)).all()
    if len(rows) == 1:
        return rows[0]
    if not rows:
        raise LookupError(f"no listing {ref!r} (use PLATFORM:LISTING_ID, see `markwatch listings list`)")
    raise LookupError(f"listing id {ref!r} is on several platforms ({', '.join(sorted(r.platform for r in rows))}); "
                      "use PLATFORM:LISTING_ID")


def listing_detail(s: Session, row: m.Listing, pages: list | None = None) -> dict:
    """Everything stored about one listing: its fields, price history and its leads; `pages`: the
    crawler's page-state rows (crawler.models.CrawlPage) to show with it (price text as shown,
    range, warnings, raw HTML path) - the caller reads them, the store does not know the crawler."""
    pages = pages or []
    leads = s.scalars(select(m.Lead).where(m.Lead.listing_pk == row.id).order_by(m.Lead.score.desc())).all()
    return {
        "listing": record_dict(row),
        "source": row.source, "status": row.status, "first_seen": _iso(row.first_seen),
        "last_seen": _iso(row.last_seen), "removed_at": _iso(row.removed_at), "match_state": row.match_state,
        "history": [{"seen_at": _iso(sn.seen_at), "price": sn.price, "sales": sn.sales, "title": sn.title}
                    for sn in row.snapshots],
        "pages": [{"source": p.source, "url": p.url, "fetched_at": _iso(p.fetched_at), "status_code": p.status_code,
                   "price_text": getattr(p, "price_text", None), "price_high": getattr(p, "price_high", None),
                   "warnings": getattr(p, "warnings", None), "raw_path": p.raw_path,
                   "screenshot_path": p.screenshot_path} for p in pages],
        "leads": [{"id": ld.id, "target_id": ld.target_id, "target_kind": ld.target_kind, "score": ld.score,
                   "status": ld.status, "reasons": ld.reasons} for ld in leads],
    }


def _iso(d: datetime | None) -> str | None:
    return d.isoformat(timespec="seconds") if d else None


EXPORT_FIELDS = ("platform", "listing_id", "url", "kind", "title", "description", "price", "currency", "seller_id",
                 "seller_name", "seller_location", "category", "images", "captured_at", "origin", "sales")


def record_dict(row: m.Listing) -> dict:
    """A stored listing in the Listings JSONL format of DESIGN.md; crawled images (stored under
    the data directory) are given as absolute paths so the file can be matched from anywhere."""
    from pathlib import Path

    d = {k: getattr(row, k) for k in EXPORT_FIELDS}
    imgs = list(row.images or [])
    if row.local_dir:
        imgs = [i if "://" in i or Path(i).is_absolute() else str(Path(row.local_dir) / i) for i in imgs]
    d["images"] = imgs
    d["description"] = d["description"] or ""
    return d
