"""Evidence capture as an attacker would try it: a product page that embeds (iframe, img, script,
fetch, websocket) and redirects browsers to a second, "internal" server on the same machine.

The internal server must receive no request during the crawl or the evidence visit, the
redirected listing's evidence must be `blocked` (never `ok`), and the other listing's evidence
keeps a WARC of exactly what the visit fetched."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from crawler.browser import find_chromium
from crawler.models import EvidenceCapture
from crawler.warc import read_warc
from store import models as m
from store.db import session_scope

from .evidence_servers import Site

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(find_chromium() is None, reason="needs Debian chromium (scripts/system-deps.sh)")]


def shop_source(base_url: str) -> dict:
    return {
        "name": "evil-shop", "platform": "evil-shop", "kind": "marketplace", "base_url": base_url,
        "search": {"url": "{base_url}/search?q={term}", "max_pages": 1},
        "results": {"item_links": "css:a.item::attr(href)"},
        "detail": {"title": "css:h1.title::text", "listing_id": "css:.id::text", "seller_id": "css:.seller::attr(data-id)",
                   "seller_name": "css:.seller::text", "seller_location": "css:.loc::text",
                   "images": "css:img::attr(src)"},
        "listing_id_from_url": "/item/([^/?#]+)",
        "politeness": {"delay": 0, "autothrottle": False, "obey_robots": False, "retries": 0, "timeout": 10},
    }


@pytest.fixture
def site():
    s = Site()
    yield s
    s.stop()


@pytest.fixture
def pass_settings(settings, monkeypatch, tmp_path):
    from .conftest import demo_pass_settings

    return demo_pass_settings(monkeypatch, tmp_path, LOGO_ENABLED="0")


def test_internal_server_gets_nothing_and_redirected_evidence_is_blocked(pass_settings, db, site):
    from pipeline.passes import run_pass

    res = run_pass(pass_settings, db, extra_sources=[shop_source(site.url)])
    assert res.status in ("ok", "partial"), res.error
    assert any(p.startswith("/item/") for p in site.shop_hits), "the shop was crawled"
    assert site.internal_hits == [], f"the internal server was reached: {site.internal_hits}"

    ev = pass_settings.resolved_data_dir / "evidence"
    with session_scope(db) as s:
        caps = {s.get(m.Listing, c.listing_pk).listing_id: c for c in s.scalars(select(EvidenceCapture))}
        assert set(caps) == {"r1", "e2", "j3"}, "the listings became leads (高仿茅台) and got evidence"
        assert caps["j3"].status == "blocked" and f"{site.internal.url}/js-nav" in caps["j3"].detail
        blocked, embedded = caps["r1"], caps["e2"]
        assert blocked.status == "blocked"
        assert f"{site.internal.url}/admin" in blocked.detail
        d = ev / blocked.directory
        names = {p.name for p in d.iterdir()}
        assert not {"screenshot.jpg", "visit.html"} & names, "nothing from the internal page is kept"
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        assert meta["status"] == "blocked" and meta["visit"]["redirects"][0]["to"].startswith(site.internal.url)
        # the redirect hop that led there is itself kept in the WARC (status 302, Location)
        recs = read_warc(d / "capture.warc.gz")
        assert [r["status"] for r in recs if r["type"] == "response"] == ["302"]

        assert embedded.status == "partial", embedded.detail  # blocked subresources are named
        d2 = ev / embedded.directory
        meta2 = json.loads((d2 / "meta.json").read_text(encoding="utf-8"))
        refused = {r["resource_type"] for r in meta2["visit"]["refused"]}
        assert {"image", "document", "script", "fetch", "websocket"} <= refused, refused
        kinds = {a["kind"]: a for a in meta2["artefacts"]}
        assert {"html", "screenshot", "warc", "image"} <= set(kinds)
        recs2 = read_warc(d2 / "capture.warc.gz")
        uris = [r["uri"] for r in recs2 if r["type"] == "response"]
        assert f"{site.url}/item/e2" in uris and f"{site.url}/img/e2.png" in uris
        assert all(r["ip"] == "127.0.0.1" for r in recs2 if r["type"] in ("request", "response"))
        assert not any(site.internal.url in (u or "") for u in uris)
        # each artefact carries its own true time: the crawl's HTML is older than the visit
        arts = meta2["artefacts"]
        crawl_html = next(a for a in arts if a["kind"] == "html" and a["time_is"] == "crawl fetch")
        shot = next(a for a in arts if a["kind"] == "screenshot")
        assert crawl_html["captured_at"] < shot["captured_at"]

    from pipeline.cli import app
    r = CliRunner().invoke(app, ["evidence", "verify"])
    assert r.exit_code == 0, r.output
    assert site.internal_hits == []
