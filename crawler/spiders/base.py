"""What both spiders share: the source's configuration, the run's recorder, failure naming."""
from __future__ import annotations

from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError
from twisted.internet.error import TimeoutError as TxTimeout

STATUS_KINDS = {429: "rate_limited", 403: "blocked", 401: "blocked", 404: "removed", 410: "removed"}


def failure_kind(failure) -> tuple[str, str]:
    """(kind, detail) for a failed request: rate_limited, blocked, removed, timeout, http_error."""
    if failure.check(HttpError):
        st = failure.value.response.status
        return STATUS_KINDS.get(st, "http_error"), f"HTTP {st} (after retries)" if st in (429, 500, 502, 503, 504) else f"HTTP {st}"
    if failure.check(TxTimeout, TCPTimedOutError, defer.TimeoutError) or "Timeout" in failure.type.__name__:
        return "timeout", f"no answer in time ({failure.getErrorMessage()})"
    from playwright.async_api import TimeoutError as PwTimeout
    if failure.check(PwTimeout):
        return "timeout", f"browser timed out: {failure.getErrorMessage()[:300]}"
    if failure.check(IgnoreRequest):
        msg = failure.getErrorMessage() or "request ignored"
        if "robots" in msg.lower():
            msg = "robots.txt disallows this URL"
        return "blocked", msg
    if failure.check(DNSLookupError, ConnectionRefusedError):
        return "http_error", f"cannot connect: {failure.getErrorMessage()}"
    return "http_error", f"{failure.type.__name__}: {failure.getErrorMessage()}"[:500]


class BaseSpider(scrapy.Spider):
    def __init__(self, source: dict, terms: list[str], known: dict, recorder, images, reach=None, **kw):
        super().__init__(name=source["name"], **kw)
        self.src, self.terms, self.known, self.rec, self.images = source, terms, known, recorder, images
        self.reach = reach  # crawler.session.Reach: cookies, proxy, storage state (never logged)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    def _closed(self, spider, reason):
        self.rec.counts["close_reason_" + str(reason)] += 1
        opened = self.crawler.stats.get_value("playwright/page_count")
        if opened is not None:
            self.rec.counts["browser_pages_opened"] = int(opened)

    def rebase(self, url: str) -> str:
        """A stored URL on this run's site: the sandbox starts on a new port every run."""
        if not self.src.get("sandbox"):
            return url
        u = urlsplit(url)
        return self.src["base_url"] + u.path + (f"?{u.query}" if u.query else "")

    @staticmethod
    def _has(response, spec: str) -> bool:
        if spec.startswith("xpath:"):
            return bool(response.xpath(spec[6:]))
        return bool(response.css(spec[4:] if spec.startswith("css:") else spec))

    def on_error(self, failure):
        req = failure.request
        kind, detail = failure_kind(failure)
        if kind == "removed" and req.meta.get("listing_id"):
            self.rec.removed(req.meta["listing_id"], req.url, detail)
        else:
            what = req.meta.get("what", "page")
            self.rec.failure(kind, req.url, f"{what}: {detail}")
