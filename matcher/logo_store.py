"""Copies of registered logo images, by content hash, in the data directory.

A holder's logo file may later be moved, renamed or deleted; the watch must not silently stop.
Every logo the matcher or ``markwatch logos check`` loads is copied once to
``<data_dir>/logos/<sha256>.<ext>`` and recorded in ``<data_dir>/logos/registry.json``
(``{mark_id: {"sha256", "file", "source"}}``). When a watchlist's logo file is missing, the matcher
uses the stored copy of that mark and says so (``LogoMatcher.notes``).

    store = LogoStore(data_dir)
    stored = store.put("logos/acme.png", "logo-acme")      # Path of the copy (idempotent)
    store.lookup("logo-acme")                               # Path or None

Writes are atomic (temp file + rename); a read-only data directory makes ``put`` a no-op that
returns None (matching still works from the original file).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from .images import sha256_file

log = logging.getLogger(__name__)

EXT = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tif", "MPO": "jpg",
       "AVIF": "avif"}


class LogoStore:
    def __init__(self, data_dir: str | Path):
        self.dir = Path(data_dir) / "logos"
        self.registry_path = self.dir / "registry.json"
        self._registry: dict | None = None

    def registry(self) -> dict:
        if self._registry is None:
            try:
                self._registry = json.loads(self.registry_path.read_text(encoding="utf-8"))
                if not isinstance(self._registry, dict):
                    raise ValueError("not an object")
            except FileNotFoundError:
                self._registry = {}
            except (OSError, ValueError) as e:
                log.warning("%s unreadable (%s): stored logo copies are not used", self.registry_path, e)
                self._registry = {}
        return self._registry

    def copy_path(self, sha256: str, fmt: str) -> Path:
        return self.dir / f"{sha256}.{EXT.get(fmt.upper(), 'img')}"

    def put(self, path: str | Path, mark_id: str | None = None, sha256: str | None = None,
            fmt: str | None = None, save: bool = True) -> Path | None:
        """Copy ``path`` into the store (once per content) and record it for ``mark_id``.

        ``save=False`` defers writing the registry to :meth:`save` (many logos at once)."""
        try:
            sha = sha256 or sha256_file(path)
            if fmt is None:
                from PIL import Image
                with Image.open(path) as im:
                    fmt = im.format or ""
            dest = self.copy_path(sha, fmt)
            self.dir.mkdir(parents=True, exist_ok=True)
            if not dest.exists():
                fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
                os.close(fd)
                shutil.copyfile(path, tmp)
                os.replace(tmp, dest)
            if mark_id:
                reg = self.registry()
                entry = {"sha256": sha, "file": dest.name, "source": str(Path(path).resolve())}
                if reg.get(mark_id) != entry:
                    reg[mark_id] = entry
                    self._dirty = True
                    if save:
                        self.save()
            return dest
        except OSError as e:
            log.warning("cannot store a copy of logo %s: %s", path, e)
            return None

    def save(self) -> None:
        """Write the registry if it changed (atomic; a failure is logged, never raised)."""
        if not getattr(self, "_dirty", False):
            return
        try:
            self._write(self.registry())
            self._dirty = False
        except OSError as e:
            log.warning("cannot write %s: %s", self.registry_path, e)

    def _write(self, reg: dict) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(reg, fh, ensure_ascii=False, indent=1, sort_keys=True)
        os.replace(tmp, self.registry_path)

    def lookup(self, mark_id: str) -> Path | None:
        """The stored copy registered for ``mark_id``, if it exists."""
        e = self.registry().get(mark_id)
        if not isinstance(e, dict) or not e.get("file"):
            return None
        p = self.dir / Path(e["file"]).name
        return p if p.is_file() else None
