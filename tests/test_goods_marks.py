"""Marks registered by 类似群 group: the watchlist field, and how the text matcher judges goods
(same group / similar group / different goods / unknown goods). Marks not in the dev corpus."""
from __future__ import annotations

import pytest

from matcher.engine import DEFAULT_THRESHOLD
from matcher.goods import load_goods_classifier
from matcher.listing import Listing
from matcher.text import TextMatcher
from matcher.types import MatchContext, TextSource
from watchlist.errors import WatchlistError
from watchlist.loader import dump_watchlist_csv, parse_watchlist_csv, parse_watchlist_yaml
from watchlist.model import Enterprise, Mark, Watchlist


def _wl(*marks: Mark) -> Watchlist:
    return Watchlist(enterprises=[Enterprise(id="e1", name="权利人", marks=list(marks))])


SHOES = Mark(id="tm-feiyue", kind="word", text="飞跃", aliases=["FEIYUE"], similar_groups=["2507"])
TEAWARE = Mark(id="tm-jingde", kind="word", text="景德窑", similar_groups=["2105"])
WATCHES = Mark(id="tm-tianwang", kind="word", text="天王表", aliases=["TIANWANG"], nice_classes=[14])


@pytest.fixture(scope="module")
def tm():
    return TextMatcher(_wl(SHOES, TEAWARE, WATCHES))


def run(tm, title, category=""):
    listing = Listing(platform="p", listing_id="x1", title=title, category=category)
    ctx = MatchContext(listing, load_goods_classifier().classes(category, title), [TextSource("title", title)])
    return {m.target_id: m for m in tm.match(ctx)}


def test_yaml_field_accepts_group_codes_and_names_the_bad_one():
    ok = parse_watchlist_yaml("""
enterprises:
- id: e1
  name: 飞跃
  marks:
  - {id: tm-1, kind: word, text: 飞跃, similar_groups: ['2507', 2501]}
""", "wl.yaml")
    assert ok.enterprises[0].marks[0].similar_groups == ["2507", "2501"]
    with pytest.raises(WatchlistError) as e:
        parse_watchlist_yaml("""
enterprises:
- id: e1
  name: 飞跃
  marks:
  - {id: tm-1, kind: word, text: 飞跃, similar_groups: ['2506']}
""", "wl.yaml")
    msg = str(e.value)
    assert "wl.yaml" in msg and "similar_groups" in msg and "2506" in msg


def test_csv_round_trip_keeps_groups():
    wl = parse_watchlist_csv("enterprise_id,mark_id,text,nice_classes,similar_groups\n"
                             "e1,tm-1,飞跃,,2507|2509\n", "wl.csv")
    assert wl.enterprises[0].marks[0].similar_groups == ["2507", "2509"]
    again = parse_watchlist_csv(dump_watchlist_csv(wl), "again.csv")
    assert again.enterprises[0].marks[0].similar_groups == ["2507", "2509"]
    with pytest.raises(WatchlistError) as e:
        parse_watchlist_csv("enterprise_id,mark_id,text,similar_groups\ne1,tm-1,飞跃,9999\n", "bad.csv")
    assert "bad.csv" in str(e.value) and "similar_groups" in str(e.value)


def test_same_group_is_a_lead_and_says_which_group(tm):
    m = run(tm, "飞跃 帆布鞋 高仿 男女款", "鞋靴/帆布鞋")["tm-feiyue"]
    assert m.score >= DEFAULT_THRESHOLD
    assert any("类似群2507" in r for r in m.reasons)
    assert m.evidence["goods"]["relation"] == "same" and m.evidence["goods"]["groups"] == ["2507"]


def test_other_group_of_the_same_class_is_different_goods(tm):
    # 衣物 (2501) and 鞋 (2507) are different 类似群 groups: a mark registered for shoes only
    assert "tm-feiyue" not in run(tm, "飞跃 短袖T恤 高仿 男", "男装/T恤")


def test_group_the_notes_call_similar_is_a_weaker_signal(tm):
    # 注 of 2105: 本类似群与2103类似 (茶具 ~ 瓷器)
    same = run(tm, "景德窑 茶具套装 高仿", "家居/茶具")["tm-jingde"]
    similar = run(tm, "景德窑 瓷碗 高仿", "家居/瓷器")["tm-jingde"]
    assert similar.score < same.score
    assert any("类似商品" in r and "2103" in r for r in similar.reasons)
    assert similar.evidence["goods"]["relation"] == "similar"


def test_item_specific_note_relates_smartwatches_to_watches(tm):
    m = run(tm, "天王表 智能手表 高仿", "智能设备/智能手表")["tm-tianwang"]
    assert m.evidence["goods"]["relation"] == "similar"
    assert "tm-tianwang" not in run(tm, "天王表 笔记本电脑 高仿", "电脑办公/笔记本电脑")


def test_short_homophone_on_unknown_goods_is_not_a_lead_by_itself(tm):
    weak = run(tm, "菲跃 新款 爆款 现货", "某平台/其它")["tm-feiyue"]
    assert weak.score < DEFAULT_THRESHOLD and weak.evidence["goods"]["relation"] == "unknown"
    assert any(c["code"] == "weak_unknown" for c in weak.evidence["reason_codes"])
    # another signal (a counterfeit cue) still makes it a lead
    strong = run(tm, "菲跃 新款 高仿 现货", "某平台/其它")["tm-feiyue"]
    assert strong.score >= DEFAULT_THRESHOLD


def test_english_listing_goods_are_judged_too(tm):
    m = run(tm, "FEIYUE canvas sneakers replica AAA", "Shoes/Sneakers").get("tm-feiyue")
    assert m is not None and m.evidence["goods"]["groups"] == ["2507"]
    assert "tm-feiyue" not in run(tm, "FEIYUE graphic T-shirt replica", "Clothing>Men>T-Shirts")


def test_short_homophone_only_in_an_image_on_unknown_goods_is_not_a_lead(tm):
    listing = Listing(platform="p", listing_id="x2", title="新款 爆款 现货", category="某平台/其它")
    ctx = MatchContext(listing, load_goods_classifier().classes(listing.category, listing.title),
                       [TextSource("title", listing.title), TextSource("image", "菲跃", image="a.jpg", confidence=0.95)])
    m = {m.target_id: m for m in tm.match(ctx)}["tm-feiyue"]
    assert m.score < DEFAULT_THRESHOLD and m.evidence["field"] == "image"
