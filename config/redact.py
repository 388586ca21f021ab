"""Secrets never reach logs, run records or output: URLs are shown with their secret parts masked."""
from __future__ import annotations

import re
from urllib.parse import urlsplit


def mask_url(url: str) -> str:
    """The URL with everything that may be a secret replaced: user info, host-as-token
    (dingtalk://TOKEN), path segments and query values. Keeps the scheme and a recognisable
    hostname so an operator knows which URL is meant."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("://", 1)[0] + "://***"
    host = parts.hostname or ""
    if host and not ("." in host or host == "localhost" or re.fullmatch(r"[\d.:]+", host)):
        host = host[:2] + "***"  # a token used as the host part
    netloc = ("***@" if parts.username or parts.password else "") + host + (f":{parts.port}" if _port(parts) else "")
    path = "/***" if parts.path.strip("/") else ""
    query = ("?" + "&".join(f"{k.split('=')[0]}=***" for k in parts.query.split("&") if k)) if parts.query else ""
    return f"{parts.scheme}://{netloc}{path}{query}"


def _port(parts) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None
