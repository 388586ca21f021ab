"""Seller profiles and the key-market list (重点关注市场名录).

A seller profile gathers every lead of one seller across platforms and shop names: accounts are
linked when they share a (platform, seller id), a shop name, or an image (same stored image or
same image reference). A seller with `repeat_infringer_min` confirmed leads is a repeat
infringer.

The key-market list holds platforms and shops whose lead counts rise. Rule, evaluated after each
pass over a window of W days (``MARKWATCH_KEY_MARKET_WINDOW_DAYS``): a shop/platform *enters*
when it has at least N new leads (``MARKWATCH_KEY_MARKET_MIN_SHOP`` / ``..._MIN_PLATFORM``) in the
last W days and more than in the W days before; it *leaves* when it falls below N and is no
longer rising. Dismissed and suppressed leads do not count. Every entry and exit is kept.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import KeyMarket, Lead, Listing, ListingImage, utcnow

COUNTED = ("new", "in_review", "confirmed", "referred", "closed")


@dataclass
class SellerProfile:
    accounts: list[tuple[str, str, str]]  # (platform, seller_id, seller_name)
    names: list[str]
    platforms: list[str]
    leads: list[dict] = field(default_factory=list)
    status_counts: dict = field(default_factory=dict)
    confirmed: int = 0
    repeat_infringer: bool = False
    links: list[str] = field(default_factory=list)  # why accounts were joined


def _account(li: Listing) -> tuple[str, str, str]:
    return (li.platform, li.seller_id or "", li.seller_name or "")


def seller_profile(s: Session, platform: str | None, seller: str, repeat_min: int = 2) -> SellerProfile | None:
    """Profile of the seller with id or shop name `seller` (on `platform`, if given)."""
    rows = list(s.execute(select(Lead, Listing).join(Listing, Lead.listing_pk == Listing.id)))
    by_listing: dict[int, Listing] = {}
    leads_of: dict[int, list[Lead]] = defaultdict(list)
    for lead, li in rows:
        by_listing[li.id] = li
        leads_of[li.id].append(lead)
    imgs: dict[int, set] = defaultdict(set)
    for lp, iid in s.execute(select(ListingImage.listing_pk, ListingImage.image_id)):
        if lp in by_listing:
            imgs[lp].add(("img", iid))
    for lp, li in by_listing.items():
        imgs[lp] |= {("ref", r) for r in (li.images or []) if r}
    seeds = [li for li in by_listing.values()
             if (platform is None or li.platform == platform) and seller in (li.seller_id, li.seller_name)]
    if not seeds:
        return None
    # breadth-first over accounts: shared id, shop name or image
    accounts: set = set()
    names: set = set()
    img_keys: set = set()
    links: list[str] = []
    frontier = [_account(li) for li in seeds]
    while frontier:
        acc = frontier.pop()
        if acc in accounts:
            continue
        accounts.add(acc)
        if acc[2]:
            names.add(acc[2])
        mine = [li for li in by_listing.values() if _account(li) == acc]
        for li in mine:
            img_keys |= imgs[li.id]
        for li in by_listing.values():
            a2 = _account(li)
            if a2 in accounts:
                continue
            if a2[2] and a2[2] in names:
                links.append(f"{a2[0]}/{a2[1] or a2[2]}: same shop name '{a2[2]}'")
                frontier.append(a2)
            elif imgs[li.id] & img_keys:
                links.append(f"{a2[0]}/{a2[1] or a2[2]}: same image as {acc[0]}/{acc[1] or acc[2]}")
                frontier.append(a2)
    prof = SellerProfile(sorted(accounts), sorted(names), sorted({a[0] for a in accounts}), links=links)
    for lp, li in sorted(by_listing.items()):
        if _account(li) not in accounts:
            continue
        for lead in leads_of[lp]:
            prof.leads.append({"lead_id": lead.id, "status": lead.status, "verdict": lead.verdict,
                               "target_id": lead.target_id, "platform": li.platform, "listing_id": li.listing_id,
                               "title": li.title, "price": li.price, "online": li.status == "active",
                               "first_seen": lead.first_seen})
    prof.status_counts = dict(Counter(l["status"] for l in prof.leads))
    prof.confirmed = sum(1 for l in prof.leads if l["verdict"] == "confirmed")
    prof.repeat_infringer = prof.confirmed >= repeat_min
    return prof


def top_sellers(s: Session, limit: int = 20, repeat_min: int = 2) -> list[dict]:
    """Sellers (platform + id) by lead count, with confirmed counts and the repeat flag."""
    agg: dict[tuple, dict] = {}
    for lead, li in s.execute(select(Lead, Listing).join(Listing, Lead.listing_pk == Listing.id)):
        k = (li.platform, li.seller_id or li.seller_name)
        a = agg.setdefault(k, {"platform": li.platform, "seller_id": li.seller_id, "seller_name": li.seller_name,
                               "leads": 0, "confirmed": 0, "open": 0})
        a["leads"] += 1
        a["confirmed"] += lead.verdict == "confirmed"
        a["open"] += lead.status in ("new", "in_review")
    out = sorted(agg.values(), key=lambda a: (-a["confirmed"], -a["leads"], a["platform"], a["seller_id"] or ""))
    for a in out:
        a["repeat_infringer"] = a["confirmed"] >= repeat_min
    return out[:limit]


def _window_counts(s: Session, since: datetime, until: datetime) -> tuple[Counter, Counter, dict]:
    plat, shop, names = Counter(), Counter(), {}
    q = (select(Listing.platform, Listing.seller_id, Listing.seller_name)
         .select_from(Lead).join(Listing, Lead.listing_pk == Listing.id)
         .where(Lead.first_seen >= since, Lead.first_seen < until, Lead.status.in_(COUNTED)))
    for p, sid, sname in s.execute(q):
        plat[p] += 1
        key = (p, sid or sname or "")
        shop[key] += 1
        names[key] = sname or sid or ""
    return plat, shop, names


def update_key_markets(s: Session, window_days: int = 7, min_shop: int = 3, min_platform: int = 10,
                       now: datetime | None = None, language: str = "zh-CN") -> dict:
    """Apply the entry/exit rule; returns {'entered': [...], 'left': [...], 'active': n}."""
    now = now or utcnow()
    w = timedelta(days=window_days)
    cur_p, cur_s, names = _window_counts(s, now - w, now + timedelta(seconds=1))
    prev_p, prev_s, _ = _window_counts(s, now - 2 * w, now - w)
    active = {(k.scope, k.platform, k.shop_id): k
              for k in s.scalars(select(KeyMarket).where(KeyMarket.active.is_(True)))}
    en = language.startswith("en")
    entered, left = [], []

    def reason_in(cur, prev):
        return (f"{cur} new leads in the last {window_days} days (previous {window_days} days: {prev}), rising"
                if en else f"近{window_days}天新增线索 {cur} 条（此前{window_days}天 {prev} 条），呈上升趋势")

    def reason_out(cur, prev, n):
        return (f"{cur} new leads in the last {window_days} days, below {n} and not rising"
                if en else f"近{window_days}天新增线索 {cur} 条，低于 {n} 条且不再上升")

    candidates = [("platform", p, "", p, cur_p[p], prev_p[p], min_platform) for p in set(cur_p) | set(prev_p)]
    candidates += [("shop", k[0], k[1], names.get(k, k[1]), cur_s[k], prev_s[k], min_shop)
                   for k in set(cur_s) | set(prev_s)]
    seen = set()
    for scope, plat, shop_id, name, cur, prev, n in candidates:
        key = (scope, plat, shop_id)
        seen.add(key)
        row = active.get(key)
        if row is None and cur >= n and cur > prev:
            row = KeyMarket(scope=scope, platform=plat, shop_id=shop_id, shop_name=name, active=True,
                            entered_at=now, enter_reason=reason_in(cur, prev), lead_count=cur)
            s.add(row)
            entered.append(row)
        elif row is not None:
            row.lead_count = cur
            if cur < n and cur <= prev:
                row.active, row.left_at, row.leave_reason = False, now, reason_out(cur, prev, n)
                left.append(row)
    for key, row in active.items():  # no leads at all in either window
        if key not in seen:
            row.lead_count = 0
            row.active, row.left_at = False, now
            row.leave_reason = reason_out(0, 0, min_shop if row.scope == "shop" else min_platform)
            left.append(row)
    s.flush()
    n_active = len([1 for k in s.scalars(select(KeyMarket).where(KeyMarket.active.is_(True)))])
    return {"entered": entered, "left": left, "active": n_active}
