"""Precision rules of issue 11 on real-looking titles: characters inside ordinary words, symbols
that are not letters, the cue lexicon and its contexts, keyword abuse, per-goods reference prices
and currencies, OpenCC over-folding, authorisation by seller id, reasons as data.

Marks and titles here are not in ../shared/devset nor in tests/data/real-titles.
"""
from __future__ import annotations

import json

import pytest

from matcher.engine import DEFAULT_THRESHOLD, EngineOptions, MatchEngine
from matcher.goods import load_goods_classifier
from matcher.listing import Listing
from matcher.reasons import TABLE, render
from matcher.text import TextMatcher
from matcher.text_rules import find_cue_hits, find_cues, load_cues
from matcher.normalize import fold
from matcher.types import MatchContext, TextSource
from watchlist.model import AuthorizedSeller, Enterprise, Mark, Watchlist


def _ent(key, text, aliases, classes, well_known=False, ref=None, refs=None, cur="CNY", sellers=()):
    return Enterprise(id=f"e-{key}", name=f"{text}公司", authorized_sellers=list(sellers),
                      marks=[Mark(id=f"tm-{key}", kind="word", text=text, aliases=aliases,
                                  nice_classes=classes, well_known=well_known, reference_price=ref,
                                  reference_prices=refs or {}, reference_currency=cur)])


WATCHLIST = Watchlist(enterprises=[
    _ent("xtep", "特步", ["XTEP"], [25], refs={"25": 399}),
    _ent("peak", "匹克", ["PEAK"], [25, 28]),
    _ent("jiuyang", "九阳", ["JOYOUNG"], [11, 21]),
    _ent("supor", "苏泊尔", ["SUPOR"], [21, 11]),
    _ent("burberry", "博柏利", ["BURBERRY"], [25, 18], True),
    _ent("skechers", "斯凯奇", ["SKECHERS"], [25], refs={"25": 120}, cur="USD"),
    _ent("qianlong", "乾隆", [], [33]),
    _ent("zhoudafu", "周大福", ["CHOW TAI FOOK"], [14], True, 3000),
    _ent("tissot", "天梭", ["TISSOT"], [14], ref=3500,
         sellers=[AuthorizedSeller(platform="p", seller_id="tissot-001", seller_name="天梭官方旗舰店")]),
])


@pytest.fixture(scope="module")
def tm():
    return TextMatcher(WATCHLIST)


def run(tm, title, category="", price=None, currency="CNY", texts=()):
    listing = Listing(platform="p", listing_id="x1", title=title, category=category, price=price, currency=currency)
    ctx = MatchContext(listing, load_goods_classifier().classes(category, title), [TextSource("title", title), *texts])
    return {m.target_id: m for m in tm.match(ctx)}


def score(tm, title, target, **kw):
    m = run(tm, title, **kw).get(target)
    return None if m is None else m.score


def is_lead(tm, title, target, **kw):
    s = score(tm, title, target, **kw)
    return s is not None and s >= DEFAULT_THRESHOLD


# --- characters inside ordinary words are not the mark ------------------------------------------

def test_sound_alike_glued_into_a_longer_name_is_not_the_mark(tm):
    # 九洋 would sound like 九阳, but here it starts a longer unknown word
    assert score(tm, "九洋湖牌 不锈钢 蒸锅 家用", "tm-jiuyang") is None or not is_lead(tm, "九洋湖牌 不锈钢 蒸锅", "tm-jiuyang")
    # and characters of an ordinary word crossing the hit's end: 匹克 is not in 一匹克隆马
    assert not is_lead(tm, "玩具 一匹克隆马 摆件 高仿", "tm-peak", category="运动户外/运动鞋")


def test_short_mark_sound_alike_on_unknown_goods_is_not_a_lead_by_itself(tm):
    m = run(tm, "特埗 新款 休闲 百搭").get("tm-xtep")   # goods unknown, no other signal
    assert m is None or m.score < DEFAULT_THRESHOLD
    if m is not None:
        assert any(c["code"] == "weak_unknown" for c in m.evidence["reason_codes"])
    # the same disguise on the mark's goods is a lead
    assert is_lead(tm, "特埗 跑步鞋 男 透气", "tm-xtep", category="运动户外/运动鞋")


def test_symbol_is_a_letter_only_between_letters(tm):
    assert score(tm, "!skechers 运动鞋", "tm-skechers", category="运动户外/运动鞋") in (None, 45, 40)
    m = run(tm, "!skechers 运动鞋", category="运动户外/运动鞋").get("tm-skechers")
    assert m is None or m.evidence["kind"] == "exact"
    m = run(tm, "sk3chers 运动鞋", category="运动户外/运动鞋").get("tm-skechers")
    assert m is not None and m.evidence["kind"] in ("lookalike", "fuzzy")


# --- counterfeit cue lexicon ---------------------------------------------------------------------

@pytest.mark.parametrize("text, cue", [
    ("顶级版本 过验 现货", "过验"), ("得物可过 包邮", "得物可过"), ("纯原 版本", "纯原"), ("同厂 出品", "同厂"),
    ("天花板版本", "天花板版本"), ("原厂皮 手工", "原厂皮"), ("专柜品质 礼盒", "专柜品质"), ("1：1 还原", "1:1"),
    ("A 货 包", "A货"), ("超A 做工", "超A"), ("跟单 货", "跟单"), ("原单尾货 清仓", "原单尾货"), ("仿款 包邮", "仿"),
    ("replica watch", "replica"), ("aaa quality bag", "aaa"), ("mirror quality", "mirror quality"),
    ("best reps shoes", "reps"), ("knockoff", "knockoff"), ("fake designer", "fake"), ("dupe of", "dupe"),
    ("inspired by the classic", "inspired by"),
])
def test_cue_lexicon_covers_the_vocabulary(text, cue):
    assert cue in find_cues(fold(text)) or cue.upper() in find_cues(fold(text)), find_cue_hits(fold(text))


@pytest.mark.parametrize("text, cue", [
    ("冰种翡翠 a货 手镯 证书", "A货"),            # A货 on jadeite means untreated stone
    ("二手 95新 aj11 复刻 2016", "复刻"),         # official retro edition, sold second-hand
    ("aaa 电池 7号 碱性 alkaline", "aaa"),        # battery size
    ("原版 英文原版 图书 小说", "原版"),           # original-language book
])
def test_cue_switched_off_in_its_ordinary_trade_context(text, cue):
    hits = {h.word.lower(): h for h in find_cue_hits(fold(text))}
    assert hits[cue.lower()].off is not None
    assert cue.lower() not in [c.lower() for c in find_cues(fold(text))]


def test_cue_on_mark_is_a_lead_and_off_context_is_said(tm):
    assert is_lead(tm, "周大福 足金 手镯 超A 版本", "tm-zhoudafu", category="珠宝首饰/黄金")
    m = run(tm, "周大福 翡翠 a货 手镯 附证书", category="珠宝首饰/翡翠").get("tm-zhoudafu")
    assert m is None or m.score < DEFAULT_THRESHOLD
    if m is not None:
        assert any(c["code"] == "cue_off" for c in m.evidence["reason_codes"])


def test_cue_lexicon_rejects_a_bad_row(tmp_path):
    p = tmp_path / "cues.tsv"
    p.write_text("高仿\t1.0\t\t\tzh\n仿货\tabc\t\t\tzh\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cues.tsv:2: field 'weight'"):
        load_cues(p)


# --- keyword abuse -------------------------------------------------------------------------------

@pytest.mark.parametrize("title", ["非特步 男子 跑步鞋 透气", "特步同品质 跑步鞋 男", "不是特步 跑步鞋 男款"])
def test_keyword_abuse_is_a_lead(tm, title):
    m = run(tm, title, category="运动户外/运动鞋").get("tm-xtep")
    assert m is not None and m.score >= DEFAULT_THRESHOLD, (title, m and m.reasons)
    assert any(c["code"] == "keyword_abuse" for c in m.evidence["reason_codes"])


def test_initial_nickname_glued_to_goods_is_keyword_abuse(tm):
    m = run(tm, "b家风衣 经典格纹 女 中长款", category="女装/风衣").get("tm-burberry")
    assert m is not None and m.score >= DEFAULT_THRESHOLD
    assert m.evidence["kind"] == "nickname"
    # an initial that is not glued to a goods word, or on other goods, is not a nickname lead
    assert "tm-burberry" not in run(tm, "b家 风衣", category="")


def test_plain_mention_and_brand_praise_are_not_abuse(tm):
    assert not is_lead(tm, "特步 男子 跑步鞋 透气 减震", "tm-xtep", category="运动户外/运动鞋", price=299)
    assert not is_lead(tm, "九阳 家电 豆浆机 家用", "tm-jiuyang", category="厨房电器/豆浆机", price=399)


# --- reference prices per goods and currencies -----------------------------------------------------

def test_reference_price_applies_only_to_its_goods(tm):
    m = run(tm, "特步 跑步鞋 男", category="运动户外/运动鞋", price=99).get("tm-xtep")
    assert m.score >= DEFAULT_THRESHOLD and any(c["code"] == "price_low" for c in m.evidence["reason_codes"])
    # no price for class 28 goods: cheap genuine goods of another class are not "x% of 399"
    peak = Watchlist(enterprises=[_ent("peak2", "匹克", [], [25, 28], refs={"25": 499})])
    m = run(TextMatcher(peak), "匹克 羽毛球拍 碳素", category="运动户外/羽毛球拍", price=60).get("tm-peak2")
    assert m is None or not any(c["code"] == "price_low" for c in m.evidence["reason_codes"])


def test_prices_are_compared_in_one_currency(tm):
    # 120 USD reference; a genuine pair at 110 USD is not cheap, at 300 CNY it is (~35%)
    m = run(tm, "SKECHERS 运动鞋 男", category="运动户外/运动鞋", price=110, currency="USD").get("tm-skechers")
    assert not any(c["code"] == "price_low" for c in m.evidence["reason_codes"])
    m = run(tm, "SKECHERS 运动鞋 男", category="运动户外/运动鞋", price=300, currency="CNY").get("tm-skechers")
    pl = [c for c in m.evidence["reason_codes"] if c["code"] == "price_low"]
    assert pl and pl[0]["currency"] == "CNY" and pl[0]["ref_currency"] == "USD" and pl[0]["rate_date"]
    assert "汇率" in render(pl[0]) and "rate" in render(pl[0], "en")


def test_no_rate_no_price_signal(tm):
    m = run(tm, "SKECHERS 运动鞋 男", category="运动户外/运动鞋", price=5, currency="XYZ").get("tm-skechers")
    codes = [c["code"] for c in m.evidence["reason_codes"]]
    assert "price_no_rate" in codes and "price_low" not in codes


# --- OpenCC over-folding ---------------------------------------------------------------------------

def test_over_folded_character_is_not_reported_identical(tm):
    m = run(tm, "干隆 白酒 52度 礼盒", category="酒类/白酒").get("tm-qianlong")
    assert m is not None and m.evidence["kind"] == "folded"
    assert "相同" not in m.reasons[0].split("，")[-1][:2]
    m = run(tm, "乾隆 白酒 52度 高仿", category="酒类/白酒").get("tm-qianlong")
    assert m.evidence["kind"] == "exact"


# --- authorised sellers by id only -----------------------------------------------------------------

def _engine():
    return MatchEngine(WATCHLIST, EngineOptions(ocr=False, logos=False, language="zh-CN"))


def test_authorised_by_seller_id_only_and_impersonation_is_flagged():
    eng = _engine()
    base = dict(platform="p", listing_id="x", title="天梭 机械表 男 超A", category="钟表/手表", price=3300)
    assert not eng.match(Listing(**base, seller_id="tissot-001", seller_name="天梭官方旗舰店"))
    out = eng.match(Listing(**base, seller_id="other-9", seller_name="天梭官方\u200b旗艦店"))
    assert out and out[0].target_id == "tm-tissot"
    assert any(c["code"] == "authorised_name" for c in out[0].evidence["reason_codes"])
    assert any("卖家ID不同" in r for r in out[0].reasons)


# --- reasons as data ---------------------------------------------------------------------------------

def test_reasons_are_codes_rendered_in_either_language(tm):
    m = run(tm, "非特步 跑步鞋 男", category="运动户外/运动鞋").get("tm-xtep")
    codes = m.evidence["reason_codes"]
    assert codes[0]["code"] == "hit" and codes[0]["mark"] == "特步"
    assert m.reasons == [render(c) for c in codes]
    en = [render(c, "en") for c in codes]
    assert all(not any("\u4e00" <= ch <= "\u9fff" and ch not in "特步非跑鞋男运动" for ch in r) for r in en), en
    d = m.to_dict()
    assert d["reason_codes"] == codes and json.loads(json.dumps(d, ensure_ascii=False))["reason_codes"] == codes


def test_language_setting_gives_english_reasons():
    eng = MatchEngine(WATCHLIST, EngineOptions(ocr=False, logos=False, language="en"))
    out = eng.match(Listing(platform="p", listing_id="e1", title="非特步 跑步鞋", category="运动户外/运动鞋"))
    assert out and out[0].reasons[0].startswith("title '特步'") and "not" in " ".join(out[0].reasons)


def test_every_reason_code_renders_in_both_languages():
    samples = {"hit": dict(field="title", matched="x", mark="y", kind="homophone", subs=[["a", "b", "sound"]]),
               "goods_class": dict(category="c", classes=[25]), "well_known_cross": dict(mark="m", classes=[3]),
               "brand_use": dict(phrase="p"), "brand_use_cross": dict(phrase="p"), "cues": dict(words=["高仿"]),
               "cue_off": dict(word="A货", context="翡翠"), "style": dict(phrase="p"), "style_generic": dict(phrase="p"),
               "keyword_abuse": dict(phrase="非x", pattern="non", mark="x"), "brand_stack": dict(marks=["a", "b"]),
               "price_low": dict(price=1, currency="CNY", ref=10, ref_currency="CNY", ratio=0.1, goods=None),
               "price_no_rate": dict(currency="XYZ", ref_currency="CNY"), "indicative": dict(phrase="适用于"),
               "price_accessory": dict(word="手机壳"),
               "authorised_name": dict(name="n", authorised="a", seller_id="s"),
               "goods_group": dict(words=["运动鞋"], group="2507"), "goods_similar": dict(group="2507"),
               "gi_hit": dict(field="title", text="t", confidence=None, form="inserted", snippet="五常稻花香大米",
                              name="五常大米", gap="稻花香"),
               "gi_goods_category": dict(category="粮油/大米", product="大米"),
               "gi_goods_title": dict(term="大米", product="大米", category=None),
               "gi_goods_title_class": dict(term="大米", category="粮油"),
               "gi_goods_class": dict(category="粮油", product="大米", classes=[30]),
               "gi_outside": dict(source="origin", text="日本", resolved=None, foreign=True, why=None, region="五常市"),
               "gi_undetermined": dict(source="seller_location", text="黑龙江", resolved="黑龙江省", foreign=False,
                                       why=None, region="五常市"),
               "gi_unknown": dict(note=None, region="五常市"), "gi_note": dict(note="n"),
               "logo_found": dict(image_n=1, mark="logo-x", holder="h", x=1, y=2, w=3, h=4, pct=10, rot=5,
                                  transform="affine", similarity=0.8, inliers=30),
               "logo_class": dict(classes=[9])}
    for code in TABLE:
        r = {"code": code, **samples.get(code, {})}
        assert render(r, "zh-CN") and render(r, "en") and render(r, "zh-CN") != render(r, "en") or code in (), code


# --- English listings ---------------------------------------------------------------------------------

def test_english_indicative_use_caps_the_score(tm):
    m = run(tm, "Watch band compatible with TISSOT PRX 40mm replica", category="钟表/表带").get("tm-tissot")
    assert m is None or m.score <= 30


def test_english_cue_on_english_listing_is_a_lead(tm):
    assert is_lead(tm, "TISSOT PRX automatic watch AAA mirror quality", "tm-tissot", category="钟表/手表")


def test_stored_lead_reasons_render_from_codes_in_the_configured_language(tm, monkeypatch):
    from alerts.i18n import match_reasons
    from config.settings import reset_settings_cache

    m = run(tm, "非特步 跑步鞋 男", category="运动户外/运动鞋").get("tm-xtep")
    stored = json.loads(json.dumps(m.evidence, ensure_ascii=False))  # as the JSON column keeps it
    assert match_reasons(m.reasons, stored, "zh-CN") == m.reasons
    monkeypatch.setenv("MARKWATCH_LANGUAGE", "en")
    reset_settings_cache()
    try:
        en = match_reasons(m.reasons, stored)
    finally:
        monkeypatch.delenv("MARKWATCH_LANGUAGE")
        reset_settings_cache()
    assert en[0].startswith("title '特步'") and en != m.reasons
    assert match_reasons(["GI理由"], {"field": "title"}, "en") == ["GI理由"]  # no codes: stored text


def test_brand_stacking_flags_the_borrowed_brands_not_the_first(tm):
    out = run(tm, "特步 匹克 斯凯奇 跑步鞋 男 透气 减震", category="运动户外/运动鞋", price=259)
    assert out["tm-peak"].score >= DEFAULT_THRESHOLD
    assert any(c["code"] == "brand_stack" for c in out["tm-peak"].evidence["reason_codes"])
    assert not any(c["code"] == "brand_stack" for c in out["tm-xtep"].evidence["reason_codes"])
    # naming what an accessory fits is not stacking
    out = run(tm, "特步 匹克 斯凯奇 通用 鞋垫 减震", category="运动户外/运动鞋")
    assert all(m.score < DEFAULT_THRESHOLD for m in out.values())


def test_ordinary_english_word_is_not_a_one_letter_typo():
    t = TextMatcher(Watchlist(enterprises=[_ent("ipx", "IPHONEX", ["IPHONEX"], [9])]))
    m = run(t, "Baby Phonex case", category="手机数码/手机壳").get("tm-ipx")  # not a word: a typo
    assert m is not None and m.evidence["kind"] == "fuzzy"
    t = TextMatcher(Watchlist(enterprises=[_ent("iph", "IPHONE", ["IPHONE"], [9])]))
    assert "tm-iph" not in run(t, "Selfie Phone stand", category="手机数码/手机")


def test_homophone_reason_says_when_only_the_syllable_is_the_same():
    t = TextMatcher(Watchlist(enterprises=[_ent("xm", "晓光", ["XIAOGUANG"], [9])]))
    m = run(t, "小光 手环 智能 运动", category="手机数码/手机").get("tm-xm")   # 小 xiǎo = 晓 xiǎo
    assert m is not None and "读音相同" in m.reasons[0] and "声调不同" not in m.reasons[0]
    m = run(t, "消光 手环 智能 运动", category="手机数码/手机").get("tm-xm")   # 消 xiāo: tone differs
    assert m is not None and "声调不同" in m.reasons[0] and "another tone" in m.evidence["reasons_en"][0]


def test_bad_reference_prices_key_is_named_with_file_line_and_field(tmp_path):
    from watchlist import WatchlistError, load_watchlist

    p = tmp_path / "wl.yaml"
    p.write_text("version: 1\nenterprises:\n- id: e1\n  name: 测试\n  marks:\n"
                 "  - {id: tm-a, kind: word, text: 测试牌, nice_classes: [25], reference_prices: {25: 399, 2507: 299}}\n"
                 "  - {id: tm-b, kind: word, text: 另一个, nice_classes: [25], reference_prices: {99: 10}}\n",
                 encoding="utf-8")
    with pytest.raises(WatchlistError, match=r"wl.yaml:7:.*reference_prices.*99"):
        load_watchlist(p)


def test_group_reference_price_applies_only_to_that_group(tm):
    t = TextMatcher(Watchlist(enterprises=[_ent("grp", "匹克", [], [25], refs={"2507": 899})]))
    shoes = Listing(platform="p", listing_id="g1", title="匹克 篮球鞋 男", category="运动户外/运动鞋", price=99)
    ctx = MatchContext(shoes, frozenset({25}), [TextSource("title", shoes.title)], frozenset({"2507"}))
    assert any(c["code"] == "price_low" for c in t.match(ctx)[0].evidence["reason_codes"])
    socks = Listing(platform="p", listing_id="g2", title="匹克 运动袜 男", category="服装/袜子", price=19)
    ctx = MatchContext(socks, frozenset({25}), [TextSource("title", socks.title)], frozenset({"2509"}))
    assert not any(c["code"] == "price_low" for c in t.match(ctx)[0].evidence["reason_codes"])
