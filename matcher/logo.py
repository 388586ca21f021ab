"""Logo matcher (the logo issue fills this in): registered logos inside listing images."""
from __future__ import annotations

from watchlist.model import Watchlist

from .types import Match, MatchContext


class LogoMatcher:
    def __init__(self, watchlist: Watchlist, cache_dir=None):
        self.marks = watchlist.logo_marks()

    def match(self, ctx: MatchContext) -> list[Match]:
        return []
