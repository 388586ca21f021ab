"""Item pipeline: fetch a listing's images (allowed hosts only, stored once by SHA-256), validate
the listing, and write it to the store with its page state."""
from __future__ import annotations

import asyncio
import logging

import scrapy

from matcher.listing import ListingError, listing_from_dict

log = logging.getLogger("markwatch.crawler")


class StorePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self._inflight: dict[str, asyncio.Future] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def _download(self, url: str, referer: str):
        req = scrapy.Request(url, priority=10, headers={"Referer": referer},
                             meta={"what": "image", "dont_redirect": False})
        return await self.crawler.engine.download_async(req)

    async def fetch_image(self, url: str, referer: str) -> tuple[int, str] | None:
        spider = self.crawler.spider
        rec, images = spider.rec, spider.images
        k = images.known(url, sandbox=bool(spider.src.get("sandbox")))
        if k is not None:
            return (k[0], k[1]) if k[2] == "ok" else None
        fut = self._inflight.get(url)
        if fut is not None:  # the same photo on several listings: fetched once
            return await asyncio.shield(fut)
        fut = asyncio.get_running_loop().create_future()
        self._inflight[url] = fut
        result = None
        try:
            try:
                resp = await self._download(url, referer)
            except Exception as e:  # IgnoreRequest (host not allowed, robots), timeouts, connection errors
                from .spiders.base import failure_kind
                from twisted.python.failure import Failure

                kind, detail = failure_kind(Failure(e))
                rec.failure("image_error", url, f"image not fetched ({kind}): {detail}")
            else:
                rec.counts["images_fetched"] += 1
                if resp.status != 200:
                    rec.failure("image_error", url, f"image not fetched: HTTP {resp.status}")
                else:
                    prepared = await asyncio.to_thread(images.prepare, url, resp.body)  # decode + write off the reactor
                    iid, path, status, err = images.add(rec.s, url, resp.body, prepared)
                    if status == "ok":
                        result = (iid, path)
                        rec.counts["images_stored"] += 1
                    else:
                        rec.failure("image_error", url, f"image rejected: {err}")
        finally:
            self._inflight.pop(url, None)
            fut.set_result(result)
        return result

    async def process_item(self, item):
        spider = self.crawler.spider
        rec = spider.rec
        d = dict(item["record"])
        url = d.get("url", "")
        got = []
        if item.get("image_urls"):
            got = await asyncio.gather(*(self.fetch_image(u, url) for u in item["image_urls"]))
        ok = [g for g in got if g]
        d["images"] = [p for _, p in ok]
        try:
            lr = listing_from_dict(d, file=url or "<page>", line=0, base_dir=rec.data_dir)
        except ListingError as e:
            rec.failure("parse_error", url, f"{e.field}: {e.message}")
            return {"listing_id": d.get("listing_id"), "outcome": "bad"}
        raw_rel = item.get("raw_rel")
        if item.get("raw") is not None and raw_rel is None:
            raw_rel = rec.raw_path(lr.listing_id)
            await asyncio.to_thread(rec.write_raw, raw_rel, item["raw"])
        outcome = rec.store(lr, url, item.get("raw"), etag=item.get("etag"), last_modified=item.get("last_modified"),
                            status_code=item.get("status", 200), image_ids=[i for i, _ in ok],
                            raw_rel=raw_rel, screenshot_rel=item.get("screenshot_rel"),
                            page_extra=item.get("page_extra"))
        return {"listing_id": lr.listing_id, "outcome": outcome}
