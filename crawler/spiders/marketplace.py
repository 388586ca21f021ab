"""A generic, configuration-driven marketplace spider.

Searches each watchlist term (paginated results), follows listing detail pages and, if the source
says so, the sellers' shop pages; re-visits listings it stored before (price/sales history,
removals). Known pages are fetched conditionally (If-None-Match / If-Modified-Since) and an
unchanged body (same SHA-256) is not parsed again.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from urllib.parse import quote

import scrapy
from ..parse import all_text, first, number
from .base import BaseSpider

DETAIL_STATUSES = [304, 403, 404, 410]


class MarketplaceSpider(BaseSpider):
    name = "marketplace"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.id_re = re.compile(self.src["listing_id_from_url"]) if self.src.get("listing_id_from_url") else None
        self.shops_seen: set[str] = set()

    # -- requests ---------------------------------------------------------------------------
    async def start(self):
        base = self.src["base_url"]
        search = self.src.get("search")
        if search:
            for term in self.terms:
                url = search["url"].format(base_url=base, term=quote(term))
                yield scrapy.Request(url, callback=self.parse_results, errback=self.on_error,
                                     meta={"page_no": 1, "max_pages": search["max_pages"], "what": "search"},
                                     cb_kwargs={})
        for url in self.src.get("start_urls") or []:
            yield scrapy.Request(url.format(base_url=base), callback=self.parse_results, errback=self.on_error,
                                 meta={"page_no": 1, "max_pages": 1000, "what": "start"})
        if self.src.get("revisit_known", True):
            for k in self.known.values():
                if k.active:
                    yield self.detail_request(self.rebase(k.url), k.listing_id, priority=-1)

    def listing_id_of(self, url: str) -> str | None:
        if self.id_re:
            mm = self.id_re.search(url)
            if mm:
                return mm.group(1)
        return None

    def detail_request(self, url: str, listing_id: str | None = None, priority: int = 0) -> scrapy.Request:
        lid = listing_id or self.listing_id_of(url)
        headers = {}
        k = self.known.get(lid) if lid else None
        if k is not None and k.active:
            if k.etag:
                headers["If-None-Match"] = k.etag
            if k.last_modified:
                headers["If-Modified-Since"] = k.last_modified
        return scrapy.Request(url, callback=self.parse_detail, errback=self.on_error, headers=headers,
                              priority=priority, meta={"listing_id": lid, "what": "detail",
                                                       "handle_httpstatus_list": DETAIL_STATUSES})

    # -- list pages -------------------------------------------------------------------------
    def parse_results(self, response):
        self.rec.page()
        sel = self.src["results"]
        links = all_text(response, sel["item_links"])
        for href in links:
            yield self.detail_request(response.urljoin(href), priority=1)
        page_no, max_pages = response.meta.get("page_no", 1), response.meta.get("max_pages", 1)
        nxt = first(response, sel.get("next_page"))
        if nxt and page_no < max_pages and links:
            yield response.follow(nxt, callback=self.parse_results, errback=self.on_error,
                                  meta={**{k: response.meta[k] for k in ("what",) if k in response.meta},
                                        "page_no": page_no + 1, "max_pages": max_pages})

    # -- detail pages -----------------------------------------------------------------------
    def parse_detail(self, response):
        self.rec.page()
        lid = response.meta.get("listing_id") or self.listing_id_of(response.url)
        st = response.status
        if st == 304 and lid:
            self.rec.unchanged(lid, "not_modified")
            return
        if st in (404, 410):
            if lid:
                self.rec.removed(lid, response.url, f"HTTP {st}: listing no longer on the site")
            else:
                self.rec.failure("removed", response.url, f"HTTP {st}")
            return
        if st == 403:
            self.rec.failure("blocked", response.url, "HTTP 403 Forbidden")
            return
        det = self.src.get("detect") or {}
        if det.get("captcha") and self._has(response, det["captcha"]):
            self.rec.failure("captcha", response.url, "the site answered with a captcha page")
            return
        if det.get("blocked") and self._has(response, det["blocked"]):
            self.rec.failure("blocked", response.url, "the site answered with an access-denied page")
            return
        body_sha = hashlib.sha256(response.body).hexdigest()
        k = self.known.get(lid) if lid else None
        if k is not None and k.active and k.body_sha256 == body_sha:
            self.rec.unchanged(lid, "same_content")
            return
        d = self.src["detail"]
        try:
            item = self.extract(response, d, lid)
        except ValueError as e:
            self.rec.failure("parse_error", response.url, str(e))
            return
        yield item
        shop = first(response, d.get("shop_link"))
        shops = self.src.get("shops") or {}
        if shop and shops.get("follow"):
            url = response.urljoin(shop)
            if url not in self.shops_seen and len(self.shops_seen) < shops.get("max_shops", 200):
                self.shops_seen.add(url)
                yield scrapy.Request(url, callback=self.parse_results, errback=self.on_error, priority=-2,
                                     meta={"page_no": 1, "max_pages": shops.get("max_pages", 2), "what": "shop"})

    def extract(self, response, d: dict, lid: str | None) -> dict:
        title = first(response, d["title"])
        if not title:
            raise ValueError(f"no title found (selector {d['title']!r}); the page may be broken or its layout changed")
        lid = first(response, d.get("listing_id")) or lid
        if not lid:
            raise ValueError("no listing id found in the page or the URL")
        price_txt = first(response, d.get("price"))
        price = number(price_txt)
        if d.get("price") and price is None:
            raise ValueError(f"no price found (selector {d['price']!r})")
        sales = number(first(response, d.get("sales")))
        cats = all_text(response, d.get("category"))
        images = [response.urljoin(u) for u in all_text(response, d.get("images"))]
        return {
            "kind": "listing",
            "record": {
                "platform": self.src["platform"], "listing_id": lid, "url": response.url, "kind": "listing",
                "title": title, "description": " ".join(all_text(response, d.get("description"))),
                "price": price, "currency": self.src.get("currency", "CNY"),
                "seller_id": first(response, d.get("seller_id")), "seller_name": first(response, d.get("seller_name")),
                "seller_location": first(response, d.get("seller_location")),
                "category": "/".join(cats), "origin": first(response, d.get("origin")) or None,
                "sales": int(sales) if sales is not None else None,
                "captured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            },
            "image_urls": images[: self.src.get("max_images", 6)] if self.src.get("fetch_images", True) else [],
            "raw": response.body,
            "etag": (response.headers.get(b"ETag") or b"").decode("latin-1") or None,
            "last_modified": (response.headers.get(b"Last-Modified") or b"").decode("latin-1") or None,
            "status": response.status,
        }
