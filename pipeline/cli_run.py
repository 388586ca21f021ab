"""`markwatch run`: one unattended pass (for cron)."""
from __future__ import annotations

from typing import List, Optional

import typer

from config.settings import get_settings


def register(app: typer.Typer) -> None:
    @app.command()
    def run(crawl: bool = typer.Option(True, "--crawl/--no-crawl", help="Crawl sources first (default) or only match stored listings"),
            source: Optional[List[str]] = typer.Option(None, "--source", "-s", help="Only these sources (repeatable)"),
            trigger: str = typer.Option("manual", help="Recorded on the run: manual, cron, schedule"),
            wait: Optional[float] = typer.Option(None, "--wait", help="Seconds to wait for another pass's lock "
                                                 "(default MARKWATCH_RUN_LOCK_WAIT, 0 = exit 3 at once)"),
            quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the summary line")):
        """One full pass: crawl every enabled source, store, match new or changed listings, queue
        leads, fix evidence. Exit 0 on success, 1 on failure, 3 when another pass holds the lock.

        Example (crontab): 15 2 * * * cd /srv/markwatch && .venv/bin/markwatch run --trigger cron -q
        """
        from .common import db_engine
        from .lock import LockBusy
        from .passes import run_pass

        import signal

        st = get_settings()
        if wait is not None:
            st = st.model_copy(update={"run_lock_wait": wait})
        eng = db_engine()
        say = (lambda m: None) if quiet else (lambda m: typer.echo(m, err=True))

        def _term(signum, frame):  # SIGTERM: stop cleanly, record the run as interrupted, free the lock
            raise SystemExit(143)

        signal.signal(signal.SIGTERM, _term)
        if st.run_lock_wait:
            say(f"waiting up to {st.run_lock_wait:g} s if another pass holds the lock ...")
        try:
            res = run_pass(st, eng, trigger=trigger, crawl=crawl, sources=source or None, say=say)
        except LockBusy as e:
            waited = f" after waiting {st.run_lock_wait:g} s" if st.run_lock_wait else ""
            typer.echo(f"error: {e}; not starting a second pass{waited} "
                       f"(wait for it with --wait SECONDS or MARKWATCH_RUN_LOCK_WAIT)", err=True)
            raise typer.Exit(3)
        c = res.counts
        typer.echo(f"run {res.run_id} {res.status}: listings new {c.get('crawl_new', 0)}, changed {c.get('crawl_changed', 0)}, "
                   f"matched {c.get('listings_matched', 0)}; leads new {c.get('leads_new', 0)}, updated {c.get('leads_updated', 0)}"
                   + (f"; error: {res.error}" if res.error else ""))
        if res.status == "failed":
            raise typer.Exit(1)
