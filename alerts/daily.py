"""The daily digest job: build, save, send (used by `markwatch digest` and the scheduler)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from store.db import session_scope

from .digest import Digest, build_digest, save_digest, today
from .notify import Delivery, send_each
from .settings import AlertSettings, get_alert_settings

log = logging.getLogger("markwatch.digest")


@dataclass
class DigestResult:
    digest: Digest
    files: dict
    sent_to: int = 0
    error: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)


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
            res.deliveries = send_each(urls, dg.subject(), dg.body(),
                                       [files["html"], files["xlsx"]] if ast.notify_attach else None)
            res.sent_to = sum(x.ok for x in res.deliveries)
            bad = [x for x in res.deliveries if not x.ok]
            if bad:
                res.error = (f"{len(bad)} of {len(res.deliveries)} notification URL(s) failed: "
                             + "; ".join(f"{x.url}: {x.error}" for x in bad))
                log.error("digest %s%s not sent everywhere: %s", d, f" for {h}" if h else "", res.error)
        results.append(res)
    if notify and any(r.deliveries for r in results):
        record_digest_run(engine, results)
    return results


def record_digest_run(engine: Engine, results: list[DigestResult]) -> int:
    """A run record (kind 'digest') with one named failure 'notify_failed' per URL that failed
    (URL masked). Status ok, partial (some sent) or failed (none sent). Returns the run id."""
    from store.models import Run, RunFailure, utcnow

    deliveries = [(r, x) for r in results for x in r.deliveries]
    sent = sum(x.ok for _, x in deliveries)
    status = "ok" if sent == len(deliveries) else ("partial" if sent else "failed")
    with session_scope(engine) as s:
        run = Run(kind="digest", trigger="digest", status=status, started_at=utcnow(), finished_at=utcnow(),
                  counts={"notify_sent": sent, "notify_failed": len(deliveries) - sent,
                          "digests": len(results)}, durations={})
        s.add(run)
        s.flush()
        for r, x in deliveries:
            if not x.ok:
                who = f" ({r.digest.holder})" if r.digest.holder else ""
                s.add(RunFailure(run_id=run.id, kind="notify_failed", url=x.url[:1000],
                                 detail=f"digest {r.digest.date}{who}: {x.error}"[:4000]))
        return run.id
