"""The stored pass's compiled text matcher is cached on disk by the stored watchlist's content
(matcher.compiled_cache.text_compiled_for, issue 17): a later pass with the same watchlist reads
it back and matches exactly as a fresh build, and any edit of a mark is a miss, never a stale hit."""
from __future__ import annotations

from config.listing import Listing
from matcher.goods import load_goods_classifier
from watchlist.loader import parse_watchlist_yaml

WL = """
enterprises:
  - id: e1
    name: 山河行服饰有限公司
    marks: [{{id: m1, kind: word, text: {text}, nice_classes: [25]}}]
"""


def hits(tm_engine_wl, title: str) -> list[str]:
    from matcher.engine import EngineOptions, MatchEngine

    wl, tm = tm_engine_wl
    me = MatchEngine(wl, EngineOptions(ocr=False, logos=False, language="zh-CN"), prebuilt={"text": tm})
    return [m.target_id for m in me.match(Listing(platform="mall", listing_id="x", title=title, category="服装/夹克"))]


def test_same_watchlist_reads_the_cache_and_an_edit_is_a_miss(tmp_path):
    from matcher.compiled_cache import text_compiled_for

    goods = load_goods_classifier()
    cache = tmp_path / "cache"
    a = parse_watchlist_yaml(WL.format(text="山河行"))
    built = text_compiled_for(a, cache, goods, "zh-CN")
    entries = list((cache / "matcher").glob("db-*.pickle"))
    assert len(entries) == 1
    again = text_compiled_for(parse_watchlist_yaml(WL.format(text="山河行")), cache, goods, "zh-CN")
    assert list((cache / "matcher").glob("db-*.pickle")) == entries  # read back, not rebuilt
    title = "山河行 夹克 高仿"
    assert hits((a, built), title) == hits((a, again), title) == ["m1"]
    # the mark's text edited (console, CLI or SQL): a new entry, matching the new text only
    b = parse_watchlist_yaml(WL.format(text="青云阁"))
    edited = text_compiled_for(b, cache, goods, "zh-CN")
    assert len(list((cache / "matcher").glob("db-*.pickle"))) == 2
    assert hits((b, edited), title) == []
    assert hits((b, edited), "青云阁 夹克 高仿") == ["m1"]


def test_damaged_entry_is_rebuilt(tmp_path):
    from matcher.compiled_cache import text_compiled_for

    goods = load_goods_classifier()
    a = parse_watchlist_yaml(WL.format(text="山河行"))
    text_compiled_for(a, tmp_path, goods, "zh-CN")
    (entry,) = (tmp_path / "matcher").glob("db-*.pickle")
    entry.write_bytes(b"not a pickle")
    tm = text_compiled_for(a, tmp_path, goods, "zh-CN")
    assert hits((a, tm), "山河行 夹克 高仿") == ["m1"]
    assert entry.read_bytes() != b"not a pickle"
