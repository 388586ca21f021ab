"""Glyph similarity of two CJK characters, from their rendered shapes.

The curated 形近字 table (config/data/xingjinzi.txt) cannot list every pair sellers swap. When a
candidate differs from a registered mark of three or more characters in exactly one character,
the two characters are rendered with a CJK font (Noto Sans CJK, a system dependency installed by
scripts/system-deps.sh) and compared: the correlation of their 24x24 shapes. Random pairs of
common characters score 0.48 on average (99.9th percentile 0.77); 吉/告 0.90, 兔/免 0.94,
雪/雷 0.93; the threshold is 0.85.

Without the font the check is unavailable and such candidates keep the low 'similar' score.
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
SIMILAR = 0.85  # correlation at or above which two glyphs count as look-alikes


@lru_cache(maxsize=1)
def _font():
    from PIL import ImageFont
    for p in FONT_CANDIDATES:
        if Path(p).is_file():
            try:
                # index 2 of the Noto CJK collection is the Simplified Chinese face
                return ImageFont.truetype(p, 48, index=2 if p.endswith(".ttc") and "Noto" in p else 0)
            except OSError:
                continue
    return None


def available() -> bool:
    return _font() is not None


@lru_cache(maxsize=8192)
def _shape(ch: str) -> tuple[float, ...]:
    """The character's 24x24 rendered shape, mean-centred and scaled to unit length (576 floats).
    Plain Python, not numpy: a run compares a handful of pairs, and importing numpy (~0.15 CPU-s)
    cost more than all of them."""
    from PIL import Image, ImageDraw

    im = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(im).text((32, 32), ch, fill=255, font=_font(), anchor="mm")
    px = list(im.resize((24, 24), Image.BILINEAR).tobytes())  # mode "L": one byte per pixel
    mean = sum(px) / len(px)
    a = [p - mean for p in px]
    n = math.sqrt(sum(x * x for x in a))
    return tuple(x / n for x in a) if n else tuple(a)


@lru_cache(maxsize=65536)
def glyph_similarity(a: str, b: str) -> float | None:
    """Correlation (-1..1) of the two characters' rendered shapes; None without a CJK font."""
    if _font() is None:
        return None
    return math.fsum(x * y for x, y in zip(_shape(a), _shape(b)))


def look_alike_glyphs(a: str, b: str) -> bool:
    s = glyph_similarity(a, b)
    return s is not None and s >= SIMILAR
