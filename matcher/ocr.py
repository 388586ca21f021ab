"""Text in images: read the text printed on listing photos and live-room frames, as TextSources.

Sellers keep brand names out of titles and print them on the photo, the packaging or a live-room
banner. :class:`ImageTextReader` OCRs listing images (offline, CPU, see ``matcher.ocr_engine``),
joins neighbouring boxes on a line (``matcher.ocr_lines``) and hands the text to the same text and
GI matchers as titles, keeping provenance: which image, the box, the OCR confidence.

Cost control:

* each distinct image (SHA-256 of its bytes) is OCR'd once; results are cached as JSON in
  ``<cache_dir>/ocr/<ab>/<sha256>.json`` and reused by later runs and by duplicate images;
* :class:`OcrPolicy` decides which images of a listing are read (first image of every listing,
  every image of live-room listings and of listings in a watched goods class, at most N);
* ``budget`` caps how many images are OCR'd in one run (cache hits are free); images over the
  budget are skipped with reason ``budget``;
* :meth:`ImageTextReader.prefetch` reads the images of upcoming listings in a small process
  pool while the caller matches, so OCR runs on every core.

A bad image (missing, remote URL, corrupt, decompression bomb, ...) is skipped with a reason in
``skipped``; :meth:`ImageTextReader.texts` never raises.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter, OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .goods import registered_classes
from .images import MAX_BYTES, sha256_bytes
from .images import REASONS_ZH as IMAGE_REASONS_ZH
from .listing import Listing
from .ocr_lines import MIN_CONFIDENCE, MIN_CONFIDENCE_SHORT, lines
from .types import TextSource

REASONS_ZH = {
    **IMAGE_REASONS_ZH,  # missing, remote, too_large, unsupported_format, too_many_pixels, too_small, corrupt
    "budget": "已达本次运行的图片识别上限",
    "ocr_failed": "文字识别失败",
    "ocr_unavailable": "文字识别组件不可用",
}


@dataclass
class OcrPolicy:
    """Which images of a listing are read."""

    first_image: bool = True          # the first image of every listing
    live_frames: bool = True          # every image (frame) of a live-room listing
    watched_classes: bool = True      # every image of a listing whose goods are in a watched class
    max_images_per_listing: int = 6   # never more than this many images of one listing
    min_confidence: float = MIN_CONFIDENCE
    min_confidence_short: float = MIN_CONFIDENCE_SHORT


def default_workers() -> int:
    """OCR worker processes: one per core, at most 2 (more rarely pays on a shared box)."""
    return max(1, min(2, os.cpu_count() or 1))


def watched_classes_of(watchlist, goods=None) -> frozenset[int] | None:
    """The Nice classes a watchlist protects: its word marks' classes and its GIs' goods.

    Well-known marks count with their registered classes only: reading every image of every
    listing in every class for cross-class use would cost more than it finds (the first image of
    every listing is still read, see OcrPolicy.first_image).
    """
    out: set[int] = set()
    for _, m in watchlist.word_marks():
        out.update(registered_classes(m))
    for gi in watchlist.geographical_indications:
        if gi.nice_classes:
            out.update(gi.nice_classes)
            continue
        if goods is None:
            from .goods import load_goods_classifier
            goods = load_goods_classifier()
        out.update(goods.classes(gi.category or "", gi.product or ""))
    return frozenset(out)


class _Skip(Exception):
    def __init__(self, reason: str, message: str):
        self.reason, self.message = reason, message


def _read_image_file(path: str, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of a local image, or _Skip with a reason (no decoding here)."""
    if "://" in path:
        raise _Skip("remote", "image is a URL, not a local file (the crawler stores images locally)")
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        raise _Skip("missing", "image file not found") from None
    if not p.is_file():
        raise _Skip("missing", "not a regular file")
    if st.st_size > max_bytes:
        raise _Skip("too_large", f"file is {st.st_size} bytes, the limit is {max_bytes}")
    if st.st_size == 0:
        raise _Skip("corrupt", "file is empty")
    try:
        return p.read_bytes()
    except OSError as e:
        raise _Skip("missing", f"cannot read file ({e.strerror})") from None


class ImageTextReader:
    """OCR for listing images with caching, selection, a per-run budget and counters.

    Counters (for the run record, see :meth:`stats`): ``images_read`` (images OCR'd this run),
    ``cache_hits``, ``seconds`` (wall time the caller spent in OCR), ``ocr_seconds`` (time the
    OCR itself took, summed over workers), ``skipped`` (list of ``{"image", "reason", "message"}``),
    ``not_selected`` (images the policy chose not to read), ``texts`` (TextSources produced).
    """

    def __init__(self, cache_dir=None, budget: int | None = None, policy: OcrPolicy | None = None,
                 watched_classes: Iterable[int] | None = None, workers: int | None = None,
                 goods=None):
        self.cache_dir = Path(cache_dir) / "ocr" if cache_dir else None
        self.budget = budget
        self.policy = policy or OcrPolicy()
        self.watched_classes = frozenset(watched_classes) if watched_classes is not None else None
        self.workers = default_workers() if workers is None else max(0, int(workers))
        self._goods = goods
        # counters
        self.images_read = 0
        self.cache_hits = 0
        self.seconds = 0.0
        self.ocr_seconds = 0.0
        self.cpu_seconds = 0.0
        self.skipped: list[dict] = []
        self.not_selected = 0
        self.texts_found = 0
        self.cache_errors = 0
        # state
        self._mem: OrderedDict[str, list] = OrderedDict()   # sha256 -> raw boxes (LRU)
        self._mem_max = 4096
        self._ready: dict[str, dict] = {}                   # path -> result read ahead
        self._futures: dict[str, tuple[str, Future]] = {}   # path -> (sha, future) in flight
        self._inflight: dict[str, Future] = {}              # sha -> future (dedupe)
        self._ahead: Iterator[Listing] | None = None
        self._pool = None
        self._pool_failed = False
        self._lock = threading.RLock()

    @classmethod
    def for_watchlist(cls, watchlist, cache_dir=None, budget: int | None = None, goods=None, **kw):
        """A reader whose policy knows the watchlist's watched goods classes."""
        return cls(cache_dir=cache_dir, budget=budget, watched_classes=watched_classes_of(watchlist, goods),
                   goods=goods, **kw)

    # ------------------------------------------------------------------ selection
    def _classes(self, listing: Listing) -> frozenset[int]:
        if self._goods is None:
            from .goods import load_goods_classifier
            self._goods = load_goods_classifier()
        return self._goods.classes(listing.category, listing.title)

    def select(self, listing: Listing) -> list[str]:
        """The image references of a listing that the policy says to read, in order."""
        refs = [r for r in (listing.images or []) if isinstance(r, str) and r.strip()]
        if not refs:
            return []
        pol = self.policy
        cap = max(0, pol.max_images_per_listing)
        every = False
        if pol.live_frames and listing.kind == "live":
            every = True
        elif pol.watched_classes:
            if self.watched_classes is None:
                every = True  # no watched classes given: every listing counts as watched
            elif self.watched_classes & self._classes(listing):
                every = True
        if every:
            chosen = refs[:cap]
        elif pol.first_image:
            chosen = refs[:min(1, cap)]
        else:
            chosen = []
        self.not_selected += len(refs) - len(chosen)
        return chosen

    # ------------------------------------------------------------------ cache
    def _cache_file(self, sha: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / sha[:2] / f"{sha}.json"

    def _cache_get(self, sha: str) -> list | None:
        boxes = self._mem.get(sha)
        if boxes is not None:
            self._mem.move_to_end(sha)
            return boxes
        f = self._cache_file(sha)
        if f is None:
            return None
        try:
            d = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        from .ocr_engine import ENGINE_KEY
        if not isinstance(d, dict) or d.get("engine") != ENGINE_KEY or not isinstance(d.get("boxes"), list):
            return None
        self._remember(sha, d["boxes"])
        return d["boxes"]

    def _remember(self, sha: str, boxes: list) -> None:
        self._mem[sha] = boxes
        self._mem.move_to_end(sha)
        while len(self._mem) > self._mem_max:
            self._mem.popitem(last=False)

    def _cache_put(self, sha: str, res: dict) -> None:
        self._remember(sha, res["boxes"])
        f = self._cache_file(sha)
        if f is None:
            return
        from .ocr_engine import ENGINE_KEY
        d = {"engine": ENGINE_KEY, "sha256": sha, "width": res.get("width"), "height": res.get("height"),
             "seconds": res.get("seconds"), "boxes": res["boxes"]}
        try:
            f.parent.mkdir(parents=True, exist_ok=True)
            tmp = f.with_name(f"{f.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, f)
        except OSError:
            self.cache_errors += 1  # a read-only or full disk costs speed, never results

    # ------------------------------------------------------------------ OCR execution
    def _get_pool(self):
        if self._pool_failed:
            return None
        if self._pool is None and self.workers >= 1:
            try:
                import multiprocessing as mp
                from concurrent.futures import ProcessPoolExecutor

                from .ocr_engine import init_worker
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"),
                                                 initializer=init_worker, initargs=(1, os.getpid()))
            except Exception:
                self._pool_failed = True
                self._pool = None
        return self._pool

    def _run_inline(self, data: bytes, path: str) -> dict:
        from .ocr_engine import read_bytes
        try:
            return read_bytes(data, path, threads=max(1, min(2, os.cpu_count() or 1)))
        except ImportError as e:
            return {"rejected": "ocr_unavailable", "message": f"OCR engine not installed ({e})"}

    def _start(self, path: str, use_pool: bool):
        """Begin reading one image: returns a finished result dict or (sha, Future)."""
        try:
            data = _read_image_file(path)
        except _Skip as s:
            return {"rejected": s.reason, "message": s.message}
        sha = sha256_bytes(data)
        boxes = self._cache_get(sha)
        if boxes is not None:
            self.cache_hits += 1
            return {"boxes": boxes, "sha256": sha, "cached": True}
        fut = self._inflight.get(sha)
        if fut is not None:  # the same picture under another name, already being read
            self.cache_hits += 1
            return (sha, fut)
        if self.budget is not None and self.images_read >= self.budget:
            return {"rejected": "budget", "message": f"the per-run OCR budget of {self.budget} images is used up"}
        self.images_read += 1
        pool = self._get_pool() if use_pool else None
        if pool is not None:
            from .ocr_engine import read_bytes
            try:
                fut = pool.submit(read_bytes, data, path, 1)
            except Exception:
                self._pool_failed = True
                pool = None
            else:
                self._inflight[sha] = fut
                return (sha, fut)
        res = self._run_inline(data, path)
        return self._finish(sha, res, data=None, path=path)

    def _finish(self, sha: str, res: dict, data: bytes | None, path: str) -> dict:
        if "boxes" in res and not res.get("cached"):
            self.ocr_seconds += float(res.get("seconds") or 0.0)
            self.cpu_seconds += float(res.get("cpu_seconds") or 0.0)
            self._cache_put(sha, res)
        res = dict(res)
        res["sha256"] = sha
        return res

    def _wait(self, path: str, sha: str, fut: Future) -> dict:
        try:
            res = fut.result()
        except Exception as e:  # a worker died (BrokenProcessPool) or similar: read it here instead
            self._inflight.pop(sha, None)
            self._pool_failed = True
            try:
                data = _read_image_file(path)
            except _Skip as s:
                return {"rejected": s.reason, "message": s.message}
            res = self._run_inline(data, path)
            if "rejected" in res and res["rejected"] == "ocr_failed":
                res["message"] = f"{res['message']} (worker error: {type(e).__name__})"
        if self._inflight.get(sha) is fut:
            self._inflight.pop(sha, None)
            return self._finish(sha, res, None, path)
        # a duplicate of an image already finished: it is in the cache now
        boxes = self._cache_get(sha)
        if boxes is not None:
            return {"boxes": boxes, "sha256": sha, "cached": True}
        return self._finish(sha, res, None, path)

    def _obtain(self, path: str) -> dict:
        res = self._ready.pop(path, None)
        if res is not None:
            return res
        item = self._futures.pop(path, None)
        if item is None:
            item = self._start(path, use_pool=self._pool is not None)
        if isinstance(item, tuple):
            return self._wait(path, *item)
        return item

    # ------------------------------------------------------------------ read ahead
    def prefetch(self, listings: Iterable[Listing]) -> None:
        """Read the images of these (upcoming) listings ahead, in worker processes.

        ``listings`` is consumed lazily, a bounded window ahead of the calls to :meth:`texts`,
        which should come in the same order. Example::

            reader.prefetch(l for l in read_listings(path) if isinstance(l, Listing))
            for listing in read_listings(path): ... reader.texts(listing) ...
        """
        if self._get_pool() is None:
            return
        self._ahead = iter(listings)
        self._pump()

    def _window(self) -> int:
        return max(8, 6 * max(1, self.workers))

    def _pump(self) -> None:
        if self._ahead is None or self._pool_failed:
            return
        while len(self._futures) + len(self._ready) < self._window():
            try:
                listing = next(self._ahead)
            except StopIteration:
                self._ahead = None
                return
            except Exception:  # a bad line in the source: the caller reports it, we just go on
                continue
            if not isinstance(listing, Listing):
                continue
            pol_not_selected = self.not_selected
            refs = self.select(listing)
            self.not_selected = pol_not_selected  # counted when texts() selects for real
            for ref in refs:
                path = listing.image_path(ref)
                if path in self._ready or path in self._futures:
                    continue
                item = self._start(path, use_pool=True)
                if isinstance(item, tuple):
                    self._futures[path] = item
                elif "rejected" not in item:
                    self._ready[path] = item
                # rejected images are re-checked (cheaply) when texts() reaches them

    # ------------------------------------------------------------------ public API
    def read_path(self, path: str) -> dict:
        """OCR one local image (through the cache): the raw result dict, never raises."""
        try:
            return self._obtain(str(path))
        except Exception as e:
            return {"rejected": "ocr_failed", "message": f"{type(e).__name__}: {e}"[:200]}

    def lines_for(self, res: dict) -> list[dict]:
        pol = self.policy
        return lines(res.get("boxes") or [], pol.min_confidence, pol.min_confidence_short)

    def texts(self, listing: Listing) -> list[TextSource]:
        """Text read from the listing's selected images, one TextSource per box or joined line.

        Never raises: images that cannot be read are recorded in ``skipped`` with a reason.
        """
        t0 = time.perf_counter()
        out: list[TextSource] = []
        try:
            refs = self.select(listing)
        except Exception as e:
            self._skip(listing, "-", "ocr_failed", f"cannot select images: {type(e).__name__}: {e}")
            refs = []
        for ref in refs:
            try:
                with self._lock:
                    self._pump()
                    res = self._obtain(listing.image_path(ref))
                if "rejected" in res:
                    self._skip(listing, ref, res["rejected"], res.get("message") or "")
                    continue
                for ln in self.lines_for(res):
                    out.append(TextSource("image", ln["text"], image=ref, box=ln["box"],
                                          confidence=ln["confidence"]))
            except Exception as e:  # never let one image stop the listing
                self._skip(listing, ref, "ocr_failed", f"{type(e).__name__}: {e}"[:200])
        with self._lock:
            try:
                self._pump()
            except Exception:
                pass
        self.texts_found += len(out)
        self.seconds += time.perf_counter() - t0
        return out

    def _skip(self, listing: Listing, ref: str, reason: str, message: str) -> None:
        self.skipped.append({"listing_id": listing.listing_id, "image": ref, "reason": reason,
                             "reason_zh": REASONS_ZH.get(reason, "图片无法读取"), "message": message})

    def stats(self) -> dict:
        """Counters for the run record."""
        return {
            "images_read": self.images_read,
            "cache_hits": self.cache_hits,
            "skipped": len(self.skipped),
            "skipped_by_reason": dict(Counter(s["reason"] for s in self.skipped)),
            "not_selected": self.not_selected,
            "texts": self.texts_found,
            "seconds": round(self.seconds, 3),
            "ocr_seconds": round(self.ocr_seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "workers": self.workers if self._pool is not None else 0,
            "budget": self.budget,
        }

    def close(self) -> None:
        """Stop the worker processes (also done at interpreter exit)."""
        pool, self._pool = self._pool, None
        self._ahead = None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
        except Exception:
            pass
