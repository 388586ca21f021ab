"""Listings in the DESIGN.md JSONL contract, parsed with errors that name file, line and field."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

REQUIRED = ("platform", "listing_id", "title")
KINDS = ("listing", "live")


@dataclass(slots=True)
class Listing:
    platform: str
    listing_id: str
    title: str
    url: str = ""
    kind: str = "listing"
    description: str = ""
    price: float | None = None
    currency: str = "CNY"
    seller_id: str = ""
    seller_name: str = ""
    seller_location: str = ""
    category: str = ""
    images: list[str] = field(default_factory=list)
    captured_at: str = ""
    origin: str | None = None
    sales: int | None = None
    # Text read from a live room's screen caption etc. (optional, crawler-provided)
    caption: str = ""
    # Directory that relative image paths are resolved against (not serialised).
    base_dir: Path | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("base_dir", None)
        if not d.get("caption"):
            d.pop("caption", None)
        return d

    def image_path(self, ref: str) -> str:
        """A local path for an image reference (URLs are returned unchanged). With a ``base_dir``
        only files inside it (matcher.paths): a refused reference comes back as
        ``refused-image-path:<why>``, which no reader finds (skipped as missing, never read)."""
        if "://" in ref or self.base_dir is None:
            return ref
        from .paths import REFUSED, local_image_path

        try:
            return str(local_image_path(self.base_dir, ref))
        except ValueError as e:
            return f"{REFUSED}{e}"


class ListingError(ValueError):
    def __init__(self, file: str, line: int, field: str, message: str):
        self.file, self.line, self.field, self.message = file, line, field, message
        super().__init__(f"{file}:{line}: field '{field}': {message}")


def _num(v, file, line, fname, integer=False):
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        raise ListingError(file, line, fname, f"not a number: {v!r}")
    try:
        x = float(str(v).replace(",", "").replace("¥", "").replace("￥", "").strip()) if isinstance(v, str) else float(v)
    except (TypeError, ValueError):
        raise ListingError(file, line, fname, f"not a number: {v!r}") from None
    if math.isnan(x) or math.isinf(x) or x < 0:
        raise ListingError(file, line, fname, f"not a valid amount: {v!r}")
    return int(x) if integer else x


def listing_from_dict(d: dict, file: str = "<listing>", line: int = 0, base_dir: Path | None = None) -> Listing:
    if not isinstance(d, dict):
        raise ListingError(file, line, "-", "a listing must be a JSON object")
    for f in REQUIRED:
        v = d.get(f)
        if v is None or (isinstance(v, str) and not v.strip()):
            raise ListingError(file, line, f, "is required but missing or empty")
    kind = d.get("kind") or "listing"
    if kind not in KINDS:
        raise ListingError(file, line, "kind", f"must be one of {', '.join(KINDS)} (got {kind!r})")
    images = d.get("images") or []
    if isinstance(images, str):
        images = [images]
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise ListingError(file, line, "images", "must be a list of paths or URLs")
    return Listing(
        platform=str(d["platform"]), listing_id=str(d["listing_id"]), title=str(d["title"]),
        url=str(d.get("url") or ""), kind=kind, description=str(d.get("description") or ""),
        price=_num(d.get("price"), file, line, "price"), currency=str(d.get("currency") or "CNY"),
        seller_id=str(d.get("seller_id") or ""), seller_name=str(d.get("seller_name") or ""),
        seller_location=str(d.get("seller_location") or ""), category=str(d.get("category") or ""),
        images=images, captured_at=str(d.get("captured_at") or ""),
        origin=(str(d["origin"]) if d.get("origin") else None),
        sales=_num(d.get("sales"), file, line, "sales", integer=True),
        caption=str(d.get("caption") or ""), base_dir=base_dir,
    )


def read_listings(path: str | Path) -> Iterator[Listing | ListingError]:
    """Yield a Listing per good line and a ListingError per bad one; blank lines are skipped."""
    p = Path(path)
    base = p.resolve().parent
    with p.open(encoding="utf-8", errors="replace") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                d = json.loads(raw)
            except json.JSONDecodeError as e:
                yield ListingError(str(p), n, "-", f"malformed JSON ({e.msg} at column {e.colno})")
                continue
            try:
                yield listing_from_dict(d, str(p), n, base)
            except ListingError as e:
                yield e
