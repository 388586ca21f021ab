"""Goods-class inference from marketplace categories and titles (the gate of the text matcher)."""
from __future__ import annotations

from matcher.goods import GoodsClassifier, load_goods_classifier


def test_category_path_segments_map_to_nice_classes():
    g = load_goods_classifier()
    assert g.classes("运动户外/运动鞋", "") == {25}
    assert g.classes("食品饮料/酒类/白酒", "") == {33}
    assert g.classes("粮油 > 杂粮", "") == {30, 31}


def test_longest_keyword_wins_inside_a_segment():
    g = GoodsClassifier({"category": {"鞋": [25], "鞋配件": [26]}})
    assert g.classes("运动户外/鞋配件", "") == {26}


def test_title_decides_only_when_the_category_is_unknown():
    g = load_goods_classifier()
    assert g.classes("", "新款 篮球鞋 男") == {25}
    assert g.classes("手机数码/手机", "篮球鞋 图案 手机壳") == {9}
    assert g.classes("某某平台/未知类目", "") == g.classes("", "")


def test_head_nouns_do_not_classify_whole_titles():
    g = load_goods_classifier()
    assert "酒" in g.goods_words()
    assert 33 not in g.classes("", "包邮 酒红色 外套")
