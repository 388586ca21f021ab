"""One unattended pass: crawl every enabled source, store, match new or changed listings, queue
leads, fix evidence. Guarded by the database run lock; recorded as a run."""
from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy.engine import Engine

from config.settings import Settings
from store.db import ensure_schema, make_engine, session_scope
from store.models import Run

from .lock import RunLockGuard
from .runs import add_failure, finish_run, mark_interrupted, start_run
from .stages import match_pending

log = logging.getLogger("markwatch.pass")


@dataclass
class PassResult:
    run_id: int
    status: str
    counts: dict = field(default_factory=dict)
    durations: dict = field(default_factory=dict)
    error: str | None = None


def listings_needing_evidence(engine: Engine, run_id: int, days: int = 30) -> list[int]:
    """Listings of leads created or updated by this run, and by recent runs that were killed or
    failed before their evidence was fixed (capture skips what is already captured)."""
    from datetime import timedelta

    from sqlalchemy import or_, select

    from store.models import Lead, utcnow

    with session_scope(engine) as s:
        broken = list(s.scalars(select(Run.id).where(Run.status.in_(("interrupted", "failed")),
                                                     Run.started_at >= utcnow() - timedelta(days=days))))
        ids = [run_id, *broken]
        return sorted(set(s.scalars(select(Lead.listing_pk).where(or_(Lead.first_run_id.in_(ids),
                                                                      Lead.last_run_id.in_(ids))))))


def run_pass(settings: Settings, engine: Engine | None = None, trigger: str = "manual",
             crawl: bool = True, sources: list[str] | None = None, extra_sources: list[dict] | None = None,
             say: Callable[[str], None] = lambda m: None) -> PassResult:
    """Run one pass. Raises pipeline.lock.LockBusy if another pass holds the lock."""
    engine = engine or make_engine(settings=settings)
    ensure_schema(engine)
    lock = RunLockGuard(engine)
    lock.acquire(wait=settings.run_lock_wait)
    try:
        with session_scope(engine) as s:
            mark_interrupted(s)
            run = start_run(s, kind="run", trigger=trigger)
            run_id = run.id
        lock.set_run(run_id)
        counts: dict = {}
        durations: dict = {}
        status, error = "ok", None

        def progress(stage: str, **extra) -> None:
            """Visible progress on the run record (committed), and the lock's heartbeat."""
            lock.heartbeat()
            with session_scope(engine) as s:
                r = s.get(Run, run_id)
                r.counts = {**counts, **extra, "stage": stage}

        try:
            if settings.watchlist:
                from watchlist import load_watchlist
                from store.repo import upsert_watchlist
                with session_scope(engine) as s:
                    upsert_watchlist(s, load_watchlist(settings.watchlist))
            if crawl:
                t0 = time.perf_counter()
                progress("crawl")
                say("crawling enabled sources ...")
                from crawler.runner import crawl as crawl_sources
                c = crawl_sources(settings, run_id=run_id, only=sources, extra_sources=extra_sources, say=say)
                counts.update({f"crawl_{k}": v for k, v in c.items()})
                durations["crawl"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            progress("match")
            say("matching new and changed listings ...")

            def matched(n: int) -> None:
                progress("match", listings_matched=n)
                say(f"matched {n} listings")

            counts.update(match_pending(engine, settings, run_id, progress=matched))
            durations["match"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            try:
                from crawler.evidence import capture_for_run
            except ImportError:
                capture_for_run = None
            if capture_for_run is not None:
                progress("evidence")
                say("fixing evidence for new leads ...")
                pks = listings_needing_evidence(engine, run_id)
                counts.update({f"evidence_{k}": v for k, v in
                               capture_for_run(settings, engine, run_id, say=say, listing_pks=pks).items()})
                durations["evidence"] = time.perf_counter() - t0
            try:
                from alerts.hooks import after_pass
            except ImportError:
                after_pass = None
            if after_pass is not None:
                t0 = time.perf_counter()
                progress("alerts")
                try:
                    counts.update(after_pass(settings, engine, run_id) or {})
                except Exception as e:  # ranking/key markets must not lose the pass's work
                    log.error("alerts after pass failed: %s\n%s", e, traceback.format_exc())
                    with session_scope(engine) as s:
                        add_failure(s, run_id, "alerts_error", f"{type(e).__name__}: {e}")
                    counts["alerts_errors"] = 1
                durations["alerts"] = time.perf_counter() - t0
            if counts.get("match_errors") or counts.get("crawl_failures") or counts.get("alerts_errors"):
                status = "partial"
        except Exception as e:
            status, error = "failed", f"{type(e).__name__}: {e}"
            log.error("pass failed: %s\n%s", error, traceback.format_exc())
        except BaseException as e:  # KeyboardInterrupt, SystemExit from SIGTERM: record and stop
            with session_scope(engine) as s:
                finish_run(s, s.get(Run, run_id), "interrupted", counts, durations,
                           f"interrupted ({type(e).__name__}); the next pass completes the work")
            raise
        with session_scope(engine) as s:
            run = s.get(Run, run_id)
            finish_run(s, run, status, counts, durations, error)
        return PassResult(run_id, status, counts, durations, error)
    finally:
        lock.release()
