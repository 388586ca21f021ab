"""Debian Chromium for Playwright: which binary, which flags, a private HOME."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync",
        "--hide-scrollbars", "--mute-audio", "--dns-prefetch-disable",
        "--force-webrtc-ip-handling-policy=disable_non_proxied_udp"]
CANDIDATES = ["/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium-headless-shell",
              "/usr/lib/chromium/chromium", "/usr/bin/chromium"]


def find_chromium() -> str | None:
    """The fastest installed Chromium (headless shell first); MARKWATCH_CHROMIUM overrides."""
    from config.settings import get_settings

    env = get_settings().crawl.chromium
    if env:
        return env if os.path.exists(env) else None
    for c in CANDIDATES:
        if os.path.exists(c) and os.access(c, os.X_OK):
            return c
    return shutil.which("chromium")


def browser_home(data_dir: Path) -> Path:
    h = Path(data_dir) / "browser-home"
    h.mkdir(parents=True, exist_ok=True)
    return h


def launch_options(data_dir: Path) -> dict:
    exe = find_chromium()
    if exe is None:
        raise RuntimeError("no Chromium found: install Debian 'chromium' or 'chromium-headless-shell' "
                           "(scripts/system-deps.sh), or set MARKWATCH_CHROMIUM")
    home = browser_home(data_dir)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY",)}
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    return {"executable_path": exe, "headless": True, "args": list(ARGS), "env": env}


class AbortOutside:
    """scrapy-playwright PLAYWRIGHT_ABORT_REQUEST: a browser page may only load what the
    allowed-host rule (crawler.hosts.HostRule) allows. Note Playwright does not call this for the
    hops of a redirect the browser follows itself; evidence visits use :func:`guard_context`,
    which fetches every request (each hop included) through the rule."""

    def __init__(self, hosts: list[str], base_url: str | None = None):
        from .hosts import HostRule

        self.rule = HostRule(hosts, base_url)

    def __call__(self, request) -> bool:
        return not self.rule.allowed(request.url)


MAX_REDIRECTS = 10


class Guard:
    """What :func:`guard_context` saw: ``exchanges`` fetched (crawler.warc.Exchange), ``refused``
    requests ({url, reason, navigation, main_frame, resource_type}), ``failed`` ones."""

    def __init__(self):
        self.exchanges: list = []
        self.refused: list[dict] = []
        self.failed: list[dict] = []
        self.redirects: list[dict] = []
        self.next_hop: str | None = None  # a main-frame redirect's target, for the caller to navigate to

    def main_frame_refused(self) -> list[dict]:
        return [r for r in self.refused if r["main_frame"]]


async def guard_context(ctx, rule, timeout: float = 20.0) -> Guard:
    """Route every request of a Playwright BrowserContext through the allowed-host rule.

    Navigations, redirect hops, subresources, fetch/XHR are fetched by Python
    (``crawler.warc.fetch_once``: checked, pinned to the checked address, redirects not followed)
    and handed to the browser with ``route.fulfill``, so the browser itself never reaches the
    network and each redirect hop is checked again; refused ones are aborted
    (``blockedbyclient``). Chromium follows a fulfilled redirect without routing the next hop, so
    redirects are never handed to the browser: a subresource's are followed here, and a main-frame
    navigation's redirect aborts it with ``Guard.next_hop`` set; the caller navigates there next
    (:func:`goto_guarded`). Websockets to refused hosts are closed; others connect as usual.
    Create the context with ``service_workers="block"`` so no request escapes routing.
    """
    import asyncio

    from .hosts import HostBlocked
    from .warc import browser_headers, fetch_once

    g = Guard()

    async def on_request(route):
        from urllib.parse import urljoin

        req = route.request
        url = req.url
        if url.startswith(("data:", "blob:", "about:")):
            await route.continue_()
            return
        try:
            main = req.is_navigation_request() and req.frame.parent_frame is None
        except Exception:  # service-worker requests have no frame
            main = False
        method, body, headers = req.method, req.post_data_buffer, await req.all_headers()
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                ex = await asyncio.to_thread(fetch_once, rule, method, url, headers, body, timeout)
            except HostBlocked as e:
                g.refused.append({"url": url, "reason": str(e), "navigation": req.is_navigation_request(),
                                  "main_frame": main, "resource_type": req.resource_type})
                await route.abort("blockedbyclient")
                return
            if ex.error:
                g.failed.append({"url": url, "error": ex.error, "main_frame": main})
                await route.abort("failed")
                return
            g.exchanges.append(ex)
            loc = ex.header("location")
            if ex.status in (301, 302, 303, 307, 308) and loc:
                nxt = urljoin(url, loc)
                g.redirects.append({"from": url, "to": nxt, "status": ex.status, "main_frame": main})
                if main:  # Chromium would follow a fulfilled redirect unrouted: the caller navigates on
                    g.next_hop = nxt
                    await route.abort("aborted")
                    return
                if ex.status in (301, 302, 303) and method not in ("GET", "HEAD"):
                    method, body = "GET", None
                url = nxt  # subresources: follow here, every hop checked and recorded
                continue
            await route.fulfill(status=ex.status, headers=browser_headers(ex), body=ex.body)
            return
        g.failed.append({"url": url, "error": f"more than {MAX_REDIRECTS} redirects", "main_frame": main})
        await route.abort("failed")

    async def on_websocket(ws):
        why = await asyncio.to_thread(rule.check, ws.url)
        if why:
            g.refused.append({"url": ws.url, "reason": why, "navigation": False, "main_frame": False,
                              "resource_type": "websocket"})
            await ws.close(code=1008, reason="refused by the allowed-host rule")
            return
        ws.connect_to_server()

    await ctx.route("**/*", on_request)
    await ctx.route_web_socket("**/*", on_websocket)
    return g


async def goto_guarded(page, g: Guard, url: str, timeout: float = 20.0):
    """Navigate `page` to `url` under :func:`guard_context`, following main-frame redirects hop by hop
    (each checked by the rule). Returns (response or None, error or None); a refused hop shows in
    ``g.main_frame_refused()``."""
    err = None
    resp = None
    for _ in range(MAX_REDIRECTS + 1):
        g.next_hop = None
        try:
            resp = await page.goto(url, wait_until="load", timeout=int(timeout * 1000))
            err = None
        except Exception as e:
            resp, err = None, f"{type(e).__name__}: {e}"[:300]
        if g.next_hop is None or g.main_frame_refused():
            return resp, (None if g.next_hop is None and not g.main_frame_refused() and resp is not None else err)
        url = g.next_hop
    return None, f"more than {MAX_REDIRECTS} redirects"


def context_kwargs(reach=None, user_agent: str | None = None, viewport: tuple[int, int] = (1280, 1000)) -> dict:
    """Playwright browser-context options for a source: locale zh-CN, scripts on, service workers
    blocked (so every request passes the abort hook, crawler.hosts), and from ``reach``
    (crawler.session.Reach) the source's storage state and proxy. They go into request meta, never
    into Scrapy settings (Scrapy logs settings)."""
    ctx: dict = {"viewport": {"width": viewport[0], "height": viewport[1]}, "locale": "zh-CN",
                 "java_script_enabled": True, "service_workers": "block"}
    if user_agent:
        ctx["user_agent"] = user_agent
    if reach is not None and getattr(reach, "storage_state", None):
        ctx["storage_state"] = reach.storage_state
    if reach is not None and getattr(reach, "proxy", None):
        from urllib.parse import urlsplit

        u = urlsplit(reach.proxy)
        px = {"server": f"{u.scheme}://{u.hostname}" + (f":{u.port}" if u.port else "")}
        if u.username:
            px["username"], px["password"] = u.username, u.password or ""
        ctx["proxy"] = px
    return ctx


def detail_page_meta(wait_for: str | None, timeout: float, reach=None, user_agent: str | None = None) -> dict:
    """Request meta that renders a marketplace page in Chromium (scrapy-playwright) before it is
    parsed, in its own browser context ``detail`` (:func:`context_kwargs`), waiting for `wait_for`
    (a CSS selector, e.g. the JavaScript-filled price) instead of a fixed sleep."""
    from scrapy_playwright.page import PageMethod

    ms = int(timeout * 1000)
    ctx = context_kwargs(reach, user_agent)
    meta = {"playwright": True, "playwright_context": "detail", "playwright_context_kwargs": ctx,
            "playwright_page_goto_kwargs": {"wait_until": "domcontentloaded", "timeout": ms}}
    if wait_for:
        meta["playwright_page_methods"] = [PageMethod("wait_for_selector", wait_for, state="attached", timeout=ms)]
    return meta
