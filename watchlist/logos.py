"""Logo registration: validate a logo image, store it by content hash, precompute its features once.

    info = register_logo("acme.png", data_dir=Path("var"))      # LogoInfo, or raises LogoProblem
    reports = check_logos(watchlist, cache_dir=Path("var/cache"))

Stored logos live at ``<data_dir>/logos/<sha256>.<ext>`` (the same file registered twice is stored
once); features at ``<cache_dir>/logo-features/v<N>/<sha256>.npz`` (see matcher/logo_cache.py), the
same cache the matcher reads, so a registered logo costs nothing at match time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from matcher.images import ImageRejected, probe_image
from matcher.logo_store import LogoStore
from matcher.logo_cache import LOGO_MAX_BYTES, LOGO_MAX_PIXELS, FeatureCache, LogoProblem, load_template

from .model import Watchlist

NEAR_DUPLICATE_BITS = 6  # perceptual-hash distance under which two logos look the same


@dataclass
class LogoInfo:
    path: Path
    sha256: str
    format: str
    width: int
    height: int
    features: int
    phash: str
    stored: Path | None = None


@dataclass
class LogoReport:
    mark_id: str
    enterprise: str
    image: str
    info: LogoInfo | None = None
    problem: str | None = None
    problem_zh: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


def validate_logo(path: str | Path, cache_dir: str | Path | None = None) -> LogoInfo:
    """Check format/size/bomb limits, build (or load) the features; raises LogoProblem."""
    try:
        pi = probe_image(path, max_bytes=LOGO_MAX_BYTES, max_pixels=LOGO_MAX_PIXELS)
    except ImageRejected as e:
        raise LogoProblem(f"{path}: {e.message}", e.reason_zh) from None
    t = load_template(path, FeatureCache(cache_dir) if cache_dir else None)
    return LogoInfo(Path(path), pi.sha256, pi.format, pi.width, pi.height, t.n_features, t.phash)


def store_logo(path: str | Path, data_dir: str | Path, sha256: str, fmt: str, mark_id: str | None = None) -> Path:
    """Copy the logo into ``<data_dir>/logos/<sha256>.<ext>`` (idempotent, content-addressed) and
    record it for ``mark_id`` (matcher.logo_store.LogoStore). Raises OSError when it cannot."""
    dest = LogoStore(data_dir).put(path, mark_id, sha256=sha256, fmt=fmt)
    if dest is None:
        raise OSError(f"cannot store a copy of {path} under {Path(data_dir) / 'logos'}")
    return dest


def register_logo(path: str | Path, data_dir: str | Path | None = None,
                  cache_dir: str | Path | None = None, mark_id: str | None = None) -> LogoInfo:
    """Validate, store (when ``data_dir`` is given) and precompute the features of one logo."""
    if cache_dir is None and data_dir is not None:
        cache_dir = Path(data_dir) / "cache"
    info = validate_logo(path, cache_dir)
    if data_dir is not None:
        info.stored = store_logo(path, data_dir, info.sha256, info.format, mark_id)
    return info


def _hamming(a: str, b: str) -> int:
    try:
        return bin(int(a, 16) ^ int(b, 16)).count("1")
    except ValueError:
        return 64


def check_logos(watchlist: Watchlist, cache_dir: str | Path | None = None,
                data_dir: str | Path | None = None) -> list[LogoReport]:
    """One report per logo mark: usable or why not, feature count, and warnings an officer should see."""
    reports: list[LogoReport] = []
    for ent, mark in watchlist.logo_marks():
        r = LogoReport(mark.id, ent.name, mark.image or "")
        try:
            r.info = register_logo(watchlist.logo_path(mark), data_dir, cache_dir, mark.id)
        except LogoProblem as e:
            r.problem, r.problem_zh = str(e), e.reason_zh
        if not mark.nice_classes and not mark.similar_groups and not mark.well_known:
            r.warnings.append("no Nice classes and not well-known: this logo can never produce a lead")
        if r.info and r.info.features < 30:
            r.warnings.append(f"only {r.info.features} keypoints: small or plain logos are found less reliably")
        reports.append(r)
    ok = [r for r in reports if r.info]
    for i, a in enumerate(ok):
        for b in ok[i + 1:]:
            if a.info.sha256 == b.info.sha256:
                a.warnings.append(f"same image as {b.mark_id}")
                b.warnings.append(f"same image as {a.mark_id}")
            elif _hamming(a.info.phash, b.info.phash) <= NEAR_DUPLICATE_BITS:
                a.warnings.append(f"looks nearly identical to {b.mark_id}")
                b.warnings.append(f"looks nearly identical to {a.mark_id}")
    return reports
