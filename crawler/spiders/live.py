"""Live-commerce rooms rendered in Chromium (scrapy-playwright).

The room's product cards (小黄车) are loaded by JavaScript after the page loads: each room page is
rendered and the spider waits for the cards (or the room's "ended" notice) with a selector, never
a fixed sleep. A full-page screenshot is taken at crawl time (rooms end; the screenshot is what
the evidence stage fixes). Every product card becomes a listing of kind ``live`` carrying the
room title, host and on-screen caption. Pages are closed in the callback and in the errback.
"""
from __future__ import annotations

from datetime import datetime, timezone

import scrapy
from scrapy_playwright.page import PageMethod

from ..browser import context_kwargs
from ..parse import all_text, first, number, parse_price, select
from .base import BaseSpider


class LiveSpider(BaseSpider):
    name = "live"

    async def start(self):
        live = self.src["live"]
        yield scrapy.Request(live["index_url"].format(base_url=self.src["base_url"]), callback=self.parse_index,
                             errback=self.on_error, meta={"what": "live index"})

    def parse_index(self, response):
        """Rooms are visited by a few browser tabs, each going from room to room (opening a tab
        per room costs more than rendering it); a tab is closed when no room is left for it."""
        self.rec.page()
        live = self.src["live"]
        links = all_text(response, live["room_links"])[: live.get("max_rooms", 500)]
        seen = set()
        self.pending = []
        for href in links:
            u = response.urljoin(href)
            if u not in seen:
                seen.add(u)
                self.pending.append(u)
        self.pending.reverse()  # pop() from the end keeps the site's order
        tabs = max(1, int(self.src["politeness"]["concurrency"]))
        for _ in range(min(tabs, len(self.pending))):
            yield self.room_request(self.pending.pop())

    def room_request(self, url: str, page=None) -> scrapy.Request:
        live = self.src["live"]
        timeout_ms = int(live.get("wait_timeout", 15) * 1000)
        meta = {
            "what": "live room", "playwright": True, "playwright_include_page": True,
            "playwright_context": "live",  # created by the first room with the source's session and proxy
            "playwright_context_kwargs": context_kwargs(self.reach, viewport=(1100, 900)),
            "playwright_page_goto_kwargs": {"wait_until": "domcontentloaded", "timeout": timeout_ms},
            "playwright_page_methods": [PageMethod("wait_for_selector", live["wait_for"], state="attached",
                                                   timeout=timeout_ms)],
        }
        if page is not None:
            meta["playwright_page"] = page  # the same tab goes on to the next room
        return scrapy.Request(url, callback=self.parse_room, errback=self.room_error, dont_filter=True, meta=meta)

    async def _release(self, page):
        """Hand the tab to the next room, or close it; returns the next request (or None)."""
        if page is not None and not page.is_closed() and getattr(self, "pending", None):
            return self.room_request(self.pending.pop(), page)
        if page is not None:
            await page.close()
            self.rec.counts["browser_pages_closed"] += 1
        if getattr(self, "pending", None):  # no usable tab: a new one
            return self.room_request(self.pending.pop())
        return None

    async def parse_room(self, response):
        page = response.meta.get("playwright_page")
        live = self.src["live"]
        shot = None
        try:
            if page is not None:
                if live.get("screenshot", True):
                    # the product photos are part of what is fixed: wait until they are decoded
                    await page.wait_for_load_state("load")
                    shot = await page.screenshot(full_page=True, type="jpeg", quality=88)
                html = await page.content()
                response = response.replace(body=html.encode("utf-8"))
        except Exception as e:  # the tab broke while being read: a named failure, a fresh tab goes on
            await page.close()
            self.rec.counts["browser_pages_closed"] += 1
            kind = "timeout" if "Timeout" in type(e).__name__ else "http_error"
            self.rec.failure(kind, response.url, f"live room: {type(e).__name__}: {e}"[:500])
            nxt = await self._release(None)
            if nxt is not None:
                yield nxt
            return
        nxt = await self._release(page)
        if nxt is not None:
            yield nxt
        self.rec.page()
        self.rec.counts["live_rooms"] += 1
        room_url = response.url
        room_id = first(response, live.get("room_id")) or room_url.rstrip("/").rsplit("/", 1)[-1]
        if self._has(response, live["offline"]):
            self.rec.counts["live_offline"] += 1
            for lid in self.rec.listings_at_url(room_url):
                self.rec.removed(lid, room_url, "live room ended (offline)")
            return
        title = first(response, live["room_title"])
        host_name = first(response, live["host_name"])
        host_id = first(response, live.get("host_id")) or host_name
        caption = " ".join(all_text(response, live.get("caption")))
        cards = select(response, live["card"]) or []
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        raw = response.body
        raw_rel = self.rec.raw_path(room_id)
        self.rec.write_raw(raw_rel, raw)
        shot_rel = None
        if shot:
            shot_rel = self.rec.raw_path(room_id, "jpg")
            self.rec.write_raw(shot_rel, shot)
        seen = []
        for card in cards:
            cid = first(card, live["card_id"])
            ctitle = first(card, live["card_title"])
            if not cid or not ctitle:
                self.rec.failure("parse_error", room_url, f"a product card without id or title in room {room_id}")
                continue
            lid = cid if cid.startswith(room_id) else f"{room_id}-{cid}"
            seen.append(lid)
            sales = number(first(card, live.get("card_sales")))
            price = parse_price(first(card, live.get("card_price")))
            if live.get("card_price") and price.value is None:  # kept, with a named warning
                self.rec.warning(price.warning or "price_missing", room_url,
                                 f"product card {lid} in room {room_id}: no price ({price.text[:80]!r})")
            img = first(card, live.get("card_image"))
            yield {
                "kind": "live",
                "record": {
                    "platform": self.src["platform"], "listing_id": lid, "url": room_url, "kind": "live",
                    "title": ctitle, "description": title, "caption": caption,
                    "price": price.value, "currency": self.src.get("currency", "CNY"),
                    "seller_id": host_id, "seller_name": host_name,
                    "seller_location": first(response, live.get("host_location")),
                    "category": first(card, live.get("card_category")),
                    "origin": first(card, live.get("card_origin")) or None,
                    "sales": int(sales) if sales is not None else None, "captured_at": now,
                },
                "image_urls": [response.urljoin(img)] if img and self.src.get("fetch_images", True) else [],
                "raw": raw, "raw_rel": raw_rel, "screenshot_rel": str(shot_rel) if shot_rel else None,
                "status": 200,
            }
        if not cards:
            self.rec.failure("parse_error", room_url, f"room {room_id} is live but shows no product cards")
        gone = set(self.rec.listings_at_url(room_url)) - set(seen)
        for lid in gone:  # taken off the cart since the last crawl
            self.rec.removed(lid, room_url, "product no longer in the live room's cart")

    async def room_error(self, failure):
        page = failure.request.meta.get("playwright_page")
        if page is not None:
            await page.close()
            self.rec.counts["browser_pages_closed"] += 1
        self.on_error(failure)
        nxt = await self._release(None)
        if nxt is not None:
            yield nxt
