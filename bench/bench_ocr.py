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


# ---------------------------------------------------------------- held-out text-on-photo check

HELDOUT_CHARS = ("云川禾岭泉峰瑞丰源泰和嘉润德盛华鑫宏昌兴隆福康安宁雅韵清晨星辰汇锦绣阳光百味珍品"
                 "古道茶香山水田园金玉满堂龙凤呈祥松竹梅兰")
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CASES = ("plain", "small", "light_on_busy", "vertical", "covered", "big_photo")


def heldout_image(rng, mark: str, case: str, size: int = 640):
    """A product-photo-like image with ``mark`` printed as ``case`` describes (other text around it)."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    from matcher.logo_synth import _clutter

    if case == "big_photo":  # a camera-size photo: the text is small relative to it
        size = 1600
    img = _clutter(rng, size) if case == "light_on_busy" else Image.new(
        "RGB", (size, size), tuple(rng.randrange(200, 250) for _ in range(3)))
    d = ImageDraw.Draw(img)
    if case != "light_on_busy":  # a product: a box with some shading
        d.rectangle([60, 80, size - 60, size - 60], fill=tuple(rng.randrange(150, 235) for _ in range(3)))
    fpath = rng.choice(CJK_FONTS)
    px = {"small": rng.randrange(15, 20), "big_photo": rng.randrange(22, 30)}.get(case, rng.randrange(26, 52))
    font = ImageFont.truetype(fpath, px)
    dark = tuple(rng.randrange(0, 90) for _ in range(3))
    light = tuple(rng.randrange(225, 256) for _ in range(3))
    fill = light if case == "light_on_busy" else dark
    x, y = rng.randrange(70, 260) * size // 640, rng.randrange(100, 420) * size // 640
    if case == "vertical":
        for i, ch in enumerate(mark):
            d.text((x, y - 60 + i * int(px * 1.1)), ch, font=font, fill=fill)
    else:
        d.text((x, y), mark, font=font, fill=fill)
        if case == "covered":  # a sticker over the lower quarter of the text
            x0, y0, x1, y1 = d.textbbox((x, y), mark, font=font)
            d.rectangle([x0 - 4, y1 - (y1 - y0) // 4, x1 + 4, y1 + 10], fill=(235, 235, 235))
    # other printed text: not the mark
    other = "".join(rng.choice(HELDOUT_CHARS) for _ in range(rng.randrange(3, 6)))
    d.text((rng.randrange(70, 300) * size // 640, rng.randrange(480, 560) * size // 640), other + "  净含量500g",
           font=ImageFont.truetype(CJK_FONTS[0], 20), fill=(40, 40, 40))
    if rng.random() < 0.4:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    return img


def heldout(n_per_case: int = 12, seed: int = 5) -> dict:
    """Recall of marks printed on photos (other names than the dev corpus's), by case, and false
    readings: a registered mark read in an image that does not show it."""
    import io
    import random

    from matcher import ocr_engine
    from matcher.ocr_lines import lines

    rng = random.Random(seed)
    marks = set()
    while len(marks) < 40:
        marks.add("".join(rng.choice(HELDOUT_CHARS) for _ in range(rng.randrange(2, 5))))
    marks = sorted(marks)
    found: dict[str, list[int]] = {c: [0, 0] for c in CASES}
    false = 0
    c0 = time.process_time()
    n = 0
    for case in CASES:
        for _ in range(n_per_case):
            mark = rng.choice(marks)
            img = heldout_image(rng, mark, case)
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=85)
            res = ocr_engine.read_bytes(buf.getvalue(), "heldout", threads=1)
            n += 1
            texts = [t["text"] for t in lines(res.get("boxes") or [])]
            joined = "\n".join(texts)
            found[case][1] += 1
            found[case][0] += mark in joined
            false += sum(1 for m in marks if m != mark and len(m) >= 3 and m in joined and m not in mark)
    cpu = time.process_time() - c0
    tp = sum(v[0] for v in found.values())
    tot = sum(v[1] for v in found.values())
    return {"images": n, "recall": round(tp / tot, 3), "precision": round(tp / max(1, tp + false), 3),
            "by_case": {c: f"{v[0]}/{v[1]}" for c, v in found.items()}, "cpu_s_per_image": round(cpu / n, 3)}


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
    ap.add_argument("--heldout", type=int, metavar="N", help="held-out check only: N images per case")
    a = ap.parse_args(argv)
    if a.heldout:
        import json
        print(json.dumps(heldout(a.heldout), ensure_ascii=False))
        return
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
