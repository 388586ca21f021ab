"""`markwatch listings list|show|export` and `markwatch sources list`: what an officer sees."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from pipeline.cli import app


@pytest.fixture
def stored(db):
    """Five listings on two platforms; two have leads; one was last seen ten days ago."""
    from matcher.listing import Listing
    from store import models as m
    from store.db import session_scope
    from store.repo import upsert_listing

    now = datetime(2026, 11, 20, 12, 0)
    rows = [
        ("mall-a", "a1", "茅台 飞天 53度 高仿", 399.0, "s1", "茅台酒行"),
        ("mall-a", "a2", "耐克 Air Max 90", None, "s2", "运动专营店"),
        ("mall-a", "a3", "格力 空调 1.5匹", 2999.0, "s2", "运动专营店"),
        ("mall-b", "b1", "五常大米 10kg", 89.9, "s9", "粮油小铺"),
        ("mall-b", "a1", "百雀羚 面霜", 59.0, "s8", "美妆店"),
    ]
    with session_scope(db) as s:
        for i, (plat, lid, title, price, sid, sname) in enumerate(rows):
            seen = now - timedelta(days=10) if lid == "a3" else now
            row, _ = upsert_listing(s, Listing(platform=plat, listing_id=lid, title=title, price=price,
                                               seller_id=sid, seller_name=sname, url=f"https://{plat}/{lid}",
                                               images=["https://img.example/x.jpg"]), source=plat, now=seen)
            if lid == "a1" and plat == "mall-a" or lid == "b1":
                s.flush()
                s.add(m.Lead(listing_pk=row.id, target_id="tm-x", target_kind="word", score=88,
                             reasons=["标题含 茅台"]))
    return rows


def run(*args):
    r = CliRunner().invoke(app, list(args))
    return r


def test_listings_list_filters_and_pages(stored):
    r = run("listings", "list")
    assert r.exit_code == 0, r.output
    lines = [x for x in r.stdout.splitlines() if x.strip()]
    assert len(lines) == 5 and "第 1/1 页，共 5 条" in r.stderr
    assert lines[-1].startswith("mall-a:a3")  # least recently seen last
    r = run("listings", "list", "--platform", "mall-a", "--has-leads")
    assert [x.split("\t")[0] for x in r.stdout.splitlines()] == ["mall-a:a1"]
    r = run("listings", "list", "--no-leads", "--seller", "运动")
    assert sorted(x.split("\t")[0] for x in r.stdout.splitlines()) == ["mall-a:a2", "mall-a:a3"]
    r = run("listings", "list", "--since", "2026-11-15")
    assert "mall-a:a3" not in r.stdout and len(r.stdout.splitlines()) == 4
    r = run("listings", "list", "--until", "2026-11-15")
    assert [x.split("\t")[0] for x in r.stdout.splitlines()] == ["mall-a:a3"]
    p1 = run("listings", "list", "--per-page", "2", "--page", "1").stdout.splitlines()
    p3 = run("listings", "list", "--per-page", "2", "--page", "3")
    assert len(p1) == 2 and len(p3.stdout.splitlines()) == 1 and "第 3/3 页" in p3.stderr
    r = run("listings", "list", "--since", "yesterday")
    assert r.exit_code == 1 and "--since 'yesterday' is not a date" in r.stderr


def test_listings_show_gives_everything_about_one_listing(stored):
    r = run("listings", "show", "mall-a:a2")
    assert r.exit_code == 0, r.output
    assert "耐克 Air Max 90" in r.stdout and "价格：-（页面未标价）" in r.stdout
    assert "状态：在售" in r.stdout and "匹配：待匹配" in r.stdout  # states in Chinese, not 'active'/'pending'
    r = run("listings", "show", "b1", "--json")
    d = json.loads(r.stdout)
    assert d["listing"]["title"] == "五常大米 10kg" and d["leads"][0]["score"] == 88
    r = run("listings", "show", "a1")
    assert r.exit_code == 1 and "several platforms (mall-a, mall-b)" in r.stderr
    r = run("listings", "show", "nope")
    assert r.exit_code == 1 and "no listing 'nope'" in r.stderr


def test_listings_export_writes_jsonl_that_match_reads_and_csv(stored, tmp_path):
    from matcher.listing import ListingError, read_listings

    out = tmp_path / "l.jsonl"
    r = run("listings", "export", "-o", str(out), "--platform", "mall-a")
    assert r.exit_code == 0, r.output
    recs = list(read_listings(out))
    assert not any(isinstance(x, ListingError) for x in recs)
    assert sorted(x.listing_id for x in recs) == ["a1", "a2", "a3"]
    assert {x.listing_id: x.price for x in recs}["a2"] is None
    out = tmp_path / "l.csv"
    run("listings", "export", "-o", str(out), "--format", "csv", "--has-leads")
    text = out.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted((r["platform"], r["listing_id"]) for r in rows) == [("mall-a", "a1"), ("mall-b", "b1")]


def test_sources_list_names_broken_files_and_keeps_the_others(tmp_path, monkeypatch):
    from config.settings import reset_settings_cache

    d = tmp_path / "src"
    d.mkdir()
    (d / "ok.yaml").write_text("name: shop-ok\nplatform: p\nbase_url: https://shop.example\n"
                               "start_urls: ['{base_url}/l']\nresults: {item_links: 'a::attr(href)'}\n"
                               "detail: {title: 'h1::text'}\nstructured_data: true\n", encoding="utf-8")
    (d / "bad.yaml").write_text("name: shop-bad\nplatform: p\nbase_url: https://x.example\nkind: shop\n",
                                encoding="utf-8")
    monkeypatch.setenv("MARKWATCH_SOURCES_DIR", str(d))
    reset_settings_cache()
    r = run("sources", "list")
    assert r.exit_code == 1
    assert r.stdout.startswith("shop-ok\tp\tmarketplace\tenabled\thttps://shop.example\tstructured_data")
    assert "shop-bad\tconfig_error" in r.stderr and "bad.yaml" in r.stderr and "kind" in r.stderr


def test_sources_check_url_fetches_only_from_the_source_hosts(tmp_path):
    import yaml

    from .pageserver import PageServer
    from .test_crawl_shops import shop_pages, source

    with PageServer(shop_pages()) as srv:
        f = tmp_path / "shop.yaml"
        f.write_text(yaml.safe_dump(source(srv.base_url), allow_unicode=True), encoding="utf-8")
        r = run("sources", "check", str(f), "--url", srv.base_url + "/item/p3.html")
        assert r.exit_code == 0, r.output
        assert "price: text '满300减50 ¥1299' -> 1299.0" in r.stdout
        assert "number 300: a threshold, reduction or instalment (满)" in r.stdout  # why each number
        r = run("sources", "check", str(f), "--url", srv.base_url + "/list.html")
        assert r.exit_code == 0 and "results.item_links: 12 links" in r.stdout
        r = run("sources", "check", str(f), "--url", "http://other.example/item/p1.html")
        assert r.exit_code == 2 and "not one of the source's hosts" in r.stderr
        assert not any(q["host"] == "other.example" for q in srv.requests)


def test_listings_output_in_english_on_request(stored, monkeypatch):
    from config.settings import reset_settings_cache

    monkeypatch.setenv("MARKWATCH_LANGUAGE", "en")
    reset_settings_cache()
    r = run("listings", "show", "mall-a:a2")
    assert "price: - (none on the page)" in r.stdout
    r = run("listings", "list", "--platform", "mall-b")
    assert "page 1/1, 2 listings" in r.stderr and "1 leads" in r.stdout


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:PORT", "www.shop.example", "ftp://shop.example"])
def test_sources_check_refuses_a_base_url_that_cannot_be_crawled(tmp_path, base_url):
    """A typo in base_url (a placeholder port, no scheme) is reported by `sources check` naming the
    field, not found only when the pass crawls nothing."""
    f = tmp_path / "shop.yaml"
    f.write_text(f'name: shop\nplatform: shop\nbase_url: "{base_url}"\nresults: {{item_links: "css:a::attr(href)"}}\n'
                 'detail: {title: "css:h1::text"}\n', encoding="utf-8")
    r = run("sources", "check", str(f))
    assert r.exit_code == 2 and "base_url" in r.output and base_url in r.output
    f.write_text(f.read_text(encoding="utf-8").replace(base_url, "https://www.shop.example:8443"), encoding="utf-8")
    r = run("sources", "check", str(f))
    assert r.exit_code == 0 and "valid" in r.output
