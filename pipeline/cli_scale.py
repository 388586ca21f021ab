"""Commands for a province-wide deployment (README "Deployment for a province"): extra crawler
hosts that join the shared scrapy-redis frontier, and matcher workers on their own hosts."""
from __future__ import annotations

from typing import List, Optional

import typer

from config.settings import get_settings


def register(app: typer.Typer) -> None:
    @app.command("crawl")
    def crawl_cmd(source: Optional[List[str]] = typer.Option(None, "--source", "-s", help="Only these sources (repeatable)"),
                  quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the summary line")):
        """Crawl and store only (no matching, no run lock): an extra crawler host. With
        MARKWATCH_REDIS_URL, MARKWATCH_CRAWL_ID and MARKWATCH_REDIS_PERSIST=1 equal on every host,
        the hosts split one frontier and no page is fetched twice; the scheduler's next pass (or a
        match worker) matches what they stored. Recorded as a run of kind 'crawl'.

        Example: MARKWATCH_REDIS_URL=redis://10.0.0.5:6379/0 MARKWATCH_CRAWL_ID=$(date +%F) markwatch crawl
        """
        from crawler.runner import crawl
        from store.db import session_scope
        from store.models import Run

        from .common import db_engine
        from .runs import finish_run, start_run

        st = get_settings()
        eng = db_engine()
        say = (lambda m: None) if quiet else (lambda m: typer.echo(m, err=True))
        with session_scope(eng) as s:
            run_id = start_run(s, kind="crawl", trigger="manual").id
        status, error, c = "ok", None, {}
        try:
            c = crawl(st, run_id=run_id, only=source or None, say=say, engine=eng)
            if c.get("failures"):
                status = "partial"
        except Exception as e:
            status, error = "failed", f"{type(e).__name__}: {e}"
        with session_scope(eng) as s:
            finish_run(s, s.get(Run, run_id), status, {k: v for k, v in c.items() if k != "sources"}, {}, error)
        typer.echo(f"run {run_id} {status}: {c.get('pages', 0)} pages, {c.get('new', 0)} new, {c.get('changed', 0)} "
                   f"changed listings" + (f"; error: {error}" if error else ""))
        if status == "failed":
            raise typer.Exit(1)

    @app.command("match-worker")
    def match_worker(workers: int = typer.Option(1, "--workers", min=1, help="Processes forked after loading"),
                     every: float = typer.Option(60.0, "--every", min=1.0, help="Seconds between rounds"),
                     once: bool = typer.Option(False, "--once", help="One round, then exit")):
        """A matcher host: match pending listings (and re-match new or changed marks) in rounds,
        claiming batches with SELECT … FOR UPDATE SKIP LOCKED, so any number of match workers
        and the scheduler's passes share the work without taking a listing twice. PostgreSQL
        only (exit 2 on SQLite: one file cannot be shared between hosts).

        Example: MARKWATCH_DATABASE_URL=postgresql+psycopg://mw@10.0.0.4/markwatch markwatch match-worker --workers 2
        """
        import time

        from .common import db_engine, fail
        from .stages import match_pending

        st = get_settings()
        eng = db_engine()
        if eng.dialect.name != "postgresql":
            fail("match-worker needs PostgreSQL (MARKWATCH_DATABASE_URL); with SQLite use "
                 "MARKWATCH_MATCH_WORKERS for the pass", 2)
        while True:
            c = match_pending(eng, st, None, workers=workers)
            typer.echo(f"matched {c.get('listings_matched', 0)} listings; {c.get('leads_new', 0)} new leads"
                       + (f"; re-matched {c['rematch_targets']} targets" if c.get("rematch_targets") else ""), err=True)
            if once:
                return
            time.sleep(every)
