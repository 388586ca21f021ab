"""Impersonating sellers (SECURITY.md): a shop that takes the official store's name but not its
seller id is not authorised; a name alone never authorises (issue 11), it is only a signal."""
from __future__ import annotations

from matcher.engine import _seller_matches, impersonated_name
from matcher.listing import Listing
from watchlist.model import AuthorizedSeller


def li(seller_id: str, seller_name: str, platform: str = "demo-mall") -> Listing:
    return Listing(platform=platform, listing_id="1", title="贵州茅台 飞天", seller_id=seller_id, seller_name=seller_name)


def test_copycat_shop_name_with_another_id_is_not_authorised():
    official = AuthorizedSeller(platform="demo-mall", seller_id="s-moutai-official", seller_name="茅台官方旗舰店")
    assert _seller_matches(official, li("s-moutai-official", "茅台官方旗舰店"))
    assert _seller_matches(official, li("s-moutai-official", "茅台官方旗舰店（新店名）"))  # renamed, same id
    assert not _seller_matches(official, li("s-fake-9", "茅台官方旗舰店"))
    assert not _seller_matches(official, li("s-fake-9", "茅台 官方 旗舰店"))
    assert not _seller_matches(official, li("s-moutai-official", "茅台官方旗舰店", platform="other-mall"))


def test_a_name_alone_never_authorises_but_is_flagged():
    by_name = AuthorizedSeller(seller_name="茅台酒专卖店")
    assert not _seller_matches(by_name, li("x1", "茅台酒专卖店"))
    assert impersonated_name(by_name, li("x1", "茅台酒专卖店"))
    assert impersonated_name(by_name, li("x1", "茅台酒\u200b专卖店"))  # zero-width character inside
    assert not impersonated_name(by_name, li("x1", "五粮液旗舰店"))
