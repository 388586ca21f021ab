"""Pure matching: listings and a watchlist in, scored matches with reasons out.

The names below are loaded on first use (PEP 562), so importing a light submodule such as
`matcher.reasons` (officer commands render reason codes) does not load the engine, the watchlist
parser or the automaton (issue 17)."""
from __future__ import annotations

import importlib

_EXPORTS = {"DEFAULT_THRESHOLD": ".engine", "EngineOptions": ".engine", "MatchEngine": ".engine",
            "Listing": ".listing", "ListingError": ".listing", "listing_from_dict": ".listing",
            "read_listings": ".listing", "Match": ".types", "MatchContext": ".types", "TextSource": ".types"}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    mod = _EXPORTS.get(name)
    if mod is None:
        raise AttributeError(f"module 'matcher' has no attribute {name!r}")
    value = getattr(importlib.import_module(mod, __name__), name)
    globals()[name] = value
    return value
