"""The kinds of target a listing is matched against, and the one registry of matchers.

A matcher kind is its own module (a class with ``match(ctx) -> list[Match]``, see
:class:`matcher.types.ListingMatcher`) plus one :func:`register` call below. The match engine
builds every registered kind from its options (which come from settings:
``MARKWATCH_OCR_ENABLED``, ``MARKWATCH_LOGO_ENABLED``, ...) with :func:`build_matchers`; a
builder returns None when its kind has nothing to do (no logo marks, logos switched off).
Builders import their module lazily, so importing the registry is cheap.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable


class TargetKind(str, Enum):
    """What a lead's target is (``Match.target_kind``, ``Lead.target_kind``): a word mark, a
    figurative mark (logo) or a geographical indication (地理标志). Compares equal to its value."""
    WORD = "word"
    LOGO = "logo"
    GI = "gi"

    def __str__(self) -> str:  # "gi", not "TargetKind.GI", in reasons and files
        return self.value


@dataclass(frozen=True)
class MatcherKind:
    """One registered matcher: its name, the target kinds it produces, and its builder
    ``build(watchlist, options, goods) -> ListingMatcher | None``."""
    name: str
    kinds: tuple[TargetKind, ...]
    build: Callable[[Any, Any, Any], Any]


_REGISTRY: dict[str, MatcherKind] = {}


def register(kind: MatcherKind) -> MatcherKind:
    """Add a matcher kind (ValueError if the name is taken). Order of registration is the order
    the engine runs them in."""
    if kind.name in _REGISTRY:
        raise ValueError(f"matcher kind {kind.name!r} is already registered")
    _REGISTRY[kind.name] = kind
    return kind


def registered() -> list[MatcherKind]:
    return list(_REGISTRY.values())


def build_matchers(watchlist, options, goods, prebuilt: dict | None = None) -> list:
    """Every registered matcher that has something to match, built for `watchlist`;
    ``prebuilt[name]`` (e.g. a text matcher read from the disk cache) is used instead of building."""
    out = []
    for k in _REGISTRY.values():
        m = (prebuilt or {}).get(k.name) or k.build(watchlist, options, goods)
        if m is not None:
            out.append(m)
    return out


# -- the built-in kinds -----------------------------------------------------------------------

def _text(watchlist, options, goods):
    from .text import TextMatcher

    return TextMatcher(watchlist, goods, language=getattr(options, "language", None) or "zh-CN")


def _gi(watchlist, options, goods):
    if not watchlist.geographical_indications:
        return None  # nothing to match: no per-listing folding of every text for no GI
    from .gi import GIMatcher

    return GIMatcher(watchlist, goods, language=getattr(options, "language", None) or "zh-CN")


def _logo(watchlist, options, goods):
    if not getattr(options, "logos", True) or not watchlist.logo_marks():
        return None
    from .logo import LogoMatcher

    return LogoMatcher(watchlist, cache_dir=getattr(options, "cache_dir", None),
                       language=getattr(options, "language", None) or "zh-CN")


register(MatcherKind("text", (TargetKind.WORD,), _text))
register(MatcherKind("gi", (TargetKind.GI,), _gi))
register(MatcherKind("logo", (TargetKind.LOGO,), _logo))
