"""The sandbox site itself: deterministic content, pagination, epochs, misbehaving pages, live rooms."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest

from crawler.sandbox import SandboxServer, get_catalog


def fetch(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture(scope="module")
def image_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("sandbox-images")


@pytest.fixture
def site(image_cache):
    with SandboxServer(seed=11, n_listings=150, n_rooms=8, cache_dir=image_cache, slow_seconds=0.3) as sb:
        yield sb


def test_same_seed_same_site_other_seed_other_site():
    a, b, c = get_catalog(5, 200, 5), get_catalog(5, 200, 5), get_catalog(6, 200, 5)
    assert [p.title for p in a.products.values()] == [p.title for p in b.products.values()]
    assert [p.title for p in a.products.values()] != [p.title for p in c.products.values()]
    cases = {p.case for p in a.products.values()}
    # infringing and clean goods are mixed, with traps that must not become leads
    assert {"clean", "word:cue", "word:variant", "gi:outside", "gi:inside", "logo", "ocr", "authorised"} <= cases


def test_search_is_paginated_and_pages_cover_all_results(site):
    ids = []
    url = f"{site.base_url}/search?q=%E8%80%90%E5%85%8B"  # 耐克
    pages = 0
    while url:
        st, _, body = fetch(url)
        assert st == 200
        html = body.decode()
        ids += re.findall(r'class="title" href="/item/([^"]+)"', html)
        m = re.search(r'class="next" href="([^"]+)"', html)
        url = site.base_url + m.group(1).replace("&amp;", "&") if m else None
        pages += 1
    expected = site.catalog.search("耐克", site.epoch)
    assert pages > 1 and ids == expected


def test_detail_page_has_the_listing_fields(site):
    p = next(p for p in site.catalog.products.values() if p.case == "gi:outside" and p.listing_id not in site.catalog.special_of)
    st, headers, body = fetch(f"{site.base_url}/item/{p.listing_id}")
    html = body.decode()
    assert st == 200 and headers.get("ETag")
    assert p.title in html and p.origin in html and "产地" in html
    assert html.count('<img src="/img/') == len(p.images)
    assert f"{p.price_at(site.epoch):.2f}" in html
    # a conditional request for an unchanged page is answered 304
    st2, _, _ = fetch(f"{site.base_url}/item/{p.listing_id}", {"If-None-Match": headers["ETag"]})
    assert st2 == 304


def test_epochs_change_prices_and_remove_listings(tmp_path, image_cache):
    state = tmp_path / "state.json"
    seen = []
    for _ in range(3):
        with SandboxServer(seed=11, n_listings=400, n_rooms=4, state_file=state, cache_dir=image_cache) as sb:
            seen.append(sb.epoch)
            cat = sb.catalog
    assert seen == [0, 1, 2]
    with SandboxServer(seed=11, n_listings=400, n_rooms=4, state_file=state, advance=False,
                       cache_dir=image_cache) as sb:
        assert sb.epoch == 2  # re-opened, not advanced
        removed = [p for p in cat.products.values() if p.removed_at(2) and not p.removed_at(0)]
        assert removed
        st, _, body = fetch(f"{sb.base_url}/item/{removed[0].listing_id}")
        assert st == 404 and "下架" in body.decode()
    assert any(p.price_at(0) != p.price_at(1) for p in cat.products.values())


def test_misbehaving_pages(site):
    sp = site.catalog.specials
    st, headers, _ = fetch(f"{site.base_url}/item/{sp['rate_limit_once'][0]}")
    assert st == 429 and headers.get("Retry-After") == "1"
    assert fetch(f"{site.base_url}/item/{sp['rate_limit_once'][0]}")[0] == 200  # only once
    assert fetch(f"{site.base_url}/item/{sp['server_error'][0]}")[0] == 500
    st, _, body = fetch(f"{site.base_url}/item/{sp['broken'][0]}")
    assert st == 200 and "item-title" not in body.decode()
    assert 'id="captcha"' in fetch(f"{site.base_url}/item/{sp['captcha'][0]}")[2].decode()
    assert fetch(f"{site.base_url}/robots.txt")[2].decode().count("Disallow") >= 1


def test_live_room_products_only_come_from_the_json_endpoint(site):
    room = next(r for r in site.catalog.rooms if not r.offline)
    html = fetch(f"{site.base_url}/live/room/{room.room_id}")[2].decode()
    assert 'class="product-card"' not in html and room.products[0].title not in html  # rendered by JavaScript
    data = json.loads(fetch(f"{site.base_url}/api/live/{room.room_id}/cart")[2])
    assert data["status"] == "live" and [i["id"] for i in data["items"]] == [p.listing_id for p in room.products]
    off = [r for r in get_catalog(7, 3000, 40).rooms if r.offline]
    assert off, "some rooms of the default sandbox have ended"


def test_images_are_deterministic_and_cached_on_disk(site, image_cache):
    a = fetch(f"{site.base_url}/img/l-hx-3.jpg")[2]
    assert a[:3] == b"\xff\xd8\xff" and (image_cache / "l-hx-3.jpg").read_bytes() == a
    from crawler.sandbox.images import render
    assert render("l-hx-3") == a
    assert fetch(f"{site.base_url}/img/..%2Fetc.jpg")[0] == 404
