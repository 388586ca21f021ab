"""``markwatch ocr``: read the text printed in images (the same OCR the matcher uses).

Examples::

    markwatch ocr read photo.jpg frame.png          # text, confidence and box per line
    markwatch ocr read --json photo.jpg             # machine-readable, one JSON object per image
    markwatch ocr read --thorough banner.jpg        # also look for light text on the inverted image
    markwatch ocr warm --listings listings.jsonl    # OCR a listings file's images into the cache
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import List, Optional

import typer

from config.settings import get_settings

app = typer.Typer(help="Read text printed in images (offline OCR, cached by image content).",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)


def _reader(cache: bool, workers: int | None = None, budget: int | None = None):
    from matcher.ocr import ImageTextReader

    st = get_settings()
    cache_dir = st.resolved_data_dir / "cache" if cache else None
    return ImageTextReader(cache_dir=cache_dir, budget=budget, workers=workers)


def _fmt_box(box) -> str:
    return " ".join(f"{x},{y}" for x, y in box)


@app.command("read")
def read(
    images: List[Path] = typer.Argument(..., help="Image files to read"),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per image on stdout"),
    raw: bool = typer.Option(False, "--raw", help="Show every OCR box as detected (no confidence floor, no joining)"),
    cache: bool = typer.Option(True, "--cache/--no-cache", help="Use the OCR cache in the data directory"),
    thorough: bool = typer.Option(False, "--thorough", help="Also read the inverted image, whatever the first "
                                  "reading found (finds more light text on light or busy backgrounds; "
                                  "about 1.5x the time; not cached)"),
):
    """Print the text read in each image: text, confidence and box (4 corner points x,y).

    Example: markwatch ocr read tests/data/ocr-real/chineseocr_lite_1.jpg
    """
    reader = _reader(cache and not thorough, workers=0)
    failed = 0
    try:
        for img in images:
            res = _read_thorough(str(img)) if thorough else reader.read_path(str(img))
            if "rejected" in res:
                failed += 1
                from matcher.ocr import REASONS_ZH
                if as_json:
                    typer.echo(json.dumps({"image": str(img), "skipped": res["rejected"],
                                           "message": res.get("message", "")}, ensure_ascii=False))
                else:
                    typer.echo(f"{img}: skipped ({res['rejected']}: {res.get('message', '')}; "
                               f"{REASONS_ZH.get(res['rejected'], '')})", err=True)
                continue
            rows = res["boxes"] if raw else reader.lines_for(res)
            if as_json:
                typer.echo(json.dumps({"image": str(img), "sha256": res.get("sha256"),
                                       "texts": [{k: r[k] for k in ("text", "confidence", "box") if k in r}
                                                 | ({"alternative_of": r["alternative_of"]} if "alternative_of" in r else {})
                                                 | ({"parts": r["parts"]} if r.get("parts", 1) > 1 else {})
                                                 for r in rows]}, ensure_ascii=False))
                continue
            typer.echo(f"{img}:" + ("" if rows else " (no text)"))
            for r in rows:
                note = ""
                if r.get("parts", 1) > 1:
                    note = f"  [joined {r['parts']} boxes]"
                elif "alternative_of" in r:
                    note = f"  [alternative reading of '{r['alternative_of']}']"
                typer.echo(f"  {r['text']}\t{float(r['confidence']):.2f}\t{_fmt_box(r['box'])}{note}")
    finally:
        reader.close()
    if failed and failed == len(images):
        raise typer.Exit(1)


def _read_thorough(path: str) -> dict:
    """One image read with the negative look forced on (no cache); same result shape as read_path."""
    from matcher.ocr import _read_image_file, _Skip
    from matcher.ocr_engine import read_bytes

    try:
        data = _read_image_file(path)
    except _Skip as e:
        return {"rejected": e.reason, "message": e.message}
    return read_bytes(data, path, threads=1, invert=True)


@app.command("warm")
def warm(
    listings: Path = typer.Option(..., "--listings", "-l", help="Listings JSONL whose images to read"),
    workers: Optional[int] = typer.Option(None, help="OCR worker processes (default: one per core, at most 2)"),
    budget: Optional[int] = typer.Option(None, help="Most images to OCR (default: MARKWATCH_OCR_BUDGET)"),
):
    """OCR the images of a listings file into the cache, so that a later match is fast.

    Example: markwatch ocr warm --listings tests/data/real-titles/listings.jsonl
    """
    from config.listing import Listing, read_listings

    if not listings.is_file():
        typer.echo(f"error: {listings}: file not found", err=True)
        raise typer.Exit(1)
    st = get_settings()
    reader = _reader(True, workers=workers, budget=st.ocr_budget if budget is None else budget)
    t0 = time.perf_counter()
    n = 0
    try:
        reader.prefetch(x for x in read_listings(listings) if isinstance(x, Listing))
        for item in read_listings(listings):
            if isinstance(item, Listing) and item.images:
                reader.texts(item)
                n += 1
    finally:
        reader.close()
    s = reader.stats()
    dt = time.perf_counter() - t0
    why = f" {s['skipped_by_reason']}" if s["skipped_by_reason"] else ""
    typer.echo(f"{n} listings with images: {s['images_read']} images read, {s['cache_hits']} from cache, "
               f"{s['skipped']} skipped{why} in {dt:.1f}s", err=True)
