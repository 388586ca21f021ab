"""Compatibility re-export: the listing record lives in `config.listing` (shared by crawler,
store and matcher; see that module). Import from there in new code."""
from config.listing import (  # noqa: F401
    KINDS, MAX_DEPTH, MAX_IMAGES, MAX_LINE_BYTES, MAX_PRICE, MAX_SALES, REQUIRED, Listing, ListingError, listing_from_dict, listings_encoding, read_listings,
)
