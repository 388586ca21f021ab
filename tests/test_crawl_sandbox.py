"""Crawling the sandbox marketplace on a free port: pagination, detail parsing, images, named
failures (404/429/slow/broken/captcha/500/corrupt image), politeness, and incremental re-crawls."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawler.sandbox import SandboxServer
from crawler.testing import crawl_once, import_demo_watchlist, mall_source
from store import models as m

N = 120


@pytest.fixture(scope="module")
def image_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("sandbox-images")


@pytest.fixture
def state(tmp_path):
    return tmp_path / "sandbox-state.json"


@pytest.fixture
def site(image_cache, state):
    with SandboxServer(seed=3, n_listings=N, n_rooms=4, cache_dir=image_cache, state_file=state,
                       slow_seconds=0.5) as sb:
        yield sb


def failures(db, run_id):
    from store.db import session_scope

    with session_scope(db) as s:
        return [(f.kind, f.url) for f in s.scalars(select(m.RunFailure).where(m.RunFailure.run_id == run_id))]


def listing(db, lid):
    from store.db import session_scope

    with session_scope(db) as s:
        row = s.scalar(select(m.Listing).where(m.Listing.listing_id == lid))
        if row is not None:
            s.expunge(row)
        return row


def test_first_crawl_stores_parsed_listings_and_names_failures(settings, db, site):
    import_demo_watchlist(db)
    run_id, c = crawl_once(settings, db, [mall_source(site.base_url, concurrency=4, timeout=5)])
    cat, sp = site.catalog, site.catalog.specials
    assert c["new"] > 0 and c["failures"] > 0

    # every listing a search reaches is stored once, including those only on page 2+ of results
    reachable = set()
    for term in ["茅台", "MOUTAI", "贵州茅台", "耐克", "NIKE", "格力", "GREE", "百雀羚", "PECHOIN", "五常大米", "西湖龙井"]:
        reachable |= set(cat.search(term, 0))
    page2 = set(cat.search("耐克", 0)[20:])
    assert page2, "the search for 耐克 has a second page"
    bad = {i for k in ("broken", "captcha", "rate_limited", "server_error") for i in sp[k]}
    from store.db import session_scope
    with session_scope(db) as s:
        stored = set(s.scalars(select(m.Listing.listing_id)))
        assert s.scalar(select(func.count()).select_from(m.Listing)) == len(stored)
    assert (reachable - bad) <= stored and page2 - bad <= stored
    assert not (bad & stored)

    # detail parsing: the stored record is what the page shows
    p = next(cat.products[i] for i in sorted(stored) if cat.products.get(i) and cat.products[i].case == "gi:outside")
    row = listing(db, p.listing_id)
    assert row.title == p.title and row.price == pytest.approx(p.price_at(0)) and row.sales == p.sales_at(0)
    assert row.origin == p.origin and row.category == p.category
    assert row.seller_id == p.seller_id and row.seller_name == cat.sellers[p.seller_id].name
    assert row.seller_location == cat.sellers[p.seller_id].location and row.kind == "listing"
    # images are local files (content-addressed) that the matcher can open
    from matcher.images import open_image
    assert len(row.images) == len(p.images)
    for ref in row.images:
        f = Path(row.local_dir) / ref
        assert f.is_file() and f.stem in {x.name.split(".")[0] for x in f.parent.iterdir()}
        open_image(f)

    # named failures, one per misbehaving page; the crawl went on
    kinds = failures(db, run_id)
    by_url = {u.rsplit("/", 1)[-1]: k for k, u in kinds}
    assert by_url[sp["broken"][0]] == "parse_error"
    assert by_url[sp["captcha"][0]] == "captcha"
    assert by_url[sp["rate_limited"][0]] == "rate_limited"
    assert by_url[sp["server_error"][0]] == "http_error"
    assert any(k == "image_error" and "x-" in u for k, u in kinds)
    for i in sp["bad_image"]:  # the listing is kept, without the corrupt photo
        assert len(listing(db, i).images) == len(cat.products[i].images) - 1
    # 429 once with Retry-After: 1 -> stored after waiting at least that long
    for i in sp["rate_limit_once"]:
        assert listing(db, i) is not None
        t = site.stats.times[f"/item/{i}"]
        assert len(t) == 2 and t[1] - t[0] >= 0.9
    for i in sp["slow"]:  # slower than usual but within the timeout
        assert listing(db, i) is not None
    # raw HTML is kept for evidence
    from crawler.models import CrawlPage
    with session_scope(db) as s:
        cp = s.scalar(select(CrawlPage).where(CrawlPage.listing_id == p.listing_id))
        assert (settings.resolved_data_dir / cp.raw_path).read_text(encoding="utf-8").count(p.title) >= 1


def test_slow_page_beyond_the_timeout_is_a_timeout_failure(settings, db, image_cache, tmp_path):
    import_demo_watchlist(db)
    with SandboxServer(seed=3, n_listings=N, n_rooms=4, cache_dir=image_cache, slow_seconds=3.0) as sb:
        run_id, c = crawl_once(settings, db, [mall_source(sb.base_url, concurrency=4, timeout=1.0, retries=0)])
        slow = sb.catalog.specials["slow"]
    kinds = {u.rsplit("/", 1)[-1]: k for k, u in failures(db, run_id)}
    assert all(kinds.get(i) == "timeout" for i in slow)
    assert c["new"] > 50  # everything else was stored


def test_per_host_concurrency_holds_with_no_download_delay(settings, db, site):
    """Scrapy >= 2.14 can exceed CONCURRENT_REQUESTS_PER_DOMAIN when DOWNLOAD_DELAY is 0;
    the sandbox counts the requests it has in flight and our limit must hold."""
    import_demo_watchlist(db)
    _, c = crawl_once(settings, db, [mall_source(site.base_url, concurrency=2, total_concurrency=64, delay=0.0)])
    assert c["pages"] > 100
    assert site.stats.max_in_flight == 2


def test_second_crawl_is_incremental(settings, db, image_cache, state):
    import_demo_watchlist(db)
    with SandboxServer(seed=3, n_listings=N, n_rooms=4, cache_dir=image_cache, state_file=state,
                       slow_seconds=0.1) as sb:
        port = sb.port
        src = mall_source(sb.base_url, concurrency=4)
        _, c1 = crawl_once(settings, db, [src])
        cat = sb.catalog
        requests_first = sb.stats.requests
    # the site moves on (next epoch): some prices change, some listings are taken down
    with SandboxServer(seed=3, n_listings=N, n_rooms=4, cache_dir=image_cache, state_file=state, port=port,
                       slow_seconds=0.1) as sb2:
        assert sb2.epoch == 1
        run2, c2 = crawl_once(settings, db, [src])
        statuses = sb2.stats.statuses
        img_requests = sum(n for p, n in sb2.stats.paths.items() if p.startswith("/img/"))
    from store.db import session_scope
    with session_scope(db) as s:
        rows = {r.listing_id: r for r in s.scalars(select(m.Listing))}
        assert c2["new"] == 0 and len(rows) == c1["new"]
        assert statuses[304] > 0 and c2["unchanged"] >= statuses[304]  # unchanged pages: 304, not re-parsed
        assert img_requests == 0  # images already stored are not fetched again
        changed = [i for i, r in rows.items() if cat.products[i].price_at(1) != cat.products[i].price_at(0)
                   and r.status == "active"]
        assert changed and c2["changed"] >= len(changed)
        for i in changed:
            snaps = s.scalars(select(m.ListingSnapshot).where(m.ListingSnapshot.listing_pk == rows[i].id)
                              .order_by(m.ListingSnapshot.id)).all()
            assert [x.price for x in snaps][-2:] == [pytest.approx(cat.products[i].price_at(0)),
                                                    pytest.approx(cat.products[i].price_at(1))]
        gone = [i for i in rows if cat.products[i].removed_at(1)]
        assert gone and c2["removed"] == len(gone)
        assert all(rows[i].status == "removed" for i in gone)
        assert all(rows[i].last_seen > rows[i].first_seen for i in rows if rows[i].status == "active")
    assert {u.rsplit("/", 1)[-1] for k, u in failures(db, run2) if k == "removed"} >= set(gone)


def test_robots_txt_is_obeyed_unless_turned_off(settings, db, site):
    src = mall_source(site.base_url)
    src["search"] = None
    src["start_urls"] = ["{base_url}/admin/listings"]
    src["revisit_known"] = False
    run_id, _ = crawl_once(settings, db, [src])
    assert ("blocked", f"{site.base_url}/admin/listings") in failures(db, run_id)
    assert site.stats.paths["/admin/listings"] == 0
    src["name"] = "test-mall-2"
    src["politeness"]["obey_robots"] = False
    crawl_once(settings, db, [src])
    assert site.stats.paths["/admin/listings"] == 1


def test_remote_control_extension_is_off_and_limits_are_configured(tmp_path):
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings as ScrapySettings

    from crawler.settings import scrapy_settings
    from crawler.sources import parse_source

    src = parse_source(mall_source("http://127.0.0.1:9"), "test").resolved()
    st = ScrapySettings(scrapy_settings(src, tmp_path))
    assert st.getbool("REMOTE_CONTROL_ENABLED") is False
    assert st.getdict("EXTENSIONS")["scrapy.extensions.remote_control.RemoteControl"] is None
    assert st.getdict("DOWNLOADER_MIDDLEWARES")["crawler.middlewares.HostConcurrencyMiddleware"] == 990

    def loaded(settings):
        settings.set("TWISTED_REACTOR_ENABLED", False)
        c = Crawler(Spider, settings, init_reactor=False)
        c._apply_settings()
        return [type(x).__name__ for x in c.extensions.middlewares]

    assert "RemoteControl" in loaded(ScrapySettings())  # Scrapy's default: on
    names = loaded(st)
    assert "RemoteControl" not in names and "TelnetConsole" not in names


def test_image_hosts_outside_allowed_hosts_are_refused():
    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest

    from crawler.middlewares import AllowedHostsMiddleware

    mw = AllowedHostsMiddleware(["127.0.0.1", "img.example.com"])
    mw.rule._resolver = lambda host, port: ["93.184.216.34"]  # no DNS in tests: a public address
    assert mw.process_request(Request("http://127.0.0.1:5000/item/1")) is None
    assert mw.process_request(Request("https://cdn.img.example.com/a.jpg")) is None
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("https://tracker.example.net/a.jpg"))


def test_bad_source_files_are_named(tmp_path):
    from crawler.sources import SourceError, load_sources

    (tmp_path / "a.yaml").write_text("name: x\nplatform: p\nkind: marketplace\n", encoding="utf-8")
    with pytest.raises(SourceError) as e:
        load_sources(tmp_path)
    assert "a.yaml" in str(e.value) and "base_url" in str(e.value)
    (tmp_path / "a.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SourceError, match="not valid YAML"):
        load_sources(tmp_path)


def test_browser_pages_cannot_load_from_other_hosts():
    from types import SimpleNamespace

    from crawler.browser import AbortOutside

    abort = AbortOutside(["127.0.0.1"])
    assert abort(SimpleNamespace(url="http://127.0.0.1:4000/img/p-1-2.jpg")) is False
    assert abort(SimpleNamespace(url="data:image/png;base64,AAAA")) is False
    assert abort(SimpleNamespace(url="https://analytics.example.com/t.js")) is True
