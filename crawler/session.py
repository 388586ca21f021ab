"""A source's session and reach: cookies, Playwright storage state, proxy; secrets resolved here.

Secrets (cookie values, proxy credentials) are never written in a source file: the file names an
environment variable (``cookies_env``, ``proxy.url_env``) or a file (``cookies_file``,
``storage_state``, ``proxy.url_file``) that must not be readable by group or others (mode 600),
like ssh keys. They are resolved inside the crawl process, never copied into the job file, the
run record or the log; errors name the source, the field and the variable or file, never a value.
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


class SessionError(ValueError):
    """A session/proxy setting cannot be used (missing variable, unsafe file mode, bad format)."""


@dataclass
class Reach:
    """What a crawl sends for one source: ``cookies`` (name → value), ``headers``, ``proxy`` (URL,
    possibly with credentials), ``storage_state`` (path of a Playwright storage-state file)."""
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    proxy: str | None = None
    storage_state: str | None = None

    def secrets(self) -> list[str]:
        """Every secret value (to check that logs do not contain them)."""
        out = [v for v in self.cookies.values() if v]
        if self.proxy:
            u = urlsplit(self.proxy)
            out += [x for x in (u.password, u.username) if x]
        return out

    def __repr__(self) -> str:  # never print secrets by accident
        return (f"Reach(cookies={sorted(self.cookies)}, headers={sorted(self.headers)}, "
                f"proxy={'set' if self.proxy else None}, storage_state={self.storage_state!r})")


def _private_file(path: str, what: str, base: Path | None) -> Path:
    p = Path(os.path.expanduser(path))
    if not p.is_absolute() and base is not None:
        p = base / p
    if not p.is_file():
        raise SessionError(f"{what}: file {p} not found")
    mode = p.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SessionError(f"{what}: file {p} is readable by others (mode {stat.S_IMODE(mode):o}); "
                           f"run: chmod 600 {p}")
    return p


def _env(name: str, what: str) -> str:
    v = os.environ.get(name)
    if not v:
        raise SessionError(f"{what}: environment variable {name} is not set")
    return v.strip()


def parse_cookies(text: str, what: str) -> dict[str, str]:
    """Cookies from a ``Cookie:`` header value (``a=1; b=2``), a JSON object (name → value), a
    JSON list of ``{name, value}`` or a Playwright storage state (``{"cookies": [...]}``)."""
    t = text.strip()
    if t.startswith("{") or t.startswith("["):
        try:
            d = json.loads(t)
        except ValueError as e:
            raise SessionError(f"{what}: not valid JSON (line {e.lineno if hasattr(e, 'lineno') else '?'})") from None
        if isinstance(d, dict) and isinstance(d.get("cookies"), list):
            d = d["cookies"]
        if isinstance(d, dict):
            return {str(k): str(v) for k, v in d.items()}
        if isinstance(d, list) and all(isinstance(c, dict) and "name" in c for c in d):
            return {str(c["name"]): str(c.get("value", "")) for c in d}
        raise SessionError(f"{what}: expected an object of name: value or a list of {{name, value}}")
    out = {}
    for part in t.replace("\n", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise SessionError(f"{what}: a cookie without '=' (expected 'name=value; name2=value2')")
        k, v = part.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def resolve_reach(source: dict, base: Path | None = None) -> Reach:
    """The cookies, headers, proxy and storage state of a (resolved) source dict.

    ``base``: folder relative file paths are read from (the source file's folder). Raises
    :class:`SessionError` naming the source, field and variable/file (never a secret value)."""
    name = source.get("name", "?")
    sess = source.get("session") or {}
    r = Reach(headers=dict(sess.get("headers") or {}))
    if sess.get("cookies_env"):
        r.cookies.update(parse_cookies(_env(sess["cookies_env"], f"source {name}: session.cookies_env"),
                                       f"source {name}: session.cookies_env {sess['cookies_env']}"))
    if sess.get("cookies_file"):
        p = _private_file(sess["cookies_file"], f"source {name}: session.cookies_file", base)
        r.cookies.update(parse_cookies(p.read_text(encoding="utf-8"), f"source {name}: session.cookies_file {p}"))
    if sess.get("storage_state"):
        p = _private_file(sess["storage_state"], f"source {name}: session.storage_state", base)
        try:
            st = json.loads(p.read_text(encoding="utf-8"))
        except ValueError:
            raise SessionError(f"source {name}: session.storage_state {p} is not valid JSON") from None
        if not isinstance(st, dict) or not isinstance(st.get("cookies", []), list):
            raise SessionError(f"source {name}: session.storage_state {p} is not a Playwright storage state")
        r.storage_state = str(p)
        if not source.get("browser"):  # plain HTTP sources still send its cookies
            for c in st.get("cookies", []):
                if isinstance(c, dict) and c.get("name"):
                    r.cookies.setdefault(str(c["name"]), str(c.get("value", "")))
    px = source.get("proxy") or {}
    if px.get("url"):
        r.proxy = px["url"]
    elif px.get("url_env"):
        r.proxy = _env(px["url_env"], f"source {name}: proxy.url_env")
    elif px.get("url_file"):
        r.proxy = _private_file(px["url_file"], f"source {name}: proxy.url_file", base).read_text(
            encoding="utf-8").strip()
    if r.proxy:
        u = urlsplit(r.proxy)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise SessionError(f"source {name}: the proxy must be an http:// or https:// URL with a host")
    return r


def source_base(source: dict) -> Path | None:
    f = source.get("file")
    return Path(f).parent if f and not str(f).startswith("<") else None


def _cookie_host_ok(host: str, base_host: str) -> bool:
    host, base_host = host.lower(), base_host.lower()
    if not base_host:
        return False
    parts = base_host.split(".")
    site = ".".join(parts[-2:]) if len(parts) >= 3 and not base_host.replace(".", "").isdigit() else base_host
    return host == base_host or host == site or host.endswith("." + site)


class ReachMiddleware:
    """Downloader middleware: puts the source's proxy on every request and its session cookies on
    requests to the source's own site (``base_url``'s host and its site's subdomains, never an
    image CDN). Runs before Scrapy's cookies (700) and proxy (750) middlewares. The values live on
    the spider (resolved in the crawl process), never in Scrapy settings, which Scrapy logs."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        spider = spider or self.crawler.spider
        reach: Reach | None = getattr(spider, "reach", None)
        if reach is None:
            return None
        if reach.proxy and "proxy" not in request.meta and not request.meta.get("playwright"):
            request.meta["proxy"] = reach.proxy
        if reach.cookies:
            base = urlsplit(spider.src.get("base_url") or "").hostname or ""
            if _cookie_host_ok(urlsplit(request.url).hostname or "", base):
                if isinstance(request.cookies, dict):
                    for k, v in reach.cookies.items():
                        request.cookies.setdefault(k, v)
                elif isinstance(request.cookies, list):
                    have = {c.get("name") for c in request.cookies if isinstance(c, dict)}
                    request.cookies.extend({"name": k, "value": v} for k, v in reach.cookies.items() if k not in have)
        for k, v in reach.headers.items():
            request.headers.setdefault(k, v)
        return None
