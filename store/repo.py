"""Repository functions: each takes a Session and never commits (the caller owns the transaction)."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from config.listing import Listing as ListingRecord
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
    # Load every stored row once (3 queries + their sellers) instead of a SELECT per enterprise,
    # mark and GI.
    from sqlalchemy.orm import selectinload

    _held = (s.scalars(select(m.Enterprise).options(selectinload(m.Enterprise.authorized_sellers))).all(),
             s.scalars(select(m.Mark)).all(),
             s.scalars(select(m.GeographicalIndication)
                       .options(selectinload(m.GeographicalIndication.authorized_users))).all())
    # plain dicts: Session.get on an id not yet stored emits a SELECT and flushes everything
    # pending first, which made a 5,000-mark import quadratic
    ents = {r.id: r for r in _held[0]}
    marks = {r.id: r for r in _held[1]}
    gis = {r.id: r for r in _held[2]}
    seen_marks: set[str] = set()
    seen_gis: set[str] = set()
    for ent in wl.enterprises:
        row = ents.get(ent.id)
        if row is None:
            row = ents[ent.id] = m.Enterprise(id=ent.id, name=ent.name, qualifications=list(ent.qualifications))
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
            mrow = marks.get(mk.id)
            if mrow is None:
                mrow = marks[mk.id] = m.Mark(id=mk.id, enterprise_id=ent.id)
                s.add(mrow)
            mrow.enterprise_id = ent.id
            mrow.kind, mrow.text, mrow.aliases = mk.kind, mk.text, list(mk.aliases)
            mrow.image = str(wl.logo_path(mk)) if mk.kind == "logo" else None
            mrow.nice_classes, mrow.well_known = list(mk.nice_classes), mk.well_known
            mrow.reference_price, mrow.active = mk.reference_price, True
            mrow.registration_number = mk.registration_number
            mrow.similar_groups, mrow.reference_prices = list(mk.similar_groups), dict(mk.reference_prices)
            mrow.reference_currency = mk.reference_currency
            counts["marks"] += 1
    for gi in wl.geographical_indications:
        seen_gis.add(gi.id)
        row = gis.get(gi.id)
        if row is None:
            row = gis[gi.id] = m.GeographicalIndication(id=gi.id)
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
    """The active watchlist as stored, in the same model the matcher reads from files.

    Four column queries (enterprises, marks, authorised sellers, GIs) read as plain rows, never
    ORM objects: 5,000 enterprises load in well under a second.
    """
    from watchlist.model import (AuthorizedSeller, Enterprise, GeographicalIndication, Mark, Region)

    E, K, A, G = (x.__table__ for x in (m.Enterprise, m.Mark, m.AuthorizedSeller, m.GeographicalIndication))
    ent_sellers: dict[str, list] = {}
    gi_users: dict[str, list] = {}
    for a in s.execute(select(A.c.enterprise_id, A.c.gi_id, A.c.platform, A.c.seller_id, A.c.seller_name)
                       .order_by(A.c.id)):
        rule = AuthorizedSeller(platform=a.platform, seller_id=a.seller_id, seller_name=a.seller_name)
        if a.enterprise_id:
            ent_sellers.setdefault(a.enterprise_id, []).append(rule)
        if a.gi_id:
            gi_users.setdefault(a.gi_id, []).append(rule)
    marks: dict[str, list] = {}
    for k in s.execute(select(K.c.id, K.c.enterprise_id, K.c.kind, K.c.text, K.c.aliases, K.c.image, K.c.nice_classes,
                              K.c.well_known, K.c.reference_price, K.c.registration_number, K.c.similar_groups,
                              K.c.reference_prices, K.c.reference_currency).where(K.c.active.is_(True)).order_by(K.c.id)):
        marks.setdefault(k.enterprise_id, []).append(Mark(
            id=k.id, kind=k.kind, text=k.text, aliases=k.aliases or [], image=k.image,
            nice_classes=k.nice_classes or [], well_known=k.well_known, reference_price=k.reference_price,
            registration_number=k.registration_number, similar_groups=k.similar_groups or [],
            reference_prices=k.reference_prices or {}, reference_currency=k.reference_currency or "CNY"))
    ents = [Enterprise(id=e.id, name=e.name, qualifications=e.qualifications or [],
                       authorized_sellers=ent_sellers.get(e.id, []), marks=marks.get(e.id, []))
            for e in s.execute(select(E.c.id, E.c.name, E.c.qualifications).order_by(E.c.id))]
    gis = [GeographicalIndication(id=g.id, name=g.name, aliases=g.aliases or [], product=g.product,
                                  category=g.category, nice_classes=g.nice_classes or [],
                                  region=Region(admin_codes=g.admin_codes or [], places=g.places or []),
                                  authorized_users=gi_users.get(g.id, []))
           for g in s.execute(select(G).where(G.c.active.is_(True)).order_by(G.c.id))]
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


def _listing_fields(rec: ListingRecord) -> dict:
    return dict(url=rec.url, kind=rec.kind, title=rec.title, description=rec.description, caption=rec.caption,
                price=rec.price, currency=rec.currency, sales=rec.sales, seller_id=rec.seller_id,
                seller_name=rec.seller_name, seller_location=rec.seller_location, origin=rec.origin,
                category=rec.category, images=list(rec.images), captured_at=rec.captured_at,
                local_dir=str(rec.base_dir) if rec.base_dir else None)


def upsert_listings(s: Session, recs: Sequence[ListingRecord], run_id: int | None = None,
                    source: str | None = None, now: datetime | None = None) -> list[str]:
    """Bulk form of :func:`upsert_listing` for one chunk (a few thousand records).

    Same outcomes and snapshots, in a handful of statements: existing keys are looked up in one
    query per platform, new rows go in one ``INSERT … ON CONFLICT DO NOTHING`` (executemany with
    RETURNING), changed and unchanged rows in one executemany ``UPDATE`` each, snapshots in one
    INSERT. A key repeated inside `recs` is handled as the sequential calls would (the later
    record wins and counts as changed/unchanged). Returns one outcome per record, in order
    ('new' | 'changed' | 'unchanged'). Never commits.
    """
    if not recs:
        return []
    now = now or utcnow()
    outcomes: list[str] = [""] * len(recs)
    # split at a repeated key so each piece has distinct keys, then run pieces in order
    start, seen = 0, set()
    for i, r in enumerate(recs):
        k = (r.platform, r.listing_id)
        if k in seen:
            outcomes[start:i] = _upsert_distinct(s, recs[start:i], run_id, source, now)
            start, seen = i, set()
        seen.add(k)
    outcomes[start:] = _upsert_distinct(s, recs[start:], run_id, source, now)
    return outcomes


def _upsert_distinct(s: Session, recs: Sequence[ListingRecord], run_id, source, now) -> list[str]:
    from sqlalchemy import bindparam, insert

    t = m.Listing.__table__
    by_platform: dict[str, list[str]] = {}
    for r in recs:
        by_platform.setdefault(r.platform, []).append(r.listing_id)
    have: dict[tuple[str, str], tuple] = {}
    for plat, ids in by_platform.items():
        for i in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            for row in s.execute(select(t.c.id, t.c.listing_id, t.c.content_hash, t.c.price, t.c.sales, t.c.title,
                                        t.c.status, t.c.match_state)
                                 .where(t.c.platform == plat, t.c.listing_id.in_(ids[i:i + 500]))):
                have[(plat, row.listing_id)] = row
    outcomes, new_rows, upd_rows, snaps = [], [], [], []
    for r in recs:
        h = content_hash(r)
        f = _listing_fields(r)
        old = have.get((r.platform, r.listing_id))
        if old is None:
            new_rows.append(dict(platform=r.platform, listing_id=r.listing_id, source=source, first_seen=now,
                                 last_seen=now, content_hash=h, match_state="pending", status="active",
                                 matched_hash=None, match_error=None, removed_at=None, **f))
            outcomes.append("new")
            continue
        changed = old.content_hash != h
        outcomes.append("changed" if changed else "unchanged")
        if (old.price, old.sales, old.title) != (r.price, r.sales, r.title):
            snaps.append(dict(listing_pk=old.id, seen_at=now, price=r.price, sales=r.sales, title=r.title,
                              run_id=run_id))
        upd_rows.append(dict(_pk=old.id, _source=source, _now=now, _hash=h, **f))
    from .bulk import executemany

    conn = s.connection()
    if new_rows:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dinsert
        else:
            from sqlalchemy.dialects.sqlite import insert as dinsert
        stmt = dinsert(t).on_conflict_do_nothing(index_elements=["platform", "listing_id"])
        inserted = executemany(conn, stmt, new_rows)
        # the new rows' ids; a row another writer inserted meanwhile (the conflict skipped ours)
        # is told apart by its first_seen, which is this call's `now` only on the rows we wrote
        check = inserted != len(new_rows)
        got: dict[tuple[str, str], int] = {}
        new_by_platform: dict[str, list[str]] = {}
        for row in new_rows:
            new_by_platform.setdefault(row["platform"], []).append(row["listing_id"])
        for plat, ids in new_by_platform.items():
            for i in range(0, len(ids), 500):
                cols = (t.c.id, t.c.listing_id) + ((t.c.first_seen,) if check else ())
                for row in s.execute(select(*cols).where(t.c.platform == plat, t.c.listing_id.in_(ids[i:i + 500]))):
                    if not check or row.first_seen == now:
                        got[(plat, row.listing_id)] = row.id
        for row in new_rows:
            pk = got.get((row["platform"], row["listing_id"]))
            if pk is not None:
                snaps.append(dict(listing_pk=pk, seen_at=now, price=row["price"], sales=row["sales"],
                                  title=row["title"], run_id=run_id))
        lost = [row for row in new_rows if (row["platform"], row["listing_id"]) not in got]
        if lost:  # another writer inserted the same key meanwhile: fall back to the one-by-one path
            for row in lost:
                rec = next(x for x in recs if (x.platform, x.listing_id) == (row["platform"], row["listing_id"]))
                _, o = upsert_listing(s, rec, run_id=run_id, source=source, now=now)
                outcomes[recs.index(rec)] = o
    if upd_rows:
        from sqlalchemy import case

        vals = {c: bindparam(c) for c in upd_rows[0] if not c.startswith("_")}
        vals.update(last_seen=bindparam("_now"), status="active", removed_at=None, content_hash=bindparam("_hash"),
                    # SET reads the old row: pending again only when the matched content changed
                    match_state=case((t.c.content_hash != bindparam("_hash"), "pending"), else_=t.c.match_state),
                    source=func.coalesce(bindparam("_source"), t.c.source))  # keep it when none is named
        executemany(conn, update(t).where(t.c.id == bindparam("_pk")).values(**vals), upd_rows)
    if snaps:
        executemany(conn, insert(m.ListingSnapshot.__table__), snaps)
    return outcomes


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


# -- re-match of new or changed targets -------------------------------------------------------

def target_hashes(wl: Watchlist) -> dict[str, tuple[str, str]]:
    """target id -> (kind, content hash) of every mark and GI of `wl`.

    The hash (SHA-256 of canonical JSON) covers everything matching reads: the mark or GI
    itself and the authorised sellers / users, so an edit by any writer (CLI import, console,
    SQL) changes it and the next pass re-matches that target against the stored listings.
    """
    def h(d) -> str:
        return hashlib.sha256(json.dumps(d, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()

    out: dict[str, tuple[str, str]] = {}
    for ent in wl.enterprises:
        sellers = [a.model_dump(mode="json") for a in ent.authorized_sellers]
        for mk in ent.marks:
            out[mk.id] = (mk.kind, h({"mark": mk.model_dump(mode="json"), "holder": ent.id, "sellers": sellers}))
    for gi in wl.geographical_indications:
        out[gi.id] = ("gi", h(gi.model_dump(mode="json")))
    return out


def subset_watchlist(wl: Watchlist, target_ids: set[str]) -> Watchlist:
    """The part of `wl` with only the marks and GIs in `target_ids` (holders and authorised
    sellers kept), for matching stored listings against new or changed targets only."""
    ents = [e.model_copy(update={"marks": [k for k in e.marks if k.id in target_ids]})
            for e in wl.enterprises if any(k.id in target_ids for k in e.marks)]
    gis = [g for g in wl.geographical_indications if g.id in target_ids]
    return wl.model_copy(update={"enterprises": ents, "geographical_indications": gis})
