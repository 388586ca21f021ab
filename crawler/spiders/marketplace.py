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

from ..parse import all_text, extract_detail, first, not_html
from .base import BaseSpider

DETAIL_STATUSES = [304, 403, 404, 410]


class MarketplaceSpider(BaseSpider):
    name = "marketplace"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.id_re = re.compile(self.src["listing_id_from_url"]) if self.src.get("listing_id_from_url") else None
        self.shops_seen: set[str] = set()

    def page_meta(self, detail: bool = False) -> dict:
        """Extra request meta: for `browser: true` sources every page is rendered in Chromium
        (crawler.browser.detail_page_meta); detail pages wait for `detail.wait_for`."""
        if not self.src.get("browser"):
            return {}
        from ..browser import detail_page_meta

        d = self.src.get("detail") or {}
        wait = d.get("wait_for") if detail else None
        if wait and wait.startswith("css:"):  # Playwright wants a bare CSS selector
            wait = wait[4:]
        return detail_page_meta(wait, float(d.get("wait_timeout") or 15),
                                reach=self.reach, user_agent=self.src["politeness"].get("user_agent"))

    # -- requests ---------------------------------------------------------------------------
    async def start(self):
        base = self.src["base_url"]
        search = self.src.get("search")
        if search:
            for term in self.terms:
                url = search["url"].format(base_url=base, term=quote(term))
                yield scrapy.Request(url, callback=self.parse_results, errback=self.on_error,
                                     meta={"page_no": 1, "max_pages": search["max_pages"], "what": "search",
                                           **self.page_meta()},
                                     cb_kwargs={})
        for url in self.src.get("start_urls") or []:
            yield scrapy.Request(url.format(base_url=base), callback=self.parse_results, errback=self.on_error,
                                 meta={"page_no": 1, "max_pages": 1000, "what": "start", **self.page_meta()})
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
        if k is not None and k.active and not self.src.get("browser"):
            if k.etag:
                headers["If-None-Match"] = k.etag
            if k.last_modified:
                headers["If-Modified-Since"] = k.last_modified
        return scrapy.Request(url, callback=self.parse_detail, errback=self.on_error, headers=headers,
                              priority=priority, meta={"listing_id": lid, "what": "detail",
                                                       "handle_httpstatus_list": DETAIL_STATUSES,
                                                       **self.page_meta(detail=True)})

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
                                        "page_no": page_no + 1, "max_pages": max_pages, **self.page_meta()})

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
        if det.get("removed") and self._has(response, det["removed"]):
            if lid:
                self.rec.removed(lid, response.url, "the page says the item was taken down (detect.removed)")
            else:
                self.rec.failure("removed", response.url, "the page says the item was taken down (detect.removed)")
            return
        body_sha = hashlib.sha256(response.body).hexdigest()
        k = self.known.get(lid) if lid else None
        if k is not None and k.active and k.body_sha256 == body_sha:
            self.rec.unchanged(lid, "same_content")
            return
        what = not_html(response.body, (response.headers.get(b"Content-Type") or b"").decode("latin-1"))
        if what is not None:
            self.rec.failure("parse_error", response.url, f"not an HTML page: {what}")
            return
        d = self.src["detail"]
        try:
            item = self.extract(response, d, lid)
        except ValueError as e:
            self.rec.failure("parse_error", response.url, str(e))
            return
        except Exception as e:  # an unexpected page shape: named, and the crawl goes on
            self.rec.failure("parse_error", response.url, f"{type(e).__name__}: {e}"[:500])
            return
        yield item
        shop = first(response, d.get("shop_link"))
        shops = self.src.get("shops") or {}
        if shop and shops.get("follow"):
            url = response.urljoin(shop)
            if url not in self.shops_seen and len(self.shops_seen) < shops.get("max_shops", 200):
                self.shops_seen.add(url)
                yield scrapy.Request(url, callback=self.parse_results, errback=self.on_error, priority=-2,
                                     meta={"page_no": 1, "max_pages": shops.get("max_pages", 2), "what": "shop",
                                           **self.page_meta()})

    def extract(self, response, d: dict, lid: str | None) -> dict:
        """The item for one detail page (crawler.parse.extract_detail does the reading). A listing
        with an id and a title is always kept: a missing or unreadable price is stored empty and
        becomes a named warning (price_missing, price_on_request, price_unreadable)."""
        ex = extract_detail(response, self.src, lid)
        f = ex.fields
        for kind, detail in ex.warnings:
            self.rec.warning(kind, response.url, f"listing {f['listing_id']}: {detail}")
        return {
            "kind": "listing",
            "record": {
                "platform": self.src["platform"], "listing_id": f["listing_id"], "url": response.url,
                "kind": "listing", "title": f["title"], "description": f["description"],
                "price": f["price"], "currency": f["currency"],
                "seller_id": f["seller_id"], "seller_name": f["seller_name"],
                "seller_location": f["seller_location"], "category": f["category"], "origin": f["origin"],
                "sales": f["sales"],
                "captured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            },
            "image_urls": f["images"][: self.src.get("max_images", 6)] if self.src.get("fetch_images", True) else [],
            "raw": response.body,
            "etag": (response.headers.get(b"ETag") or b"").decode("latin-1") or None,
            "last_modified": (response.headers.get(b"Last-Modified") or b"").decode("latin-1") or None,
            "status": response.status,
            "page_extra": {"price_text": (ex.price.text or None) and ex.price.text[:500],
                           "price_high": ex.price.high, "warnings": [list(w) for w in ex.warnings] or None},
        }
