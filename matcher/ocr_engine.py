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
import math
import time

from .images import ImageRejected, decode_for_reading, fit_within
from .ocr_lines import meaningful_len

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
# Second looks (see ``second_looks``): a detected box whose text is lower than SMALL_TEXT_PX (in the
# pixels the detector saw) is re-read from the full-resolution image, enlarged to the recogniser's
# input height (REC_HEIGHT, PP-OCRv4 rec is 48 px high) with Lanczos; a tall narrow box (a vertical
# column, height >= VERTICAL_RATIO x width) is also read as a row of upright characters. The
# inverted image is read only when the first reading found little text (fewer than
# INVERT_BELOW_CHARS meaningful characters) or the image is dark (mean luminance < INVERT_DARK_MEAN).
SMALL_TEXT_PX = 24
REC_HEIGHT = 48
VERTICAL_RATIO = 1.5
INVERT_BELOW_CHARS = 4
INVERT_DARK_MEAN = 90
# A box read at least this confidently gets no second look (it would cost a recognition for nothing);
# of the others, at most MAX_SECOND_LOOKS per image, least confident first (a text-heavy page such
# as a receipt would otherwise pay a second recognition for most of its lines).
SURE = 0.95
MAX_SECOND_LOOKS = 8

ENGINE_KEY = (f"rapidocr-onnxruntime-{_RAPIDOCR_VERSION}/ppocrv4/det{DET_LIMIT_SIDE}/max{MAX_SIDE}/s{RAW_MIN_SCORE}"
              f"/alt{ALT_MIN_PROB}/bg2/up{SMALL_TEXT_PX}-{SURE}-{MAX_SECOND_LOOKS}/vert{VERTICAL_RATIO}/inv{INVERT_BELOW_CHARS}-{INVERT_DARK_MEAN}/o2")

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


def _box_dict(text: str, raw: str, q, score: float, info: dict | None) -> dict:
    d = {"text": text, "box": _quad(q), "confidence": round(float(score), 4)}
    if info and len(info.get("char_probs") or ()) == len(raw):
        lead = len(raw) - len(raw.lstrip())
        alts = [[pos - lead, ch, pr] for pos, ch, pr in info["alternatives"] if 0 <= pos - lead < len(text)]
        if alts:
            d["char_probs"] = info["char_probs"][lead:lead + len(text)]
            d["alternatives"] = alts
    return d


def _first_pass(img, threads: int) -> tuple[list[dict], float]:
    """Detection + recognition on the image reduced to MAX_SIDE; boxes in ``img`` pixels, and the
    reduction factor (image pixels per detector pixel, >= 1)."""
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
        info = extra[0] if extra and isinstance(extra[0], dict) else None
        boxes.append(_box_dict(text, raw, q, score, info))
    return boxes, max(sx, sy)


def _sides(box) -> tuple[float, float]:
    """(width, height) of a 4-point box: mean lengths of its top/bottom and left/right edges."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = [(float(p[0]), float(p[1])) for p in box]
    w = (math.hypot(x1 - x0, y1 - y0) + math.hypot(x2 - x3, y2 - y3)) / 2
    h = (math.hypot(x3 - x0, y3 - y0) + math.hypot(x2 - x1, y2 - y1)) / 2
    return w, h


def _warp(bgr, box, out_w: int, out_h: int, margin: float):
    """The quadrilateral ``box`` (grown by ``margin`` x its shorter side on every side) warped to an
    upright out_w x out_h crop with Lanczos interpolation."""
    import cv2
    import numpy as np

    pts = np.array(box, dtype=np.float32)
    w, h = _sides(box)
    grow = margin * min(w, h)
    # push every corner away from the centre along both box axes
    ux = (pts[1] - pts[0] + pts[2] - pts[3]) / 2
    uy = (pts[3] - pts[0] + pts[2] - pts[1]) / 2
    ux /= max(1e-6, float(np.linalg.norm(ux)))
    uy /= max(1e-6, float(np.linalg.norm(uy)))
    signs = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    grown = np.array([pts[i] + (sx * ux + sy * uy) * grow for i, (sx, sy) in enumerate(signs)], dtype=np.float32)
    dst = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(grown, dst)
    return cv2.warpPerspective(bgr, m, (out_w, out_h), flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REPLICATE)


def _upright_cells(col, width: int):
    """A vertical text column (an upright H x W crop, characters stacked top to bottom) laid out as
    one horizontal row of its characters, or None when no character cells can be told apart.

    Cells are cut at the blank rows between characters (rows with almost no pixels that differ from
    the column's background); a run longer than 1.3 x the column width is cut evenly into cells of
    about one width (CJK characters are square)."""
    import numpy as np

    gray = col.mean(axis=2)
    bg = float(np.median(np.concatenate([gray[:, :2].ravel(), gray[:, -2:].ravel()])))
    ink = np.abs(gray - bg) > 40
    rows = ink.mean(axis=1) > 0.02
    runs, start = [], None
    for i, r in enumerate(rows):
        if r and start is None:
            start = i
        elif not r and start is not None:
            runs.append([start, i])
            start = None
    if start is not None:
        runs.append([start, len(rows)])
    if not runs:
        return None
    # glue runs that are parts of one character (上 下 三: strokes separated by blank rows)
    cells = [runs[0]]
    for a, b in runs[1:]:
        if b - cells[-1][0] <= 1.05 * width:
            cells[-1][1] = b
        else:
            cells.append([a, b])
    out = []
    for a, b in cells:
        n = max(1, round((b - a) / width)) if b - a > 1.3 * width else 1
        for k in range(n):
            out.append((a + (b - a) * k // n, a + (b - a) * (k + 1) // n))
    if len(out) < 2:
        return None
    pad = max(2, width // 8)
    tiles = []
    for a, b in out:
        cell = col[max(0, a - pad // 2):min(col.shape[0], b + pad // 2)]
        canvas = np.full((width, width, 3), bg, dtype=np.uint8)
        hh = min(width, cell.shape[0])
        off = (width - hh) // 2
        canvas[off:off + hh] = cell[:hh]
        tiles.append(canvas)
        tiles.append(np.full((width, pad, 3), bg, dtype=np.uint8))
    return np.concatenate(tiles[:-1], axis=1)


def second_looks(img, boxes: list[dict], scale: float, threads: int = 1) -> list[dict]:
    """Re-read boxes the first pass is likely to have misread, keeping a new reading only when the
    recogniser is more confident in it.

    * small text: a box lower than SMALL_TEXT_PX detector pixels (``scale`` = image pixels per
      detector pixel) is cut from the full-resolution ``img`` with a margin and enlarged with
      Lanczos to REC_HEIGHT (the recogniser would otherwise stretch a few pixels bilinearly);
    * vertical text: a box at least VERTICAL_RATIO times as tall as wide is read as a row of its
      upright characters (the first pass reads the column turned on its side).

    ``boxes`` as from the first pass (``img`` pixels); returns the same boxes, each with the more
    confident of its two readings as ``text``/``confidence`` and the other one, when it differs, as
    ``other = {"text", "confidence"}`` (``ocr_lines.lines`` offers it as an alternative text: a
    more confident reading is not always the right one, e.g. 东园 read upright as 东图).
    Boxes already read with confidence >= SURE are left alone, and at most MAX_SECOND_LOOKS boxes
    (the least confident) are re-read. Cost: one extra recognition batch for those boxes only (no
    detection)."""
    import numpy as np

    jobs = []  # (box index, crop)
    bgr = None
    for i, b in enumerate(boxes):
        w, h = _sides(b["box"])
        if w <= 1 or h <= 1 or float(b["confidence"]) >= SURE:
            continue
        vertical = h >= VERTICAL_RATIO * w
        text_h = (w if vertical else h) / scale
        if text_h < SMALL_TEXT_PX and not vertical:
            if bgr is None:
                bgr = np.asarray(img.convert("RGB"))[:, :, ::-1].copy()
            k = REC_HEIGHT / (h * 1.2)
            jobs.append((i, _warp(bgr, b["box"], max(8, int(w * k + 0.2 * h * k)), REC_HEIGHT, 0.1)))
        elif vertical:
            if bgr is None:
                bgr = np.asarray(img.convert("RGB"))[:, :, ::-1].copy()
            k = REC_HEIGHT / w
            col = _warp(bgr, b["box"], REC_HEIGHT, max(REC_HEIGHT, int(h * k)), 0.0)
            row = _upright_cells(col, REC_HEIGHT)
            if row is not None:
                jobs.append((i, row))
    if not jobs:
        return boxes
    jobs = sorted(jobs, key=lambda j: float(boxes[j[0]]["confidence"]))[:MAX_SECOND_LOOKS]
    rec = get_engine(threads).text_rec
    res, _ = rec([c for _, c in jobs])
    out = list(boxes)
    for (i, _), r in zip(jobs, res):
        raw = r[0] or ""
        text = raw.strip()
        old = out[i]
        if not text or text == old["text"]:
            if text and float(r[1]) > float(old["confidence"]):
                out[i] = dict(old, confidence=round(float(r[1]), 4))
            continue
        w, h = _sides(old["box"])
        how = "upright" if h >= VERTICAL_RATIO * w else "enlarged"
        info = r[2] if len(r) > 2 and isinstance(r[2], dict) else None
        nb = _box_dict(text, raw, old["box"], r[1], info)
        if nb["confidence"] > float(old["confidence"]):
            # the second look becomes the reading; the first stays available as another reading
            nb["second_look"] = how
            nb["other"] = {"text": old["text"], "confidence": old["confidence"]}
            out[i] = nb
        elif nb["confidence"] >= RAW_MIN_SCORE:
            out[i] = dict(old, other={"text": text, "confidence": nb["confidence"], "second_look": how})
    return out


def _wants_inverted(img, boxes: list[dict]) -> bool:
    """Whether to read the negative too: little text found, or a dark image (light text on dark or
    on a busy background is where the detector misses most)."""
    import numpy as np

    chars = sum(meaningful_len(b["text"]) for b in boxes if b["confidence"] >= 0.6)
    if chars < INVERT_BELOW_CHARS:
        return True
    g = img.convert("L")
    g.thumbnail((256, 256))
    return float(np.asarray(g).mean()) < INVERT_DARK_MEAN


def negative_look(img, boxes: list[dict], threads: int = 1) -> list[dict]:
    """Text the first pass did not find, looked for on the inverted image: detection on the
    negative, then recognition (after the 0/180 degree direction check) of the new boxes only,
    i.e. those not overlapping a box already read. The detector finds dark text on light far more
    readily than light text (white or pale lettering on a busy or light background); on the
    negative that text is dark.

    ``boxes`` in ``img`` pixels; returns them plus the new ones (marked ``"inverted": True``).
    Cost: one detection, and recognition of new boxes only."""
    import numpy as np
    from PIL import ImageOps

    neg = ImageOps.invert(fit_within(img, MAX_SIDE).convert("RGB"))
    sx = img.size[0] / neg.size[0]
    sy = img.size[1] / neg.size[1]
    eng = get_engine(threads)
    dets, _ = eng(neg, use_cls=False, use_rec=False)
    if not dets:
        return boxes
    quads = []
    for q in dets:
        full = [[x * sx, y * sy] for x, y in q]
        if not any(_overlap(full, b["box"]) > 0.3 for b in boxes):
            quads.append((q, full))
    if not quads:
        return boxes
    bgr = np.asarray(neg)[:, :, ::-1].copy()
    crops = eng.get_crop_img_list(bgr, [np.array(q, dtype=np.float32) for q, _ in quads])
    crops, _, _ = eng.text_cls(crops)
    res, _ = eng.text_rec(crops)
    out = list(boxes)
    for (_, full), r in zip(quads, res):
        raw = r[0] or ""
        text = raw.strip()
        if text and float(r[1]) >= RAW_MIN_SCORE:
            info = r[2] if len(r) > 2 and isinstance(r[2], dict) else None
            nb = _box_dict(text, raw, full, r[1], info)
            nb["inverted"] = True
            out.append(nb)
    return out


def read_image(img, threads: int = 1, extra_passes: bool = True, invert: bool | None = None) -> list[dict]:
    """OCR a decoded PIL image; boxes are in the image's own pixel coordinates.

    With ``extra_passes`` (the default) the first reading is followed by ``second_looks`` (small
    and vertical boxes re-read) and by ``negative_look`` (text found on the inverted image) when
    ``invert`` is True, or when it is None (automatic) and ``_wants_inverted`` says so. Without
    ``extra_passes``: one detection + recognition only."""
    boxes, scale = _first_pass(img, threads)
    if not extra_passes:
        return boxes
    boxes = second_looks(img, boxes, scale, threads)
    if invert or (invert is None and _wants_inverted(img, boxes)):
        boxes = negative_look(img, boxes, threads)
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


def read_bytes(data: bytes, src: str = "<bytes>", threads: int = 1, extra_passes: bool = True,
               invert: bool | None = None) -> dict:
    """Decode (safely) and OCR one image. Never raises.

    ``extra_passes``, ``invert``: see ``read_image`` (extra_passes=False: one detection +
    recognition, for comparisons; invert=True: always look at the negative too, ``ocr read --thorough``).

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
        # a transparent image is already read on both a dark and a light background
        boxes = read_image(img, threads, extra_passes, invert=invert if len(imgs) == 1 else False)
        for other in imgs[1:]:  # a transparent image: also read on the opposite background
            boxes = merge_boxes(boxes, read_image(other, threads, extra_passes, invert=False))
    except Exception as e:
        return {"rejected": "ocr_failed", "message": f"OCR failed: {type(e).__name__}: {e}"[:200]}
    return {"boxes": boxes, "width": img.size[0], "height": img.size[1],
            "seconds": round(time.perf_counter() - t0, 4), "cpu_seconds": round(time.process_time() - c0, 4)}
