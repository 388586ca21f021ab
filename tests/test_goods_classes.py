"""Goods of a listing (类似群 groups and Nice classes) from its category path and title, and the
relation of a mark's registered goods to them (CNIPA 类似商品和服务区分表)."""
from __future__ import annotations

import pytest

from matcher.goods import GoodsClassifier, load_goods_classifier


@pytest.fixture(scope="module")
def g():
    return load_goods_classifier()


def test_category_path_segments_map_to_nice_classes(g):
    assert g.classes("运动户外/运动鞋", "") == {25}
    assert g.classes("食品饮料/酒类/白酒", "") == {33}
    assert g.classes("粮油 > 杂粮", "") == {30, 31}


def test_marketplace_category_words_name_groups(g):
    cases = {
        "家用电器 > 生活电器 > 电风扇": "1106",
        "个护健康>剃须刀": "0806",
        "电脑办公>笔记本": "0901",
        "手机数码 > 智能设备 > 手环": "0901",
        "女装>连衣裙": "2501",
        "运动户外>跑步鞋": "2507",
        "美妆>口红": "0306",
        "女装 > 女士连衣裙": "2501",     # head-final: the segment ends with the goods word
    }
    for path, group in cases.items():
        inf = g.infer(path, "")
        assert group in inf.groups, (path, inf)
        assert inf.source == "category" and inf.words


def test_the_leaf_decides_and_a_department_only_gives_classes(g):
    leaf = g.infer("家用电器/大家电/冰箱", "")
    dept = g.infer("家用电器/大家电/其它", "")
    assert leaf.groups == {"1105"} and leaf.confidence > dept.confidence
    assert not dept.groups and 11 in dept.classes


def test_brand_and_model_tail_of_a_path_is_not_a_goods_word(g):
    inf = g.infer("家用电器/生活电器/电风扇/艾美特FSW52R", "")
    assert inf.groups == {"1106"} and inf.words == ("电风扇",)
    assert g.infer("Shoes/Sneakers/Air Max 90", "").groups == {"2507"}


def test_english_category_paths_and_plurals(g):
    assert g.infer("Shoes/Sneakers", "").groups == {"2507"}
    assert g.infer("Watches", "").groups == {"1404"}
    assert g.infer("Bags", "").groups == {"1802"}
    assert g.infer("Clothing>Women>Dresses", "").groups == {"2501"}
    assert g.infer("Kitchen > Knives", "").groups == {"0810"}
    assert g.infer("Home > Beer Glasses", "").groups == {"2105"}   # drinkware, not eyewear


def test_title_decides_only_when_the_category_is_unknown(g):
    assert g.classes("", "新款 篮球鞋 男") == {25}
    assert g.classes("手机数码/手机", "篮球鞋 图案 手机壳") == {9}
    assert g.classes("某某平台/未知类目", "") == g.classes("", "")
    assert g.infer("", "").unknown


def test_title_reads_the_goods_noun_not_a_brand_or_a_modifier(g):
    assert g.infer("", "小米手环7 NFC版").groups == {"0901"}          # 小米 is a brand, not millet
    assert g.infer("", "包包女手机包2017新款 单肩斜挎").classes == {18}  # 手机包 is a bag
    assert 30 not in g.classes("", "学生糖果色休闲运动短裤")           # 糖果色 is a colour
    assert 18 not in g.classes("", "南方黑芝麻糊原味720g 芝麻糊包邮")  # 包邮 is free shipping
    assert 33 not in g.classes("", "包邮 酒红色 外套")


def test_compatibility_phrase_never_sets_the_goods(g):
    assert g.infer("", "苹果安卓通用 手机壳").groups == {"0907"}
    assert 9 not in g.infer("", "适用于华为手表 表带").classes
    assert g.infer("", "适用于华为 Mate 60 充电器").groups == {"0922"}
    assert g.infer("", "苹果安卓通用").unknown                 # 苹果 is not fruit here
    assert g.infer("", "Phone case compatible with iPhone 15").groups == {"0907"}
    assert g.infer("", "Replacement band for Apple Watch").unknown


def test_service_items_of_the_table_are_not_goods_of_a_listing(g):
    # 教育 is an item of class 41; a 电子教育 category sells devices
    assert 41 not in g.classes("手机数码 > 电子教育 > 点读机/学习机", "")


def test_a_goods_name_given_alone_is_read_even_if_titles_use_it_as_a_brand(g):
    assert g.from_title("苹果") == {31}          # a GI's product
    assert 31 not in g.from_title("苹果 iPhone 15 手机")


def test_vocabulary_only_classifier_works_without_the_table():
    g = GoodsClassifier({"category": {"鞋": ["2507"], "鞋配件": [26]}})
    assert g.classes("运动户外/鞋配件", "") == {26}
    assert g.infer("运动户外/鞋", "").groups == {"2507"}


def test_head_nouns_do_not_classify_whole_titles(g):
    assert "酒" in g.goods_words()
    assert 33 not in g.classes("", "包邮 酒红色 外套")


# --- relation ---------------------------------------------------------------------------------

def test_same_group_is_same_goods_and_other_groups_of_the_class_are_not(g):
    shoes = g.infer("运动户外/跑步鞋", "")
    tee = g.infer("男装/T恤", "")
    assert g.relation([], ["2507"], shoes) == ("same", "2507")
    assert g.relation([], ["2507"], tee)[0] == "different"      # 鞋 and 衣物 are different groups
    assert g.relation([25], [], tee) == ("same", "25")            # registered for the whole class


def test_groups_the_notes_call_similar_are_similar_goods(g):
    # 注: 本类似群与2103类似 (茶具 ~ 瓷器); 3015 酱油 ~ 3016 调味品
    assert g.relation([], ["2103"], g.infer("家居/茶具", ""))[0] == "similar"
    assert g.relation([], ["3016"], g.infer("调味品/酱油", ""))[0] == "similar"
    # item-specific note: 智能手表 (0901) is similar to 1404 watches; a laptop (0901) is not
    assert g.relation([14], [], g.infer("智能设备/智能手表", "")) == ("similar", "0901~1404")
    assert g.relation([14], [], g.infer("电脑办公/笔记本电脑", ""))[0] == "different"


def test_unknown_goods_and_marks_without_goods(g):
    unknown = g.infer("", "爆款 假一赔十")
    assert g.relation([25], [], unknown) == ("unknown", "")
    assert g.relation([], [], g.infer("运动户外/跑步鞋", ""))[0] == "same"


def test_department_only_goods_are_possibly_similar_to_a_group_mark(g):
    dept = g.infer("服装", "")
    assert not dept.groups and dept.classes == {25}
    assert g.relation([], ["2501"], dept)[0] in ("same", "similar")
    assert g.relation([], ["3301"], dept)[0] == "different"


def test_related_classes_widen_the_listing_gate_to_noted_similar_groups(g):
    watch = g.infer("智能设备/智能手表", "")
    assert watch.classes == {9} and g.related_classes(watch) >= {9, 14}   # 0901 智能手表 ~ 1404
    laptop = g.infer("电脑办公/笔记本电脑", "")
    assert 14 not in g.related_classes(laptop)
    assert not g.related_classes(g.infer("", ""))


def test_inference_is_cached_per_category_path(g):
    a = g.from_path("家用电器/生活电器/电风扇")
    assert g.from_path("家用电器/生活电器/电风扇") is a


def test_every_vocabulary_group_is_a_group_of_the_table(g):
    import yaml

    from config.settings import DATA_TABLES_DIR
    vocab = yaml.safe_load((DATA_TABLES_DIR / "goods_vocab.yaml").read_text(encoding="utf-8"))
    for section in ("category", "title", "english"):
        for word, targets in vocab[section].items():
            for t in targets:
                assert (t in g.groups) if isinstance(t, str) else 1 <= t <= 45, (section, word, t)
