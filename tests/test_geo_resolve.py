"""Location resolution: seller locations and 产地 fields in the forms sellers write them."""
from __future__ import annotations

import pytest

from matcher.geo import full_name, gazetteer, is_within, relation, resolve_location

# (text as a seller or 产地 field writes it, expected GB/T 2260 code, expected full name)
RESOLVED = [
    ("浙江 义乌", "330782", "浙江省金华市义乌市"),
    ("金华义乌", "330782", "浙江省金华市义乌市"),
    ("江苏省苏州市相城区", "320507", "江苏省苏州市相城区"),
    ("产地：黑龙江五常", "230184", "黑龙江省哈尔滨市五常市"),
    ("山东潍坊", "370700", "山东省潍坊市"),
    ("发货地 江苏·苏州", "320500", "江苏省苏州市"),
    ("产地：山东寿光", "370783", "山东省潍坊市寿光市"),
    ("广东省东莞市", "441900", "广东省东莞市"),
    ("北京", "110000", "北京市"),
    ("北京 朝阳", "110105", "北京市朝阳区"),
    ("吉林 长春 朝阳区", "220104", "吉林省长春市朝阳区"),
    ("上海 上海市 黄浦区", "310101", "上海市黄浦区"),
    ("重庆 万州", "500101", "重庆市万州区"),
    ("天津 滨海新区", "120116", "天津市滨海新区"),
    ("四川省 成都市 郫都区", "510117", "四川省成都市郫都区"),
    ("山东 济南章丘", "370114", "山东省济南市章丘区"),
    ("湖北 仙桃", "429004", "湖北省仙桃市"),
    ("新疆 库尔勒", "652801", "新疆维吾尔自治区巴音郭楞蒙古自治州库尔勒市"),
    ("内蒙古 呼和浩特", "150100", "内蒙古自治区呼和浩特市"),
    ("广西 桂林 阳朔", "450321", "广西壮族自治区桂林市阳朔县"),
    ("云南 西双版纳 勐海", "532822", "云南省西双版纳傣族自治州勐海县"),
    ("湖北恩施土家族苗族自治州恩施市", "422801", "湖北省恩施土家族苗族自治州恩施市"),
    ("福建 泉州 安溪", "350524", "福建省泉州市安溪县"),
    ("吉林 延边 延吉", "222401", "吉林省延边朝鲜族自治州延吉市"),
    ("陕西 咸阳 乾县", "610424", "陕西省咸阳市乾县"),  # 乾 must survive traditional→simplified
    ("江蘇 蘇州", "320500", "江苏省苏州市"),
    ("宁波 江北", "330205", "浙江省宁波市江北区"),
    ("广东 深圳 南山", "440305", "广东省深圳市南山区"),
    ("黑龙江 大兴安岭 漠河", "232701", "黑龙江省大兴安岭地区漠河市"),
    ("贵州 遵义 仁怀", "520382", "贵州省遵义市仁怀市"),
    ("江西省赣州市寻乌县", "360734", "江西省赣州市寻乌县"),
    ("安徽 黄山 歙县", "341021", "安徽省黄山市歙县"),
    ("河南省郑州市登封市城关镇", "410185", "河南省郑州市登封市"),  # a town's name is not a county
    ("广东省广州市越秀区北京路", "440104", "广东省广州市越秀区"),  # nor is a road's
    ("吉林 吉林", "220200", "吉林省吉林市"),
    ("吉林", "220000", "吉林省"),
    ("海南", "460000", "海南省"),
    ("IP属地：广东", "440000", "广东省"),
    # Former names: counties that became districts, renamed cities
    ("郫县", "510117", "四川省成都市郫都区"),
    ("章丘市", "370114", "山东省济南市章丘区"),
    ("湖北 襄樊", "420600", "湖北省襄阳市"),
]


@pytest.mark.parametrize("text,code,name", RESOLVED)
def test_resolves_real_locations(text, code, name):
    r = resolve_location(text)
    assert r.ok, r.reason
    assert (r.code, r.name) == (code, name)
    assert r.line() == f"{code}\t{name}"


@pytest.mark.parametrize("text,word", [("西湖", "西湖"), ("通州", "通州"), ("鼓楼", "鼓楼"), ("朝阳区", "朝阳区"),
                                       ("南山", "南山")])
def test_names_shared_by_several_places_are_ambiguous_not_guessed(text, word):
    r = resolve_location(text)
    assert r.status == "ambiguous"
    assert r.code is None and len(r.candidates) >= 2
    assert word in r.reason and "多处同名" in r.reason
    assert r.line().startswith("?\t")


def test_ambiguous_county_within_a_given_province_resolves_to_the_province_only():
    r = resolve_location("江苏 鼓楼")  # 南京市鼓楼区 or 徐州市鼓楼区
    assert r.ok and r.code == "320000" and r.level == 1
    assert "南京市鼓楼区" in r.reason and "徐州市鼓楼区" in r.reason


@pytest.mark.parametrize("text,why", [("", "未填写"), ("   ", "未填写"), ("见包装", "没有可识别"), ("发货仓", "没有可识别"),
                                      ("中国", "没有具体地名"), ("江苏 义乌", "矛盾")])
def test_unresolvable_text_says_why(text, why):
    r = resolve_location(text)
    assert not r.ok and r.code is None
    assert why in r.reason


def test_containment_by_code_prefix():
    assert is_within("330782", ["330700"])  # 义乌 in 金华
    assert is_within("330782", ["330000"])  # in 浙江
    assert is_within("330782", ["330782"])
    assert not is_within("330782", ["330100"])  # not in 杭州
    assert not is_within("330700", ["330782"])  # a city is not inside one of its counties
    assert is_within("510117", ["510124"])  # a region given with 郫县's old code
    assert is_within("429004", ["420000"])  # a county directly under its province


def test_relation_of_a_location_to_a_region():
    region = ["652801"]  # 库尔勒市
    assert relation(resolve_location("新疆 库尔勒"), region) == "inside"
    assert relation(resolve_location("广东 广州"), region) == "outside"
    assert relation(resolve_location("新疆"), region) == "undetermined"  # coarser than the region
    # every candidate of an ambiguous name lies outside: that is decided
    assert relation(resolve_location("通州"), region) == "outside"
    # one candidate inside, one outside: not decided
    assert relation(resolve_location("鼓楼"), ["320100"]) == "undetermined"


def test_old_codes_and_full_names():
    gz = gazetteer()
    assert gz.current_code("370181") == "370114"  # 章丘市 → 章丘区
    assert full_name("510124") == "四川省成都市郫都区"
