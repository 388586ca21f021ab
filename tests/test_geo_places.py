"""Gazetteer edition, GI region places, foreign 产地 and street text (issue 11 "GI and places"),
and `geo resolve` on hostile input. Places and GIs here are not in the dev corpus."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from matcher.geo import check_admin_code, check_region_place, gazetteer, relation, resolve_location
from matcher.gi import GIMatcher
from matcher.goods import load_goods_classifier
from matcher.listing import Listing
from matcher.types import MatchContext, TextSource
from pipeline.cli import app
from watchlist import WatchlistError, load_watchlist
from watchlist.model import GeographicalIndication, Region, Watchlist

runner = CliRunner()


# --- the 2023 edition: current codes, old codes and former names ---------------------------------
@pytest.mark.parametrize("text,code", [
    ("陕西 旬阳市", "610981"), ("湖南永州祁阳市", "431181"), ("新疆 新星市", "659011"),
    ("贵州 毕节 黔西市", "520581"), ("安徽芜湖无为市", "340281"), ("福建漳州长泰区", "350605"),
    ("西藏 林芝 米林市", "540481"), ("陕西宝鸡凤翔区", "610305"), ("吉林长春公主岭市", "220184"),
])
def test_current_codes_of_recently_redesignated_units(text, code):
    r = resolve_location(text)
    assert r.ok and r.code == code, r


@pytest.mark.parametrize("old,new", [("610928", "610981"), ("431121", "431181"), ("520522", "520581"),
                                     ("220381", "220184")])
def test_old_codes_map_to_the_current_unit(old, new):
    assert gazetteer().current_code(old) == new
    assert check_admin_code(old) is None


@pytest.mark.parametrize("text,code", [
    ("福建三明梅列区", "350404"),   # merged into 三元区 (2021)
    ("浙江 宁波 江东区", "330212"),  # merged into 鄞州区 (2016)
    ("陝西 咸陽 乾縣", "610424"),    # traditional forms; 乾 is not folded to 干
    ("江西南昌湾里区", "360112"),    # merged into 新建区 (2019)
    ("凤翔县", "610305"),
])
def test_former_names_resolve_to_the_successor(text, code):
    r = resolve_location(text)
    assert r.ok and r.code == code, r


# --- street text is not a district -------------------------------------------------------------
@pytest.mark.parametrize("text,code", [
    ("成都市高新区天府软件园商务园东区", "510100"),   # not 攀枝花市东区
    ("深圳南山科技园西区", "440305"),
    ("上海市浦东新区张江高科技园区中区", "310115"),
    ("苏州园区独墅湖南区", "320500"),                # not 湖南省
])
def test_generic_district_word_inside_an_address_is_not_a_district(text, code):
    r = resolve_location(text)
    assert r.ok and r.code == code, r


def test_generic_district_after_its_city_still_counts():
    assert resolve_location("四川攀枝花东区").code == "510402"
    assert resolve_location("山东 济南 市中区").code == "370103"


# --- foreign origin ----------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["日本", "产地：泰国", "韩国进口", "原产国：意大利", "美国加州", "澳洲", "进口", "海外仓"])
def test_foreign_origin_is_outside_every_chinese_region(text):
    r = resolve_location(text)
    assert r.status == "foreign", r
    assert relation(r, ["230184"]) == "outside"
    assert relation(r, ["110000"]) == "outside"


@pytest.mark.parametrize("text,code", [("内蒙古", "150000"), ("中国台湾", "710000"), ("香港", "810000"),
                                       ("河南非遗", "410000")])
def test_chinese_places_that_contain_a_country_name_are_not_foreign(text, code):
    r = resolve_location(text)
    assert r.ok and r.code == code, r


def test_foreign_and_domestic_together_is_not_decided():
    r = resolve_location("产地：日本 上海")
    assert r.status == "unresolved" and relation(r, ["310000"]) == "undetermined"


def test_gi_lead_on_a_foreign_origin():
    gi = GeographicalIndication(id="gi-pinggu-peach", name="平谷大桃", product="桃", category="食品/水果/桃",
                                region=Region(admin_codes=["110117"]))
    m = GIMatcher(Watchlist(geographical_indications=[gi]))
    lst = Listing(platform="shop", listing_id="x1", title="平谷大桃 新鲜水蜜桃 5斤装", category="生鲜/水果/桃",
                  seller_location="北京 平谷", origin="产地：泰国")
    goods = load_goods_classifier()
    ctx = MatchContext(lst, goods.classes(lst.category, lst.title), [TextSource("title", lst.title)])
    found = {x.target_id: x for x in m.match(ctx)}
    assert "gi-pinggu-peach" in found and found["gi-pinggu-peach"].score >= 60
    assert any("境外" in r for r in found["gi-pinggu-peach"].reasons)


# --- GI region places resolve exactly, or it is an error ----------------------------------------
@pytest.mark.parametrize("place,code", [("五常", "230184"), ("黑龙江省哈尔滨市五常市", "230184"),
                                        ("浙江省杭州市西湖区", "330106"), ("新星市", "659011")])
def test_exact_region_places(place, code):
    assert check_region_place(place) == (code, None)


@pytest.mark.parametrize("place,word", [
    ("苏州工业园区", "statistical zone"),      # an NBS 园区: only its city is a division
    ("石家庄高新技术产业开发区", "statistical zone"),
    ("天津经济技术开发区", "parent division"),
    ("五常市龙凤山镇", "exactly"),             # a town below the county
    ("吐鲁番盆地", "parent division"),
    ("西湖", "one division"),                  # 杭州 or 南昌
    ("产地：日本", "outside China"),
    ("中关村", "one division"),
])
def test_region_places_that_would_widen_the_region_are_refused(place, word):
    code, err = check_region_place(place)
    assert code is None and word in err and place in err


def test_watchlist_check_names_file_line_and_field(tmp_path):
    f = tmp_path / "gi.yaml"
    f.write_text("version: 1\ngeographical_indications:\n"
                 "  - id: gi-ok\n    name: 库尔勒香梨\n    product: 香梨\n    region: {places: [新疆库尔勒]}\n"
                 "  - id: gi-park\n    name: 阳澄湖大闸蟹\n    product: 大闸蟹\n"
                 "    region: {places: [苏州工业园区]}\n"
                 "  - id: gi-code\n    name: 某山茶\n    product: 茶叶\n    region: {admin_codes: ['999999']}\n",
                 encoding="utf-8")
    with pytest.raises(WatchlistError) as e:
        load_watchlist(f)
    text = str(e.value)
    assert "gi.yaml:10" in text and "gi-park" in text and "region.places" in text
    assert "999999" in text and "gi-code" in text and "region.admin_codes" in text
    assert "gi-ok" not in text
    r = runner.invoke(app, ["watchlist", "check", str(f)])
    assert r.exit_code == 2 and "苏州工业园区" in r.output


# --- hostile input to geo resolve ---------------------------------------------------------------
def test_geo_resolve_reads_gbk_and_reports_undecodable_lines():
    data = "浙江 义乌\n".encode() + "金华义乌\n".encode("gbk") + b"\xff\xfe\xff\n" + "五常\n".encode()
    r = runner.invoke(app, ["geo", "resolve"], input=data)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith("330782") and lines[1].startswith("330782")
    assert lines[2].startswith("?\tline 3") and lines[3].startswith("230184")
    assert "GB18030" in r.stderr


def test_very_long_location_resolves_on_its_leading_words():
    r = resolve_location("浙江义乌" + "很" * 100_000 + "黑龙江五常")
    assert r.ok and r.code == "330782"
