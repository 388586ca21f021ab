"""Listings in the DESIGN.md JSONL contract, parsed with errors that name file, line and field.

The listing record shared by the crawler (writes it), the store (keeps it) and the matcher (reads
it); `matcher.listing` re-exports it for older imports. Standard library only."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

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
        from matcher.paths import REFUSED, local_image_path

        try:
            return str(local_image_path(self.base_dir, ref))
        except ValueError as e:
            return f"{REFUSED}{e}"


class ListingError(ValueError):
    def __init__(self, file: str, line: int, field: str, message: str):
        self.file, self.line, self.field, self.message = file, line, field, message
        super().__init__(f"{file}:{line}: field '{field}': {message}")


# Bounds on hostile or broken input (a real listing line is a few KB; titles on Taobao/JD are
# at most 60-120 characters; a single listing's price above 1e8 CNY or sales above 1e9 units is
# a data error, and would overflow the store's integer columns or show turnover as `inf`).
MAX_LINE_BYTES = 1 << 20
MAX_DEPTH = 8
MAX_PRICE = 1e8
MAX_SALES = 10**9
MAX_IMAGES = 200


def _num(v, file, line, fname, integer=False, limit: float = MAX_PRICE):
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        raise ListingError(file, line, fname, f"not a number: {v!r}")
    try:
        x = float(str(v).replace(",", "").replace("¥", "").replace("￥", "").strip()) if isinstance(v, str) else float(v)
    except (TypeError, ValueError, OverflowError):
        raise ListingError(file, line, fname, f"not a number: {str(v)[:40]!r}") from None
    if math.isnan(x) or math.isinf(x) or x < 0:
        raise ListingError(file, line, fname, f"not a valid amount: {str(v)[:40]!r}")
    if x > limit:
        raise ListingError(file, line, fname, f"{str(v)[:40]} is out of range (0 to {limit:g})")
    return int(x) if integer else x


def _depth(v, limit: int) -> int:
    """Nesting depth of a parsed JSON value, stopping once past `limit`."""
    stack, deepest = [(v, 1)], 0
    while stack:
        cur, d = stack.pop()
        if isinstance(cur, (dict, list)):
            deepest = max(deepest, d)
            if deepest > limit:
                return deepest
            stack.extend((x, d + 1) for x in (cur.values() if isinstance(cur, dict) else cur))
    return deepest


def _text(d: dict, name: str, file: str, line: int) -> str:
    """A string field: strings and numbers are accepted; text must be encodable (no lone
    surrogates such as "\\ud800", which no database or file can store)."""
    v = d.get(name)
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise ListingError(file, line, name, f"must be text (got {type(v).__name__})")
    s = str(v)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ListingError(file, line, name, f"invalid character {s[e.start]!r} at position {e.start} "
                                              "(a lone UTF-16 surrogate)") from None
    return s


_TEXT_FIELDS = ("platform", "listing_id", "title", "url", "kind", "description", "currency", "seller_id",
                "seller_name", "seller_location", "category", "captured_at", "origin", "caption")


def listing_from_dict(d: dict, file: str = "<listing>", line: int = 0, base_dir: Path | None = None) -> Listing:
    """One listing from a parsed JSON object. Raises ListingError naming file, line and field for
    missing required fields, wrong types, unstorable text and numbers out of range.

    Fast path for the usual line (every text field a string or absent, `images` a list of
    strings, no nested objects, all text encodable): the same checks in a few C-level calls
    instead of one Python call per field. Anything else goes through the field-by-field checks,
    which name the offending field (`_listing_from_dict_checked`)."""
    if type(d) is dict:
        t = {}
        strs = []
        for f in _TEXT_FIELDS:
            v = d.get(f)
            if v is None:
                t[f] = ""
            elif type(v) is str:
                t[f] = v
                strs.append(v)
            else:
                break
        else:
            images = d.get("images") or []
            kind = t["kind"] or "listing"
            if (type(images) is list and len(images) <= MAX_IMAGES and all(type(i) is str for i in images)
                    and kind in KINDS and all(t[f].strip() for f in REQUIRED)
                    and not any(type(v) is dict or (type(v) is list and v is not images) for v in d.values())):
                strs.extend(images)
                try:
                    "".join(strs).encode("utf-8")
                except UnicodeEncodeError:
                    pass
                else:
                    return _build(t, d, kind, images, file, line, base_dir)
    return _listing_from_dict_checked(d, file, line, base_dir)


def _listing_from_dict_checked(d: dict, file: str, line: int, base_dir: Path | None) -> Listing:
    """listing_from_dict, field by field (errors name the first offending field)."""
    if not isinstance(d, dict):
        raise ListingError(file, line, "-", "a listing must be a JSON object")
    if _depth(d, MAX_DEPTH) > MAX_DEPTH:
        raise ListingError(file, line, "-", f"nested deeper than {MAX_DEPTH} levels")
    for f in REQUIRED:
        v = d.get(f)
        if v is None or (isinstance(v, str) and not v.strip()):
            raise ListingError(file, line, f, "is required but missing or empty")
    t = {f: _text(d, f, file, line) for f in _TEXT_FIELDS}
    kind = t["kind"] or "listing"
    if kind not in KINDS:
        raise ListingError(file, line, "kind", f"must be one of {', '.join(KINDS)} (got {kind[:40]!r})")
    images = d.get("images") or []
    if isinstance(images, str):
        images = [images]
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise ListingError(file, line, "images", "must be a list of paths or URLs")
    if len(images) > MAX_IMAGES:
        raise ListingError(file, line, "images", f"{len(images)} images (at most {MAX_IMAGES})")
    for i, _ in enumerate(images):
        _text({f"images[{i}]": images[i]}, f"images[{i}]", file, line)
    return _build(t, d, kind, images, file, line, base_dir)


def _lines(fh, max_bytes: int):
    """(line number, bytes or None when longer than max_bytes) for each line of a binary file,
    never holding more than max_bytes of one line in memory."""
    n = 0
    while True:
        raw = fh.readline(max_bytes + 1)
        if not raw:
            return
        n += 1
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            while True:  # skip the rest of the over-long line
                rest = fh.readline(max_bytes)
                if not rest or rest.endswith(b"\n"):
                    break
            yield n, None
            continue
        yield n, raw


def read_listings(path: str | Path, meta: dict | None = None, max_line_bytes: int = MAX_LINE_BYTES,
                  lines: Callable[[int], bool] | None = None) -> Iterator[Listing | ListingError]:
    """Yield a Listing per good line and a ListingError per bad one; blank lines are skipped.

    `lines`: only the lines whose 1-based number it accepts are decoded and parsed (the others
    are skipped unread, so N forked workers each parse only their share of a file).

    The encoding is detected from the first 64 KB (UTF-8, UTF-8 with BOM, GBK, GB18030; see
    config.textio) and stored in ``meta["encoding"]`` when `meta` is given; a line that does not
    decode in it is a ListingError, never silently garbled. Lines longer than `max_line_bytes`,
    JSON nested deeper than MAX_DEPTH and numbers out of range are ListingErrors too.
    """
    from config.textio import SNIFF_BYTES, label, sniff_encoding

    p = Path(path)
    base = p.resolve().parent
    with p.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
        fh.seek(0)
        enc = sniff_encoding(head, partial=True) or "utf-8"
        if enc == "utf-16":
            yield ListingError(str(p), 1, "-", "UTF-16 text: save the file as UTF-8 (one JSON object per line)")
            return
        if enc == "utf-8-sig":
            fh.read(3)
            enc = "utf-8"
            if meta is not None:
                meta["encoding"] = "utf-8-sig"
        elif meta is not None:
            meta["encoding"] = enc
        for n, raw in _lines(fh, max_line_bytes):
            if lines is not None and not lines(n):
                continue
            if raw is None:
                yield ListingError(str(p), n, "-", f"line longer than {max_line_bytes} bytes")
                continue
            try:
                text = raw.decode(enc)
            except UnicodeDecodeError as e:
                yield ListingError(str(p), n, "-", f"not valid {label(enc)} text (byte 0x{raw[e.start]:02x} "
                                                   f"at column {e.start + 1})")
                continue
            if not text.strip():
                continue
            try:
                d = json.loads(text.rstrip("\r\n"))
            except json.JSONDecodeError as e:
                # the column within the line (an error at the line's end is not "column 1" of the next)
                yield ListingError(str(p), n, "-", f"malformed JSON ({e.msg} at column {e.pos + 1})")
                continue
            except RecursionError:
                yield ListingError(str(p), n, "-", f"nested deeper than {MAX_DEPTH} levels")
                continue
            try:
                yield listing_from_dict(d, str(p), n, base)
            except ListingError as e:
                yield e


def listings_encoding(path: str | Path) -> str:
    """The encoding read_listings will use for `path` ('utf-8', 'utf-8-sig', 'gbk', 'gb18030')."""
    meta: dict = {}
    for _ in read_listings(path, meta):
        break
    return meta.get("encoding", "utf-8")


def _build(t: dict, d: dict, kind: str, images: list, file: str, line: int, base_dir: Path | None) -> Listing:
    """The Listing from checked text fields `t` and the raw dict `d` (numbers checked here)."""
    return Listing(
        platform=t["platform"], listing_id=t["listing_id"], title=t["title"],
        url=t["url"], kind=kind, description=t["description"],
        price=_num(d.get("price"), file, line, "price"), currency=t["currency"] or "CNY",
        seller_id=t["seller_id"], seller_name=t["seller_name"],
        seller_location=t["seller_location"], category=t["category"],
        images=images, captured_at=t["captured_at"],
        origin=t["origin"] or None,
        sales=_num(d.get("sales"), file, line, "sales", integer=True, limit=MAX_SALES),
        caption=t["caption"], base_dir=base_dir,
    )
