"""Reading the selling price out of Chinese shop price texts (crawler.parse.parse_price).

The texts are the forms shops and marketplaces print (Taobao/Tmall/JD/Pinduoduo detail pages,
taobaoke share messages, live-room carts): promotion words around the price, separators, ranges."""
from __future__ import annotations

import pytest

from crawler.parse import number, parse_price, structured_product

# text, expected price (None: no price), expected range high, expected currency
CASES = [
    # promotions: counts, discounts, instalments and thresholds are not the price
    ("2件8折 ¥59.90", 59.90, None, "CNY"),
    ("3期免息 ¥399", 399, None, "CNY"),
    ("12期免息 每期¥108.25 ¥1299", 1299, None, "CNY"),
    ("满300减50 ¥1299", 1299, None, "CNY"),
    ("每满200减30 到手¥169", 169, None, "CNY"),
    ("领券立减20元 券后价 ¥79 原价 ¥99", 79, None, "CNY"),
    ("券10 ¥89", 89, None, "CNY"),
    ("第2件半价 ¥79", 79, None, "CNY"),
    ("月销2万+ ¥49", 49, None, "CNY"),
    ("已拼10万+件 ¥19.9", 19.9, None, "CNY"),
    ("限购2件 ¥35", 35, None, "CNY"),
    # separators and currency marks
    ("¥ 1 299", 1299, None, "CNY"),
    ("¥\u20091\u2009299.00", 1299, None, "CNY"),
    ("1，299元", 1299, None, "CNY"),
    ("1,299.00元", 1299, None, "CNY"),
    ("￥１２９９", 1299, None, "CNY"),
    ("￥158.00", 158, None, "CNY"),
    ("RMB 99", 99, None, "CNY"),
    ("人民币 2,680", 2680, None, "CNY"),
    ("¥1,299.00起", 1299, None, "CNY"),
    ("US$ 12.50", 12.5, None, "USD"),
    ("HK$ 388", 388, None, "HKD"),
    # ranges: the lowest, with the range kept
    ("1299-1599", 1299, 1599, None),
    ("¥29.80 - 32.80", 29.8, 32.8, "CNY"),
    ("¥29.80~¥32.80", 29.8, 32.8, "CNY"),
    ("100至200元", 100, 200, "CNY"),
    # 万
    ("1.2万", 12000, None, None),
    ("¥3.5万", 35000, None, "CNY"),
    # 到手价 / 券后 / 促销价 beat 原价 / 价格, wherever they stand
    ("到手价 ¥459 原价 ¥899", 459, None, "CNY"),
    ("原价¥299 券后¥199", 199, None, "CNY"),
    ("原价：￥1,599.00 促销价：￥1,299.00", 1299, None, "CNY"),
    ("价格 ¥399.00 促销价 ¥299.00", 299, None, "CNY"),
    ("【在售价】¥109.00 【券后价】¥79.00", 79, None, "CNY"),
    ("京东价 ￥2499.00 PLUS价 ￥2399.00", 2499, None, "CNY"),
    ("吊牌价 ¥1099", 1099, None, "CNY"),
    # numbers that are models or sizes are not the price
    ("iPhone15 128GB ¥5999", 5999, None, "CNY"),
    ("200W 大功率 ¥299", 299, None, "CNY"),
    ("500ml*6瓶 ¥88", 88, None, "CNY"),
    # no price
    ("价格面议", None, None, None),
    ("面议", None, None, None),
    ("请咨询客服", None, None, None),
    ("--", None, None, None),
    ("", None, None, None),
]


@pytest.mark.parametrize("text,price,high,currency", CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_price_texts(text, price, high, currency):
    p = parse_price(text)
    if price is None:
        assert p.value is None and p.warning in ("price_on_request", "price_unreadable", "price_missing")
        return
    assert p.value == pytest.approx(price) and p.warning is None
    assert (p.high is None) if high is None else (p.high == pytest.approx(high) and p.low == pytest.approx(price))
    assert p.currency == currency


def test_named_warnings_say_why_there_is_no_price():
    assert parse_price("价格面议").warning == "price_on_request"
    assert parse_price("暂无报价").warning == "price_on_request"
    assert parse_price("敬请期待").warning == "price_unreadable"
    assert parse_price(None).warning == "price_missing"


def test_a_source_can_say_which_number_to_take():
    assert parse_price("¥1299 ¥1599").value == 1299  # auto: the first of equals
    assert parse_price("¥1599 ¥1299", pick="min").value == 1299
    assert parse_price("¥1299 ¥1599", pick="last").value == 1599
    assert parse_price("¥1299 ¥1599", pick="max").value == 1599
    with pytest.raises(ValueError):
        parse_price("¥1", pick="cheapest")


def test_sales_counts():
    assert number("月销 2.3万+") == 23000
    assert number("已售 1,024 件") == 1024
    assert number("") is None and number("暂无销量") is None


def test_structured_product_from_json_ld_microdata_and_rdfa():
    ld = """<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
      {"@type":"BreadcrumbList"},{"@type":"Product","name":"茅台 飞天","sku":"mt-1",
       "offers":{"@type":"AggregateOffer","lowPrice":"1499","highPrice":"2999","priceCurrency":"CNY"}}]}</script>"""
    d = structured_product(ld)
    assert d["title"] == "茅台 飞天" and d["listing_id"] == "mt-1" and d["syntax"] == "json-ld"
    assert d["price"].value == 1499 and d["price"].high == 2999 and d["currency"] == "CNY"
    md = """<div itemscope itemtype="http://schema.org/Product"><span itemprop="name">百雀羚 面霜</span>
      <span itemprop="brand">百雀羚</span><div itemprop="offers" itemscope itemtype="http://schema.org/Offer">
      <meta itemprop="priceCurrency" content="CNY"><span itemprop="price" content="128.00">¥128</span></div></div>"""
    d = structured_product(md)
    assert d["title"] == "百雀羚 面霜" and d["price"].value == 128 and d["brand"] == "百雀羚"
    rdfa = """<div vocab="https://schema.org/" typeof="Product"><span property="name">格力 空调</span>
      <div property="offers" typeof="Offer"><span property="price">3299</span></div></div>"""
    d = structured_product(rdfa, "http://shop.example/item/1")
    assert d.get("title") == "格力 空调"
    assert structured_product("<html><body><p>no data</p></body></html>") == {}
    assert structured_product('<script type="application/ld+json">{broken</script>') == {}


def test_anything_sold_with_offers_counts_as_a_product():
    book = """<script type="application/ld+json">{"@context":"https://schema.org","@type":"Book",
      "name":"三体","offers":[{"@type":"Offer","price":"93.00","priceCurrency":"CNY"}]}</script>"""
    d = structured_product(book)
    assert d["title"] == "三体" and d["price"].value == 93
    org = """<script type="application/ld+json">{"@type":"Organization","name":"某公司"}</script>"""
    assert structured_product(org) == {}


def test_shop_link_is_absolute_like_the_url_the_crawler_follows():
    """A protocol-relative or relative shop link (Taobao: ``//shop70593047.taobao.com``) is shown
    by ``sources check`` as the absolute URL the spider follows, as photos are."""
    from scrapy.http import HtmlResponse

    from crawler.parse import extract_detail

    html = ('<html><h1>耐克 运动鞋</h1><span class="p">¥299</span>'
            '<a class="shop" href="//shop1.example.com">店</a><a class="rel" href="/shop/9">店</a></html>')
    resp = HtmlResponse(url="https://item.example.com/item.htm?id=5", body=html.encode(), encoding="utf-8")
    src = {"detail": {"title": "css:h1::text", "price": "css:.p::text", "shop_link": "css:a.shop::attr(href)"},
           "listing_id_from_url": r"[?&]id=(\d+)"}
    assert extract_detail(resp, src, listing_id="5").fields["shop_link"] == "https://shop1.example.com"
    src["detail"]["shop_link"] = "css:a.rel::attr(href)"
    assert extract_detail(resp, src, listing_id="5").fields["shop_link"] == "https://item.example.com/shop/9"
    src["detail"].pop("shop_link")
    assert extract_detail(resp, src, listing_id="5").fields["shop_link"] == ""
