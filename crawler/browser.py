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
