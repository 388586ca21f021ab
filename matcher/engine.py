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
    language: str | None = None  # of reasons; None: MARKWATCH_LANGUAGE (zh-CN by default)


def _seller_matches(rule: AuthorizedSeller, listing: Listing) -> bool:
    """Authorisation is by seller id on a platform only: a shop name can be copied (spaces,
    traditional forms, zero-width characters), so a name alone never authorises (issue 11)."""
    if rule.platform and rule.platform != listing.platform:
        return False
    return bool(rule.seller_id) and rule.seller_id == listing.seller_id


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def impersonated_name(rule: AuthorizedSeller, listing: Listing) -> bool:
    """Does the listing's shop name look like the authorised shop's while the id differs?
    Compared after removing zero-width characters, spacing and traditional forms."""
    if not (rule.seller_name and listing.seller_name):
        return False
    if rule.platform and rule.platform != listing.platform:
        return False
    if rule.seller_id and rule.seller_id == listing.seller_id:
        return False
    a = compact(rule.seller_name.translate(_ZERO_WIDTH))
    b = compact(listing.seller_name.translate(_ZERO_WIDTH))
    return bool(a) and (a == b or (len(a) >= 4 and a in b))


@dataclass
class MatchStats:
    listings: int = 0
    matches: int = 0
    below_threshold: int = 0
    authorised: int = 0
    by_kind: dict = field(default_factory=dict)


class MatchEngine:
    def __init__(self, watchlist: Watchlist, options: EngineOptions | None = None,
                 goods: GoodsClassifier | None = None, prebuilt: dict | None = None):
        """`prebuilt`: matchers already built for this watchlist, by registry name ("text")."""
        from .registry import build_matchers

        self.watchlist = watchlist
        self.options = options or EngineOptions()
        self.goods = goods or load_goods_classifier()
        if self.options.language is None:
            from config.settings import get_settings
            self.options.language = get_settings().language
        # every registered matcher kind (matcher/registry.py), built from the options
        self.matchers: list[ListingMatcher] = build_matchers(watchlist, self.options, self.goods, prebuilt)
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

    @classmethod
    def from_file(cls, watchlist_path, options: EngineOptions | None = None) -> "MatchEngine":
        """The engine for a watchlist file, its text matcher read from (or stored in) the disk
        cache under ``options.cache_dir`` (matcher/compiled_cache.py). Raises WatchlistError."""
        from .compiled_cache import load_text_compiled

        options = options or EngineOptions()
        if options.language is None:
            from config.settings import get_settings
            options.language = get_settings().language
        goods = load_goods_classifier()
        wl, tm = load_text_compiled(watchlist_path, options.cache_dir, goods, options.language)
        return cls(wl, options, goods, prebuilt={"text": tm})

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

    def _flag_impersonation(self, m: Match, listing: Listing) -> None:
        """A shop name like an authorised shop's with another seller id: a signal, not a pass."""
        from .reasons import WEIGHTS, reason, render

        for r in self.authorised.get(m.target_id, ()):
            if impersonated_name(r, listing):
                code = reason("authorised_name", name=listing.seller_name, authorised=r.seller_name,
                              seller_id=listing.seller_id or "?")
                m.score = int(min(100, m.score + WEIGHTS["authorised_name"]))
                m.reasons.append(render(code, self.options.language))
                if "reason_codes" in m.evidence:
                    m.evidence["reason_codes"].append(code)
                m.evidence.setdefault("reasons_en", []).append(render(code, "en"))
                return

    def match(self, listing: Listing) -> list[Match]:
        """Matches at or above the queue threshold, authorised sellers excluded."""
        st = self.stats
        st.listings += 1
        out = []
        for m in self.candidates(listing):
            if self.is_authorised(m.target_id, listing):
                st.authorised += 1
                continue
            self._flag_impersonation(m, listing)
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
