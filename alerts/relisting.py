"""Relisting: a removed listing that re-appears under a new id (same seller, and the same or a
similar title or the same images) is linked to the earlier lead (Lead.related_lead_id)."""
from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from difflib import SequenceMatcher

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from store.models import Lead, Listing, ListingImage

TITLE_SIMILARITY = 0.8
GONE_AFTER = timedelta(days=1)  # a listing not seen for this long counts as gone even if not marked removed

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


def norm_title(t: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", t or "").lower())


def similar_titles(a: str, b: str) -> bool:
    na, nb = norm_title(a), norm_title(b)
    if not na or not nb:
        return False
    return na == nb or SequenceMatcher(None, na, nb).ratio() >= TITLE_SIMILARITY


def image_keys(s: Session, listing: Listing) -> set:
    keys = {("ref", r) for r in (listing.images or []) if r}
    keys |= {("img", i) for i in s.scalars(select(ListingImage.image_id).where(ListingImage.listing_pk == listing.id))}
    return keys


def same_seller_conds(listing: Listing):
    conds = []
    if listing.seller_id:
        conds.append((Listing.platform == listing.platform) & (Listing.seller_id == listing.seller_id))
    if listing.seller_name:
        conds.append(Listing.seller_name == listing.seller_name)
    return conds


def gone_sellers(s: Session, now) -> tuple[set, set]:
    """Sellers ((platform, seller_id) and shop names) with a lead on a listing that is gone:
    only their new listings can be relistings (saves a query per new lead)."""
    ids, names = set(), set()
    q = (select(Listing.platform, Listing.seller_id, Listing.seller_name).join(Lead, Lead.listing_pk == Listing.id)
         .where(or_(Listing.status == "removed", Listing.last_seen < now - GONE_AFTER)).distinct())
    for plat, sid, sname in s.execute(q):
        if sid:
            ids.add((plat, sid))
        if sname:
            names.add(sname)
    return ids, names


def find_relisted(s: Session, listing: Listing, target_id: str, gone: tuple[set, set] | None = None
                  ) -> tuple[Lead, str] | None:
    """The earlier lead (same target) this listing looks like a relisting of, with why."""
    conds = same_seller_conds(listing)
    if not conds:
        return None
    if gone is not None and (listing.platform, listing.seller_id) not in gone[0] and listing.seller_name not in gone[1]:
        return None
    cutoff = (listing.first_seen or listing.last_seen) - GONE_AFTER
    q = (select(Lead, Listing).join(Listing, Lead.listing_pk == Listing.id)
         .where(Lead.target_id == target_id, Listing.id != listing.id, or_(*conds),
                or_(Listing.status == "removed", Listing.last_seen < cutoff))
         .order_by(Lead.id.desc()).limit(50))
    mine = None
    for lead, old in s.execute(q):
        if similar_titles(old.title, listing.title):
            return lead, "title"
        if mine is None:
            mine = image_keys(s, listing)
        if mine and mine & image_keys(s, old):
            return lead, "images"
    return None
