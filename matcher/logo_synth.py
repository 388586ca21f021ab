"""Synthetic logos and product photos, for the logo tests and benchmark (no binary fixtures).

Logos are built like typical registered marks: a coloured shape (triangle, disc, ring, rounded
square, shield, star, hexagon, diamond) with two capital letters and a decorative arc, on a
transparent canvas. Photos paste a logo small (15-45 % of the width), rotated (±20°), optionally
re-coloured, blurred and JPEG-compressed, onto a cluttered background of rectangles and ellipses.
A *distractor* is the same shape and colour with other letters.
"""
from __future__ import annotations

import io
import math
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SHAPES = ("triangle", "disc", "ring", "rounded", "shield", "star", "hexagon", "diamond")
# Shapes kept out of the dev corpus and the tests' tuning, for the held-out check (bench_logo --heldout):
# a globe (a disc cut by white meridians: one logo of many pieces), a trefoil of three separate
# leaves, a swoosh (a solid curved silhouette), a crown, and letters on an oval badge.
HELDOUT_SHAPES = ("globe", "trefoil", "swoosh", "crown", "oval")
SILHOUETTES = ("trefoil", "swoosh", "crown")  # drawn without letters when ``letters`` is empty
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
               "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf")


def _font(size: int):
    for p in _FONT_PATHS:
        if Path(p).is_file():
            return ImageFont.truetype(p, size)
    return ImageFont.load_default(size)  # Pillow's bundled font: no system dependency


def _poly(n, cx, cy, r, rot=-90.0):
    return [(cx + r * math.cos(math.radians(rot + i * 360 / n)), cy + r * math.sin(math.radians(rot + i * 360 / n)))
            for i in range(n)]


def make_logo(letters: str = "QD", shape: str = "triangle", color=(120, 60, 20), arc: int = 0,
              size: int = 256) -> Image.Image:
    """An RGBA logo: ``shape`` filled with ``color``, white ``letters``, a white arc at position ``arc``."""
    s = size
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    c = tuple(color) + (255,)
    m = s * 0.04
    text_fill = (255, 255, 255, 255)
    if shape == "triangle":
        d.polygon([(s / 2, m), (s - m, s * 0.72), (m, s * 0.72)], fill=c)
    elif shape == "disc":
        d.ellipse([m, m, s - m, s - m], fill=c)
    elif shape == "ring":
        d.ellipse([m, m, s - m, s - m], outline=c, width=int(s * 0.07))
        text_fill = c
    elif shape == "rounded":
        d.rounded_rectangle([m, m, s - m, s - m], radius=int(s * 0.1), fill=c)
    elif shape == "shield":
        d.polygon([(m, m), (s - m, m), (s - m, s * 0.62), (s / 2, s - m), (m, s * 0.62)], fill=c)
    elif shape == "star":
        pts = []
        for i in range(10):
            r = s * 0.46 if i % 2 == 0 else s * 0.2
            pts.append(_poly(10, s / 2, s * 0.52, r)[i])
        d.polygon(pts, fill=c)
    elif shape == "hexagon":
        d.polygon(_poly(6, s / 2, s / 2, s * 0.46, rot=-90), fill=c)
    elif shape == "diamond":
        d.polygon(_poly(4, s / 2, s / 2, s * 0.47, rot=-90), fill=c)
    elif shape == "globe":
        d.ellipse([m, m, s - m, s - m], fill=c)
        g = max(3, s // 45)
        for k in (1, 2, 3):
            y = m + k * (s - 2 * m) / 4
            d.line([(m, y), (s - m, y)], fill=(0, 0, 0, 0), width=g)
        d.ellipse([s * 0.3, m, s * 0.7, s - m], outline=(0, 0, 0, 0), width=g)
    elif shape == "trefoil":
        for k in range(3):
            a = math.radians(-90 + k * 120)
            cx, cy = s / 2 + s * 0.25 * math.cos(a), s / 2 + s * 0.25 * math.sin(a)
            d.ellipse([cx - s * 0.2, cy - s * 0.2, cx + s * 0.2, cy + s * 0.2], fill=c)
        d.ellipse([s * 0.38, s * 0.38, s * 0.62, s * 0.62], fill=(0, 0, 0, 0))
    elif shape == "swoosh":
        up = [(m + t * (s - 2 * m), s * 0.75 - s * 0.55 * t ** 1.6) for t in (i / 30 for i in range(31))]
        lo = [(m + t * (s - 2 * m), s * 0.75 - s * 0.55 * t ** 1.6 + s * 0.22 * math.sin(math.pi * t) ** 0.8)
              for t in (1 - i / 30 for i in range(31))]
        d.polygon(up + lo, fill=c)
    elif shape == "crown":
        d.polygon([(m, s * 0.8), (m, s * 0.3), (s * 0.27, s * 0.55), (s / 2, s * 0.15), (s * 0.73, s * 0.55),
                   (s - m, s * 0.3), (s - m, s * 0.8)], fill=c)
    elif shape == "oval":
        d.ellipse([m, s * 0.2, s - m, s * 0.8], fill=c)
    else:
        raise ValueError(f"unknown shape {shape}")
    if not letters:
        return img
    shrink = min(1.0, 2.0 / max(1, len(letters)))  # 3+ letters: smaller type so they fit the shape
    font = _font(int(s * (0.3 if shape in ("star", "triangle") else 0.34) * shrink))
    cy = s * (0.45 if shape == "triangle" else 0.56 if shape == "star" else 0.5)
    d.text((s / 2, cy), letters, font=font, fill=text_fill, anchor="mm")
    # decorative arc, one of four positions
    a0 = [200, 290, 20, 110][arc % 4]
    r = s * 0.36
    d.arc([s / 2 - r, s / 2 - r, s / 2 + r, s / 2 + r], a0, a0 + 60, fill=(255, 255, 255, 200), width=max(2, s // 40))
    return img


def random_logo_spec(rng: random.Random, n_letters: int = 2, shapes=SHAPES) -> dict:
    letters = "".join(rng.choice(LETTERS) for _ in range(n_letters))
    color = tuple(rng.randrange(20, 200) for _ in range(3))
    return {"letters": letters, "shape": rng.choice(shapes), "color": color, "arc": rng.randrange(4)}


def distractor_spec(spec: dict, rng: random.Random) -> dict:
    """Same shape and colour, different letters (no letter in the same place)."""
    n = len(spec["letters"])
    while True:
        letters = "".join(rng.choice(LETTERS) for _ in range(n))
        if all(a != b for a, b in zip(letters, spec["letters"])):
            return {**spec, "letters": letters}


def _clutter(rng: random.Random, size: int) -> Image.Image:
    bg = tuple(rng.randrange(140, 250) for _ in range(3))
    img = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(img)
    for _ in range(rng.randrange(3, 8)):
        col = tuple(rng.randrange(0, 256) for _ in range(3))
        x0, y0 = rng.randrange(-size // 5, size), rng.randrange(-size // 5, size)
        w, h = rng.randrange(size // 12, size // 3), rng.randrange(size // 12, size // 3)
        (d.rectangle if rng.random() < 0.5 else d.ellipse)([x0, y0, x0 + w, y0 + h], fill=col)
    return img


def recolour(logo: Image.Image, rng: random.Random) -> Image.Image:
    """Shift the hue and brightness of the logo's pixels, keeping alpha."""
    r, g, b, a = logo.split()
    hsv = Image.merge("RGB", (r, g, b)).convert("HSV")
    h, s, v = hsv.split()
    dh = rng.randrange(40, 216)
    h = h.point(lambda x: (x + dh) % 256)
    gain = rng.uniform(0.7, 1.2)
    v = v.point(lambda x: max(0, min(255, int(x * gain))))
    rgb = Image.merge("HSV", (h, s, v)).convert("RGB")
    out = rgb.convert("RGBA")
    out.putalpha(a)
    return out


def make_photo(logo: Image.Image | None, rng: random.Random, *, size: int = 640, rel_width: float | None = None,
               angle: float | None = None, recolor: bool | None = None, blur: float | None = None,
               quality: int | None = None, tilt: float = 0.0, occlude: float = 0.0) -> tuple[Image.Image, dict]:
    """A product photo with ``logo`` pasted somewhere (or clutter only when logo is None).

    ``tilt`` (0-0.4) foreshortens the logo as a sign seen at an angle (one side that much shorter);
    ``occlude`` (0-0.3) covers that fraction of the logo's width with a sticker.
    Returns the RGB photo and the truth: {'bbox': [x, y, w, h], 'angle', 'rel_width'}.
    """
    img = _clutter(rng, size)
    truth: dict = {}
    if logo is not None:
        rel = rel_width if rel_width is not None else rng.uniform(0.15, 0.45)
        ang = angle if angle is not None else rng.uniform(-20, 20)
        lg = logo
        if recolor if recolor is not None else rng.random() < 0.3:
            lg = recolour(lg, rng)
        w = max(8, int(size * rel))
        lg = lg.resize((w, w), Image.Resampling.LANCZOS)
        if tilt:
            lg = _tilt(lg, tilt, rng)
        lg = lg.rotate(ang, resample=Image.Resampling.BICUBIC, expand=True)
        x = rng.randrange(0, max(1, size - lg.size[0]))
        y = rng.randrange(0, max(1, size - lg.size[1]))
        base = img.convert("RGBA")
        base.alpha_composite(lg, (x, y))
        img = base.convert("RGB")
        if occlude:
            ow = int(lg.size[0] * occlude)
            side = rng.random() < 0.5
            ox = x if side else x + lg.size[0] - ow
            col = tuple(rng.randrange(0, 256) for _ in range(3))
            ImageDraw.Draw(img).rectangle([ox, y - 5, ox + ow, y + lg.size[1] + 5], fill=col)
        truth = {"bbox": [x, y, lg.size[0], lg.size[1]], "angle": ang, "rel_width": rel}
    b = blur if blur is not None else (rng.uniform(0.5, 1.8) if rng.random() < 0.4 else 0.0)
    if b > 0:
        img = img.filter(ImageFilter.GaussianBlur(b))
    q = quality if quality is not None else rng.randrange(55, 92)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=q)
    buf.seek(0)
    return Image.open(buf).convert("RGB"), truth


def _tilt(lg: Image.Image, tilt: float, rng: random.Random) -> Image.Image:
    import cv2

    a = np.asarray(lg.convert("RGBA"))
    h, w = a.shape[:2]
    d = tilt * (w if rng.random() < 0.5 else h) / 2
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    if rng.random() < 0.5:  # left or right side shorter (turned about the vertical axis)
        dst = np.float32([[0, 0], [w, d], [w, h - d], [0, h]]) if rng.random() < 0.5 else \
            np.float32([[0, d], [w, 0], [w, h], [0, h - d]])
    else:  # top shorter (seen from below)
        dst = np.float32([[d, 0], [w - d, 0], [w, h], [0, h]])
    P = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(a, P, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return Image.fromarray(out, "RGBA")


def jpeg_bytes(img: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def as_array(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.uint8)
