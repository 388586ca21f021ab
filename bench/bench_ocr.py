"""OCR benchmark: images/s per core, and the whole ``markwatch match`` on the dev corpus with OCR on/off.

    python -m bench ocr
    python -m bench.bench_ocr --images 48 --devset ../shared/devset

1. Throughput: the dev images are OCR'd in this process on one ONNX thread, without cache;
   "per core" is images per CPU-second (robust when other work shares the machine), "wall" is
   images per elapsed second. Then the same images through the reader's 2-process prefetch pool.
2. ``markwatch match`` on the dev corpus (wall time, and CPU seconds of the whole process tree,
   which does not depend on what else the machine is doing) in fresh data directories (no cache): OCR and logos on,
   OCR off, and OCR on again with the OCR cache from the first run (what a daily re-run costs).
   The ocr-group score of the first run is printed when ``score.py`` is there.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT.parent / "shared" / "devset"


def throughput(images: list[Path]) -> dict:
    from matcher import ocr_engine

    ocr_engine.get_engine(1)  # model load is not part of the per-image cost
    c0, t0 = time.process_time(), time.perf_counter()
    boxes = 0
    for p in images:
        res = ocr_engine.read_bytes(p.read_bytes(), str(p), threads=1)
        boxes += len(res.get("boxes") or [])
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    return {"images": len(images), "cpu": cpu, "wall": wall, "boxes": boxes}


def pooled(images: list[Path], workers: int) -> dict:
    from matcher.listing import Listing
    from matcher.ocr import ImageTextReader

    listings = [Listing(platform="bench", listing_id=str(i), title="-", images=[str(p)]) for i, p in enumerate(images)]
    t0 = time.perf_counter()
    with ImageTextReader(cache_dir=None, workers=workers) as r:
        r.prefetch(iter(listings))
        for x in listings:
            r.texts(x)
        st = r.stats()
    return {"wall": time.perf_counter() - t0, "stats": st}


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_match(devset: Path, data_dir: Path, out: Path, extra: list[str]) -> tuple[float, str]:
    env = dict(os.environ, MARKWATCH_DATA_DIR=str(data_dir))
    cmd = [sys.executable, "-m", "pipeline.cli", "match", "--watchlist", str(devset / "watchlist.yaml"),
           "--listings", str(devset / "listings.jsonl"), "--output", str(out), *extra]
    t0, c0 = time.perf_counter(), _children_cpu()
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    dt, cpu = time.perf_counter() - t0, _children_cpu() - c0
    last = (p.stderr.strip().splitlines() or [""])[-1]
    if p.returncode != 0:
        last = f"FAILED rc={p.returncode}: {last}"
    return dt, f"{cpu:.1f} CPU-s; {last}"


def score(devset: Path, leads: Path) -> str:
    sp = devset / "score.py"
    if not sp.exists():
        return "(no score.py)"
    p = subprocess.run([sys.executable, str(sp), str(devset / "gold.jsonl"), str(leads), "--groups", "ocr"],
                       capture_output=True, text=True)
    return (p.stdout.strip().splitlines() or ["?"])[0]


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench_ocr")
    ap.add_argument("--devset", type=Path, default=DEVSET)
    ap.add_argument("--images", type=int, default=48, help="dev images for the throughput test")
    ap.add_argument("--no-match", action="store_true", help="skip the whole-match timings")
    a = ap.parse_args(argv)
    imgs = sorted((a.devset / "images").glob("*.jpg"))[: a.images]
    if not imgs:
        print(f"no images under {a.devset / 'images'}")
        return
    cpus = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {cpus} cores, load average {load:.1f} at start")

    t = throughput(imgs)
    print(f"OCR, 1 thread, no cache: {t['images']} images in {t['wall']:.1f}s wall / {t['cpu']:.1f}s CPU -> "
          f"{t['images'] / t['cpu']:.2f} images/s per core ({t['images'] / t['wall']:.2f}/s wall), "
          f"{t['boxes']} boxes")
    workers = max(1, min(2, cpus))
    p = pooled(imgs, workers)
    print(f"OCR, {workers}-process prefetch pool: {len(imgs) / p['wall']:.2f} images/s wall "
          f"({p['wall']:.1f}s incl. worker start-up)")

    if a.no_match:
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    try:
        on_t, on_line = run_match(a.devset, tmp / "on", tmp / "on.jsonl", [])
        print(f"markwatch match, OCR+logos on, fresh data dir: {on_t:.1f}s  [{on_line}]")
        print(f"  ocr group: {score(a.devset, tmp / 'on.jsonl')}")
        off_t, off_line = run_match(a.devset, tmp / "off", tmp / "off.jsonl", ["--no-ocr"])
        print(f"markwatch match, OCR off (logos on), fresh data dir: {off_t:.1f}s  [{off_line}]")
        warm_t, warm_line = run_match(a.devset, tmp / "on", tmp / "warm.jsonl", [])
        print(f"markwatch match, OCR+logos on, warm cache: {warm_t:.1f}s  [{warm_line}]")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
