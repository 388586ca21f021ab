"""First GI matcher: the GI name in the text of a listing whose origin is outside the region.

The GI issue replaces this with a gazetteer-backed resolver and variant forms.
"""
from __future__ import annotations

from watchlist.model import Watchlist

from .normalize import compact
from .types import Match, MatchContext


class GIMatcher:
    def __init__(self, watchlist: Watchlist):
        self.gis = [(compact(g.name), g) for g in watchlist.geographical_indications]

    def match(self, ctx: MatchContext) -> list[Match]:
        out = []
        place = ctx.listing.origin or ctx.listing.seller_location
        for name, gi in self.gis:
            if not any(name in compact(s.text) for s in ctx.texts):
                continue
            if place and any(compact(p) in compact(place) or compact(place) in compact(p) for p in gi.region.places):
                continue
            out.append(Match(ctx.listing.listing_id, ctx.listing.platform, gi.id, "gi", 70,
                             [f"含地理标志'{gi.name}'，产地/发货地'{place or '未知'}'不在保护区域内"]))
        return out
