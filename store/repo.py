"""Repository functions: each takes a Session and never commits (the caller owns the transaction)."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matcher.listing import Listing as ListingRecord
from watchlist.model import Watchlist

from . import models as m
from .models import utcnow

# Fields whose change means a listing must be matched again.
MATCH_FIELDS = ("title", "description", "caption", "price", "seller_id", "seller_name", "seller_location",
                "origin", "category", "images")


def content_hash(rec: ListingRecord) -> str:
    d = {f: getattr(rec, f) for f in MATCH_FIELDS}
    return hashlib.sha256(json.dumps(d, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


# -- watchlist --------------------------------------------------------------------------------

def upsert_watchlist(s: Session, wl: Watchlist, deactivate_missing: bool = False) -> dict:
    """Insert or update enterprises, marks, authorised sellers and GIs by their stable ids."""
    counts = {"enterprises": 0, "marks": 0, "gis": 0, "created": 0, "updated": 0}
    seen_marks: set[str] = set()
    seen_gis: set[str] = set()
    for ent in wl.enterprises:
        row = s.get(m.Enterprise, ent.id)
        if row is None:
            row = m.Enterprise(id=ent.id, name=ent.name, qualifications=list(ent.qualifications))
            s.add(row)
            counts["created"] += 1
        else:
            row.name, row.qualifications = ent.name, list(ent.qualifications)
            counts["updated"] += 1
        counts["enterprises"] += 1
        row.authorized_sellers = [m.AuthorizedSeller(platform=a.platform, seller_id=a.seller_id,
                                                     seller_name=a.seller_name) for a in ent.authorized_sellers]
        for mk in ent.marks:
            seen_marks.add(mk.id)
            mrow = s.get(m.Mark, mk.id)
            if mrow is None:
                mrow = m.Mark(id=mk.id, enterprise_id=ent.id)
                s.add(mrow)
            mrow.enterprise_id = ent.id
            mrow.kind, mrow.text, mrow.aliases = mk.kind, mk.text, list(mk.aliases)
            mrow.image = str(wl.logo_path(mk)) if mk.kind == "logo" else None
            mrow.nice_classes, mrow.well_known = list(mk.nice_classes), mk.well_known
            mrow.reference_price, mrow.active = mk.reference_price, True
            mrow.registration_number = mk.registration_number
            counts["marks"] += 1
    for gi in wl.geographical_indications:
        seen_gis.add(gi.id)
        row = s.get(m.GeographicalIndication, gi.id)
        if row is None:
            row = m.GeographicalIndication(id=gi.id)
            s.add(row)
        row.name, row.aliases, row.product, row.category = gi.name, list(gi.aliases), gi.product, gi.category
        row.admin_codes, row.places = list(gi.region.admin_codes), list(gi.region.places)
        row.nice_classes, row.active = list(gi.nice_classes), True
        row.authorized_users = [m.AuthorizedSeller(platform=a.platform, seller_id=a.seller_id,
                                                   seller_name=a.seller_name) for a in gi.authorized_users]
        counts["gis"] += 1
    if deactivate_missing:
        s.execute(update(m.Mark).where(m.Mark.id.not_in(seen_marks)).values(active=False))
        s.execute(update(m.GeographicalIndication).where(m.GeographicalIndication.id.not_in(seen_gis)).values(active=False))
    s.flush()
    return counts


def load_watchlist_from_db(s: Session) -> Watchlist:
    """The active watchlist as stored, in the same model the matcher reads from files."""
    from watchlist.model import (AuthorizedSeller, Enterprise, GeographicalIndication, Mark, Region)

    ents = []
    for e in s.scalars(select(m.Enterprise).order_by(m.Enterprise.id)):
        marks = [Mark(id=k.id, kind=k.kind, text=k.text, aliases=k.aliases or [], image=k.image,
                      nice_classes=k.nice_classes or [], well_known=k.well_known, reference_price=k.reference_price,
                      registration_number=k.registration_number)
                 for k in e.marks if k.active]
        sellers = [AuthorizedSeller(platform=a.platform, seller_id=a.seller_id, seller_name=a.seller_name)
                   for a in e.authorized_sellers]
        ents.append(Enterprise(id=e.id, name=e.name, qualifications=e.qualifications or [],
                               authorized_sellers=sellers, marks=marks))
    gis = []
    for g in s.scalars(select(m.GeographicalIndication).where(m.GeographicalIndication.active.is_(True))
                       .order_by(m.GeographicalIndication.id)):
        users = [AuthorizedSeller(platform=a.platform, seller_id=a.seller_id, seller_name=a.seller_name)
                 for a in g.authorized_users]
        gis.append(GeographicalIndication(id=g.id, name=g.name, aliases=g.aliases or [], product=g.product,
                                          category=g.category, nice_classes=g.nice_classes or [],
                                          region=Region(admin_codes=g.admin_codes or [], places=g.places or []),
                                          authorized_users=users))
    return Watchlist(enterprises=ents, geographical_indications=gis)


def search_terms(s: Session) -> list[str]:
    """Words a crawler searches for: word marks, aliases and GI names."""
    terms: list[str] = []
    for k in s.scalars(select(m.Mark).where(m.Mark.active.is_(True), m.Mark.kind == "word")):
        terms += [k.text or "", *(k.aliases or [])]
    for g in s.scalars(select(m.GeographicalIndication).where(m.GeographicalIndication.active.is_(True))):
        terms += [g.name, *(g.aliases or [])]
    seen, out = set(), []
    for t in terms:
        if t and t not in seen:
            seen.add(t)
            out.append(t)
    return out


# -- listings ---------------------------------------------------------------------------------

def upsert_listing(s: Session, rec: ListingRecord, run_id: int | None = None, source: str | None = None,
                   now: datetime | None = None) -> tuple[m.Listing, str]:
    """Store a crawled listing once per (platform, listing_id).

    Returns (row, outcome) with outcome 'new', 'changed' (needs matching again), or 'unchanged'
    (only last_seen moves). Price, sales and title changes are kept as snapshots.
    """
    now = now or utcnow()
    h = content_hash(rec)
    row = s.scalar(select(m.Listing).where(m.Listing.platform == rec.platform,
                                           m.Listing.listing_id == rec.listing_id))
    fields = dict(url=rec.url, kind=rec.kind, title=rec.title, description=rec.description, caption=rec.caption,
                  price=rec.price, currency=rec.currency, sales=rec.sales, seller_id=rec.seller_id,
                  seller_name=rec.seller_name, seller_location=rec.seller_location, origin=rec.origin,
                  category=rec.category, images=list(rec.images), captured_at=rec.captured_at,
                  local_dir=str(rec.base_dir) if rec.base_dir else None)
    if row is None:
        row = m.Listing(platform=rec.platform, listing_id=rec.listing_id, source=source, first_seen=now,
                        last_seen=now, content_hash=h, match_state="pending", status="active", **fields)
        s.add(row)
        s.flush()
        s.add(m.ListingSnapshot(listing_pk=row.id, seen_at=now, price=rec.price, sales=rec.sales,
                                title=rec.title, run_id=run_id))
        return row, "new"
    outcome = "unchanged"
    if (row.price, row.sales, row.title) != (rec.price, rec.sales, rec.title):
        s.add(m.ListingSnapshot(listing_pk=row.id, seen_at=now, price=rec.price, sales=rec.sales,
                                title=rec.title, run_id=run_id))
    for k, v in fields.items():
        setattr(row, k, v)
    row.last_seen = now
    if row.status != "active":
        row.status, row.removed_at = "active", None
    if source:
        row.source = source
    if row.content_hash != h:
        row.content_hash = h
        row.match_state = "pending"
        outcome = "changed"
    return row, outcome


def mark_removed(s: Session, platform: str, listing_id: str, now: datetime | None = None) -> bool:
    row = s.scalar(select(m.Listing).where(m.Listing.platform == platform, m.Listing.listing_id == listing_id))
    if row is None or row.status == "removed":
        return False
    row.status, row.removed_at = "removed", now or utcnow()
    return True


def to_record(row: m.Listing) -> ListingRecord:
    from pathlib import Path

    return ListingRecord(platform=row.platform, listing_id=row.listing_id, title=row.title, url=row.url,
                         kind=row.kind, description=row.description or "", price=row.price,
                         currency=row.currency, seller_id=row.seller_id, seller_name=row.seller_name,
                         seller_location=row.seller_location, category=row.category, images=list(row.images or []),
                         captured_at=row.captured_at, origin=row.origin, sales=row.sales,
                         caption=row.caption or "", base_dir=Path(row.local_dir) if row.local_dir else None)


def listings_to_match(s: Session, limit: int = 500, after_id: int = 0) -> Sequence[m.Listing]:
    """Listings whose current content has not been matched yet, oldest first."""
    return s.scalars(select(m.Listing).where(m.Listing.match_state == "pending", m.Listing.id > after_id)
                     .order_by(m.Listing.id).limit(limit)).all()


def count_listings(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(m.Listing)) or 0


def count_leads(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(m.Lead)) or 0


def iter_listing_records(s: Session, ids: Iterable[int]) -> list[ListingRecord]:
    return [to_record(r) for r in s.scalars(select(m.Listing).where(m.Listing.id.in_(list(ids))))]
