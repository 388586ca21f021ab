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
from .logo_features import FEATURE_VERSION, LogoTemplate, inner_detail, prepare_logo

log = logging.getLogger(__name__)

# Registered logos are artwork: smaller limits than photos.
LOGO_MAX_BYTES = 10 * 1024 * 1024
LOGO_MAX_PIXELS = 16_000_000
LOGO_MIN_SIDE = 32
MIN_INNER_DETAIL = 0.03  # inner edge energy / outline edge energy (see logo_features.inner_detail)


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
    if inner_detail(t) < MIN_INNER_DETAIL:
        raise LogoProblem(f"{path}: a plain shape with nothing inside its outline; it cannot be told apart from "
                          "other objects of that shape", "图形商标为无内部图案的简单形状，无法可靠识别")
    if t.n_features < 8:
        raise LogoProblem(f"{path}: only {t.n_features} distinctive points; the logo is too plain to find in photos",
                          "图形商标图案过于简单，无法在图片中可靠识别")
    t.meta.setdefault("source_size", list(img.size))
    if cache is not None:
        cache.put(t)
    return t
