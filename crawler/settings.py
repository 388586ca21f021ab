"""Scrapy settings for one source, from its configuration (politeness, browser, middlewares)."""
from __future__ import annotations

from pathlib import Path

DISABLED_EXTENSIONS = {
    # Scrapy 2.19 starts an HTTP endpoint on localhost that executes code sent to it: never.
    "scrapy.extensions.remote_control.RemoteControl": None,
    "scrapy.extensions.telnet.TelnetConsole": None,
}


def redis_settings(redis_url: str, crawl_id: str, persist: bool = False, lease: float = 30.0) -> dict:
    """scrapy-redis: a shared frontier and dupefilter in Redis, so crawl processes on several hosts
    started with the same crawl id split one source's pages between them. The scheduler is
    ``crawler.frontier.SharedFrontier`` (leases: a stopped or killed process loses no page)."""
    prefix = f"markwatch:{crawl_id}:%(spider)s"
    return {
        "SCHEDULER": "crawler.frontier.SharedFrontier",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "REDIS_URL": redis_url,
        "SCHEDULER_QUEUE_KEY": prefix + ":requests",
        "SCHEDULER_DUPEFILTER_KEY": prefix + ":dupefilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_PERSIST": persist,
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
        "MARKWATCH_FRONTIER_LEASE": float(lease),
    }


def scrapy_settings(source: dict, data_dir: Path, log_level: str = "WARNING", redis: dict | None = None) -> dict:
    p = source["politeness"]
    s = {
        "BOT_NAME": "markwatch",
        "USER_AGENT": p["user_agent"],
        "ROBOTSTXT_OBEY": bool(p["obey_robots"]),
        "CONCURRENT_REQUESTS": int(p["total_concurrency"]),
        "CONCURRENT_REQUESTS_PER_DOMAIN": int(p["concurrency"]),
        "CONCURRENT_REQUESTS_PER_IP": 0,
        "MARKWATCH_HOST_CONCURRENCY": int(p["concurrency"]),
        "DOWNLOAD_DELAY": float(p["delay"]),
        "AUTOTHROTTLE_ENABLED": bool(p["autothrottle"]),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(p["autothrottle_target"]),
        "AUTOTHROTTLE_START_DELAY": max(float(p["delay"]), 0.5),
        "DOWNLOAD_TIMEOUT": float(p["timeout"]),
        "RETRY_ENABLED": True,
        "RETRY_TIMES": int(p["retries"]),
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 408, 522, 524],
        "MARKWATCH_MAX_RETRY_AFTER": float(p["max_retry_after"]),
        "MARKWATCH_ALLOWED_HOSTS": list(source["allowed_hosts"]),
        "MARKWATCH_BASE_URL": source.get("base_url") or None,
        "REMOTE_CONTROL_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "EXTENSIONS": dict(DISABLED_EXTENSIONS),
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.AllowedHostsMiddleware": 50,
            "crawler.session.ReachMiddleware": 400,  # per-source proxy, session cookies, headers
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.RetryAfterMiddleware": 550,
            "crawler.middlewares.HostConcurrencyMiddleware": 990,
        },
        "SPIDER_MIDDLEWARES": {},
        "ITEM_PIPELINES": {"crawler.pipelines.StorePipeline": 300},
        "CONCURRENT_ITEMS": 4,  # items per response (1 on detail pages); each costs an asyncio task
        "DOWNLOAD_MAXSIZE": 32 * 1024 * 1024,
        "COOKIES_ENABLED": True,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": log_level,
        "LOGSTATS_INTERVAL": 0,
        "MEMUSAGE_ENABLED": False,
        "DEPTH_PRIORITY": 0,
        "DNS_TIMEOUT": 10,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    }
    if redis and redis.get("url"):
        s.update(redis_settings(redis["url"], redis.get("crawl_id") or "default", bool(redis.get("persist")),
                                 float(redis.get("lease") or 30.0)))
    if source.get("browser"):
        from .browser import AbortOutside, launch_options

        s.update({
            "DOWNLOAD_HANDLERS": {"http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
                                  "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"},
            "PLAYWRIGHT_BROWSER_TYPE": "chromium",
            "PLAYWRIGHT_LAUNCH_OPTIONS": launch_options(data_dir),
            "PLAYWRIGHT_MAX_CONTEXTS": 2,
            "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": max(1, int(p["concurrency"])),
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": int(float(p["timeout"]) * 1000),
            "PLAYWRIGHT_ABORT_REQUEST": AbortOutside(list(source["allowed_hosts"]), source.get("base_url")),
            # contexts ("live", "detail") are created from request meta (crawler.browser.context_kwargs),
            # which carries the source's storage state and proxy: never put those in settings (logged)
        })
    return s
