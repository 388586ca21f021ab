"""Accessories name every device they fit (review 2026-11-30): each brand of the list an
indicative word governs is indicative use, and an accessory's price is not compared with the
device's reference price. The projector title is a real Taobao title (review data); the others
follow the common marketplace pattern."""
from __future__ import annotations

import pytest

from matcher.engine import EngineOptions, MatchEngine
from matcher.listing import Listing
from watchlist.model import Enterprise, Mark, Watchlist


@pytest.fixture(scope="module")
def engine():
    ents = [Enterprise(id="ent-huawei", name="华为技术有限公司",
                       marks=[Mark(id="tm-huawei", kind="word", text="华为", aliases=["HUAWEI"], nice_classes=[9],
                                   well_known=True, reference_price=4999)]),
            Enterprise(id="ent-xiaomi", name="小米科技有限责任公司",
                       marks=[Mark(id="tm-xiaomi", kind="word", text="小米", aliases=["XIAOMI"], nice_classes=[9],
                                   well_known=True, reference_price=3699)])]
    return MatchEngine(Watchlist(enterprises=ents), EngineOptions(threshold=0, ocr=False, logos=False))


def leads(engine, title, price=15.0, category="手机配件"):
    item = Listing(platform="t", listing_id="1", title=title, price=price, currency="CNY", category=category,
                   seller_id="s", seller_name="s")
    return {m.target_id: m for m in engine.match(item) if m.score >= 60}


@pytest.mark.parametrize("title", [
    "2022新款投影仪4K超高清家用家庭影院小型便携护眼投墙手机智能办公一体机卧室宿舍1080P投影机适用华为小米",
    "手机壳 适用华为小米OPPO vivo 硅胶",
    "数据线 适用于华为/小米/OPPO 快充6A",
    "钢化膜 适配小米13 华为mate50",
    "充电器 兼容华为、小米 66W快充",
    "小米手环7表带 硅胶运动腕带",
    "华为手表表带 watch gt3 替换带",
    "车载手机支架 华为小米通用",
    "小米华为通用 手机壳 磨砂",
])
def test_every_brand_an_accessory_fits_is_indicative_use(engine, title):
    assert leads(engine, title, price=598.0 if "投影" in title else 15.0, category="") == {}
    assert leads(engine, title) == {}


def test_a_list_ends_at_the_next_word(engine):
    """适用 governs 华为 only; 小米 later in the title, with a counterfeit cue, is still a lead."""
    got = leads(engine, "手机壳 适用华为 高仿小米手机13 原装", price=399.0, category="手机")
    assert set(got) == {"tm-xiaomi"}


def test_a_cheap_accessory_gets_no_price_signal_but_a_cheap_phone_does(engine):
    acc = engine.match(Listing(platform="t", listing_id="1", title="小米 手机壳 硅胶", price=15.0, currency="CNY",
                               category="手机配件", seller_id="s", seller_name="s"))
    phone = engine.match(Listing(platform="t", listing_id="2", title="小米13 手机 全网通", price=500.0, currency="CNY",
                                 category="手机", seller_id="s", seller_name="s"))
    assert any("配件" in r and "参考价" in r for m in acc for r in m.reasons)
    assert not any("仅为参考价" in r for m in acc for r in m.reasons)
    assert any("仅为参考价" in r for m in phone for r in m.reasons)
