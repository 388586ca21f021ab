"""A held-out set of real saved shop pages (tests/data/real-pages, README there), crawled from a
local server with sources written from docs/crawling.md alone: every item page is stored with
the right price, the GBK page decodes, the schema.org page is read."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from crawler.models import CrawlPage
from store import models as m

from .pageserver import PageServer

DATA = Path(__file__).parent / "data" / "real-pages"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))


def source_files() -> list[dict]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((DATA / "sources").glob("*.yaml"))]


def site(name: str) -> dict:
    """One shop's site: its saved item pages at their own paths, and a list page linking them."""
    served, body = {}, ""
    for e in EXPECTED[name]:
        served[e["path"]] = ((DATA / e["page"]).read_bytes(), e["content_type"])
        body += f'<a class="item-name" href="{e["path"]}">item</a>'
    served["/list.html"] = (f"<html><body>{body}</body></html>".encode(), "text/html; charset=utf-8")
    return served


def test_real_saved_pages_are_stored_with_the_right_prices(settings, db):
    from contextlib import ExitStack

    from crawler.testing import crawl_once
    from store.db import session_scope

    srcs = source_files()
    assert {s["name"] for s in srcs} == set(EXPECTED)
    with ExitStack() as stack:
        for src in srcs:
            src["base_url"] = stack.enter_context(PageServer(site(src["name"]))).base_url
        run_id, c = crawl_once(settings, db, srcs)
    n_pages = sum(len(v) for v in EXPECTED.values())
    assert c["failures"] == 0 and c["new"] == n_pages
    with session_scope(db) as s:
        for src in srcs:
            rows = {r.listing_id: r for r in
                    s.scalars(select(m.Listing).where(m.Listing.platform == src["platform"]))}
            wants = [e["listing"] for e in EXPECTED[src["name"]]]
            assert set(rows) == {w["listing_id"] for w in wants}, src["name"]  # every item page stored
            for want in wants:
                row = rows[want["listing_id"]]
                for k, v in want.items():
                    if k == "price_high":
                        cp = s.scalar(select(CrawlPage).where(CrawlPage.source == src["name"],
                                                              CrawlPage.listing_id == row.listing_id))
                        assert cp.price_high == pytest.approx(v)
                    elif isinstance(v, float):
                        assert getattr(row, k) == pytest.approx(v), (src["name"], k)
                    else:
                        assert getattr(row, k) == v, (src["name"], k, getattr(row, k))
        assert not s.scalars(select(m.RunFailure).where(m.RunFailure.run_id == run_id)).all()


def test_sources_check_shows_what_each_selector_extracts_from_a_saved_page(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    e = EXPECTED["real-taobao"][0]
    r = CliRunner().invoke(app, ["sources", "check", str(DATA / "sources" / "taobao.yaml"),
                                 "--page", str(DATA / e["page"]),
                                 "--page-url", "https://item.taobao.com" + e["path"]])
    assert r.exit_code == 0, r.output
    assert "valid (real-taobao" in r.output
    assert 'title: css:h3.tb-main-title::attr(data-title) -> ["Afs Jeep/战地吉普2016新款男士羽绒服' in r.output
    assert "price: text '268.00' -> 268.0" in r.output
    assert 'listing_id: url (listing_id_from_url) -> ["536962474726"]' in r.output
    r = CliRunner().invoke(app, ["sources", "check", str(DATA / "sources" / "taobao.yaml"), "--json",
                                 "--page", str(DATA / e["page"]),
                                 "--page-url", "https://item.taobao.com" + e["path"]])
    d = json.loads(r.output)
    assert d["listing"]["seller_name"] == "雨欣儿1986" and d["price"]["value"] == 268.0
    # a broken selector is visible, and a page that is no item page for the source exits 2
    bad = tmp_path / "bad.yaml"
    src = yaml.safe_load((DATA / "sources" / "taobao.yaml").read_text(encoding="utf-8"))
    src["detail"]["title"] = "css:h1.nope::text"
    bad.write_text(yaml.safe_dump(src, allow_unicode=True), encoding="utf-8")
    r = CliRunner().invoke(app, ["sources", "check", str(bad), "--page", str(DATA / e["page"])])
    assert r.exit_code == 2 and "no title found (selector 'css:h1.nope::text'" in r.output
    r = CliRunner().invoke(app, ["sources", "check", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 2
