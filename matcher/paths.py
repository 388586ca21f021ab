"""Where a listing's image reference may point on disk (pure: no I/O beyond resolving the path).

Listings files name images by paths relative to the file (DESIGN.md, "Listings JSONL"). A
reference that is absolute (``/etc/passwd``, ``C:\\x``, ``~/x``), climbs out with ``..``, or is a
symlink leading out of that folder is refused (issue 14: such files ended up in the evidence and
the referral pack). Used by ``Listing.image_path`` (matching) and by the evidence stage
(``crawler.hosts.import_image_path``).
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

REFUSED = "refused-image-path:"  # prefix of what Listing.image_path returns for a refused reference


def local_image_path(base_dir: str | Path | None, ref: str) -> Path:
    """The resolved file `ref` names inside `base_dir`; raises ``ValueError`` saying why not."""
    if not ref or "://" in ref or ref.startswith(("data:", "file:")):
        raise ValueError(f"image {ref!r}: not a relative path")
    if base_dir is None:
        raise ValueError(f"image {ref!r}: the listing has no folder to resolve it against")
    p, w = PurePosixPath(ref), PureWindowsPath(ref)
    if p.is_absolute() or w.is_absolute() or w.drive or ref.startswith(("\\", "~")):
        raise ValueError(f"image {ref!r}: absolute paths are not allowed (use a path relative to the listings file)")
    if ".." in p.parts or ".." in w.parts:
        raise ValueError(f"image {ref!r}: '..' is not allowed (images must be in the listings file's folder)")
    base = Path(base_dir).resolve()
    f = (base / ref).resolve()
    if f != base and base not in f.parents:
        raise ValueError(f"image {ref!r}: leads outside the listings file's folder {base}")
    return f
