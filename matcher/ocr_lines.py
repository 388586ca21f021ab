"""Turn raw OCR boxes into text worth matching: drop noise, join neighbouring boxes on a line.

OCR detectors often split one printed word into several boxes (正品保障 → 正品保 + 障, SAMSUNG →
SAM + SUNG), so boxes that sit on the same text line, at the same height and close together
along the reading direction are joined into one line. The single boxes are kept as well (a
joined line can glue a mark to a neighbouring promo sticker), except one-character fragments that
only make sense as part of their line.

Pure geometry on ``{"text", "box": [[x, y]*4], "confidence"}`` dicts; works for rotated lines and
for vertical (top-to-bottom) text columns.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

# A box whose recognition score is below this is treated as unreadable and dropped.
MIN_CONFIDENCE = 0.6
# Very short Latin texts (one or two letters) are where OCR invents things from shapes and logo
# artwork, so they need more confidence.
MIN_CONFIDENCE_SHORT = 0.75
# At most this many alternative readings (runner-up characters) are offered per box.
MAX_ALTERNATIVES = 2

_MEANINGFUL = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_ASCII_ALNUM = re.compile(r"[0-9A-Za-z]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def meaningful_len(text: str) -> int:
    return len(_MEANINGFUL.findall(text))


def keep_box(text: str, confidence: float, min_confidence: float = MIN_CONFIDENCE,
             min_confidence_short: float = MIN_CONFIDENCE_SHORT) -> bool:
    """Whether an OCR box is worth matching: confident enough and not just punctuation/shapes."""
    n = meaningful_len(text)
    if n == 0:
        return False
    short_latin = n <= 2 and not _CJK.search(text)
    floor = max(min_confidence, min_confidence_short) if short_latin else min_confidence
    return confidence >= floor


@dataclass
class _Geo:
    i: int
    cx: float
    cy: float
    ux: float  # unit reading direction
    uy: float
    w: float  # extent along the reading direction
    h: float  # extent across it (the text height)


def _geometry(i: int, box, text: str) -> _Geo | None:
    try:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = [(float(p[0]), float(p[1])) for p in box]
    except (TypeError, ValueError):
        return None
    # top edge tl->tr and bottom edge bl->br give the reading direction of a horizontal line
    dx, dy = ((x1 - x0) + (x2 - x3)) / 2, ((y1 - y0) + (y2 - y3)) / 2
    w = (math.hypot(x1 - x0, y1 - y0) + math.hypot(x2 - x3, y2 - y3)) / 2
    h = (math.hypot(x3 - x0, y3 - y0) + math.hypot(x2 - x1, y2 - y1)) / 2
    if w <= 0 or h <= 0:
        return None
    if h >= 1.5 * w and meaningful_len(text) >= 2:
        # a vertical text column: it reads top to bottom
        dx, dy = ((x3 - x0) + (x2 - x1)) / 2, ((y3 - y0) + (y2 - y1)) / 2
        w, h = h, w
    norm = math.hypot(dx, dy) or 1.0
    return _Geo(i, (x0 + x1 + x2 + x3) / 4, (y0 + y1 + y2 + y3) / 4, dx / norm, dy / norm, w, h)


def _neighbours(a: _Geo, b: _Geo) -> bool:
    """Whether b continues a's line (in either order)."""
    if a.ux * b.ux + a.uy * b.uy < math.cos(math.radians(12)):
        return False
    hmax, hmin = max(a.h, b.h), min(a.h, b.h)
    if hmax > 1.7 * hmin:  # a one-character box is tighter than a line box
        return False
    ddx, ddy = b.cx - a.cx, b.cy - a.cy
    along = ddx * a.ux + ddy * a.uy
    across = -ddx * a.uy + ddy * a.ux
    if abs(across) > 0.45 * hmax:
        return False
    gap = abs(along) - a.w / 2 - b.w / 2
    return -0.5 * hmin <= gap <= 0.8 * hmax


def _union_box(geos: list[_Geo], boxes: list) -> list[list[int]]:
    """The rectangle, aligned with the line, that encloses all its boxes (4 points, clockwise)."""
    ux = sum(g.ux for g in geos) / len(geos)
    uy = sum(g.uy for g in geos) / len(geos)
    n = math.hypot(ux, uy) or 1.0
    ux, uy = ux / n, uy / n
    vx, vy = -uy, ux
    pts = [(float(p[0]), float(p[1])) for b in boxes for p in b]
    a = [x * ux + y * uy for x, y in pts]
    c = [x * vx + y * vy for x, y in pts]
    a0, a1, c0, c1 = min(a), max(a), min(c), max(c)

    def back(s, t):
        return [int(round(s * ux + t * vx)), int(round(s * uy + t * vy))]

    return [back(a0, c0), back(a1, c0), back(a1, c1), back(a0, c1)]


def lines(raw: list[dict], min_confidence: float = MIN_CONFIDENCE,
          min_confidence_short: float = MIN_CONFIDENCE_SHORT, keep_singles: bool = True) -> list[dict]:
    """Filtered boxes and joined lines, as ``{"text", "box", "confidence", "parts"}`` dicts.

    ``parts`` is the number of OCR boxes a text was built from (1 for a single box). A joined
    line's confidence is the lowest of its parts (an officer reads the weakest link).
    """
    kept = [b for b in raw if b.get("text") and keep_box(b["text"], float(b.get("confidence") or 0.0),
                                                         min_confidence, min_confidence_short)]
    geos = [g for g in (_geometry(i, b["box"], b["text"]) for i, b in enumerate(kept)) if g is not None]
    parent = list(range(len(kept)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for ia in range(len(geos)):
        for ib in range(ia + 1, len(geos)):
            if _neighbours(geos[ia], geos[ib]):
                parent[find(geos[ia].i)] = find(geos[ib].i)

    groups: dict[int, list[_Geo]] = {}
    for g in geos:
        groups.setdefault(find(g.i), []).append(g)

    out: list[dict] = []
    joined_members: set[int] = set()
    for members in groups.values():
        if len(members) < 2:
            continue
        ref = max(members, key=lambda g: g.w)
        members.sort(key=lambda g: g.cx * ref.ux + g.cy * ref.uy)
        h = sum(g.h for g in members) / len(members)
        parts = []
        for g in members:
            centre = g.cx * ref.ux + g.cy * ref.uy
            parts.append((kept[g.i]["text"], centre - g.w / 2, centre + g.w / 2))
        text = _join_parts(parts, h)
        out.append({"text": text, "box": _union_box(members, [kept[g.i]["box"] for g in members]),
                    "confidence": round(min(float(kept[g.i]["confidence"]) for g in members), 4),
                    "parts": len(members)})
        joined_members.update(g.i for g in members)

    singles = []
    if keep_singles:
        for i, b in enumerate(kept):
            if i in joined_members and meaningful_len(b["text"]) <= 1:
                continue  # a one-character fragment only means something inside its line
            box = [list(map(int, p)) for p in b["box"]]
            singles.append({"text": b["text"], "box": box, "confidence": round(float(b["confidence"]), 4),
                            "parts": 1})
            other = b.get("other")
            if isinstance(other, dict) and other.get("text") and other["text"] != b["text"] and keep_box(
                    other["text"], float(other.get("confidence") or 0.0), min_confidence, min_confidence_short):
                # the box's other reading (a second look, see ocr_engine.second_looks)
                singles.append({"text": other["text"], "box": box, "confidence": round(float(other["confidence"]), 4),
                                "parts": 1, "alternative_of": b["text"]})
            for alt_text, alt_conf in alternatives(b):
                if keep_box(alt_text, alt_conf, min_confidence, min_confidence_short):
                    singles.append({"text": alt_text, "box": box, "confidence": alt_conf, "parts": 1,
                                    "alternative_of": b["text"]})
    return singles + out


def alternatives(b: dict, limit: int = MAX_ALTERNATIVES) -> list[tuple[str, float]]:
    """Other readings of a box: one hesitant character replaced by the recogniser's runner-up.

    The confidence of an alternative is computed like the box's own (the mean per-character
    probability), with the runner-up's probability at the replaced position.
    """
    text, probs, alts = b.get("text") or "", b.get("char_probs"), b.get("alternatives")
    if not alts or not probs or len(probs) != len(text):
        return []
    out = []
    for pos, ch, pr in sorted(alts, key=lambda a: -float(a[2]))[:limit]:
        if not (0 <= pos < len(text)) or text[pos] == ch:
            continue
        p = list(probs)
        p[pos] = float(pr)
        out.append((text[:pos] + ch + text[pos + 1:], round(sum(p) / len(p), 4)))
    return out


def _join_parts(parts: list[tuple[str, float, float]], h: float) -> str:
    """Concatenate (text, start, end) parts in reading order; a space only between Latin words
    that are clearly apart."""
    out = parts[0][0]
    prev_end = parts[0][2]
    for text, start, end in parts[1:]:
        if _ASCII_ALNUM.match(text[:1]) and _ASCII_ALNUM.match(out[-1:]) and start - prev_end > 0.3 * h:
            out += " "
        out += text
        prev_end = end
    return out
