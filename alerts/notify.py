"""Notifications through apprise: whatever the operator configures (mailto://, json:// or
webhook, dingtalk://, wecom:// (wxteams://), feishu://, ...), e.g.
``MARKWATCH_NOTIFY_URLS="mailtos://user:pass@smtp.example.com?to=ipr@example.gov.cn dingtalk://TOKEN"``.

Each URL is tried on its own: one invalid or unreachable URL never stops the others, and each
failure is reported with the URL's secret parts (passwords, tokens, keys) masked, so it can be
written to the run record and the log.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from config.redact import mask_url

log = logging.getLogger("markwatch.notify")


class NotifyError(RuntimeError):
    pass


@dataclass
class Delivery:
    """One URL's outcome. `url` is masked (safe to log and store); `error` None when sent."""
    url: str
    ok: bool
    error: str | None = None


def split_urls(urls: str | list[str]) -> list[str]:
    """apprise URLs from a setting: separated by spaces or commas, or already a list."""
    import apprise

    items = [urls] if isinstance(urls, str) else list(urls)
    out: list[str] = []
    for u in items:
        out += apprise.utils.parse.parse_urls(u)
    return [u for u in out if u.strip()]


def _scrub(text: str, url: str) -> str:
    """Remove any piece of `url` longer than 3 characters that could be secret from `text`."""
    try:
        p = urlsplit(url)
        pieces = [p.username, p.password, p.hostname, *p.path.split("/"),
                  *[kv.split("=", 1)[-1] for kv in p.query.split("&")]]
    except ValueError:
        pieces = re.split(r"[/:@?&=]", url)
    for s in sorted({x for x in pieces if x and len(x) > 3}, key=len, reverse=True):
        if "." in s and not re.search(r"\d{6,}|[A-Za-z0-9]{20,}", s):
            continue  # a plain hostname helps; tokens are long runs
        text = text.replace(s, "***")
    return text


def send_each(urls: str | list[str], title: str, body: str, attachments: list[Path] | None = None) -> list[Delivery]:
    """Send to every URL separately. Returns one Delivery per URL (masked), never raises for a
    bad or failing URL."""
    import apprise

    out: list[Delivery] = []
    attach = None
    if attachments:
        attach = apprise.AppriseAttachment()
        for p in attachments:
            attach.add(str(p))
    for url in split_urls(urls):
        ap = apprise.Apprise()
        if not ap.add(url):
            out.append(Delivery(mask_url(url), False, "invalid or unsupported notification URL (see the apprise URL formats)"))
            continue
        shown = next(iter(ap)).url(privacy=True) if len(ap) else mask_url(url)
        shown = _scrub(shown, url)
        with apprise.LogCapture(level=logging.WARNING) as captured:
            try:
                ok = ap.notify(body=body, title=title, attach=attach)
            except Exception as e:  # a plugin bug must not stop the other URLs
                ok = False
                captured.write(f"{type(e).__name__}: {e}\n")
            why = captured.getvalue().strip().splitlines()
        if ok:
            out.append(Delivery(shown, True))
        else:
            reason = _scrub(why[-1] if why else "delivery failed", url)[:500]
            out.append(Delivery(shown, False, reason))
    for d in out:
        (log.info if d.ok else log.error)("notify %s: %s", d.url, "sent" if d.ok else d.error)
    return out


def send(urls: str | list[str], title: str, body: str, attachments: list[Path] | None = None) -> int:
    """Send to every URL; returns how many were sent. Raises NotifyError naming each failed URL
    (masked) and why, after trying all of them."""
    res = send_each(urls, title, body, attachments)
    bad = [d for d in res if not d.ok]
    if bad:
        raise NotifyError(f"{len(bad)} of {len(res)} notification URL(s) failed: "
                          + "; ".join(f"{d.url}: {d.error}" for d in bad))
    return len(res)
