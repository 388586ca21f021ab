"""Deterministic product photos for the sandbox (PIL), generated on first request and cached on disk.

Image names encode what to draw (see ``catalog.image_spec``), so the same name always gives the
same bytes: ``p-`` product photo, ``d-`` detail shot, ``l-<logo>-`` photo with a registered logo
somewhere in it (small, rotated, recoloured, on clutter), ``t-<k>-`` photo with text printed on it,
``x-`` a corrupt file (truncated JPEG).
"""
from __future__ import annotations

import hashlib
import io
import os
import random
import threading
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from .catalog import TEXT_ON_PHOTO

HERE = Path(__file__).resolve().parent
LOGO_DIR = HERE / "logos"
LOGO_FILES = {"hx": "logo-hongxiang.png", "lt": "logo-longteng.png"}
FONT_PATHS = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"]
SIZE = 480
_lock = threading.Lock()


def _rng(name: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big"))


@lru_cache(maxsize=8)
def font(size: int):
    for p in FONT_PATHS:
        if os.path.exists(p):
            return ImageFont.truetype(p, size)
    return None  # no CJK font: text is not drawn


def _colour(r: random.Random, lo=40, hi=230):
    return tuple(r.randint(lo, hi) for _ in range(3))


def _base(r: random.Random) -> Image.Image:
    top, bottom = _colour(r, 170, 250), _colour(r, 120, 220)
    img = Image.new("RGB", (SIZE, SIZE), top)
    d = ImageDraw.Draw(img)
    for y in range(0, SIZE, 4):
        t = y / SIZE
        d.rectangle([0, y, SIZE, y + 4], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    for _ in range(r.randint(3, 7)):  # clutter
        x, y, w = r.randint(0, SIZE), r.randint(0, SIZE), r.randint(20, 90)
        col = _colour(r, 60, 240)
        if r.random() < 0.5:
            d.ellipse([x, y, x + w, y + w], fill=col)
        else:
            d.rectangle([x, y, x + w, y + w // 2], fill=col)
    return img


def _product(img: Image.Image, r: random.Random) -> None:
    d = ImageDraw.Draw(img)
    col = _colour(r, 20, 200)
    kind = r.randint(0, 2)
    if kind == 0:  # box
        d.rounded_rectangle([120, 140, 360, 400], radius=24, fill=col, outline=(30, 30, 30), width=3)
    elif kind == 1:  # bottle
        d.rectangle([215, 90, 265, 160], fill=col)
        d.rounded_rectangle([170, 150, 310, 420], radius=30, fill=col, outline=(30, 30, 30), width=3)
    else:  # shoe-ish
        d.polygon([(90, 330), (200, 250), (300, 260), (400, 320), (400, 370), (90, 370)], fill=col, outline=(20, 20, 20))


def make_logo(key: str) -> Image.Image:
    """The sandbox's two registered logos (also shipped as PNGs in sandbox/logos)."""
    img = Image.new("RGBA", (256, 256), (255, 255, 255, 0))
    d = ImageDraw.Draw(img)
    if key == "hx":  # red disc, white wing chevrons, bar
        d.ellipse([8, 8, 248, 248], fill=(200, 30, 40, 255))
        d.polygon([(50, 150), (128, 60), (206, 150), (170, 150), (128, 102), (86, 150)], fill=(255, 255, 255, 255))
        d.polygon([(70, 190), (128, 125), (186, 190), (156, 190), (128, 160), (100, 190)], fill=(255, 230, 120, 255))
        d.rectangle([60, 200, 196, 216], fill=(255, 255, 255, 255))
    else:  # blue shield with a yellow zigzag and a dot
        d.polygon([(28, 20), (228, 20), (228, 140), (128, 240), (28, 140)], fill=(20, 60, 160, 255))
        d.line([(55, 80), (95, 140), (128, 70), (161, 140), (201, 80)], fill=(250, 200, 20, 255), width=18)
        d.ellipse([110, 160, 146, 196], fill=(250, 200, 20, 255))
    return img


@lru_cache(maxsize=4)
def logo(key: str) -> Image.Image:
    p = LOGO_DIR / LOGO_FILES[key]
    if p.exists():
        return Image.open(p).convert("RGBA")
    return make_logo(key)


def _paste_logo(img: Image.Image, key: str, r: random.Random) -> None:
    lg = logo(key)
    side = r.randint(90, 200)
    lg = lg.resize((side, side), Image.Resampling.LANCZOS)
    if r.random() < 0.4:  # recolour
        alpha = lg.getchannel("A")
        lg = ImageOps.colorize(lg.convert("L"), black=_colour(r, 0, 90), white=_colour(r, 160, 255)).convert("RGBA")
        lg.putalpha(alpha)
    lg = lg.rotate(r.uniform(-25, 25), expand=True, resample=Image.Resampling.BICUBIC)
    x, y = r.randint(0, SIZE - lg.width), r.randint(0, SIZE - lg.height)
    img.paste(lg, (x, y), lg)


def _text(img: Image.Image, text: str, r: random.Random) -> None:
    f = font(44)
    if f is None:
        return
    d = ImageDraw.Draw(img)
    w = d.textlength(text, font=f)
    x = max(8, int((SIZE - w) / 2))
    y = r.choice([30, 200, 390])
    d.rectangle([x - 10, y - 6, x + w + 10, y + 58], fill=(255, 255, 255))
    d.text((x, y), text, font=f, fill=(200, 20, 20) if r.random() < 0.5 else (20, 20, 20))


def render(name: str) -> bytes:
    """JPEG bytes for image `name`."""
    r = _rng(name)
    kind = name.split("-", 1)[0]
    if kind == "x":  # a corrupt photo: a JPEG cut short
        good = render("p-0-" + name)
        return good[: len(good) // 3]
    img = _base(r)
    if kind in ("p", "l", "t"):
        _product(img, r)
    if kind == "d":
        d = ImageDraw.Draw(img)
        for i in range(0, SIZE, 40):
            d.line([(i, 0), (0, i)], fill=_colour(r), width=3)
        f = font(30)
        if f is not None:
            d.text((20, SIZE - 60), "细节展示", font=f, fill=(40, 40, 40))
    if kind == "l":
        _paste_logo(img, name.split("-")[1], r)
    if kind == "t":
        k = int(name.split("-")[1])
        _text(img, TEXT_ON_PHOTO[k % len(TEXT_ON_PHOTO)], r)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=82)
    return buf.getvalue()


class ImageCache:
    """Rendered images on disk: generated once, then served from the file."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._mem: dict[str, bytes] = {}

    def get(self, name: str) -> bytes:
        b = self._mem.get(name)
        if b is not None:
            return b
        p = self.dir / f"{name}.jpg"
        try:
            b = p.read_bytes()
        except FileNotFoundError:
            b = render(name)
            tmp = p.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(b)
            os.replace(tmp, p)
        if len(self._mem) < 20000:
            self._mem[name] = b
        return b
