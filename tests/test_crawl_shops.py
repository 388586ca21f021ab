"""Crawling shop pages served on a free local port, the way a user configures a real shop:
Chinese price texts, a GBK page, 价格面议, a JSON-LD-only page, a JavaScript-filled price
(browser source), a broken source file next to a good one, session secrets kept out of the log."""
from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import select

from crawler.browser import find_chromium
from store import models as m

from .pageserver import PageServer

HTML = "text/html; charset=utf-8"

# (listing id, title, price text as the shop shows it, expected price, expected range high)
PRICE_PAGES = [
    ("p1", "耐克 Air Max 90 男子运动鞋", "2件8折 ¥59.90", 59.90, None),
    ("p2", "格力 1.5匹 变频空调 挂机", "3期免息 ¥399", 399.0, None),
    ("p3", "茅台 飞天 53度 500ml 酱香型", "满300减50 ¥1299", 1299.0, None),
    ("p4", "百雀羚 水能量 护肤套装", "¥ 1 299", 1299.0, None),
    ("p5", "五常大米 稻花香 10kg", "1，299元", 1299.0, None),
    ("p6", "西湖龙井 明前特级 250g", "1299-1599", 1299.0, 1599.0),
    ("p7", "茅台 生肖纪念酒 收藏", "1.2万", 12000.0, None),
    ("p8", "耐克 Dunk Low 板鞋", "到手价 ¥459 原价 ¥899", 459.0, None),
    ("p9", "格力 电风扇 落地扇", "原价¥299 券后¥199", 199.0, None),
]


def item_page(lid: str, title: str, price_html: str, extra_head: str = "", charset: str = "utf-8") -> str:
    return f"""<!doctype html><html><head><meta charset="{charset}"><title>{title}</title>{extra_head}</head>
<body><div class="item" data-id="{lid}"><h1 class="title">{title}</h1>
<div class="buy">{price_html}</div>
<a class="shop" href="/shop/s1" data-seller="s1">某某专营店</a><span class="loc">广东 深圳</span>
<img class="pic" src="/img/{lid}.jpg"></div></body></html>"""


def shop_pages() -> dict:
    pages = {}
    links = []
    for lid, title, price, _, _ in PRICE_PAGES:
        pages[f"/item/{lid}.html"] = (item_page(lid, title, f'<span class="price">{price}</span>').encode(), HTML)
        links.append(lid)
    # a GBK page (declared in the page and in the header)
    gbk = item_page("g1", "贵州茅台酒 飞天 53%vol 500ml", '<span class="price">￥1,499.00</span>', charset="gbk")
    pages["/item/g1.html"] = (gbk.encode("gbk"), "text/html; charset=GBK")
    links.append("g1")
    # 价格面议: kept, empty price, named warning
    pages["/item/ask.html"] = (item_page("ask", "格力 中央空调 工程机 批发", '<span class="price">价格面议</span>').encode(), HTML)
    links.append("ask")
    # JSON-LD only: no selector matches, the schema.org Product says it all
    ld = {"@context": "https://schema.org", "@type": "Product", "name": "百雀羚 草本精粹 洁面乳 100g",
          "sku": "ld-77", "brand": {"@type": "Brand", "name": "百雀羚"}, "image": ["/img/ld.jpg"],
          "offers": {"@type": "Offer", "price": "39.90", "priceCurrency": "CNY",
                     "seller": {"@type": "Organization", "name": "美妆小铺"}}}
    pages["/item/ld.html"] = (f"""<!doctype html><html><head><meta charset="utf-8">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script></head>
<body><div id="app"></div></body></html>""".encode(), HTML)
    links.append("ld")
    body = "".join(f'<a class="go" href="/item/{x}.html">{x}</a>' for x in links)
    pages["/list.html"] = (f"<html><body>{body}</body></html>".encode(), HTML)
    return pages


def source(base_url: str, name: str = "shop-a", **over) -> dict:
    d = {
        "name": name, "platform": name, "kind": "marketplace", "base_url": base_url,
        "start_urls": ["{base_url}/list.html"],
        "results": {"item_links": "css:a.go::attr(href)"},
        "detail": {"title": "css:h1.title::text", "price": "css:.buy .price::text",
                   "seller_id": "css:a.shop::attr(data-seller)", "seller_name": "css:a.shop::text",
                   "seller_location": "css:.loc::text", "images": "css:img.pic::attr(src)"},
        "listing_id_from_url": r"/item/([^/.]+)\.html",
        "structured_data": True, "revisit_known": False, "fetch_images": False,
        "politeness": {"concurrency": 4, "delay": 0, "autothrottle": False, "obey_robots": False, "timeout": 10,
                       "retries": 0},
    }
    d.update(over)
    return d


def stored(db, platform: str) -> dict:
    from store.db import session_scope

    with session_scope(db) as s:
        rows = s.scalars(select(m.Listing).where(m.Listing.platform == platform)).all()
        for r in rows:
            s.expunge(r)
        return {r.listing_id: r for r in rows}


def failures(db, run_id) -> list[tuple[str, str | None, str]]:
    from store.db import session_scope

    with session_scope(db) as s:
        return [(f.kind, f.source, f.detail or "") for f in
                s.scalars(select(m.RunFailure).where(m.RunFailure.run_id == run_id))]


def new_run(db) -> int:
    from store.db import session_scope
    from store.models import Run

    with session_scope(db) as s:
        r = Run(kind="crawl", trigger="manual", status="running", counts={}, durations={})
        s.add(r)
        s.flush()
        return r.id


def test_every_shop_page_is_stored_with_the_selling_price(settings, db):
    from crawler.models import CrawlPage
    from crawler.testing import crawl_once
    from store.db import session_scope

    with PageServer(shop_pages()) as srv:
        run_id, c = crawl_once(settings, db, [source(srv.base_url)])
    rows = stored(db, "shop-a")
    want = {lid for lid, *_ in PRICE_PAGES} | {"g1", "ask", "ld"}
    assert set(rows) == want, "every item page is a stored listing"
    for lid, title, _, price, _ in PRICE_PAGES:
        assert rows[lid].title == title
        assert rows[lid].price == pytest.approx(price), (lid, rows[lid].price)
    with session_scope(db) as s:
        pages = {p.listing_id: p for p in s.scalars(select(CrawlPage).where(CrawlPage.source == "shop-a"))}
        assert pages["p6"].price_high == pytest.approx(1599.0) and pages["p6"].price_text == "1299-1599"
    # GBK decoded
    assert rows["g1"].title == "贵州茅台酒 飞天 53%vol 500ml" and rows["g1"].price == pytest.approx(1499.0)
    # 价格面议: kept with an empty price and a named warning (not a failure)
    assert rows["ask"].title.startswith("格力 中央空调") and rows["ask"].price is None
    kinds = failures(db, run_id)
    assert any(k == "price_on_request" and "ask" in d for k, _, d in kinds)
    assert not any(k == "parse_error" for k, _, _ in kinds)
    assert c["warnings"] == 1 and c["failures"] == 0
    # JSON-LD only
    ld = rows["ld"]  # the id in the URL (the platform's), not the seller's sku
    assert ld.title == "百雀羚 草本精粹 洁面乳 100g" and ld.price == pytest.approx(39.9)
    assert ld.currency == "CNY" and ld.seller_name == "美妆小铺"


def test_a_page_without_price_element_is_kept_with_a_warning(settings, db):
    from crawler.testing import crawl_once

    pages = {"/list.html": (b'<a class="go" href="/item/np.html">x</a>', HTML),
             "/item/np.html": (item_page("np", "耐克 卫衣 连帽", "").encode(), HTML)}
    with PageServer(pages) as srv:
        run_id, c = crawl_once(settings, db, [source(srv.base_url, structured_data=False)])
    rows = stored(db, "shop-a")
    assert rows["np"].price is None and rows["np"].title == "耐克 卫衣 连帽"
    assert [k for k, _, _ in failures(db, run_id)] == ["price_missing"]


def test_a_broken_source_file_is_a_named_failure_and_the_others_crawl(settings, db, tmp_path, monkeypatch):
    import yaml

    from config.settings import get_settings, reset_settings_cache
    from crawler.runner import crawl

    d = tmp_path / "sources"
    d.mkdir()
    (d / "broken.yaml").write_text("name: broken-shop\nplatform: x\nkind: marketplace\nbase_url: [unclosed\n",
                                   encoding="utf-8")
    (d / "nobase.yaml").write_text("name: nobase\nplatform: y\nkind: marketplace\n", encoding="utf-8")
    with PageServer(shop_pages()) as srv:
        (d / "good.yaml").write_text(yaml.safe_dump(source(srv.base_url, name="good-shop"), allow_unicode=True),
                                     encoding="utf-8")
        monkeypatch.setenv("MARKWATCH_SOURCES_DIR", str(d))
        reset_settings_cache()
        st = get_settings()
        run_id = new_run(db)
        c = crawl(st, run_id=run_id, engine=db)
    assert len(stored(db, "good-shop")) == len(PRICE_PAGES) + 3
    errs = [(src, det) for k, src, det in failures(db, run_id) if k == "config_error"]
    assert sorted(s for s, _ in errs) == ["broken-shop", "nobase"]
    assert any("broken.yaml" in det and "YAML" in det for _, det in errs)
    assert any("nobase.yaml" in det and "base_url" in det for _, det in errs)
    assert c["sources"]["broken-shop"]["failed_config_error"] == 1 and c["new"] == len(PRICE_PAGES) + 3


def test_session_cookies_and_proxy_credentials_are_used_and_never_logged(settings, db, monkeypatch):
    """The shop's host does not resolve: pages are only reachable through the proxy (the local
    server). The cookie and the proxy password come from the environment."""
    from crawler.runner import crawl

    cookie_secret, proxy_secret = "sess-7f3a9c1e5b", "pw-c0ffee42beef"
    monkeypatch.setenv("SHOP_COOKIES", f"SESSIONID={cookie_secret}; lang=zh")
    with PageServer(shop_pages()) as srv:
        port = srv.httpd.server_address[1]
        monkeypatch.setenv("SHOP_PROXY", f"http://officer:{proxy_secret}@127.0.0.1:{port}")
        src = source("http://shop-a.invalid", session={"cookies_env": "SHOP_COOKIES", "headers": {"X-Officer": "1"}},
                     proxy={"url_env": "SHOP_PROXY"})
        src["politeness"]["user_agent"] = "markwatch-test-agent/1.0"
        run_id = new_run(db)
        crawl(settings, run_id=run_id, only=["shop-a"], extra_sources=[src], engine=db, log_level="DEBUG")
        reqs = list(srv.requests)
    assert len(stored(db, "shop-a")) == len(PRICE_PAGES) + 3
    assert reqs and all(r["absolute"] and r["host"] == "shop-a.invalid" for r in reqs)
    assert all(r["proxy_auth"] and r["proxy_auth"].startswith("Basic ") for r in reqs)
    assert all(cookie_secret in (r["cookie"] or "") for r in reqs)
    assert all(r["user_agent"] == "markwatch-test-agent/1.0" for r in reqs)
    logs = list((settings.resolved_data_dir / "logs").glob("crawl-*.log"))
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)
    text += "".join(p.read_text(encoding="utf-8") for p in (settings.resolved_data_dir / "crawl").glob("*.json"))
    assert "Crawled (200) <GET http://shop-a.invalid/item/p1.html>" in text  # DEBUG: every request is logged
    assert cookie_secret not in text and proxy_secret not in text
    assert all(cookie_secret not in d and proxy_secret not in d for _, _, d in failures(db, run_id))


def test_a_secret_file_readable_by_others_is_a_config_error(settings, db, tmp_path):
    from crawler.testing import crawl_once

    f = tmp_path / "cookies.txt"
    f.write_text("SESSIONID=abc123secret", encoding="utf-8")
    os.chmod(f, 0o644)
    with PageServer(shop_pages()) as srv:
        run_id, c = crawl_once(settings, db, [source(srv.base_url, session={"cookies_file": str(f)})])
    errs = [d for k, _, d in failures(db, run_id) if k == "config_error"]
    assert len(errs) == 1 and "chmod 600" in errs[0] and "abc123secret" not in errs[0]
    assert stored(db, "shop-a") == {}


@pytest.mark.browser
@pytest.mark.skipif(find_chromium() is None, reason="needs Debian chromium (scripts/system-deps.sh)")
def test_a_javascript_filled_price_is_read_from_the_rendered_page(settings, db):
    from crawler.testing import crawl_once

    js_item = """<!doctype html><html><head><meta charset="utf-8"><title>x</title></head><body>
<div class="item"><h1 class="title">茅台 飞天 53度 500ml 2023年</h1>
<div class="buy"><span class="price" id="price"></span></div></div>
<script>
fetch('/api/price/js1').then(r => r.json()).then(d => {
  document.getElementById('price').textContent = d.text;
  document.querySelector('.buy').setAttribute('data-ready', '1');
});
</script></body></html>"""
    pages = {"/list.html": (b'<html><body><a class="go" href="/item/js1.html">1</a></body></html>', HTML),
             "/item/js1.html": (js_item.encode(), HTML),
             "/api/price/js1": (json.dumps({"text": "到手价 ¥1,399 原价 ¥1,599"}).encode(), "application/json")}
    with PageServer(pages) as srv:
        plain = source(srv.base_url, name="shop-plain", structured_data=False)
        run1, _ = crawl_once(settings, db, [plain])
        src = source(srv.base_url, name="shop-js", browser=True, structured_data=False)
        src["detail"]["wait_for"] = "css:.buy[data-ready]"  # as written in docs/crawling.md
        run2, c = crawl_once(settings, db, [src])
        api_calls = [r for r in srv.requests if r["path"] == "/api/price/js1"]
        # `markwatch sources check --url` renders the page the same way
        import yaml
        from typer.testing import CliRunner

        from pipeline.cli import app

        f = settings.resolved_data_dir / "shop-js.yaml"
        f.write_text(yaml.safe_dump(src, allow_unicode=True), encoding="utf-8")
        r = CliRunner().invoke(app, ["sources", "check", str(f), "--url", srv.base_url + "/item/js1.html"])
        assert r.exit_code == 0, r.output
        assert "price: text '到手价 ¥1,399 原价 ¥1,599' -> 1399.0" in r.stdout
    assert stored(db, "shop-plain")["js1"].price is None  # without a browser the price is empty ...
    assert [k for k, _, _ in failures(db, run1)] == ["price_missing"]  # ... with a named warning
    row = stored(db, "shop-js")["js1"]
    assert row.title == "茅台 飞天 53度 500ml 2023年" and row.price == pytest.approx(1399.0)
    assert api_calls, "the browser ran the page's script"
    assert failures(db, run2) == []


def test_storage_state_and_proxy_files_with_private_mode_are_used(settings, db, tmp_path):
    from crawler.testing import crawl_once

    state = tmp_path / "state.json"
    state.write_text(json.dumps({"cookies": [{"name": "_tb_token_", "value": "tok-91ab", "domain": "shop-a.invalid",
                                              "path": "/"}], "origins": []}), encoding="utf-8")
    os.chmod(state, 0o600)
    with PageServer(shop_pages()) as srv:
        pfile = tmp_path / "proxy.txt"
        pfile.write_text(f"http://u:pw-file-77@127.0.0.1:{srv.httpd.server_address[1]}\n", encoding="utf-8")
        os.chmod(pfile, 0o600)
        src = source("http://shop-a.invalid", session={"storage_state": str(state)}, proxy={"url_file": str(pfile)})
        crawl_once(settings, db, [src])
        reqs = list(srv.requests)
    assert len(stored(db, "shop-a")) == len(PRICE_PAGES) + 3
    assert reqs and all("_tb_token_=tok-91ab" in (r["cookie"] or "") and r["proxy_auth"] for r in reqs)


def test_proxy_credentials_in_the_source_file_are_refused():
    from crawler.sources import SourceError, parse_source

    with pytest.raises(SourceError, match="proxy credentials must not be written in the source file"):
        parse_source(source("http://x.example", proxy={"url": "http://u:secret@proxy.example:3128"}), "a.yaml")


@pytest.mark.parametrize("change,message", [
    ({"detail": {"title": "css:h1[[", "price": "css:.p::text"}}, "detail.title: 'css:h1[[' is not a valid selector"),
    ({"results": {"item_links": "xpath://a[@"}}, "results.item_links: 'xpath://a[@' is not a valid selector"),
    ({"listing_id_from_url": "/item/[0-9]+"}, "listing_id_from_url: the regular expression needs one group"),
    ({"detail": {"price": ".p::text"}, "structured_data": False}, "detail.title is required"),
    ({"structured_data": ["title", "colour"]}, "structured_data"),
])
def test_source_mistakes_are_named_before_any_crawl(change, message):
    from crawler.sources import SourceError, parse_source

    d = source("http://x.example")
    d.update(change)
    with pytest.raises(SourceError) as e:
        parse_source(d, "config/sources/x.yaml")
    assert "config/sources/x.yaml" in str(e.value) and message in str(e.value)


def test_a_taken_down_item_page_marks_the_listing_removed(settings, db):
    from crawler.testing import crawl_once
    from store.db import session_scope

    pages = {"/list.html": (b'<a class="go" href="/item/t1.html">t1</a>', HTML),
             "/item/t1.html": (item_page("t1", "茅台 飞天 500ml", '<span class="price">¥1499</span>').encode(), HTML)}
    with PageServer(pages) as srv:
        src = source(srv.base_url, detect={"removed": "css:.sold-out"}, revisit_known=True)
        crawl_once(settings, db, [src])
        assert stored(db, "shop-a")["t1"].status == "active"
        srv.pages["/item/t1.html"] = ('<html><body><div class="sold-out">此宝贝已下架</div></body></html>'.encode(), HTML)
        run_id, c = crawl_once(settings, db, [src])
    assert stored(db, "shop-a")["t1"].status == "removed" and c["removed"] == 1
    with session_scope(db) as s:
        assert [(f.kind, f.url.endswith("/item/t1.html")) for f in
                s.scalars(select(m.RunFailure).where(m.RunFailure.run_id == run_id))] == [("removed", True)]
