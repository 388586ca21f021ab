"""Crawl sources are configuration: one YAML file per source in ``config/sources/``.

A source names its platform, its kind (``marketplace`` or ``live``), where it lives (``base_url``,
or ``sandbox: true`` for the bundled sandbox site that a pass starts itself on a free port), the
hosts requests and image fetches may go to, how to build search URLs from watchlist terms, the
selectors for list and detail pages, whether pages need a browser, and politeness. See
``config/sources/sandbox-mall.yaml`` for a commented example and docs/crawling.md for every key.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class SourceError(ValueError):
    pass


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Politeness(_M):
    concurrency: int = Field(default=2, ge=1, le=256, description="most requests in flight per host")
    total_concurrency: int = Field(default=16, ge=1, le=1024)
    delay: float = Field(default=0.5, ge=0, description="seconds between requests to one host")
    autothrottle: bool = True
    autothrottle_target: float = Field(default=2.0, gt=0)
    obey_robots: bool = True
    timeout: float = Field(default=20.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    max_retry_after: float = Field(default=60.0, ge=0, description="longest Retry-After honoured (seconds)")
    user_agent: str = "markwatch/0.1 (+IP-enforcement monitoring)"


class SandboxOptions(_M):
    seed: int = 7
    listings: int = Field(default=3000, ge=10)
    rooms: int = Field(default=40, ge=1)
    slow_seconds: float = 2.0


class Search(_M):
    url: str = Field(description="template with {base_url} and {term} (URL-quoted)")
    max_pages: int = Field(default=30, ge=1)


class ListSelectors(_M):
    item_links: str
    next_page: str | None = None


class DetailSelectors(_M):
    title: str
    listing_id: str | None = None
    price: str | None = None
    sales: str | None = None
    seller_id: str | None = None
    seller_name: str | None = None
    seller_location: str | None = None
    origin: str | None = None
    category: str | None = None
    images: str | None = None
    description: str | None = None
    shop_link: str | None = None


class Detect(_M):
    captcha: str | None = None
    blocked: str | None = None


class Shops(_M):
    follow: bool = False
    max_pages: int = Field(default=2, ge=1)
    max_shops: int = Field(default=200, ge=0)


class LiveRooms(_M):
    index_url: str = Field(description="page listing the rooms: template with {base_url}")
    room_links: str
    wait_for: str = Field(description="CSS selector present once the product cards (or the offline notice) rendered")
    wait_timeout: float = 15.0
    room_id: str | None = None
    room_title: str
    host_id: str | None = None
    host_name: str
    host_location: str | None = None
    caption: str | None = None
    offline: str = Field(description="selector present when the room has ended")
    card: str = Field(description="selector of one product card")
    card_id: str
    card_title: str
    card_price: str | None = None
    card_sales: str | None = None
    card_image: str | None = None
    card_category: str | None = None
    card_origin: str | None = None
    screenshot: bool = True
    max_rooms: int = Field(default=500, ge=1)


class Source(_M):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    platform: str
    kind: Literal["marketplace", "live"] = "marketplace"
    enabled: bool = True
    base_url: str | None = None
    sandbox: bool | SandboxOptions = False
    allowed_hosts: list[str] = Field(default_factory=list)
    browser: bool = False
    search: Search | None = None
    start_urls: list[str] = Field(default_factory=list)
    results: ListSelectors | None = None
    detail: DetailSelectors | None = None
    listing_id_from_url: str | None = Field(default=None, description="regex with one group, applied to the URL")
    detect: Detect = Field(default_factory=Detect)
    shops: Shops = Field(default_factory=Shops)
    live: LiveRooms | None = None
    revisit_known: bool = True
    fetch_images: bool = True
    max_images: int = Field(default=6, ge=0)
    politeness: Politeness = Field(default_factory=Politeness)
    currency: str = "CNY"
    file: str | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _check(self):
        if not self.sandbox and not self.base_url:
            raise ValueError("needs base_url, or sandbox: true")
        if self.kind == "marketplace" and (self.detail is None or (self.results is None and not self.start_urls)):
            raise ValueError("a marketplace source needs 'detail' and 'results' selectors")
        if self.kind == "live" and self.live is None:
            raise ValueError("a live source needs a 'live' section")
        return self

    @property
    def sandbox_options(self) -> SandboxOptions | None:
        if self.sandbox is False:
            return None
        return SandboxOptions() if self.sandbox is True else self.sandbox

    def resolved(self, base_url: str | None = None) -> dict:
        """A plain dict for the crawl subprocess, with base_url filled in and hosts allowed."""
        d = self.model_dump()
        d["base_url"] = (base_url or self.base_url or "").rstrip("/")
        hosts = set(self.allowed_hosts)
        if d["base_url"]:  # host:port when the base URL names a port (crawler.hosts: only that port)
            u = urlsplit(d["base_url"])
            hosts.add((u.hostname or "") + (f":{u.port}" if u.port and u.hostname else ""))
        d["allowed_hosts"] = sorted(h for h in hosts if h)
        return d


def parse_source(data: Any, where: str) -> Source:
    if not isinstance(data, dict):
        raise SourceError(f"{where}: a source must be a mapping")
    try:
        src = Source(**data)
    except ValidationError as e:
        errs = "; ".join((f"{'.'.join(str(x) for x in er['loc'])}: " if er["loc"] else "") + er["msg"]
                         for er in e.errors())
        raise SourceError(f"{where}: {errs}") from None
    src.file = where
    return src


def load_sources(directory: Path | str | None, extra: list[dict] | None = None) -> list[Source]:
    """Every source in `directory` (*.yaml, sorted) plus `extra` dicts; names must be unique."""
    out: list[Source] = []
    if directory and Path(directory).is_dir():
        for p in sorted(Path(directory).glob("*.y*ml")):
            try:
                data = yaml.safe_load(p.read_text(encoding="utf-8"))
            except yaml.YAMLError as e:
                raise SourceError(f"{p}: not valid YAML ({e})") from None
            out.append(parse_source(data, str(p)))
    for i, d in enumerate(extra or []):  # an extra source replaces a configured one of the same name
        src = parse_source(d, f"<extra source {i + 1}>")
        out = [s for s in out if s.name != src.name] + [src]
    seen: dict[str, str] = {}
    for s in out:
        if s.name in seen:
            raise SourceError(f"{s.file}: source name {s.name!r} is already used in {seen[s.name]}")
        seen[s.name] = s.file or ""
    return out
