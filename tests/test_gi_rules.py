"""GI matcher rules, with GIs that are not in the dev corpus."""
from __future__ import annotations

import pytest

from matcher.engine import EngineOptions, MatchEngine
from matcher.gi import GIMatcher
from matcher.goods import load_goods_classifier
from matcher.listing import Listing
from matcher.types import MatchContext, TextSource
from watchlist.model import AuthorizedSeller, GeographicalIndication, Region, Watchlist

ANXI = GeographicalIndication(
    id="gi-anxi-tieguanyin", name="安溪铁观音", product="乌龙茶", category="茶/乌龙茶",
    region=Region(admin_codes=["350524"], places=["福建省泉州市安溪县"]),
    authorized_users=[AuthorizedSeller(platform="shop", seller_id="s-anxi-coop")])
KORLA = GeographicalIndication(
    id="gi-korla-pear", name="库尔勒香梨", product="水果", category="食品饮料/水果",
    region=Region(places=["新疆库尔勒"]))  # region given by place name only
JINHUA = GeographicalIndication(
    id="gi-jinhua-ham", name="金华火腿", product="火腿", category="食品饮料/肉类/火腿",
    region=Region(admin_codes=["330700"]))
XUYI = GeographicalIndication(
    id="gi-xuyi-crayfish", name="盱眙龙虾", product="水产", category="生鲜/水产/小龙虾",
    region=Region(admin_codes=["320830"]))
WENDENG = GeographicalIndication(
    id="gi-wendeng-cherry", name="文登大樱桃", product="水果", category="食品饮料/水果",
    region=Region(admin_codes=["371003"]))
LAIWU = GeographicalIndication(  # region given with 莱芜市's code from before 2019
    id="gi-laiwu-ginger", name="莱芜生姜", product="蔬菜", category="食品饮料/蔬菜",
    region=Region(admin_codes=["371200"]))
NANJING = GeographicalIndication(
    id="gi-nanjing-duck", name="南京盐水鸭", product="禽肉制品", category="食品饮料/熟食",
    region=Region(admin_codes=["320100"]))
WL = Watchlist(geographical_indications=[ANXI, KORLA, JINHUA, XUYI, WENDENG, LAIWU, NANJING])


@pytest.fixture(scope="module")
def matcher():
    return GIMatcher(WL)


def listing(title, category, seller_location="广东 广州", origin=None, **kw):
    return Listing(platform=kw.pop("platform", "shop"), listing_id=kw.pop("listing_id", "l1"), title=title,
                   category=category, seller_location=seller_location, origin=origin, **kw)


def run(matcher, lst, extra_texts=()):
    goods = load_goods_classifier()
    ctx = MatchContext(lst, goods.classes(lst.category, lst.title), [TextSource("title", lst.title), *extra_texts])
    return {m.target_id: m for m in matcher.match(ctx)}


def lead(matcher, lst, gi_id, extra_texts=()):
    m = run(matcher, lst, extra_texts).get(gi_id)
    assert m is not None and m.score >= 60, m
    return m


def no_lead(matcher, lst, gi_id):
    m = run(matcher, lst).get(gi_id)
    assert m is None or m.score < 60, m.reasons


# --- origin ----------------------------------------------------------------------------------
def test_gi_name_from_outside_the_region_is_a_lead_that_says_where(matcher):
    m = lead(matcher, listing("安溪铁观音 浓香型 500g 礼盒", "茶/乌龙茶", "浙江 义乌"), "gi-anxi-tieguanyin")
    text = " ".join(m.reasons)
    assert "安溪铁观音" in text and "浙江省金华市义乌市" in text and "不在保护区域" in text
    assert "福建省泉州市安溪县" in text
    assert m.target_kind == "gi" and m.evidence["location"]["code"] == "330782"


def test_gi_name_from_inside_the_region_is_not_a_lead(matcher):
    no_lead(matcher, listing("安溪铁观音 浓香型 500g", "茶/乌龙茶", "福建 泉州 安溪"), "gi-anxi-tieguanyin")
    no_lead(matcher, listing("金华火腿 整只 5斤", "食品饮料/肉类/火腿", "浙江 金华 东阳"), "gi-jinhua-ham")


def test_origin_field_wins_over_seller_location(matcher):
    # shipped from 上海 but 产地 inside the region: fine
    no_lead(matcher, listing("安溪铁观音 500g", "茶/乌龙茶", "上海", origin="产地：福建省泉州市安溪县"),
            "gi-anxi-tieguanyin")
    # shipped from inside the region but the 产地 says elsewhere: a lead that cites the 产地
    m = lead(matcher, listing("安溪铁观音 500g", "茶/乌龙茶", "福建 泉州 安溪", origin="产地：云南 普洱"),
             "gi-anxi-tieguanyin")
    assert any("产地'产地：云南 普洱'" in r for r in m.reasons)
    assert m.evidence["location"]["source"] == "origin"


def test_region_given_by_place_names_only(matcher):
    no_lead(matcher, listing("库尔勒香梨 新鲜 5斤", "食品饮料/水果", "新疆 巴州 库尔勒"), "gi-korla-pear")
    lead(matcher, listing("库尔勒香梨 新鲜 5斤", "食品饮料/水果", "河北 石家庄"), "gi-korla-pear")


def test_region_given_with_an_old_code_still_contains_the_renamed_unit(matcher):
    no_lead(matcher, listing("莱芜生姜 大黄姜 10斤", "食品饮料/蔬菜", "山东省济南市莱芜区"), "gi-laiwu-ginger")
    lead(matcher, listing("莱芜生姜 大黄姜 10斤", "食品饮料/蔬菜", "山东 潍坊 安丘"), "gi-laiwu-ginger")


def test_unresolvable_location_is_reported_not_guessed(matcher):
    m = lead(matcher, listing("金华火腿 整只", "食品饮料/肉类/火腿", "见包装"), "gi-jinhua-ham")
    assert any("无法" in r and "见包装" in r for r in m.reasons)
    assert m.score < 70  # queued, but below leads whose origin is known to be outside
    m2 = lead(matcher, listing("金华火腿 整只", "食品饮料/肉类/火腿", ""), "gi-jinhua-ham")
    assert any("无法确认" in r for r in m2.reasons)


def test_unresolvable_origin_falls_back_to_seller_location_and_says_so(matcher):
    m = lead(matcher, listing("金华火腿 整只", "食品饮料/肉类/火腿", "江苏 南通", origin="产地：见包装"),
             "gi-jinhua-ham")
    assert any("江苏省南通市" in r for r in m.reasons)
    assert any("见包装" in r and "无法识别" in r for r in m.reasons)


def test_location_coarser_than_the_region_is_undetermined_not_a_lead(matcher):
    m = run(matcher, listing("安溪铁观音 500g", "茶/乌龙茶", "福建")).get("gi-anxi-tieguanyin")
    assert m is None or (m.score < 60 and any("无法确认" in r for r in m.reasons))


def test_ambiguous_location_decides_only_when_all_candidates_agree(matcher):
    # 通州 (Beijing or Nantong): outside 安溪 either way
    lead(matcher, listing("安溪铁观音 500g", "茶/乌龙茶", "通州"), "gi-anxi-tieguanyin")
    # 鼓楼 (Nanjing, Xuzhou, Fuzhou, Kaifeng): maybe inside 南京, so not a lead
    no_lead(matcher, listing("南京盐水鸭 整只", "食品饮料/熟食", "鼓楼"), "gi-nanjing-duck")


# --- variants ----------------------------------------------------------------------------------
def test_traditional_form(matcher):
    m = lead(matcher, listing("安溪鐵觀音 500g", "茶/乌龙茶", "广东 潮州"), "gi-anxi-tieguanyin")
    assert "繁体" in m.reasons[0] and "安溪鐵觀音" in m.reasons[0]


def test_inserted_words_between_place_and_product(matcher):
    m = lead(matcher, listing("新疆库尔勒特级香梨 5斤", "食品饮料/水果", "陕西 西安"), "gi-korla-pear")
    assert "插入'特级'" in m.reasons[0]
    lead(matcher, listing("盱眙十三香龙虾 4斤", "生鲜/水产/小龙虾", "湖北 潜江"), "gi-xuyi-crayfish")


def test_shortened_product_part(matcher):
    m = lead(matcher, listing("文登樱桃 新鲜 2斤", "食品饮料/水果", "辽宁 大连"), "gi-wendeng-cherry")
    assert "简写" in m.reasons[0]


def test_homophone_of_the_place_part(matcher):
    m = lead(matcher, listing("徐义龙虾 麻辣 4斤", "生鲜/水产/小龙虾", "湖北 潜江"), "gi-xuyi-crayfish")
    assert "同音" in m.reasons[0]


@pytest.mark.parametrize("title,word", [("金华风味火腿 切片", "风味"), ("金华火腿型 腌腿", "型"),
                                        ("金华式火腿 500g", "式"), ("安溪铁观音类 乌龙", "类")])
def test_forbidden_flavour_type_style_forms(matcher, title, word):
    cat = "茶/乌龙茶" if "铁观音" in title else "食品饮料/肉类/火腿"
    gid = "gi-anxi-tieguanyin" if "铁观音" in title else "gi-jinhua-ham"
    m = lead(matcher, listing(title, cat, "四川 成都"), gid)
    assert f"'{word}'" in m.reasons[0] and "禁止" in m.reasons[0]
    assert m.evidence["form"] == "forbidden"


def test_forbidden_form_from_inside_the_region_is_not_a_lead(matcher):
    no_lead(matcher, listing("金华风味火腿 切片", "食品饮料/肉类/火腿", "浙江 金华"), "gi-jinhua-ham")


# --- goods gate --------------------------------------------------------------------------------
@pytest.mark.parametrize("title,category", [
    ("保温杯 316不锈钢 库尔勒香梨图案", "家居日用/水杯"),
    ("手机壳 安溪铁观音 字样 硅胶", "手机数码/手机壳"),
    ("金华火腿 造型 抱枕 毛绒", "家纺/抱枕"),
    ("手工红糖 老红糖 500g 库尔勒香梨", "食品饮料/糖"),
])
def test_gi_name_on_unrelated_goods_is_not_a_lead(matcher, title, category):
    found = run(matcher, listing(title, category, "浙江 义乌"))
    assert not [m for m in found.values() if m.score >= 60]


def test_uncategorised_listing_is_judged_by_its_title(matcher):
    lead(matcher, listing("库尔勒香梨 新鲜水果 5斤", "", "河北 石家庄"), "gi-korla-pear")
    no_lead(matcher, listing("库尔勒香梨图案 手机壳", "", "河北 石家庄"), "gi-korla-pear")


# --- provenance --------------------------------------------------------------------------------
def test_text_on_a_photo_counts_like_title_text_with_its_provenance(matcher):
    lst = listing("新鲜 水果 产地直发", "食品饮料/水果", "广东 深圳", images=["img/1.jpg"])
    box = [[10, 10], [200, 10], [200, 60], [10, 60]]
    m = lead(matcher, lst, "gi-korla-pear",
             [TextSource("image", "库尔勒香梨", image="img/1.jpg", box=box, confidence=0.93)])
    assert m.reasons[0].startswith("图片文字'库尔勒香梨'（置信度0.93）")
    assert m.evidence["field"] == "image" and m.evidence["image"] == "img/1.jpg"
    assert m.evidence["box"] == box and m.evidence["confidence"] == 0.93


def test_authorised_user_of_the_gi_is_never_a_lead():
    engine = MatchEngine(WL, EngineOptions(ocr=False, logos=False))
    outside = listing("安溪铁观音 500g", "茶/乌龙茶", "广东 广州", seller_id="s-anxi-coop")
    assert not [m for m in engine.match(outside) if m.target_id == "gi-anxi-tieguanyin"]
    other = listing("安溪铁观音 500g", "茶/乌龙茶", "广东 广州", seller_id="s-someone")
    assert [m for m in engine.match(other) if m.target_id == "gi-anxi-tieguanyin"]


def test_broader_category_on_the_gis_path_is_judged_by_the_title(matcher):
    lead(matcher, listing("库尔勒香梨 5斤 新鲜", "食品饮料", "河北 石家庄"), "gi-korla-pear")
    no_lead(matcher, listing("库尔勒香梨 手机壳", "食品饮料", "河北 石家庄"), "gi-korla-pear")


def test_gi_without_a_category_is_gated_by_nice_class():
    gi = GeographicalIndication(id="gi-luochuan-apple", name="洛川苹果", product="苹果",
                                region=Region(admin_codes=["610629"]))
    m = GIMatcher(Watchlist(geographical_indications=[gi]))
    lead(m, listing("洛川苹果 红富士 10斤", "生鲜/水果", "山东 烟台"), "gi-luochuan-apple")
    no_lead(m, listing("洛川苹果 图案 抱枕", "家纺/抱枕", "山东 烟台"), "gi-luochuan-apple")


def test_category_words_are_compared_by_their_head_noun(matcher):
    # 新鲜水果 is fruit; 水果刀 (a fruit knife) is not
    lead(matcher, listing("库尔勒香梨 5斤", "生鲜/新鲜水果", "河北 石家庄"), "gi-korla-pear")
    no_lead(matcher, listing("库尔勒香梨 5斤 礼品", "厨具/水果刀", "河北 石家庄"), "gi-korla-pear")
