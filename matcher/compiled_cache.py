"""A disk cache of the loaded watchlist and the compiled text matcher, keyed by content (issue 17).

`markwatch match` loads the same watchlist file day after day. Parsing a 5,000-mark YAML and
compiling its text matcher (fold tables, keys, Aho-Corasick automaton) cost ~2.4 CPU-s on the
shared 2-core machine (YAML 1.3-1.7 s, build 1.1 s); reading both back from one pickle costs
~0.3 s (measured 2026-11-30, bench/out/data watchlist-5000-s7.yaml).

The key is the SHA-256 of
- the watchlist file's bytes and its resolved path (relative logo paths resolve against it),
- the code and tables that shape the result: size and modification time of every ``.py`` file of
  ``matcher/`` and ``watchlist/`` and of every file of ``config/data/``, and
- the versions of Python and of the packages whose data is compiled in (pyahocorasick, jieba,
  pypinyin, OpenCC, pydantic),
so an edited watchlist, an upgraded package or a changed folding table is a miss, never a stale
hit. Files live in ``<cache_dir>/matcher/<key>.pickle`` (the data directory's cache; the same
trust as the database next to it: never point cache_dir at a directory others can write).
Entries are written atomically (temporary file, then rename); the newest :data:`KEEP` are kept.
A cache that cannot be read or written is rebuilt or skipped, never an error: the result is
always the same as loading without it.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path

KEEP = 4
_ROOT = Path(__file__).resolve().parent.parent
_FORMAT = 1  # bump when what is pickled changes shape


def _code_signature() -> str:
    h = hashlib.sha256(f"{_FORMAT}|{sys.version}".encode())
    from importlib import metadata

    for dist in ("pyahocorasick", "jieba", "pypinyin", "opencc", "pydantic", "pyyaml"):
        try:
            h.update(f"|{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"|{dist}=-".encode())
    files = sorted([*(_ROOT / "matcher").glob("*.py"), *(_ROOT / "watchlist").glob("*.py"),
                    *(p for p in (_ROOT / "config" / "data").rglob("*") if p.is_file())])
    for p in files:
        st = p.stat()
        h.update(f"|{p.relative_to(_ROOT)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def cache_key(watchlist_path: str | Path) -> str:
    """Hex SHA-256 naming the cache entry of this watchlist file with this code (see module doc).
    Raises OSError when the file cannot be read."""
    p = Path(watchlist_path)
    h = hashlib.sha256(p.read_bytes())
    h.update(f"|{p.resolve()}|{_code_signature()}".encode())
    return h.hexdigest()


def load_text_compiled(watchlist_path: str | Path, cache_dir: str | Path | None, goods, language: str):
    """(Watchlist, TextMatcher) for the file: from the cache when an entry for its key exists,
    else loaded and compiled (and stored when `cache_dir` is given). Raises WatchlistError for a
    bad watchlist, exactly as ``watchlist.load_watchlist``; the referenced logo files are checked
    on every call, cached or not."""
    from watchlist import load_watchlist
    from watchlist.loader import check_watchlist_files

    from .text import TextMatcher

    entry = None
    if cache_dir is not None:
        try:
            entry = Path(cache_dir) / "matcher" / f"{cache_key(watchlist_path)}.pickle"
        except OSError:
            entry = None  # the loader below reports the unreadable file
    if entry is not None and entry.is_file():
        try:
            with entry.open("rb") as f:
                wl, state = pickle.load(f)
            tm = TextMatcher.restore(state, goods, language)
        except Exception:  # a damaged or foreign entry: rebuild and overwrite it
            pass
        else:
            check_watchlist_files(wl, str(watchlist_path))
            return wl, tm
    wl = load_watchlist(watchlist_path)
    tm = TextMatcher(wl, goods, language=language)
    if entry is not None:
        _store(entry, (wl, tm.state()))
    return wl, tm


def _store(entry: Path, value) -> None:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        old = sorted((p for p in entry.parent.glob("*.pickle") if p != entry),
                     key=lambda p: p.stat().st_mtime, reverse=True)
        for p in old[KEEP - 1:]:
            p.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, RecursionError):
        pass  # a read-only or full data directory: match without caching


def text_compiled_for(wl, cache_dir: str | Path | None, goods, language: str):
    """The compiled TextMatcher of an already loaded watchlist (the stored pass reads it from the
    database, not a file), from the same disk cache as :func:`load_text_compiled`. The key is the
    SHA-256 of the watchlist's canonical JSON (every field matching reads), its ``base_dir`` and
    the code signature, so an edit by any writer is a miss. Building costs ~1.1 CPU-s at 5,000
    marks, reading the entry back ~0.2 s. A cache that cannot be read or written is skipped."""
    from .text import TextMatcher

    entry = None
    if cache_dir is not None:
        h = hashlib.sha256(b"watchlist-model|")
        h.update(wl.model_dump_json().encode())
        h.update(f"|{wl.base_dir}|{_code_signature()}".encode())
        entry = Path(cache_dir) / "matcher" / f"db-{h.hexdigest()}.pickle"
    if entry is not None and entry.is_file():
        try:
            with entry.open("rb") as f:
                return TextMatcher.restore(pickle.load(f), goods, language)
        except Exception:  # a damaged or foreign entry: rebuild and overwrite it
            pass
    tm = TextMatcher(wl, goods, language=language)
    if entry is not None:
        _store(entry, tm.state())
    return tm
