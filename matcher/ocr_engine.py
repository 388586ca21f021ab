"""The OCR backend: image bytes in, raw text boxes out (rapidocr-onnxruntime, PP-OCRv4, CPU).

The detection, direction and recognition models ship inside the ``rapidocr_onnxruntime`` wheel,
so nothing is downloaded at run time. One engine is built lazily per process and kept; it runs
single-threaded so that parallelism comes from worker processes (see ``matcher.ocr``), which
scales better on small machines than ONNX intra-op threads.

Everything here is safe to call in a worker process: :func:`read_bytes` never raises, it returns
``{"boxes": [...]}`` or ``{"rejected": reason, "message": ...}``.
"""
from __future__ import annotations

import contextlib
import logging
import time

from .images import ImageRejected, decode_for_reading, fit_within

# Longer side an image is reduced to before detection. Product photos and live-room frames keep
# their printed text readable at this size; bigger images only cost time.
MAX_SIDE = 1280
# Boxes below this recognition score are not even kept in the cache (pure noise); the reader
# applies its own, higher, confidence floor when it turns boxes into text.
RAW_MIN_SCORE = 0.3
DET_LIMIT_SIDE = 640  # the shorter side is brought up to this for detection (rapidocr default 736; 640 reads
# the same dev text about 25% faster)
# A character's runner-up reading is kept as an alternative when the recogniser gave it at least
# this probability (叁 read as 参 with 叁 at 0.39): OCR confusions of similar glyphs are common.
ALT_MIN_PROB = 0.2

try:
    from importlib.metadata import version as _pkg_version
    _RAPIDOCR_VERSION = _pkg_version("rapidocr-onnxruntime")
except Exception:  # pragma: no cover - metadata missing in odd installs
    _RAPIDOCR_VERSION = "unknown"

# Cached results are only reused when they were produced by the same engine and settings.
ENGINE_KEY = f"rapidocr-onnxruntime-{_RAPIDOCR_VERSION}/ppocrv4/det{DET_LIMIT_SIDE}/max{MAX_SIDE}/s{RAW_MIN_SCORE}/alt{ALT_MIN_PROB}/bg2"

_ENGINE = None
_ENGINE_THREADS = None


def _quiet_rapidocr_logger() -> None:
    # rapidocr attaches a DEBUG stream handler to its logger at import; keep our stderr clean.
    lg = logging.getLogger("RapidOCR")
    lg.setLevel(logging.WARNING)


def available() -> bool:
    """Whether the OCR package can be imported (it is a pinned dependency; this is for clear errors)."""
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except Exception:
        return False
    return True


@contextlib.contextmanager
def _no_spinning():
    """Build ONNX sessions whose worker threads sleep instead of spinning when idle: spinning
    threads double the CPU cost per image on a busy machine (measured: 0.43 vs 0.20 CPU-s with
    2 threads) and starve the other stages of the run."""
    try:
        from rapidocr_onnxruntime.utils import infer_engine
        orig = infer_engine.OrtInferSession.__dict__["_init_sess_opts"]
    except Exception:  # a rapidocr without this hook: build as is
        yield
        return

    def opts(config):
        o = orig.__func__(config)
        try:
            o.add_session_config_entry("session.intra_op.allow_spinning", "0")
            o.add_session_config_entry("session.inter_op.allow_spinning", "0")
        except Exception:
            pass
        return o

    infer_engine.OrtInferSession._init_sess_opts = staticmethod(opts)
    try:
        yield
    finally:
        infer_engine.OrtInferSession._init_sess_opts = orig


def get_engine(threads: int = 1):
    """The process-wide RapidOCR instance (built on first use, ~0.5 s)."""
    global _ENGINE, _ENGINE_THREADS
    if _ENGINE is None or _ENGINE_THREADS != threads:
        from rapidocr_onnxruntime import RapidOCR

        _quiet_rapidocr_logger()
        with _no_spinning():
            _ENGINE = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1,
                               text_score=RAW_MIN_SCORE, det_limit_side_len=DET_LIMIT_SIDE)
        rec = _ENGINE.text_rec
        rec.postprocess_op = _AlternativesDecode(rec.postprocess_op)
        _quiet_rapidocr_logger()
        _ENGINE_THREADS = threads
    return _ENGINE


class _AlternativesDecode:
    """Wraps rapidocr's CTC decoder: same (text, score), plus per-character probabilities and the
    runner-up character where the recogniser hesitated, as a third element."""

    def __init__(self, inner):
        self.inner = inner
        self.chars = inner.character

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __call__(self, preds, return_word_box: bool = False, **kwargs):
        import numpy as np

        res = self.inner(preds, return_word_box, **kwargs)
        if return_word_box:
            return res
        out = []
        for b, r in enumerate(res):
            p = preds[b]
            idx = p.argmax(axis=1)
            sel = np.ones(len(idx), dtype=bool)
            sel[1:] = idx[1:] != idx[:-1]
            sel &= idx != 0  # blank
            probs, alts = [], []
            for pos, t in enumerate(np.nonzero(sel)[0]):
                row = p[t]
                top2 = np.argpartition(row, -2)[-2:]
                second = int(top2[0] if row[top2[0]] < row[top2[1]] else top2[1])
                probs.append(round(float(row[idx[t]]), 3))
                if second != 0 and float(row[second]) >= ALT_MIN_PROB and second < len(self.chars):
                    ch = self.chars[second]
                    if ch.strip():
                        alts.append([pos, ch, round(float(row[second]), 3)])
            out.append((r[0], r[1], {"char_probs": probs, "alternatives": alts}))
        return out


def die_with_parent(parent_pid: int | None = None) -> str:
    """Make this (worker) process end when its parent ends, even by SIGKILL.

    The one helper for all worker processes: the OCR pool (``init_worker``) and the forked match
    workers (``matcher.batch``, ``pipeline.stages``). ``parent_pid``: the pid the worker was
    started by, if known (then a parent that died before the call is noticed too); None for
    "whatever the parent is now" (a freshly forked child).

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (the kernel kills us when the parent goes), then a
    check that the parent did not already die before the call. Elsewhere: a daemon thread that
    exits the process once it is re-parented. Returns the mechanism used ("prctl" or "watchdog").
    Without this, a ``kill -9`` of ``markwatch match`` would leave ~300 MB OCR workers running."""
    import os
    import sys

    mech = "watchdog"
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
            mech = "prctl"
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(0)  # the parent died before the death signal was armed
    if mech == "watchdog":
        import threading

        parent_pid = parent_pid if parent_pid is not None else os.getppid()

        def watch():
            import time
            while os.getppid() == parent_pid:
                time.sleep(1.0)
            os._exit(0)
        threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()
    return mech


def init_worker(threads: int = 1, parent_pid: int | None = None) -> None:
    """Process-pool initializer: die with the parent, then build the engine before the first image."""
    die_with_parent(parent_pid)
    get_engine(threads)


def _quad(box) -> list[list[int]]:
    return [[int(round(float(x))), int(round(float(y)))] for x, y in box]


def read_image(img, threads: int = 1) -> list[dict]:
    """OCR a decoded PIL image; boxes are in the image's own pixel coordinates."""
    small = fit_within(img, MAX_SIDE)
    sx = img.size[0] / small.size[0]
    sy = img.size[1] / small.size[1]
    result, _ = get_engine(threads)(small)
    boxes = []
    for box, raw, score, *extra in result or ():
        raw = raw or ""
        text = raw.strip()
        if not text:
            continue
        q = [[x * sx, y * sy] for x, y in box]
        d = {"text": text, "box": _quad(q), "confidence": round(float(score), 4)}
        info = extra[0] if extra and isinstance(extra[0], dict) else None
        if info and len(info["char_probs"]) == len(raw):
            lead = len(raw) - len(raw.lstrip())
            alts = [[pos - lead, ch, pr] for pos, ch, pr in info["alternatives"] if 0 <= pos - lead < len(text)]
            if alts:
                d["char_probs"] = info["char_probs"][lead:lead + len(text)]
                d["alternatives"] = alts
        boxes.append(d)
    return boxes


def _overlap(a, b) -> float:
    ax = [p[0] for p in a]
    ay = [p[1] for p in a]
    bx = [p[0] for p in b]
    by = [p[1] for p in b]
    iw = max(0, min(max(ax), max(bx)) - max(min(ax), min(bx)))
    ih = max(0, min(max(ay), max(by)) - max(min(ay), min(by)))
    small = min((max(ax) - min(ax)) * (max(ay) - min(ay)), (max(bx) - min(bx)) * (max(by) - min(by)))
    return iw * ih / small if small > 0 else 0.0


def merge_boxes(first: list[dict], second: list[dict]) -> list[dict]:
    """Boxes of two readings of one image: a box of ``second`` covering a box of ``first`` (same
    place) replaces it only when read with more confidence; other boxes are added."""
    out = list(first)
    for b in second:
        same = [i for i, a in enumerate(out) if _overlap(a["box"], b["box"]) > 0.5]
        if not same:
            out.append(b)
        elif all(b["confidence"] > out[i]["confidence"] for i in same) and len(same) == 1:
            out[same[0]] = b
    return out


def read_bytes(data: bytes, src: str = "<bytes>", threads: int = 1) -> dict:
    """Decode (safely) and OCR one image. Never raises.

    Returns ``{"boxes": [{"text", "box", "confidence"}...], "width", "height", "seconds"}`` or
    ``{"rejected": reason, "message": text}`` (reason as in ``matcher.images``, or ``ocr_failed``).
    """
    t0 = time.perf_counter()
    c0 = time.process_time()
    try:
        imgs = decode_for_reading(data, src)
    except ImageRejected as e:
        return {"rejected": e.reason, "message": e.message}
    except Exception as e:  # defensive: the image module should have converted it
        return {"rejected": "corrupt", "message": f"{type(e).__name__}: {e}"[:200]}
    img = imgs[0]
    try:
        boxes = read_image(img, threads)
        for other in imgs[1:]:  # a transparent image: also read on the opposite background
            boxes = merge_boxes(boxes, read_image(other, threads))
    except Exception as e:
        return {"rejected": "ocr_failed", "message": f"OCR failed: {type(e).__name__}: {e}"[:200]}
    return {"boxes": boxes, "width": img.size[0], "height": img.size[1],
            "seconds": round(time.perf_counter() - t0, 4), "cpu_seconds": round(time.process_time() - c0, 4)}
