"""A shop that shows its product pages only to a logged-in account: the crawl sends the source's
session cookie, and so must the evidence visit, or the screenshot and the WARC fix a login page
instead of the infringing listing. The session secret never lands in the evidence files."""
from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from crawler.browser import find_chromium
from crawler.models import EvidenceCapture
from crawler.warc import read_warc
from store import models as m
from store.db import session_scope

from .test_evidence_isolation import pass_settings  # noqa: F401  (the same pass: OCR and logos off)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(find_chromium() is None, reason="needs Debian chromium (scripts/system-deps.sh)")]

SECRET = "sid-7f3a9c-not-for-evidence"
TITLE = "高仿茅台酒 53度 飞天 500ml"


@pytest.fixture
def members_only_shop():
    class Shop(BaseHTTPRequestHandler):
        def _send(self, body: str):
            b = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.write(b)

        def do_GET(self):
            if self.path.startswith("/search"):
                return self._send('<html><body><a class="item" href="/item/k1">k1</a></body></html>')
            if f"sid={SECRET}" not in (self.headers.get("Cookie") or ""):
                return self._send("<html><body><h1 class='title'>请登录后查看商品</h1></body></html>")
            return self._send(f"<html><head><title>{TITLE}</title></head><body><h1 class='title'>{TITLE}</h1>"
                              "<span class='id'>k1</span><span class='seller' data-id='s9'>会员小店</span>"
                              "<span class='price'>¥99</span></body></html>")

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_evidence_visit_logs_in_like_the_crawl_and_keeps_no_secret(pass_settings, db, members_only_shop,
                                                                     monkeypatch):
    from pipeline.passes import run_pass

    monkeypatch.setenv("SHOP_COOKIE", f"sid={SECRET}")  # the source names the variable, never the value
    src = {"name": "members-shop", "platform": "members-shop", "kind": "marketplace", "base_url": members_only_shop,
           "search": {"url": "{base_url}/search?q={term}", "max_pages": 1},
           "results": {"item_links": "css:a.item::attr(href)"},
           "detail": {"title": "css:h1.title::text", "listing_id": "css:.id::text",
                      "seller_id": "css:.seller::attr(data-id)", "seller_name": "css:.seller::text"},
           "listing_id_from_url": "/item/([^/?#]+)",
           "session": {"cookies_env": "SHOP_COOKIE"},
           "politeness": {"delay": 0, "autothrottle": False, "obey_robots": False, "retries": 0, "timeout": 10}}
    res = run_pass(pass_settings, db, extra_sources=[src])
    assert res.status in ("ok", "partial"), res.error
    ev = pass_settings.resolved_data_dir / "evidence"
    with session_scope(db) as s:
        caps = list(s.scalars(select(EvidenceCapture)))
        assert [s.get(m.Listing, c.listing_pk).listing_id for c in caps] == ["k1"]
        d = ev / caps[0].directory
    meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
    assert meta["visit"]["status"] == "ok", meta["visit"]
    visit = (d / "visit.html").read_text(encoding="utf-8")
    assert TITLE in visit and "请登录" not in visit  # the logged-in page, as the crawl saw it
    recs = read_warc(d / "capture.warc.gz")
    assert any(r["type"] == "response" and r["uri"].endswith("/item/k1") for r in recs)
    for root, _, files in os.walk(d):  # the session secret is in no evidence file (WARC redacts Cookie)
        for f in files:
            data = open(os.path.join(root, f), "rb").read()
            if f.endswith(".gz"):
                import gzip
                data = gzip.decompress(data)
            assert SECRET.encode() not in data, f
