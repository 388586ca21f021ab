"""Stateless batch matching: watchlist file + listings JSONL in, leads JSONL out."""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

from config.memory import long_lived
from .engine import EngineOptions, MatchEngine
from .listing import Listing, ListingError, read_listings
# the one death-signal helper for all workers (matcher/workers.py, the OCR pool); re-exported
# because tests import it from here
from .ocr_engine import die_with_parent  # noqa: F401


@dataclass
class BatchSummary:
    listings: int = 0
    bad_lines: int = 0
    leads: int = 0
    seconds: float = 0.0
    by_kind: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    ocr: dict | None = None
    logo_skipped: int = 0
    # every image not analysed, and why: {"listing_id", "image", "reason", "reason_zh", "stages": [...]}
    skipped_images: list[dict] = field(default_factory=list)

    def skipped_lines(self, limit: int = 20) -> list[str]:
        """One line per skipped image (listing, image, reason code and zh-CN reason), at most ``limit``."""
        out = [f"skipped image: listing {x['listing_id']} {x['image']}: {x['reason']} ({x['reason_zh']}; "
               f"{'/'.join(x['stages'])})" for x in self.skipped_images[:limit]]
        if len(self.skipped_images) > limit:
            out.append(f"... and {len(self.skipped_images) - limit} more skipped images (all in --report FILE)")
        return out

    def to_dict(self) -> dict:
        return {"listings": self.listings, "bad_lines": self.bad_lines, "leads": self.leads,
                "seconds": round(self.seconds, 3), "by_kind": self.by_kind, "errors": self.errors,
                "ocr": self.ocr, "logo_skipped": self.logo_skipped, "skipped_images": self.skipped_images}

    def line(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.by_kind.items())) or "none"
        rate = self.listings / self.seconds if self.seconds > 0 else 0.0
        return (f"matched {self.listings} listings in {self.seconds:.1f}s ({rate:.0f}/s): "
                f"{self.leads} leads ({kinds}); {self.bad_lines} bad lines skipped"
                + (f"; OCR {self.ocr['images_read']} images read, {self.ocr['cache_hits']} cached, "
                   f"{self.ocr['skipped']} skipped" if self.ocr else "")
                + (f"; {self.logo_skipped} images skipped by the logo matcher" if self.logo_skipped else ""))


def match_file(watchlist_path: str | Path, listings_path: str | Path, output: TextIO,
               options: EngineOptions | None = None, progress: Callable[[int], None] | None = None,
               err: TextIO | None = None, workers: int = 1, freeze: bool = False) -> BatchSummary:
    """Match every listing of `listings_path` (JSONL) against the watchlist file; write one JSON
    lead per line to `output`, in listing order. Bad lines are reported to `err` and counted.

    `workers` > 1 forks that many processes after the watchlist and matchers are loaded (shared
    copy-on-write): blocks of :data:`BLOCK` listings go round-robin to the workers, each writes
    its leads to a temporary file, and the parent joins them in block order, so the output is
    the same as with one process. Raises WatchlistError for a bad watchlist.

    The watchlist and matchers are built with the cyclic GC paused (`config.memory.long_lived`);
    `freeze=True` (for a process that matches one file and exits, as `markwatch match`) also
    moves them to the GC's permanent generation.
    """
    err = err or sys.stderr
    with long_lived(freeze=freeze):
        engine = MatchEngine.from_file(watchlist_path, options)
    if workers > 1:
        return _match_forked(engine, listings_path, output, progress, err, workers)
    s = BatchSummary()
    t0 = time.perf_counter()
    reader = engine.image_text
    if reader is not None:  # read upcoming images in worker processes while matching
        reader.prefetch(x for x in read_listings(listings_path) if isinstance(x, Listing))
    try:
        _match_items(engine, listings_path, output, s, progress, err)
    finally:
        img = engine.image_stats()
        s.ocr = img.get("ocr")
        s.logo_skipped = img.get("logo_skipped", 0)
        s.skipped_images = _skipped_images(engine)
        if reader is not None:
            reader.close()
    s.seconds = time.perf_counter() - t0
    return s


def _skipped_images(engine) -> list[dict]:
    """Images the OCR reader or the logo matcher could not analyse, one entry per (listing, image,
    reason) with the stages that skipped it."""
    from .images import REASONS_ZH

    rows: dict[tuple, dict] = {}

    def add(stage, listing_id, image, reason, reason_zh=None):
        key = (listing_id, image, reason)
        r = rows.setdefault(key, {"listing_id": listing_id, "image": image, "reason": reason,
                                  "reason_zh": reason_zh or REASONS_ZH.get(reason, reason), "stages": []})
        if stage not in r["stages"]:
            r["stages"].append(stage)

    reader = getattr(engine, "image_text", None)
    for x in getattr(reader, "skipped", None) or ():
        add("ocr", x.get("listing_id"), x.get("image"), x.get("reason"), x.get("reason_zh"))
    for m in getattr(engine, "matchers", ()):
        for x in getattr(m, "skipped", None) or ():
            add("logo", getattr(x, "listing_id", "?"), getattr(x, "image", "?"), getattr(x, "reason", "?"),
                getattr(x, "reason_zh", None))
    return list(rows.values())


def _match_items(engine, listings_path, output, s: "BatchSummary", progress, err, items=None) -> None:
    for item in (read_listings(listings_path) if items is None else items):
        if isinstance(item, ListingError):
            s.bad_lines += 1
            s.errors.append(str(item))
            print(f"error: {item}", file=err)
            continue
        try:
            matches = engine.match(item)
        except Exception as e:  # one bad listing never aborts the batch
            s.bad_lines += 1
            msg = f"{listings_path}: listing {item.listing_id}: matching failed: {type(e).__name__}: {e}"
            s.errors.append(msg)
            print(f"error: {msg}", file=err)
            continue
        s.listings += 1
        for m in matches:
            output.write(json.dumps(m.to_dict(), ensure_ascii=False) + "\n")
            s.leads += 1
            s.by_kind[m.target_kind] = s.by_kind.get(m.target_kind, 0) + 1
        if progress:
            progress(s.listings)


BLOCK = 2000  # lines per block handed to one forked worker


def _share(listings_path, k: int, n: int):
    """Worker k's (block, item) pairs of the file: the items on the lines of blocks k, k+n,
    k+2n, ... (block b = lines b*BLOCK+1 .. (b+1)*BLOCK). Lines of other workers' blocks are
    skipped without being decoded or parsed."""
    at = [0]

    def mine(line: int) -> bool:
        if ((line - 1) // BLOCK) % n == k:
            at[0] = line
            return True
        return False

    for item in read_listings(listings_path, lines=mine):
        yield (at[0] - 1) // BLOCK, item


def _worker(engine, listings_path, k: int, n: int, out_path: str, err, report) -> tuple:
    """Worker k's share (see _share), its leads written to out_path; returns (summary, {block:
    bytes written for it})."""
    s = BatchSummary()
    sizes: dict[int, int] = {}
    try:
        with open(out_path, "w", encoding="utf-8") as out:
            cur, start = None, 0
            reader = engine.image_text
            if reader is not None:
                reader.prefetch(x for _, x in _share(listings_path, k, n) if isinstance(x, Listing))
            for b, item in _share(listings_path, k, n):
                if b != cur:
                    if cur is not None:
                        out.flush()
                        sizes[cur] = out.tell() - start
                        start = out.tell()
                        report(s.listings)
                    cur = b
                _match_items(engine, listings_path, out, s, None, err, items=(item,))
            out.flush()
            if cur is not None:
                sizes[cur] = out.tell() - start
        img = engine.image_stats()
        s.ocr = img.get("ocr")
        s.logo_skipped = img.get("logo_skipped", 0)
        s.skipped_images = _skipped_images(engine)
        if engine.image_text is not None:
            engine.image_text.close()
        return s, sizes
    finally:
        err.flush()


def _match_forked(engine, listings_path, output, progress, err, n: int) -> BatchSummary:
    import os
    import tempfile

    from .workers import run_forked

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="markwatch-match-") as tmp:
        paths = [os.path.join(tmp, f"w{k}.jsonl") for k in range(n)]
        err.flush()
        seen: dict[int, int] = {}

        def on_progress(k, done):
            seen[k] = done
            if progress:
                progress(sum(seen.values()))

        results = run_forked(lambda k, report: _worker(engine, listings_path, k, n, paths[k], err, report), n,
                             on_progress, name="match worker")
        # join the workers' outputs in block order: block b is worker b % n's
        files = [open(p, "rb") for p in paths]
        try:
            blocks = max((max(sizes) + 1 for _, sizes in results if sizes), default=0)
            for b in range(blocks):
                size = results[b % n][1].get(b, 0)
                if size:
                    output.write(files[b % n].read(size).decode("utf-8"))
        finally:
            for f in files:
                f.close()
    s = BatchSummary()
    for k in range(n):
        w = results[k][0]
        s.listings += w.listings
        s.bad_lines += w.bad_lines
        s.leads += w.leads
        s.errors += w.errors
        s.logo_skipped += w.logo_skipped
        s.skipped_images += w.skipped_images
        for kk, v in w.by_kind.items():
            s.by_kind[kk] = s.by_kind.get(kk, 0) + v
        if w.ocr:
            s.ocr = dict(w.ocr) if s.ocr is None else {x: (s.ocr.get(x, 0) + v if isinstance(v, (int, float)) else v)
                                                          for x, v in w.ocr.items()}
    s.seconds = time.perf_counter() - t0
    return s
