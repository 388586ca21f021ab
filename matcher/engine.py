"""The match engine: one listing in, scored matches out, for every kind of target.

Pure: no database, crawler or web imports, so batch matching needs nothing but files.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from watchlist.model import AuthorizedSeller, Watchlist

from .goods import GoodsClassifier, load_goods_classifier
from .listing import Listing
from .normalize import compact
from .types import ListingMatcher, Match, MatchContext, TextSource

DEFAULT_THRESHOLD = 60


@dataclass
class EngineOptions:
    threshold: int = DEFAULT_THRESHOLD
    ocr: bool = True
    logos: bool = True
    cache_dir: Path | None = None  # where image features / OCR results are cached (optional)
    ocr_budget: int | None = None


def _seller_matches(rule: AuthorizedSeller, listing: Listing) -> bool:
    if rule.platform and rule.platform != listing.platform:
        return False
    if rule.seller_id:  # an id is proof; the name beside it is only a label (a copycat shop can take it)
        return rule.seller_id == listing.seller_id
    if rule.seller_name and listing.seller_name and compact(rule.seller_name) == compact(listing.seller_name):
        return True
    return False


@dataclass
class MatchStats:
    listings: int = 0
    matches: int = 0
    below_threshold: int = 0
    authorised: int = 0
    by_kind: dict = field(default_factory=dict)


class MatchEngine:
    def __init__(self, watchlist: Watchlist, options: EngineOptions | None = None,
                 goods: GoodsClassifier | None = None):
        from .registry import build_matchers

        self.watchlist = watchlist
        self.options = options or EngineOptions()
        self.goods = goods or load_goods_classifier()
        # every registered matcher kind (matcher/registry.py), built from the options
        self.matchers: list[ListingMatcher] = build_matchers(watchlist, self.options, self.goods)
        self.image_text = None
        if self.options.ocr:
            from .ocr import ImageTextReader
            self.image_text = ImageTextReader.for_watchlist(watchlist, cache_dir=self.options.cache_dir,
                                                            budget=self.options.ocr_budget, goods=self.goods)
        # target id -> authorised sellers / users
        self.authorised: dict[str, list[AuthorizedSeller]] = {}
        for ent in watchlist.enterprises:
            for m in ent.marks:
                self.authorised[m.id] = list(ent.authorized_sellers)
        for gi in watchlist.geographical_indications:
            self.authorised[gi.id] = list(gi.authorized_users)
        self.stats = MatchStats()

    def image_stats(self) -> dict:
        """Counters of image work for run records: OCR reads and skips, logo images skipped."""
        from collections import Counter

        out: dict = {}
        if self.image_text is not None:
            out["ocr"] = self.image_text.stats()
        for m in self.matchers:
            skipped = getattr(m, "skipped", None)
            if skipped is not None:
                out["logo_skipped"] = len(skipped)
                out["logo_skipped_by_reason"] = dict(Counter(getattr(x, "reason", "?") for x in skipped))
        return out

    def texts(self, listing: Listing) -> list[TextSource]:
        texts = [TextSource("title", listing.title)]
        if listing.description:
            texts.append(TextSource("description", listing.description))
        if listing.caption:
            texts.append(TextSource("caption", listing.caption))
        if self.image_text is not None and listing.images:
            texts.extend(self.image_text.texts(listing))
        return texts

    def candidates(self, listing: Listing) -> list[Match]:
        """Every match of every matcher, best per target, before threshold and authorisation."""
        ctx = MatchContext(listing, self.goods.classes(listing.category, listing.title), self.texts(listing))
        best: dict[str, Match] = {}
        for m in self.matchers:
            for hit in m.match(ctx):
                cur = best.get(hit.target_id)
                if cur is None or hit.score > cur.score:
                    best[hit.target_id] = hit
        return list(best.values())

    def is_authorised(self, target_id: str, listing: Listing) -> bool:
        return any(_seller_matches(r, listing) for r in self.authorised.get(target_id, ()))

    def match(self, listing: Listing) -> list[Match]:
        """Matches at or above the queue threshold, authorised sellers excluded."""
        st = self.stats
        st.listings += 1
        out = []
        for m in self.candidates(listing):
            if self.is_authorised(m.target_id, listing):
                st.authorised += 1
                continue
            if m.score < self.options.threshold:
                st.below_threshold += 1
                continue
            out.append(m)
            st.by_kind[m.target_kind] = st.by_kind.get(m.target_kind, 0) + 1
        st.matches += len(out)
        out.sort(key=lambda m: -m.score)
        return out

    def match_all(self, listings: Iterable[Listing]) -> Iterator[tuple[Listing, list[Match]]]:
        for listing in listings:
            yield listing, self.match(listing)
