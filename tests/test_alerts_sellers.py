"""Seller profiles across platforms and names, the repeat-infringer flag, and the key-market list."""
from __future__ import annotations

from datetime import timedelta

from tests.test_alerts_support import cli, leads, listing, seed, no_browser_screenshots  # noqa: F401

FAKE = "复刻 贵州茅台 飞天53度 酱香型白酒 500ml"


def test_profile_joins_accounts_by_shop_name_and_image(tmp_path):
    seed(tmp_path, [
        listing("m1", FAKE, seller_id="s1", seller_name="老王酒行", images=["http://img.test/x.jpg"]),
        listing("v1", FAKE + " 直播", platform="demo-live", seller_id="L88", seller_name="老王酒行"),  # same name
        listing("m2", "顶级版 NIKE Air Jordan 1", kind="nike", seller_id="s2", seller_name="潮鞋坊",
                images=["http://img.test/x.jpg"]),  # same image as m1
        listing("m3", FAKE, seller_id="s3", seller_name="无关店铺"),
    ])
    by = {l.listing.listing_id: l.id for l in leads()}
    for lid in ("m1", "v1"):
        assert cli("leads", "confirm", str(by[lid]), "--by", "张三").exit_code == 0
    out = cli("sellers", "show", "s1", "--platform", "demo-mall").output
    assert "3 accounts on demo-live, demo-mall" in out
    assert "same shop name '老王酒行'" in out and "same image" in out
    assert "REPEAT INFRINGER" in out and "confirmed 2" in out
    assert f"#{by['m2']}\t" in out and f"#{by['m3']}\t" not in out
    lst = cli("sellers", "list").output.splitlines()
    assert lst[0].startswith("demo-live\tL88") or lst[0].startswith("demo-mall\ts1")
    assert "REPEAT INFRINGER" not in cli("sellers", "show", "s3").output


def test_key_market_list_enter_and_leave_by_rule(tmp_path):
    from sqlalchemy import select

    from alerts.sellers import update_key_markets
    from config.settings import get_settings
    from store.db import make_engine, session_scope
    from store.models import KeyMarket, Lead, utcnow

    seed(tmp_path, [listing(f"k{i}", FAKE + f" {i}号", seller_id="hot", seller_name="热门店") for i in range(4)]
         + [listing("q1", FAKE, seller_id="quiet", seller_name="冷门店")])
    out = cli("sellers", "markets").output
    assert "shop\tdemo-mall/热门店" in out and "近7天新增线索 4 条" in out and "冷门店" not in out
    eng = make_engine(settings=get_settings())
    with session_scope(eng) as s:  # two weeks later, no new leads: the shop leaves the list
        res = update_key_markets(s, 7, 3, 10, now=utcnow() + timedelta(days=15))
        assert [(k.scope, k.shop_id) for k in res["left"]] == [("shop", "hot")]
    with session_scope(eng) as s:
        rows = list(s.scalars(select(KeyMarket)))
        assert rows[0].active is False and "低于 3 条" in rows[0].leave_reason
    eng.dispose()
    assert "热门店" not in cli("sellers", "markets").output
    assert "left" in cli("sellers", "markets", "--all").output
