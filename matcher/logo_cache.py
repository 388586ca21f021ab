"""Logo templates loaded once per logo file content: an on-disk cache keyed by the image's SHA-256.

``<cache_dir>/logo-features/v<FEATURE_VERSION>/<sha256>.npz`` holds a :class:`LogoTemplate`; the
same logo registered twice (or re-loaded on every run) is analysed once.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from .images import ImageRejected, open_image_with_hash
from .logo_features import FEATURE_VERSION, LogoTemplate, is_solid, prepare_logo, silhouette_solidity

log = logging.getLogger(__name__)

# Registered logos are artwork: smaller limits than photos.
LOGO_MAX_BYTES = 10 * 1024 * 1024
LOGO_MAX_PIXELS = 16_000_000
LOGO_MIN_SIDE = 32
MIN_FEATURES = 8           # SIFT keypoints over the logo's renderings (logo_features.prepare_logo)
GOOD_SIDE = 300            # what to ask for when a logo is too small or plain to describe
MAX_PLAIN_SOLIDITY = 0.95  # a solid logo whose area fills its convex hull this much is a plain shape


class LogoProblem(ValueError):
    """A registered logo that cannot be used, with a short reason (English) and zh-CN reason."""

    def __init__(self, message: str, reason_zh: str):
        super().__init__(message)
        self.reason_zh = reason_zh


class FeatureCache:
    def __init__(self, cache_dir: str | Path | None):
        self.dir = Path(cache_dir) / "logo-features" / f"v{FEATURE_VERSION}" if cache_dir else None
        self.hits = 0
        self.misses = 0

    def _path(self, sha: str) -> Path | None:
        return self.dir / f"{sha}.npz" if self.dir else None

    def get(self, sha: str) -> LogoTemplate | None:
        p = self._path(sha)
        if p is None or not p.is_file():
            return None
        try:
            t = LogoTemplate.from_npz(p.read_bytes())
        except Exception as e:  # stale or damaged entry: recompute
            log.info("logo feature cache entry %s unusable (%s); recomputing", p.name, e)
            return None
        self.hits += 1
        return t

    def put(self, t: LogoTemplate) -> None:
        p = self._path(t.sha256)
        if p is None:
            return
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=p.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(t.to_npz())
            os.replace(tmp, p)  # atomic: concurrent runs never read half a file
        except OSError as e:
            log.warning("cannot write logo feature cache %s: %s", p, e)


def load_template(path: str | Path, cache: FeatureCache | None = None) -> LogoTemplate:
    """Validate a logo image and return its template (from the cache when possible).

    Raises LogoProblem with a reason an officer or holder can act on.
    """
    try:
        img, sha = open_image_with_hash(path, mode=None, max_bytes=LOGO_MAX_BYTES, max_pixels=LOGO_MAX_PIXELS)
    except ImageRejected as e:
        raise LogoProblem(f"{path}: {e.message}", e.reason_zh) from None
    if min(img.size) < LOGO_MIN_SIDE:
        raise LogoProblem(f"{path}: logo is only {img.size[0]}x{img.size[1]} pixels (need {LOGO_MIN_SIDE}+)",
                          "图形商标图片分辨率过低")
    if cache is not None:
        t = cache.get(sha)
        if t is not None:
            return t
        cache.misses += 1
    try:
        t = prepare_logo(img, sha256=sha)
    except ValueError as e:
        raise LogoProblem(f"{path}: {e}", "图形商标图片没有可见内容") from None
    if t.n_features < MIN_FEATURES:
        raise LogoProblem(f"{path}: too few distinctive features ({t.n_features}, need {MIN_FEATURES}): upload the "
                          f"logo on its own, cropped, at least {GOOD_SIDE} px on its longer side",
                          f"图形商标可识别特征过少：请上传单独的商标图样（已裁剪，长边至少{GOOD_SIDE}像素）")
    if is_solid(t) and silhouette_solidity(t) > MAX_PLAIN_SOLIDITY:
        raise LogoProblem(f"{path}: a plain convex shape (disc, square, polygon) with nothing inside: any object of "
                          "that shape would match; upload the logo with its lettering or inner design",
                          "图形商标为无内部图案的简单凸形（圆、方形等），任何同形物体都会误配；请上传含文字或内部图案的商标图样")
    t.meta.setdefault("source_size", list(img.size))
    if cache is not None:
        cache.put(t)
    return t
