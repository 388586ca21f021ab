"""The daily digest job: build, save, send (used by `markwatch digest` and the scheduler)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from store.db import session_scope

from .digest import Digest, build_digest, save_digest, today
from .notify import NotifyError, send
from .settings import AlertSettings, get_alert_settings

log = logging.getLogger("markwatch.digest")


@dataclass
class DigestResult:
    digest: Digest
    files: dict
    sent_to: int = 0
    error: str | None = None


def run_digest(settings, engine: Engine, d: date | None = None, output: Path | None = None,
               holder: str | None = None, notify: bool = True, ast: AlertSettings | None = None) -> list[DigestResult]:
    """The operator's digest (or one holder's), plus every holder digest with configured URLs
    when no holder is given. Notification failures are reported on the result, not raised."""
    ast = ast or get_alert_settings()
    d = d or today(ast.timezone)
    out_dir = output or settings.resolved_data_dir / "digests" / d.isoformat()
    jobs: list[tuple[str | None, str]] = []
    if holder:
        jobs.append((holder, ast.holder_notify_urls.get(holder, "")))
    else:
        jobs.append((None, ast.notify_urls))
        jobs += [(h, u) for h, u in ast.holder_notify_urls.items()]
    results = []
    for h, urls in jobs:
        with session_scope(engine) as s:
            dg = build_digest(s, d, settings.language, h, ast.timezone)
        files = save_digest(dg, out_dir)
        res = DigestResult(dg, files)
        if notify and urls:
            try:
                res.sent_to = send(urls, dg.subject(), dg.body(),
                                   [files["html"], files["xlsx"]] if ast.notify_attach else None)
            except NotifyError as e:
                res.error = str(e)
                log.error("digest %s%s not sent: %s", d, f" for {h}" if h else "", e)
        results.append(res)
    return results
