"""Run records: what each pass did (counts, durations, named failures)."""
from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.models import Run, RunFailure, utcnow


def start_run(s: Session, kind: str = "run", trigger: str = "manual") -> Run:
    run = Run(kind=kind, trigger=trigger, status="running", pid=os.getpid(), host=socket.gethostname(),
              started_at=utcnow(), counts={}, durations={})
    s.add(run)
    s.flush()
    return run


def add_failure(s: Session, run_id: int, kind: str, detail: str, source: str | None = None,
                url: str | None = None) -> None:
    s.add(RunFailure(run_id=run_id, kind=kind, detail=detail[:4000], source=source, url=url))


def finish_run(s: Session, run: Run, status: str, counts: dict, durations: dict, error: str | None = None) -> None:
    run.status, run.finished_at = status, utcnow()
    run.counts = dict(counts)
    run.durations = {k: round(v, 3) for k, v in durations.items()}
    run.error = error


def mark_interrupted(s: Session, before: datetime | None = None) -> int:
    """Runs still 'running' whose process is gone are marked 'interrupted' (killed passes)."""
    n = 0
    for run in s.scalars(select(Run).where(Run.status == "running")):
        if run.host == socket.gethostname() and run.pid and run.pid != os.getpid():
            try:
                os.kill(run.pid, 0)
                continue
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            run.status, run.finished_at = "interrupted", utcnow()
            run.error = (run.error or "") + "process ended without finishing (killed?)"
            n += 1
    return n
