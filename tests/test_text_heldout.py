"""Held-out generated corpus with marks that are in neither ../shared/devset nor the real-title
set (bench/heldout_text.py): word precision and F1 >= 0.97 (issue 11)."""
from __future__ import annotations

import json

from bench.heldout_text import build
from matcher.engine import EngineOptions, MatchEngine
from matcher.listing import Listing, read_listings
from watchlist import load_watchlist


def test_heldout_word_precision_and_f1(tmp_path):
    info = build(tmp_path, seed=19, per_mark=12)
    assert info["marks"] >= 30 and info["listings"] > 400
    eng = MatchEngine(load_watchlist(tmp_path / "watchlist.yaml"), EngineOptions(ocr=False, logos=False))
    gold = {g["listing_id"]: g for g in map(json.loads, open(tmp_path / "gold.jsonl", encoding="utf-8"))}
    tp = fp = fn = 0
    wrong = []
    for item in read_listings(tmp_path / "listings.jsonl"):
        assert isinstance(item, Listing)
        g = gold[item.listing_id]
        if g["label"] == "ambiguous":
            continue
        pred = {m.target_id for m in eng.match(item)}
        want = set(g["targets"])
        tp += len(pred & want)
        fp += len(pred - want)
        fn += len(want - pred)
        if pred != want:
            wrong.append((g["why"], item.title, sorted(pred), sorted(want)))
    p = tp / (tp + fp)
    r = tp / (tp + fn)
    f1 = 2 * p * r / (p + r)
    assert p >= 0.97 and f1 >= 0.97, (p, r, f1, wrong[:10])
