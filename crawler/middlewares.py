"""Downloader middlewares that make politeness hold.

* :class:`AllowedHostsMiddleware` (early): requests and image fetches only to the source's
  allowed hosts.
* :class:`HostConcurrencyMiddleware` (last before the download handler): at most
  ``MARKWATCH_HOST_CONCURRENCY`` requests in flight per host, whatever the downloader does.
  Since Scrapy 2.14 the downloader can start more than ``CONCURRENT_REQUESTS_PER_DOMAIN``
  downloads to one host when ``DOWNLOAD_DELAY`` is 0 (slot bookkeeping happens in a task that
  has not run yet when the next request is dequeued); a per-host semaphore held from here until
  the response (or error) comes back makes the limit a guarantee. It also pauses a host that
  answered 429/503 with Retry-After.
* :class:`RetryAfterMiddleware`: Scrapy's retry, but honouring Retry-After (capped) by pausing
  the host, and counting rate-limit responses.
"""
from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured

log = logging.getLogger("markwatch.crawler")
HELD = "_mw_host_slot"


def host_of(url: str) -> str:
    u = urlsplit(url)
    return (u.netloc or "").lower()


class AllowedHostsMiddleware:
    """Refuses any request (pages, images, redirects) the allowed-host rule (crawler.hosts) refuses.

    Redirects pass through here again (RedirectMiddleware re-schedules them), so a redirect to an
    internal address is refused too."""

    def __init__(self, hosts: list[str], base_url: str | None = None):
        from .hosts import HostRule

        self.rule = HostRule(hosts, base_url)

    @classmethod
    def from_crawler(cls, crawler):
        hosts = crawler.settings.getlist("MARKWATCH_ALLOWED_HOSTS")
        base = crawler.settings.get("MARKWATCH_BASE_URL")
        if not hosts and not base:
            raise NotConfigured
        return cls(hosts, base)

    def allowed(self, url: str) -> bool:
        return self.rule.allowed(url)

    def process_request(self, request):
        why = self.rule.check(request.url)
        if why:
            log.warning("refused: %s", why)
            raise IgnoreRequest(f"refused by the allowed-host rule: {why}")
        return None

    def process_response(self, request, response):
        """A browser-rendered page (scrapy-playwright) follows redirects inside Chromium, where
        the abort hook does not see each hop: a page that ended outside the allowed hosts is dropped
        here, never parsed, stored or shot."""
        why = self.rule.check(response.url) if response.url != request.url else None
        if why:
            log.warning("dropped a page that ended outside the allowed hosts: %s", why)
            raise IgnoreRequest(f"page ended outside the allowed hosts: {why}")
        return response


class HostConcurrencyMiddleware:
    def __init__(self, limit: int, stats=None):
        self.limit = max(1, limit)
        self.sems: dict[str, asyncio.Semaphore] = {}
        self.paused_until: dict[str, float] = {}
        self.in_flight: dict[str, int] = {}
        self.max_in_flight = 0
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        lim = crawler.settings.getint("MARKWATCH_HOST_CONCURRENCY") or crawler.settings.getint(
            "CONCURRENT_REQUESTS_PER_DOMAIN", 8)
        mw = cls(lim, crawler.stats)
        crawler.markwatch_host_limiter = mw
        return mw

    def pause(self, host: str, seconds: float) -> None:
        self.paused_until[host] = max(self.paused_until.get(host, 0.0), time.monotonic() + seconds)

    async def process_request(self, request):
        host = host_of(request.url)
        while True:
            wait = self.paused_until.get(host, 0.0) - time.monotonic()
            if wait <= 0:
                break
            await asyncio.sleep(min(wait, 5.0))
        sem = self.sems.get(host)
        if sem is None:
            sem = self.sems[host] = asyncio.Semaphore(self.limit)
        await sem.acquire()
        request.meta[HELD] = host
        n = self.in_flight[host] = self.in_flight.get(host, 0) + 1
        if n > self.max_in_flight:
            self.max_in_flight = n
            if self.stats:
                self.stats.set_value("markwatch/max_in_flight_per_host", n)
        return None

    def _release(self, request) -> None:
        host = request.meta.pop(HELD, None)
        if host is not None:
            self.in_flight[host] -= 1
            self.sems[host].release()

    def process_response(self, request, response):
        self._release(request)
        return response

    def process_exception(self, request, exception):
        self._release(request)
        return None


def retry_after_seconds(value: bytes | str | None, cap: float) -> float | None:
    if not value:
        return None
    v = value.decode("latin-1") if isinstance(value, bytes) else value
    v = v.strip()
    try:
        secs = float(v)
    except ValueError:
        try:
            secs = parsedate_to_datetime(v).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(secs, cap))


class RetryAfterMiddleware(RetryMiddleware):
    """RetryMiddleware that waits what the site asked for (429/503 Retry-After) before retrying."""

    def __init__(self, settings):
        super().__init__(settings)
        self.cap = settings.getfloat("MARKWATCH_MAX_RETRY_AFTER", 60.0)
        self.limiter: HostConcurrencyMiddleware | None = None

    @classmethod
    def from_crawler(cls, crawler):
        mw = super().from_crawler(crawler)
        mw.crawler = crawler
        return mw

    def process_response(self, request, response):
        if response.status in (429, 503) and not request.meta.get("dont_retry", False):
            secs = retry_after_seconds(response.headers.get(b"Retry-After"), self.cap)
            stats = self.crawler.stats
            stats.inc_value("markwatch/rate_limited_responses")
            if secs:
                limiter = getattr(self.crawler, "markwatch_host_limiter", None)
                if limiter is not None:
                    limiter.pause(host_of(request.url), secs)
                log.info("%s answered %s; waiting %.1fs (Retry-After) before more requests to it",
                         host_of(request.url), response.status, secs)
        return super().process_response(request, response)
