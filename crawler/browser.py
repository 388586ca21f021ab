"""Debian Chromium for Playwright: which binary, which flags, a private HOME."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync",
        "--hide-scrollbars", "--mute-audio"]
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
    """scrapy-playwright PLAYWRIGHT_ABORT_REQUEST: a browser page may only load from allowed hosts."""

    def __init__(self, hosts: list[str]):
        self.hosts = [h.lower() for h in hosts]

    def __call__(self, request) -> bool:
        from urllib.parse import urlsplit

        url = request.url
        if url.startswith(("data:", "blob:", "about:")):
            return False
        h = (urlsplit(url).hostname or "").lower()
        return not any(h == a or h.endswith("." + a) for a in self.hosts)


def detail_page_meta(wait_for: str | None, timeout: float, reach=None, user_agent: str | None = None) -> dict:
    """Request meta that renders a marketplace page in Chromium (scrapy-playwright) before it is
    parsed, in its own browser context ``detail`` (locale zh-CN), waiting for `wait_for` (a CSS
    selector, e.g. the JavaScript-filled price) instead of a fixed sleep. `reach`
    (crawler.session.Reach): the source's storage state and proxy go into the context options,
    which live in the request meta, never in Scrapy settings (Scrapy logs settings)."""
    from scrapy_playwright.page import PageMethod

    ms = int(timeout * 1000)
    ctx: dict = {"viewport": {"width": 1280, "height": 1000}, "locale": "zh-CN", "java_script_enabled": True}
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
    meta = {"playwright": True, "playwright_context": "detail", "playwright_context_kwargs": ctx,
            "playwright_page_goto_kwargs": {"wait_until": "domcontentloaded", "timeout": ms}}
    if wait_for:
        meta["playwright_page_methods"] = [PageMethod("wait_for_selector", wait_for, state="attached", timeout=ms)]
    return meta
