"""What matchers exchange: text sources with provenance, match results, the per-listing context."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .listing import Listing


@dataclass(slots=True)
class TextSource:
    """A piece of text to match, with where it came from.

    field: 'title', 'description', 'caption' (live-room screen text) or 'image' (OCR).
    For OCR text: image (path or URL as in the listing), box [[x,y]*4] and confidence (0-1).
    """
    field: str
    text: str
    image: str | None = None
    box: list | None = None
    confidence: float | None = None


@dataclass(slots=True)
class Match:
    listing_id: str
    platform: str
    target_id: str
    target_kind: str  # word | logo | gi
    score: int
    reasons: list[str]
    # Machine-readable provenance: e.g. {"field": "image", "image": ..., "box": ..., "confidence": ...}
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {"listing_id": self.listing_id, "platform": self.platform, "target_id": self.target_id,
             "target_kind": self.target_kind, "score": int(self.score), "reasons": list(self.reasons)}
        codes = (self.evidence or {}).get("reason_codes")
        if codes is not None:
            d["reason_codes"] = list(codes)  # the same reasons as data (matcher/reasons.py)
        if self.evidence:
            d["evidence"] = self.evidence
        return d


@dataclass(slots=True)
class MatchContext:
    """Facts about a listing computed once and shared by all matchers."""
    listing: Listing
    goods_classes: frozenset[int]
    texts: list[TextSource]
    # 类似群 groups of the goods ('2507'), when the goods module can tell; a mark's
    # reference_prices keyed by group apply only then (matcher/text.py _ref_price)
    goods_groups: frozenset[str] = frozenset()


class ListingMatcher(Protocol):
    """A matcher takes one listing's context and returns candidate matches (any score)."""

    def match(self, ctx: MatchContext) -> list[Match]: ...
