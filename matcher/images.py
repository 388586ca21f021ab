"""Safe image loading shared by the logo matcher, OCR and logo registration.

Listing images come from untrusted marketplace pages, so every decoder call goes through here:

* the file must exist, be local (URLs are the crawler's job) and not exceed ``max_bytes``;
* the format is sniffed from the content (not the file name) and must be one we accept;
* the pixel count and side length are read from the header *before* decoding, so a
  decompression bomb (a tiny file that declares a huge canvas) is refused without allocating it;
* decoding errors (truncated or corrupt files) become :class:`ImageRejected`, never a crash.

API (stable, imported by other matchers)::

    img = open_image(path)                  # PIL.Image in RGB, or raises ImageRejected
    arr = open_image_array(path, "L", max_side=1024)   # numpy uint8 array (H, W) or (H, W, 3) RGB
    info = probe_image(path)                # ImageInfo(format, width, height, bytes, sha256) without decoding
    sha256_file(path), sha256_bytes(data)

``ImageRejected.reason`` is a short machine code (``missing``, ``remote``, ``too_large``,
``unsupported_format``, ``too_many_pixels``, ``corrupt``); ``str(exc)`` is an English sentence and
``exc.reason_zh`` a short zh-CN one for officers.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

# Defaults: generous for product photos and live-room frames, far below what would hurt memory.
MAX_BYTES = 25 * 1024 * 1024          # 25 MiB on disk
MAX_PIXELS = 40_000_000               # 40 MP decoded (~120 MB as RGB)
MAX_SIDE = 16_000                     # either side, in pixels
MIN_SIDE = 8                          # smaller than this is not a usable photo
FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO", "AVIF"})
LIGHT, DARK = (255, 255, 255), (0, 0, 0)

REASONS_ZH = {
    "missing": "图片文件不存在",
    "remote": "图片尚未下载到本地",
    "too_large": "图片文件过大",
    "unsupported_format": "图片格式不支持",
    "too_many_pixels": "图片像素过多（疑似解压炸弹）",
    "too_small": "图片尺寸过小",
    "corrupt": "图片损坏或无法解码",
}


class ImageRejected(Exception):
    """An image that was not decoded, with why. Callers skip the image and keep going."""

    def __init__(self, reason: str, message: str = "", path: str | None = None):
        self.reason = reason
        self.path = path
        self.message = message or reason
        super().__init__(f"{path}: {self.message}" if path else self.message)

    @property
    def reason_zh(self) -> str:
        return REASONS_ZH.get(self.reason, "图片无法读取")


@dataclass(frozen=True, slots=True)
class ImageInfo:
    format: str
    width: int
    height: int
    bytes: int
    sha256: str


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            b = fh.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def _read_bytes(path: str | Path, max_bytes: int) -> bytes:
    s = str(path)
    if "://" in s:
        raise ImageRejected("remote", "image is a URL, not a local file (fetch it first)", s)
    p = Path(s)
    try:
        size = p.stat().st_size
    except OSError:
        raise ImageRejected("missing", "image file not found", s) from None
    if not p.is_file():
        raise ImageRejected("missing", "not a regular file", s)
    if size > max_bytes:
        raise ImageRejected("too_large", f"file is {size} bytes, the limit is {max_bytes}", s)
    if size == 0:
        raise ImageRejected("corrupt", "file is empty", s)
    try:
        return p.read_bytes()
    except OSError as e:
        raise ImageRejected("missing", f"cannot read file ({e.strerror})", s) from None


def _open_header(data: bytes, src: str, *, max_pixels: int, max_side: int, formats) -> Image.Image:
    """Open lazily (header only) and check format and declared size before any decoding."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("too_many_pixels", "declared size is a decompression bomb", src) from None
    except Exception as e:  # PIL raises UnidentifiedImageError, OSError, SyntaxError, ValueError...
        raise ImageRejected("corrupt", f"not a readable image ({type(e).__name__})", src) from None
    fmt = (img.format or "").upper()
    if fmt not in formats:
        raise ImageRejected("unsupported_format", f"format {fmt or 'unknown'} is not accepted", src)
    w, h = img.size
    if w > max_side or h > max_side or w * h > max_pixels:
        raise ImageRejected("too_many_pixels", f"declared size {w}x{h} exceeds the limit "
                            f"({max_pixels} pixels, {max_side} per side)", src)
    if w < MIN_SIDE or h < MIN_SIDE:
        raise ImageRejected("too_small", f"image is only {w}x{h}", src)
    return img


def probe_image(path: str | Path, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS,
                max_side: int = MAX_SIDE, formats=FORMATS) -> ImageInfo:
    """Format, size and content hash without decoding the pixels (raises ImageRejected)."""
    data = _read_bytes(path, max_bytes)
    img = _open_header(data, str(path), max_pixels=max_pixels, max_side=max_side, formats=formats)
    return ImageInfo(img.format.upper(), img.size[0], img.size[1], len(data), sha256_bytes(data))


def has_alpha(img: Image.Image) -> bool:
    """Whether the image carries transparency (alpha channel, or a palette/RGB/L colour key)."""
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and 32-bit greyscale (PNG I;16, TIFF I/F) scaled to 8 bits instead of clipped to white."""
    import numpy as np

    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        if img.mode.startswith("I;16") or (img.mode == "I" and a.max(initial=0) > 255):
            top = 65535.0 if a.max(initial=0) <= 65535 else float(a.max())
        else:
            top = 255.0 if a.max(initial=0) <= 255 else float(a.max())
        if img.mode == "F" and a.max(initial=0) <= 1.0:
            top = 1.0
        return Image.fromarray(np.clip(a * (255.0 / top), 0, 255).round().astype(np.uint8), "L")
    return img


def contrasting_background(rgba: Image.Image) -> tuple[int, int, int]:
    """DARK when the visible (alpha-weighted) pixels are mostly light (white text on a transparent
    sheet), else LIGHT: the background that keeps the content readable."""
    import numpy as np

    a = np.asarray(rgba.convert("RGBA"), dtype=np.float32)
    w = a[:, :, 3] / 255.0
    if w.sum() < 1:
        return LIGHT
    lum = (0.299 * a[:, :, 0] + 0.587 * a[:, :, 1] + 0.114 * a[:, :, 2])
    return DARK if float((lum * w).sum() / w.sum()) > 160 else LIGHT


def flatten(img: Image.Image, background="auto") -> Image.Image:
    """Composite a transparent image on ``background``: an RGB tuple, or ``"auto"`` for the
    contrasting one (:func:`contrasting_background`). Returns RGBA-free RGB."""
    rgba = img.convert("RGBA")
    bg_rgb = contrasting_background(rgba) if background == "auto" else tuple(background)
    bg = Image.new("RGBA", rgba.size, tuple(bg_rgb) + (255,))
    bg.alpha_composite(rgba)
    return bg.convert("RGB")


def decode_image(data: bytes, src: str = "<bytes>", *, mode: str | None = "RGB", max_pixels: int = MAX_PIXELS,
                 max_side: int = MAX_SIDE, formats=FORMATS, background=LIGHT) -> Image.Image:
    """Decode image bytes safely (raises ImageRejected).

    ``mode`` "RGB" or "L": 16-bit greyscale is scaled to 8 bits; transparent images (alpha, or
    palette/RGB colour keys) are flattened on ``background`` (an RGB tuple, or ``"auto"`` for the
    background that contrasts with the visible pixels: white text on a transparent sheet goes on
    black). ``mode=None`` returns the decoded image as is (first frame, EXIF-rotated)."""
    img = _open_header(data, src, max_pixels=max_pixels, max_side=max_side, formats=formats)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.seek(0)  # first frame of animations
            img.load()
            img = ImageOps.exif_transpose(img) or img
            if mode is None:
                return img
            img = _to_8bit(img)
            if mode in ("RGB", "L") and has_alpha(img):
                img = flatten(img, background)
            return img.convert(mode) if img.mode != mode else img
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("too_many_pixels", "decompression bomb", src) from None
    except Exception as e:
        raise ImageRejected("corrupt", f"cannot decode image ({type(e).__name__}: {e})"[:200], src) from None


def decode_for_reading(data: bytes, src: str = "<bytes>", **limits) -> list[Image.Image]:
    """RGB renderings of an image for reading its text (raises ImageRejected).

    One image for opaque files; for transparent ones two, flattened on the contrasting background
    first and on the opposite one second (light text on a transparent sheet is unreadable on white,
    dark text on black; a sheet with both needs both)."""
    img = decode_image(data, src, mode=None, **limits)
    try:
        img = _to_8bit(img)
        if not has_alpha(img):
            return [img.convert("RGB")]
        rgba = img.convert("RGBA")
        first = contrasting_background(rgba)
        return [flatten(rgba, first), flatten(rgba, LIGHT if first == DARK else DARK)]
    except Exception as e:
        raise ImageRejected("corrupt", f"cannot decode image ({type(e).__name__}: {e})"[:200], src) from None


def open_image(path: str | Path, *, mode: str | None = "RGB", max_bytes: int = MAX_BYTES,
               max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE, formats=FORMATS) -> Image.Image:
    """Open a local image safely as a fully-decoded PIL image (raises ImageRejected)."""
    data = _read_bytes(path, max_bytes)
    return decode_image(data, str(path), mode=mode, max_pixels=max_pixels, max_side=max_side, formats=formats)


def open_image_with_hash(path: str | Path, *, mode: str | None = "RGB", **limits) -> tuple[Image.Image, str]:
    """Like open_image, also returning the SHA-256 of the file's bytes (read once)."""
    data = _read_bytes(path, limits.pop("max_bytes", MAX_BYTES))
    return decode_image(data, str(path), mode=mode, **limits), sha256_bytes(data)


def fit_within(img: Image.Image, max_side: int | None) -> Image.Image:
    """Downscale (never upscale) so the longer side is at most ``max_side``."""
    if not max_side or max(img.size) <= max_side:
        return img
    s = max_side / max(img.size)
    return img.resize((max(1, round(img.size[0] * s)), max(1, round(img.size[1] * s))), Image.Resampling.LANCZOS)


def open_image_array(path: str | Path, mode: str = "RGB", max_side: int | None = None, **limits):
    """A numpy uint8 array (H, W) for mode 'L' or (H, W, 3) RGB for 'RGB', optionally downscaled."""
    import numpy as np

    img = fit_within(open_image(path, mode=mode, **limits), max_side)
    return np.asarray(img, dtype=np.uint8)
