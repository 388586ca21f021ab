"""Synthetic bench data on disk: a watchlist YAML of N word marks and a listings JSONL of M
listings (titles built from jieba's dictionary, ~5 % carrying a mark, some disguised), the same
generator as bench_text so every benchmark measures the same material.

    python -m bench.data --marks 5000 --listings 100000 --out bench/out/data
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path


def write_dataset(out: Path, marks: int, listings: int, seed: int = 7) -> tuple[Path, Path]:
    """Write (watchlist.yaml, listings.jsonl) under `out`; cached by (marks, listings, seed)."""
    from . import bench_text as bt
    from matcher.variants import READINGS
    from watchlist.loader import dump_watchlist_yaml

    out.mkdir(parents=True, exist_ok=True)
    wl_path = out / f"watchlist-{marks}-s{seed}.yaml"
    li_path = out / f"listings-{marks}-{listings}-s{seed}.jsonl"
    if wl_path.exists() and li_path.exists():
        return wl_path, li_path
    rng = random.Random(seed)
    words, chars = bt._vocab(rng)
    for c in chars:
        if READINGS.get(c):
            bt._HOMO[c] = READINGS[c][0]
    wl = bt.synth_watchlist(marks, rng, chars)
    forms = [(m.text, list(m.aliases)) for _, m in wl.word_marks()]
    wl_path.write_text(dump_watchlist_yaml(wl), encoding="utf-8")
    tmp = li_path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        done = 0
        while done < listings:  # streamed in chunks: 1,000,000 listings never sit in memory
            n = min(20_000, listings - done)
            for l in bt.synth_listings(n, rng, words, forms):
                lid = f"L{done}"
                done += 1
                d = {"platform": l.platform, "listing_id": lid, "title": l.title,
                     "url": f"https://bench.invalid/item/{lid}", "category": l.category, "price": l.price,
                     "seller_id": f"s{rng.randrange(max(1, listings // 20))}", "seller_name": "",
                     "seller_location": rng.choice(("浙江省杭州市", "广东省广州市", "福建省莆田市", "")),
                     "sales": rng.choice((None, 3, 40, 500)), "captured_at": "2026-11-01T00:00:00Z"}
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
    tmp.replace(li_path)
    return wl_path, li_path


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench.data")
    ap.add_argument("--marks", type=int, default=5000)
    ap.add_argument("--listings", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path("bench/out/data"))
    a = ap.parse_args(argv)
    print(*write_dataset(a.out, a.marks, a.listings, a.seed))


if __name__ == "__main__":
    main(sys.argv[1:])
