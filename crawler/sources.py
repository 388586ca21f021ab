"""Crawl sources are configuration: one YAML file per source in ``config/sources/``.

A source names its platform, its kind (``marketplace`` or ``live``), where it lives (``base_url``,
or ``sandbox: true`` for the bundled sandbox site that a pass starts itself on a free port), the
hosts requests and image fetches may go to, how to build search URLs from watchlist terms, the
selectors for list and detail pages, whether pages need a browser, and politeness. See
``config/sources/sandbox-mall.yaml`` for a commented example and docs/crawling.md for every key.
"""
from __future__ import annotations

from dataclasses import dataclass
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
    title: str | None = Field(default=None, description="required unless structured_data gives the title")
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
    brand: str | None = None
    price_pick: Literal["auto", "first", "last", "min", "max"] = Field(
        default="auto", description="which number of the price text is the price (auto: crawler.parse.parse_price)")
    wait_for: str | None = Field(default=None, description="browser sources: CSS selector present once the page "
                                                           "(e.g. its JavaScript-filled price) rendered")
    wait_timeout: float = Field(default=15.0, gt=0)


class Session(_M):
    """Logged-in pages: cookies or a Playwright storage-state file, extra headers. Secrets come
    from an environment variable or a file only the crawl's user can read, never from this file."""
    cookies_env: str | None = Field(default=None, description="environment variable holding 'name=value; ...'")
    cookies_file: str | None = Field(default=None, description="file (mode 600) with 'name=value; ...' or JSON")
    storage_state: str | None = Field(default=None, description="Playwright storage-state JSON (mode 600)")
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers (not secret)")


class Proxy(_M):
    """An HTTP(S) proxy for this source's requests; credentials only from env or a mode-600 file."""
    url: str | None = Field(default=None, description="http://host:port without credentials")
    url_env: str | None = Field(default=None, description="environment variable holding the proxy URL")
    url_file: str | None = Field(default=None, description="file (mode 600) holding the proxy URL")

    @model_validator(mode="after")
    def _check(self):
        if self.url and "@" in (urlsplit(self.url).netloc or ""):
            raise ValueError("proxy credentials must not be written in the source file: "
                             "use proxy.url_env or proxy.url_file")
        if sum(bool(x) for x in (self.url, self.url_env, self.url_file)) > 1:
            raise ValueError("give one of proxy.url, proxy.url_env, proxy.url_file")
        return self


class Detect(_M):
    captcha: str | None = None
    blocked: str | None = None
    removed: str | None = Field(default=None, description="selector present when the item is taken down but "
                                                           "the page still answers 200 (此宝贝已下架, 商品已下柜)")


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
    structured_data: bool | list[Literal["title", "price", "currency", "brand", "images", "seller_name", "description",
                                         "listing_id", "category"]] = Field(
        default=False, description="read schema.org Product data (JSON-LD, microdata, RDFa): true for every "
                                   "field, or a list of fields; a CSS/XPath selector that matches still wins")
    session: Session = Field(default_factory=Session)
    proxy: Proxy | None = None
    file: str | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _check(self):
        if not self.sandbox and not self.base_url:
            raise ValueError("needs base_url, or sandbox: true")
        if self.kind == "marketplace" and (self.detail is None or (self.results is None and not self.start_urls)):
            raise ValueError("a marketplace source needs 'detail' and 'results' selectors")
        if self.kind == "marketplace" and self.detail is not None and not self.detail.title and not (
                self.structured_data is True or (isinstance(self.structured_data, list)
                                                 and "title" in self.structured_data)):
            raise ValueError("detail.title is required (or structured_data: true to read the schema.org name)")
        self._check_selectors()
        if self.kind == "live" and self.live is None:
            raise ValueError("a live source needs a 'live' section")
        return self

    def _check_selectors(self) -> None:
        """Every selector must compile (CSS or XPath) and the id regex must have one group: a typo
        is a config_error naming the field, not an exception in the middle of a crawl."""
        import re

        from parsel import Selector

        from .parse import select

        probe = Selector(text="<html><body><p>x</p></body></html>")
        sections = {"results": self.results, "detail": self.detail, "live": self.live, "detect": self.detect}
        for sec, obj in sections.items():
            if obj is None:
                continue
            for k, v in obj.model_dump().items():
                if not isinstance(v, str) or k in ("price_pick", "index_url") or not v:
                    continue
                if sec == "detail" and k == "wait_for" or sec == "live" and k == "wait_for":
                    spec = v[4:] if v.startswith("css:") else v
                    try:
                        probe.css(spec)
                    except Exception as e:
                        raise ValueError(f"{sec}.{k}: {v!r} is not a CSS selector ({e})") from None
                    continue
                try:
                    select(probe, v)
                except Exception as e:
                    raise ValueError(f"{sec}.{k}: {v!r} is not a valid selector ({type(e).__name__}: {e})") from None
        if self.listing_id_from_url:
            try:
                rx = re.compile(self.listing_id_from_url)
            except re.error as e:
                raise ValueError(f"listing_id_from_url: {self.listing_id_from_url!r} is not a regular expression ({e})") \
                    from None
            if rx.groups < 1:
                raise ValueError("listing_id_from_url: the regular expression needs one group (...) for the id")

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
        d["file"] = self.file  # relative session/proxy files are read from the source file's folder
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


@dataclass
class SourceProblem:
    """A source file that cannot be used: ``file``, the source ``name`` when it could be read
    (else the file's stem), and ``message`` (names the file and the field)."""
    file: str
    name: str
    message: str


def read_source_file(p: Path | str) -> Source:
    """One source file, validated; raises SourceError naming the file (and line for YAML errors)."""
    p = Path(p)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise SourceError(f"{p}: not valid YAML ({e})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SourceError(f"{p}: cannot read ({e})") from None
    return parse_source(data, str(p))


def _name_in(p: Path) -> str:
    """The name a broken source file gives itself (a top-level ``name:`` line), else its stem."""
    import re

    try:
        d = yaml.safe_load(p.read_text(encoding="utf-8"))
        if isinstance(d, dict) and isinstance(d.get("name"), str) and d["name"]:
            return d["name"][:64]
    except Exception:  # not YAML: look for the name line itself
        try:
            m = re.search(r"^name:\s*['\"]?([A-Za-z0-9_.-]+)", p.read_text(encoding="utf-8", errors="replace"), re.M)
            if m:
                return m.group(1)[:64]
        except OSError:
            pass
    return p.stem[:64]


def load_sources_checked(directory: Path | str | None,
                         extra: list[dict] | None = None) -> tuple[list[Source], list[SourceProblem]]:
    """Every usable source in `directory` (*.yaml, sorted) plus `extra` dicts, and the problems
    of the others: each file is validated on its own, so one broken file never hides the rest.
    A second source with a name already used is a problem too (the first one is kept)."""
    out: list[Source] = []
    problems: list[SourceProblem] = []
    if directory and Path(directory).is_dir():
        for p in sorted(Path(directory).glob("*.y*ml")):
            try:
                out.append(read_source_file(p))
            except SourceError as e:
                problems.append(SourceProblem(str(p), _name_in(p), str(e)))
    for i, d in enumerate(extra or []):  # an extra source replaces a configured one of the same name
        where = f"<extra source {i + 1}>"
        try:
            src = parse_source(d, where)
        except SourceError as e:
            name = d.get("name") if isinstance(d, dict) and isinstance(d.get("name"), str) else where
            problems.append(SourceProblem(where, name, str(e)))
            continue
        out = [s for s in out if s.name != src.name] + [src]
        problems = [pr for pr in problems if pr.name != src.name]
    seen: dict[str, str] = {}
    kept: list[Source] = []
    for s in out:
        if s.name in seen:
            problems.append(SourceProblem(s.file or "", s.name,
                                          f"{s.file}: source name {s.name!r} is already used in {seen[s.name]}"))
            continue
        seen[s.name] = s.file or ""
        kept.append(s)
    return kept, problems


def load_sources(directory: Path | str | None, extra: list[dict] | None = None) -> list[Source]:
    """Every source in `directory` (*.yaml, sorted) plus `extra` dicts; names must be unique.
    Strict: raises SourceError for the first broken file (see :func:`load_sources_checked`)."""
    out, problems = load_sources_checked(directory, extra)
    if problems:
        raise SourceError(problems[0].message)
    return out
