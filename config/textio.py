"""Text encodings of files officers and holders hand us: UTF-8, UTF-8 with a BOM (what Excel
writes for "CSV UTF-8"), GBK / GB18030 (what Chinese Excel and many Windows tools write), and
UTF-16 with a BOM ("Unicode text" from Excel).

Detection never guesses silently: the encoding found is returned so callers can report it, and
bytes that fit none of these are an error naming the file and the first offending line.

Rule source: WHATWG Encoding Standard (BOM sniffing), GB 18030-2005 (a strict superset of GBK,
so GBK text is decoded as GB18030 and reported as "gbk" when GBK alone suffices).
"""
from __future__ import annotations

import codecs

SNIFF_BYTES = 1 << 16

BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


class EncodingProblem(ValueError):
    """Bytes that are not text in a supported encoding. ``line`` is 1-based (None if unknown)."""

    def __init__(self, file: str, line: int | None, message: str):
        self.file, self.line, self.message = file, line, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


def _valid(data: bytes, enc: str, partial: bool) -> bool:
    """Does `data` decode strictly as `enc`? With `partial`, an incomplete trailing sequence is
    allowed (the sample may cut a character in two)."""
    dec = codecs.getincrementaldecoder(enc)("strict")
    try:
        dec.decode(data, final=not partial)
        return True
    except UnicodeDecodeError:
        return False


def _is_cjk(c: str) -> bool:
    return "\u3000" <= c <= "\u303f" or "\u3400" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef"


def _looks_like_gbk(data: bytes) -> bool:
    """Bytes valid in both UTF-8 and GBK: GBK when, read as UTF-8, they hold no CJK at all but
    a character real text does not have — a C1 control, an unassigned or private-use code point,
    or a combining mark after a non-ASCII character (茅台 in GBK reads as UTF-8 "é" + U+0328) —
    while read as GBK they give at least two CJK characters. 'café', 'naïve', Oriya or Thai text
    stay UTF-8."""
    import unicodedata

    as_utf8 = data.decode("utf-8", "ignore")
    as_gbk = data.decode("gbk", "ignore")
    if any(_is_cjk(c) for c in as_utf8) or sum(_is_cjk(c) for c in as_gbk) < 2:
        return False
    prev = "a"
    for c in as_utf8:
        cat = unicodedata.category(c)
        if cat in ("Cc", "Co", "Cn") and ord(c) >= 0x80:
            return True
        if cat in ("Mn", "Mc", "Me") and ord(prev) >= 0x80 and unicodedata.category(prev)[0] != "M" \
                and unicodedata.decomposition(prev):
            return True
        prev = c
    return False


def sniff_encoding(sample: bytes, partial: bool = False) -> str | None:
    """The encoding of `sample`: 'utf-8-sig', 'utf-16', 'utf-8', 'gbk', 'gb18030', or None when
    the bytes fit none of them. Pure ASCII is 'utf-8'. `partial`: sample is the start of a file."""
    for bom, enc in BOMS:
        if sample.startswith(bom):
            return enc
    if _valid(sample, "utf-8", partial):
        if not sample.isascii() and _valid(sample, "gbk", partial) and _looks_like_gbk(sample):
            return "gbk"  # short GBK text can also be valid UTF-8 (茅台 = C3A9 CCA8 = "ę́")
        return "utf-8"
    if _valid(sample, "gbk", partial):
        return "gbk"
    if _valid(sample, "gb18030", partial):
        return "gb18030"
    return None


def _first_bad_line(data: bytes, enc: str) -> tuple[int, int]:
    """(1-based line, byte offset) of the first byte that does not decode as `enc`."""
    try:
        data.decode(enc)
    except UnicodeDecodeError as e:
        return data.count(b"\n", 0, e.start) + 1, e.start
    return 0, 0


def decode_text(data: bytes, file: str = "<input>") -> tuple[str, str]:
    """Decode a whole file's bytes. Returns (text, encoding); the BOM is removed.

    Raises EncodingProblem naming the file and the first line that is not UTF-8 when the bytes
    are neither UTF-8 (with or without BOM), UTF-16 with BOM, GBK nor GB18030.
    """
    enc = sniff_encoding(data)
    if enc is None:
        line, off = _first_bad_line(data, "utf-8")
        raise EncodingProblem(file, line, f"not UTF-8, GBK or GB18030 text (byte 0x{data[off]:02x} at offset {off} "
                                          f"is not valid); save it as UTF-8")
    return data.decode(enc), enc


def label(enc: str) -> str:
    """How an encoding is named to officers."""
    return {"utf-8-sig": "UTF-8 (BOM)", "utf-8": "UTF-8", "gbk": "GBK", "gb18030": "GB18030",
            "utf-16": "UTF-16"}.get(enc, enc)
