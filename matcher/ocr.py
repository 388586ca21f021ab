"""Text in images (the OCR issue fills this in): read text printed on listing images."""
from __future__ import annotations

from .listing import Listing
from .types import TextSource


class ImageTextReader:
    def __init__(self, cache_dir=None, budget: int | None = None):
        self.cache_dir = cache_dir
        self.budget = budget
        self.images_read = 0
        self.seconds = 0.0

    def texts(self, listing: Listing) -> list[TextSource]:
        return []
