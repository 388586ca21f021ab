"""Pure matching: listings and a watchlist in, scored matches with reasons out."""
from .engine import DEFAULT_THRESHOLD, EngineOptions, MatchEngine
from .listing import Listing, ListingError, listing_from_dict, read_listings
from .types import Match, MatchContext, TextSource

__all__ = ["DEFAULT_THRESHOLD", "EngineOptions", "MatchEngine", "Listing", "ListingError",
           "listing_from_dict", "read_listings", "Match", "MatchContext", "TextSource"]
