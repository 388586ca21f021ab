"""First text matcher: normalised exact / alias matching of word marks, gated on goods class.

The text-matcher issue replaces this with variant-tolerant matching; the interface stays:
``TextMatcher(watchlist).match(ctx) -> list[Match]``.
"""
from __future__ import annotations

from watchlist.model import Watchlist

from .normalize import compact
from .types import Match, MatchContext


class TextMatcher:
    def __init__(self, watchlist: Watchlist):
        self.terms: list[tuple[str, object, object]] = []
        for ent, mark in watchlist.word_marks():
            for t in [mark.text or "", *mark.aliases]:
                c = compact(t)
                if c:
                    self.terms.append((c, ent, mark))

    def match(self, ctx: MatchContext) -> list[Match]:
        out: dict[str, Match] = {}
        for src in ctx.texts:
            c = compact(src.text)
            for term, ent, mark in self.terms:
                if term not in c or mark.id in out:
                    continue
                if not (mark.well_known or ctx.goods_classes & set(mark.nice_classes)):
                    continue
                out[mark.id] = Match(ctx.listing.listing_id, ctx.listing.platform, mark.id, "word", 70,
                                     [f"{src.field}含'{term}'，与注册商标'{mark.text}'相同"])
        return list(out.values())
