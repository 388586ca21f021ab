"""Notifications through apprise: whatever the operator configures (mailto://, json:// or
webhook, dingtalk://, wecom:// (wxteams://), feishu://, ...), e.g.
``MARKWATCH_NOTIFY_URLS="mailtos://user:pass@smtp.example.com?to=ipr@example.gov.cn dingtalk://TOKEN"``."""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("markwatch.notify")


class NotifyError(RuntimeError):
    pass


def send(urls: str | list[str], title: str, body: str, attachments: list[Path] | None = None) -> int:
    """Send to every URL; returns how many URLs were configured. Raises NotifyError when a URL is
    invalid or any delivery fails (the message names which)."""
    import apprise

    items = [urls] if isinstance(urls, str) else list(urls)
    ap = apprise.Apprise()
    bad = []
    for u in items:
        for one in apprise.utils.parse.parse_urls(u) if hasattr(apprise.utils, "parse") else u.split():
            if not ap.add(one):
                bad.append(one.split("://", 1)[0] + "://…")
    if bad:
        raise NotifyError(f"invalid notification URL(s): {', '.join(bad)} (see the apprise URL formats)")
    n = len(ap)
    if n == 0:
        return 0
    attach = None
    if attachments:
        attach = apprise.AppriseAttachment()
        for p in attachments:
            attach.add(str(p))
    ok = ap.notify(body=body, title=title, attach=attach)
    if not ok:
        raise NotifyError(f"sending to {n} notification URL(s) failed (see the log for which)")
    log.info("notified %d URL(s): %s", n, title)
    return n
