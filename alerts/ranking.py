"""Ranking of the daily queue. Priority is a sum of named parts, each written down as a reason:

- match score × 0.5 (0-50)
- well-known mark (驰名商标) +10
- repeat seller: confirmed leads of the same seller before, +8 each up to +20
- price gap to the holder's reference price: gap ≥ 30 % gives up to +15
- estimated turnover price × sales (违法经营额): +5 from 10,000 CNY, +10 from 50,000 (the police
  transfer threshold, configurable), +15 from 250,000
- recency: +5 if first seen within 1 day, +2 within 7 days; −5 when not seen for 30 days
- listing removed −5; relisting of a confirmed/referred lead +10; key-market shop +5
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from store.models import KeyMarket, Lead, Listing, utcnow

from .i18n import status_name, tr
from .targets import TargetInfo, load_targets


@dataclass
class RankContext:
    targets: dict[str, TargetInfo]
    language: str = "zh-CN"
    turnover_police: float = 50000.0
    now: datetime = field(default_factory=utcnow)
    key_shops: dict[tuple[str, str], str] = field(default_factory=dict)
    confirmed_by_id: dict = field(default_factory=dict)  # (platform, seller_id) -> confirmed lead ids
    confirmed_by_name: dict = field(default_factory=dict)  # seller_name -> confirmed lead ids

    @classmethod
    def load(cls, s: Session, language: str = "zh-CN", turnover_police: float = 50000.0,
             now: datetime | None = None) -> "RankContext":
        shops = {(k.platform, k.shop_id): (k.shop_name or k.shop_id)
                 for k in s.scalars(select(KeyMarket).where(KeyMarket.active.is_(True), KeyMarket.scope == "shop"))}
        by_id: dict = {}
        by_name: dict = {}
        for lid, plat, sid, sname in s.execute(select(Lead.id, Listing.platform, Listing.seller_id, Listing.seller_name)
                                               .join(Listing, Lead.listing_pk == Listing.id)
                                               .where(Lead.verdict == "confirmed")):
            if sid:
                by_id.setdefault((plat, sid), set()).add(lid)
            if sname:
                by_name.setdefault(sname, set()).add(lid)
        return cls(load_targets(s), language, turnover_police, now or utcnow(), shops, by_id, by_name)


def confirmed_before(s: Session, listing: Listing, lead: Lead | None, ctx: RankContext) -> int:
    """Confirmed leads (verdict) of the same seller — same platform + seller id, or same shop
    name — other than `lead` itself (from the context's snapshot of verdicts)."""
    ids: set = set()
    if listing.seller_id:
        ids |= ctx.confirmed_by_id.get((listing.platform, listing.seller_id), set())
    if listing.seller_name:
        ids |= ctx.confirmed_by_name.get(listing.seller_name, set())
    if lead is not None:
        ids = ids - {lead.id}
    return len(ids)


def rank(s: Session, lead: Lead, listing: Listing, ctx: RankContext) -> tuple[float, list[str]]:
    """(priority, reasons) for a lead; reasons in ctx.language, one per part that counted."""
    lang = ctx.language
    parts: list[tuple[float, str]] = []
    pts = round(lead.score * 0.5, 1)
    parts.append((pts, tr("score", lang, score=lead.score, pts=pts)))
    t = ctx.targets.get(lead.target_id)
    if t is not None and t.well_known:
        parts.append((10, tr("well_known", lang, pts=10)))
    n = confirmed_before(s, listing, lead, ctx)
    if n:
        p = min(20, 8 * n)
        parts.append((p, tr("repeat", lang, n=n, pts=p)))
    price = listing.price
    if t is not None and t.reference_price and price and price > 0:
        gap = 1 - price / t.reference_price
        if gap >= 0.3:
            p = round(min(15.0, 15 * (gap - 0.3) / 0.5 + 5), 1)
            parts.append((p, tr("price_gap", lang, price=price, ref=t.reference_price, gap=gap, pts=p)))
    if price and listing.sales:
        amount = price * listing.sales
        p = 15 if amount >= 5 * ctx.turnover_police else 10 if amount >= ctx.turnover_police else 5 if amount >= 10000 else 0
        if p:
            parts.append((p, tr("turnover", lang, amount=amount, sales=listing.sales, pts=p)))
        if amount >= ctx.turnover_police:
            parts.append((0, tr("turnover_police", lang, limit=ctx.turnover_police)))
    age = (ctx.now - lead.first_seen).total_seconds() / 86400 if lead.first_seen else 0
    if age <= 1:
        parts.append((5, tr("recent", lang, days=1, pts=5)))
    elif age <= 7:
        parts.append((2, tr("recent", lang, days=7, pts=2)))
    unseen = (ctx.now - listing.last_seen).days if listing.last_seen else 0
    if unseen >= 30:
        parts.append((-5, tr("stale", lang, days=unseen, pts=-5)))
    if listing.status == "removed":
        parts.append((-5, tr("offline", lang, pts=-5)))
    if lead.related_lead_id:
        rel = s.get(Lead, lead.related_lead_id)
        if rel is not None and rel.verdict == "confirmed":
            parts.append((10, tr("relisted", lang, id=rel.id, status=status_name(rel.status, lang), pts=10)))
    shop = ctx.key_shops.get((listing.platform, listing.seller_id))
    if shop:
        parts.append((5, tr("key_market", lang, name=f"{listing.platform}/{shop}", pts=5)))
    return round(sum(p for p, _ in parts), 1), [r for _, r in parts]


def apply_rank(s: Session, lead: Lead, listing: Listing, ctx: RankContext) -> None:
    lead.priority, reasons = rank(s, lead, listing, ctx)
    # keep notes that are not ranking parts (jurisdiction, suppression) after the parts
    keep = [r for r in (lead.priority_reasons or []) if r.startswith(("卖家所在地", "seller location", "已抑制", "suppressed"))]
    lead.priority_reasons = reasons + keep


def rerank_open(s: Session, language: str = "zh-CN", turnover_police: float = 50000.0,
                now: datetime | None = None) -> int:
    """Recompute priority of every open lead (new, in_review, confirmed); returns how many."""
    ctx = RankContext.load(s, language, turnover_police, now)
    n = 0
    for lead, li in s.execute(select(Lead, Listing).join(Listing, Lead.listing_pk == Listing.id)
                              .where(Lead.status.in_(("new", "in_review", "confirmed")))):
        apply_rank(s, lead, li, ctx)
        n += 1
    return n
