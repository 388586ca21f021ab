"""``markwatch sources check``: what a source's selectors extract from one page (like ``scrapy parse``).

:func:`check_page` applies a source to a page's HTML - a saved file or a URL fetched now - and
reports, for the list-page selectors (item links, next page) and for every detail field, what
the selector matched and the value a crawl would store, with the price as read and any warning.
It uses the same code as the crawl (crawler.parse.extract_detail), so what it shows is what a
crawl stores.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .parse import all_text, extract_detail, first, not_html, structured_product
from .session import resolve_reach, source_base
from .sources import Source


class CheckError(ValueError):
    pass


@dataclass
class PageReport:
    """``url``: the page's URL; ``links``: item links the results selectors found (absolute);
    ``next_page``; ``listing``: the fields a crawl would store (None when the page is no item
    page); ``error``: why it is not; ``price``: the parsed price; ``warnings``; ``trace``: per
    field, the selector (or structured data) used and its raw matches; ``structured``: the
    schema.org Product data found (whether the source uses it or not)."""
    url: str
    links: list[str] = field(default_factory=list)
    next_page: str = ""
    listing: dict | None = None
    error: str | None = None
    price: object = None
    warnings: list = field(default_factory=list)
    trace: dict = field(default_factory=dict)
    structured: dict = field(default_factory=dict)


def response_for(body: bytes, url: str, headers: dict | None = None):
    """A Scrapy HtmlResponse (encoding from the HTTP header, else <meta charset>, else detected:
    GBK pages decode like in a crawl)."""
    from scrapy.http import HtmlResponse

    return HtmlResponse(url=url, body=body, headers=headers or {})


def check_page(src: Source, body: bytes, url: str, headers: dict | None = None) -> PageReport:
    """Apply `src` to one page (`body` as fetched or saved, `url` it came from)."""
    d = src.resolved()
    rep = PageReport(url=url)
    what = not_html(body, (headers or {}).get("Content-Type"))
    if what is not None:
        rep.error = f"the page is not HTML: {what} ({len(body)} bytes); save the item page itself (HTML) and check again"
        return rep
    resp = response_for(body, url, headers)
    res = d.get("results") or {}
    if res.get("item_links"):
        rep.links = [resp.urljoin(h) for h in all_text(resp, res["item_links"])]
    if res.get("next_page"):
        nxt = first(resp, res["next_page"])
        rep.next_page = resp.urljoin(nxt) if nxt else ""
    try:
        rep.structured = structured_product(resp.text, url)
    except Exception as e:  # pragma: no cover - structured_product never raises by contract
        rep.structured = {"error": str(e)}
    if d.get("detail"):
        lid = None
        if d.get("listing_id_from_url"):
            import re

            mm = re.search(d["listing_id_from_url"], url)
            lid = mm.group(1) if mm else None
        try:
            ex = extract_detail(resp, d, lid)
        except ValueError as e:
            rep.error = str(e)
            return rep
        rep.listing, rep.price, rep.warnings, rep.trace = ex.fields, ex.price, ex.warnings, ex.trace
    return rep


def fetch_page(src: Source, url: str, data_dir: Path, timeout: float | None = None) -> tuple[bytes, str, dict]:
    """Fetch `url` now the way a crawl of `src` would: only from the source's allowed hosts, with
    its user agent, session cookies, headers and proxy; a ``browser: true`` source renders the
    page in Chromium (waiting for ``detail.wait_for``). Returns (body, final URL, headers)."""
    d = src.resolved()
    host = (urlsplit(url).hostname or "").lower()
    if urlsplit(url).scheme not in ("http", "https") or not host:
        raise CheckError(f"{url}: not an http(s) URL")
    from .hosts import HostRule

    rule = HostRule.for_source(d)  # the one allowed-host rule (crawler.hosts)
    why = rule.check(url)
    if why:
        raise CheckError(f"{url}: host {host} is not one of the source's hosts ({', '.join(d['allowed_hosts'])}): "
                         f"{why}; add it to allowed_hosts")
    reach = resolve_reach(d, source_base(d))
    timeout = timeout or float(d["politeness"]["timeout"])
    ua = d["politeness"]["user_agent"]
    if d.get("browser"):
        from playwright.sync_api import sync_playwright

        from .browser import detail_page_meta, launch_options

        wait = (d.get("detail") or {}).get("wait_for")
        wait = wait[4:] if wait and wait.startswith("css:") else wait
        meta = detail_page_meta(wait, timeout, reach=reach, user_agent=ua)
        with sync_playwright() as pw:
            b = pw.chromium.launch(**launch_options(data_dir))
            try:
                ctx = b.new_context(**meta["playwright_context_kwargs"])
                if reach.cookies:
                    ctx.add_cookies([{"name": k, "value": v, "url": url} for k, v in reach.cookies.items()])
                ctx.route("**/*", lambda r: r.abort("blockedbyclient") if rule.check(r.request.url) else r.continue_())
                page = ctx.new_page()
                page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
                for pm in meta.get("playwright_page_methods", []):
                    getattr(page, pm.method)(*pm.args, **pm.kwargs)
                html = page.content()
                final = page.url
                if rule.check(final):
                    raise CheckError(f"{url}: the page went to {final}, outside the source's hosts")
            finally:
                b.close()
        return html.encode("utf-8"), final, {"Content-Type": "text/html; charset=utf-8"}
    import httpx

    headers = {"User-Agent": ua, **reach.headers}
    with httpx.Client(timeout=timeout, follow_redirects=False, proxy=reach.proxy, cookies=reach.cookies,
                      headers=headers) as c:
        r = c.get(url)
        for _ in range(5):  # follow redirects only within the source's hosts
            if r.status_code not in (301, 302, 303, 307, 308) or "location" not in r.headers:
                break
            nxt = str(r.url.join(r.headers["location"]))
            if rule.check(nxt):
                raise CheckError(f"{url}: redirected to {nxt}, outside the source's hosts ({rule.check(nxt)})")
            r = c.get(nxt)
    if r.status_code >= 400:
        raise CheckError(f"{url}: HTTP {r.status_code}")
    return r.content, str(r.url), {"Content-Type": r.headers.get("content-type", "text/html")}
