"""One unattended pass: import the watchlist (if configured), crawl every enabled source, store,
match new or changed listings, queue leads, fix evidence, rank. The pass is a list of named
stages (STAGES) run by one loop (run_stages) that times each stage, reports progress on the run
record and records each stage's failure by name: a stage that cannot run — even one whose module
does not import — is a named failure ``stage_failed`` in the run record, never a silent skip.
Guarded by the database run lock; recorded as a run."""
from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
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


@dataclass
class PassContext:
    """What every stage of a pass gets: the one Settings, the engine, the run, and callbacks."""
    settings: Settings
    engine: Engine
    run_id: int
    say: Callable[[str], None]
    progress: Callable[..., None]
    crawl: bool = True
    sources: list[str] | None = None
    extra_sources: list[dict] | None = None


@dataclass(frozen=True)
class Stage:
    """One named step of a pass. `run(ctx)` returns counts to add to the run record. A stage whose
    failure leaves nothing sensible to do next is `required` (the pass stops, status 'failed');
    any other failure is recorded and the pass goes on (status 'partial')."""
    name: str
    run: Callable[[PassContext], dict]
    message: str
    required: bool = False
    enabled: Callable[[PassContext], bool] = lambda ctx: True


def _stage_watchlist(ctx: PassContext) -> dict:
    """Import the configured watchlist. One bad row never aborts the rest: each refused entry
    (file, line, entry, field; a logo judged by content) is a named run failure
    ``watchlist_row`` and the good ones are imported, as `markwatch watchlist import` does. A
    file that cannot be read at all fails the stage (WatchlistError), and with it the pass."""
    from store.watchlist_ids import import_keeping_good
    from watchlist import read_watchlist

    path = Path(ctx.settings.watchlist)
    read = read_watchlist(path, logo_cache=ctx.settings.resolved_data_dir / "cache")
    with session_scope(ctx.engine) as s:
        c = import_keeping_good(s, read, str(path.resolve()))
        for p in read.problems:
            add_failure(s, ctx.run_id, "watchlist_row", str(p), source="watchlist")
    if read.refused:
        ctx.say(f"watchlist: {len(read.refused)} entries refused (see the run's failures); the rest imported")
    return {"watchlist_marks": c["marks"], "watchlist_gis": c["gis"], "watchlist_refused": len(read.refused)}


def _stage_crawl(ctx: PassContext) -> dict:
    from crawler.runner import crawl as crawl_sources

    c = crawl_sources(ctx.settings, run_id=ctx.run_id, only=ctx.sources, extra_sources=ctx.extra_sources, say=ctx.say)
    return {f"crawl_{k}": v for k, v in c.items()}


def _stage_match(ctx: PassContext) -> dict:
    def matched(n: int) -> None:
        ctx.progress("match", listings_matched=n)
        ctx.say(f"matched {n} listings")

    return match_pending(ctx.engine, ctx.settings, ctx.run_id, progress=matched)


def _stage_evidence(ctx: PassContext) -> dict:
    from crawler.evidence import capture_for_run

    pks = listings_needing_evidence(ctx.engine, ctx.run_id)
    return {f"evidence_{k}": v for k, v in
            capture_for_run(ctx.settings, ctx.engine, ctx.run_id, say=ctx.say, listing_pks=pks).items()}


def _stage_alerts(ctx: PassContext) -> dict:
    from alerts.hooks import after_pass

    return after_pass(ctx.settings, ctx.engine, ctx.run_id) or {}


STAGES: list[Stage] = [
    Stage("watchlist", _stage_watchlist, "importing the watchlist ...", required=True,
          enabled=lambda ctx: bool(ctx.settings.watchlist)),
    Stage("crawl", _stage_crawl, "crawling enabled sources ...", enabled=lambda ctx: ctx.crawl),
    Stage("match", _stage_match, "matching new and changed listings ...", required=True),
    Stage("evidence", _stage_evidence, "fixing evidence for new leads ..."),
    Stage("alerts", _stage_alerts, "ranking leads and updating key markets ..."),
]
# counts that make a finished pass 'partial' (some items failed inside a stage)
PARTIAL_COUNTS = ("match_errors", "crawl_failures", "alerts_errors", "stage_failures", "watchlist_refused")


def run_stages(ctx: PassContext, stages: list[Stage], counts: dict, durations: dict) -> tuple[str, str | None]:
    """Run `stages` in order, timing each, reporting progress, and recording each failure as a
    named run failure ``stage_failed`` ("<stage>: <error>"). Returns (status, error)."""
    status, error = "ok", None
    for st in stages:
        if not st.enabled(ctx):
            continue
        t0 = time.perf_counter()
        ctx.progress(st.name)
        ctx.say(st.message)
        try:
            counts.update(st.run(ctx))
        except Exception as e:  # one stage never hides another's work; the failure is named
            msg = f"{st.name}: {type(e).__name__}: {e}"
            log.error("stage %s\n%s", msg, traceback.format_exc())
            with session_scope(ctx.engine) as s:
                add_failure(s, ctx.run_id, "stage_failed", msg)
            counts["stage_failures"] = counts.get("stage_failures", 0) + 1
            counts.setdefault("failed_stages", []).append(st.name)
            if st.required:
                durations[st.name] = time.perf_counter() - t0
                return "failed", msg
            error = msg if error is None else f"{error}; {msg}"
        durations[st.name] = time.perf_counter() - t0
    if any(counts.get(k) for k in PARTIAL_COUNTS):
        status = "partial"
    return status, error


def run_pass(settings: Settings, engine: Engine | None = None, trigger: str = "manual",
             crawl: bool = True, sources: list[str] | None = None, extra_sources: list[dict] | None = None,
             say: Callable[[str], None] = lambda m: None, stages: list[Stage] | None = None) -> PassResult:
    """Run one pass: the STAGES in order (watchlist, crawl, match, evidence, alerts) under the run
    lock, recorded as a run. Raises pipeline.lock.LockBusy if another pass holds the lock."""
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

        def progress(stage: str, **extra) -> None:
            """Visible progress on the run record (committed), and the lock's heartbeat."""
            lock.heartbeat()
            with session_scope(engine) as s:
                r = s.get(Run, run_id)
                r.counts = {**counts, **extra, "stage": stage}

        ctx = PassContext(settings, engine, run_id, say, progress, crawl, sources, extra_sources)
        try:
            status, error = run_stages(ctx, STAGES if stages is None else stages, counts, durations)
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
