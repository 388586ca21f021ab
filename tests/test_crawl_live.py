"""Live-commerce rooms rendered in Chromium: product cards come from JavaScript after load."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from crawler.browser import find_chromium
from crawler.sandbox import SandboxServer
from crawler.testing import crawl_once, import_demo_watchlist, live_source
from store import models as m

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(find_chromium() is None, reason="needs Debian chromium (scripts/system-deps.sh)")]


@pytest.fixture(scope="module")
def image_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("sandbox-images")


def test_live_rooms_are_rendered_and_every_product_card_is_a_live_listing(settings, db, image_cache):
    import_demo_watchlist(db)
    with SandboxServer(seed=9, n_listings=60, n_rooms=12, cache_dir=image_cache, cart_delay=0.3) as sb:
        run_id, c = crawl_once(settings, db, [live_source(sb.base_url, concurrency=4)])
        rooms = sb.catalog.rooms
        assert sb.stats.paths["/api/live/r000/cart"] >= 1  # the browser ran the page's script
    live_rooms = [r for r in rooms if not r.offline]
    offline = [r for r in rooms if r.offline]
    assert offline and live_rooms
    from store.db import session_scope
    from crawler.models import CrawlPage
    with session_scope(db) as s:
        rows = {r.listing_id: r for r in s.scalars(select(m.Listing).where(m.Listing.kind == "live"))}
        expected = {p.listing_id: (r, p) for r in live_rooms for p in r.products}
        assert set(rows) == set(expected)  # offline rooms have no cards
        for lid, (room, p) in expected.items():
            row = rows[lid]
            assert row.title == p.title and row.price == pytest.approx(p.price_at(0))
            assert row.caption == room.caption and row.description == room.title
            assert row.seller_id == room.host_id and row.seller_name == room.host_name
            assert row.category == p.category and row.origin == p.origin
            assert len(row.images) == 1 and (settings.resolved_data_dir / row.images[0]).is_file()
        shots = {cp.screenshot_path for cp in s.scalars(select(CrawlPage).where(CrawlPage.source == "test-live"))}
        assert len(shots) == len(live_rooms)
        for sp in shots:
            data = (settings.resolved_data_dir / sp).read_bytes()
            assert data[:3] == b"\xff\xd8\xff" and len(data) > 5000
    assert c["live_rooms"] == len(rooms) and c["live_offline"] == len(offline)
    per = c["sources"]["test-live"]
    assert per["browser_pages_opened"] == per["browser_pages_closed"] <= 4  # every tab closed (tabs are reused)


def test_a_room_that_ends_takes_its_products_off(settings, db, image_cache, tmp_path):
    import_demo_watchlist(db)
    with SandboxServer(seed=9, n_listings=60, n_rooms=6, cache_dir=image_cache) as sb:
        port = sb.port
        crawl_once(settings, db, [live_source(sb.base_url)])
        room = next(r for r in sb.catalog.rooms if not r.offline)
    room.offline = True  # the host ends the stream
    try:
        with SandboxServer(seed=9, n_listings=60, n_rooms=6, cache_dir=image_cache, port=port) as sb2:
            run2, c2 = crawl_once(settings, db, [live_source(sb2.base_url)])
    finally:
        room.offline = False
    from store.db import session_scope
    with session_scope(db) as s:
        st = dict(s.execute(select(m.Listing.listing_id, m.Listing.status)).all())
    assert all(st[p.listing_id] == "removed" for p in room.products)
    assert c2["removed"] == len(room.products)


def test_without_chromium_the_live_source_is_a_named_failure_and_the_mall_still_runs(settings, db, image_cache,
                                                                                      monkeypatch):
    from crawler.testing import mall_source

    monkeypatch.setenv("MARKWATCH_CHROMIUM", "/nonexistent/chromium")
    import_demo_watchlist(db)
    with SandboxServer(seed=9, n_listings=40, n_rooms=3, cache_dir=image_cache, slow_seconds=0.1) as sb:
        run_id, c = crawl_once(settings, db, [live_source(sb.base_url), mall_source(sb.base_url)])
    assert c["sources"]["test-mall"]["new"] > 0
    from store.db import session_scope
    with session_scope(db) as s:
        f = s.scalars(select(m.RunFailure).where(m.RunFailure.run_id == run_id,
                                                 m.RunFailure.source == "test-live")).all()
    assert [x.kind for x in f] == ["config_error"] and "Chromium" in f[0].detail


def test_live_rooms_open_with_the_sources_session_and_proxy(tmp_path):
    """A live room is rendered in a browser context made from the source's session (Playwright
    storage state: the logged-in account) and proxy, like marketplace detail pages; the context is
    built per request (meta), not in Scrapy settings, which Scrapy logs."""
    from crawler.session import Reach
    from crawler.settings import scrapy_settings
    from crawler.sources import parse_source
    from crawler.spiders.live import LiveSpider

    src = parse_source(live_source("http://127.0.0.1:9"), "<test>").resolved("http://127.0.0.1:9")
    state = tmp_path / "state.json"
    reach = Reach(storage_state=str(state), proxy="http://monitor:pw-123@proxy.example.cn:3128")
    spider = LiveSpider(source=src, terms=[], known={}, recorder=None, images=None, reach=reach)
    meta = spider.room_request("http://127.0.0.1:9/live/r000").meta
    ctx = meta["playwright_context_kwargs"]
    assert meta["playwright_context"] == "live" and ctx["storage_state"] == str(state)
    assert ctx["proxy"] == {"server": "http://proxy.example.cn:3128", "username": "monitor", "password": "pw-123"}
    assert ctx["service_workers"] == "block" and ctx["locale"] == "zh-CN"  # every request passes the host rule
    settings = scrapy_settings(src, tmp_path)
    assert "pw-123" not in repr(settings) and "PLAYWRIGHT_CONTEXTS" not in settings
