"""The compiled watchlist cache of `markwatch match` (matcher/compiled_cache.py): a cached run
gives the same leads as a fresh one, an edited watchlist is never served stale, and a damaged
entry or a missing logo file behaves as without the cache."""
from __future__ import annotations

import io
import json

import pytest

from matcher.batch import match_file
from matcher.engine import EngineOptions
from tests.conftest import DEVSET
from watchlist import WatchlistError

WATCHLIST = """\
version: 1
enterprises:
  - id: ent-sh
    name: 山河服饰
    marks:
      - {id: tm-sh, kind: word, text: 山河行, aliases: [SHANHEXING], nice_classes: [25], well_known: false}
"""
LISTINGS = [
    {"platform": "mall", "listing_id": "L1", "title": "山河行 男士夹克 高仿", "category": "服装/男装", "price": 99.0},
    {"platform": "mall", "listing_id": "L2", "title": "山 河 星 男士夹克 复刻", "category": "服装/男装", "price": 99.0},
    {"platform": "mall", "listing_id": "L3", "title": "江山行 男士夹克 高仿", "category": "服装/男装", "price": 99.0},
]


def _run(wl, li, cache) -> list[dict]:
    out = io.StringIO()
    match_file(wl, li, out, EngineOptions(ocr=False, logos=False, cache_dir=cache), err=io.StringIO())
    return [json.loads(x) for x in out.getvalue().splitlines()]


@pytest.fixture
def files(tmp_path):
    wl = tmp_path / "wl.yaml"
    wl.write_text(WATCHLIST, encoding="utf-8")
    li = tmp_path / "listings.jsonl"
    li.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in LISTINGS), encoding="utf-8")
    return wl, li, tmp_path / "cache"


def test_cached_run_gives_the_same_leads_and_an_edit_is_not_served_stale(files):
    wl, li, cache = files
    fresh = _run(wl, li, None)
    assert {x["listing_id"] for x in fresh} == {"L1", "L2"}
    first = _run(wl, li, cache)
    entries = list((cache / "matcher").glob("*.pickle"))
    assert len(entries) == 1
    second = _run(wl, li, cache)
    assert first == second == fresh
    # a new mark in the file: a miss, and its leads appear at once
    wl.write_text(WATCHLIST + "      - {id: tm-js, kind: word, text: 江山行, nice_classes: [25], well_known: false}\n",
                  encoding="utf-8")
    edited = _run(wl, li, cache)
    assert "tm-js" in {x["target_id"] for x in edited}
    assert len(list((cache / "matcher").glob("*.pickle"))) == 2


def test_damaged_entry_is_rebuilt(files):
    wl, li, cache = files
    want = _run(wl, li, cache)
    (entry,) = (cache / "matcher").glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    assert _run(wl, li, cache) == want
    assert entry.read_bytes() != b"not a pickle"  # written again


def test_missing_logo_file_is_an_error_with_or_without_the_cache(tmp_path):
    src = (DEVSET / "watchlist.yaml").read_text(encoding="utf-8")
    if "kind: logo" not in src:
        pytest.skip("the devset watchlist has no logo marks")
    import shutil

    work = tmp_path / "wl"
    shutil.copytree(DEVSET / "logos", work / "logos")
    wl = work / "watchlist.yaml"
    wl.write_text(src, encoding="utf-8")
    li = tmp_path / "l.jsonl"
    li.write_text(json.dumps(LISTINGS[0], ensure_ascii=False) + "\n", encoding="utf-8")
    _run(wl, li, tmp_path / "cache")  # fills the cache
    victim = next((work / "logos").iterdir())
    victim.unlink()
    with pytest.raises(WatchlistError, match="file not found"):
        _run(wl, li, tmp_path / "cache")
