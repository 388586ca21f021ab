"""Image decoding cases real listings bring (images generated here): 16-bit greyscale PNG,
transparent PNG with white text, AVIF, palette images with transparency, bombs and huge images."""
from __future__ import annotations

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from matcher.images import ImageRejected, decode_for_reading, decode_image, open_image

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def _save(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def _font(size: int):
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        return ImageFont.load_default(size)


def test_16bit_greyscale_png_keeps_its_picture():
    # a left-to-right ramp over the whole 16-bit range, with a dark square in it
    a = np.tile(np.linspace(0, 65535, 200), (120, 1)).astype(np.uint16)
    a[40:80, 150:190] = 1000
    img = Image.fromarray(a)
    assert img.mode == "I;16"
    data = _save(img)
    assert Image.open(io.BytesIO(data)).mode == "I;16"  # really stored as 16-bit
    g = np.asarray(decode_image(data, mode="L"), dtype=int)
    assert g[:, 0].max() <= 2 and g[:, 120].min() >= 140  # a ramp, not a blank white page
    assert g[60, 170] <= 5  # the dark square is dark
    rgb = np.asarray(decode_image(data, mode="RGB"), dtype=int)
    assert abs(rgb[10, 100, 0] - g[10, 100]) <= 1


def _white_text_sheet() -> bytes:
    im = Image.new("RGBA", (420, 120), (0, 0, 0, 0))
    ImageDraw.Draw(im).text((20, 30), "MOUTAI", font=_font(52), fill=(255, 255, 255, 255))
    return _save(im)


def test_transparent_png_with_white_text_is_flattened_on_a_dark_background():
    first, second = decode_for_reading(_white_text_sheet())
    a = np.asarray(first.convert("L"), dtype=int)
    assert a[5, 5] < 30 and a.max() > 225  # text light on dark: readable
    b = np.asarray(second.convert("L"), dtype=int)
    assert b[5, 5] > 225  # the other rendering is on white, for dark text on the same sheet
    # dark text on a transparent sheet goes on white first
    im = Image.new("RGBA", (200, 80), (0, 0, 0, 0))
    ImageDraw.Draw(im).text((10, 10), "AB", font=_font(40), fill=(20, 20, 20, 255))
    dark_first = decode_for_reading(_save(im))[0]
    assert dark_first.convert("L").getpixel((2, 2)) > 225
    # an opaque photo has one rendering
    assert len(decode_for_reading(_save(Image.new("RGB", (50, 50), (90, 90, 90))))) == 1


def test_white_text_on_transparent_png_is_read_by_ocr():
    from matcher.ocr_engine import read_bytes

    r = read_bytes(_white_text_sheet())
    assert "MOUTAI" in {b["text"].upper() for b in r["boxes"]}, r


def test_avif_is_decoded():
    img = Image.new("RGB", (96, 64), (200, 30, 30))
    ImageDraw.Draw(img).rectangle([30, 20, 60, 40], fill=(20, 20, 220))
    data = _save(img, "AVIF", quality=90)
    out = decode_image(data)
    assert out.size == (96, 64)
    r, g, b = out.getpixel((5, 5))
    assert r > 150 and g < 80  # red stays red
    r, g, b = out.getpixel((45, 30))
    assert b > 150 and r < 80


def test_palette_image_with_transparency_is_flattened_not_shown_in_its_key_colour():
    im = Image.new("P", (80, 60), 0)
    im.putpalette([0, 255, 0] + [200, 0, 0] + [0, 0, 0] * 254)  # index 0 green (the transparent key), 1 red
    ImageDraw.Draw(im).rectangle([20, 20, 60, 40], fill=1)
    data = _save(im, transparency=0)
    out = decode_image(data)
    assert out.getpixel((2, 2)) == (255, 255, 255)  # transparent, not green
    assert out.getpixel((40, 30)) == (200, 0, 0)
    gif = decode_image(_save(im, "GIF", transparency=0))
    assert gif.getpixel((2, 2)) == (255, 255, 255)


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge canvas (IHDR) with a few bytes of compressed zeros."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("w,h", [(100_000, 100_000), (20_000, 100), (9_000, 9_000)])
def test_bombs_and_huge_images_refused_within_a_memory_bound(tmp_path, w, h):
    p = tmp_path / "bomb.png"
    p.write_bytes(_png_header_only(w, h))
    tracemalloc.start()
    try:
        with pytest.raises(ImageRejected) as e:
            open_image(p)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert e.value.reason == "too_many_pixels"
    assert peak < 16 * 1024 * 1024  # refused from the header: nothing near w*h bytes allocated
    with pytest.raises(ImageRejected):
        decode_for_reading(p.read_bytes())
