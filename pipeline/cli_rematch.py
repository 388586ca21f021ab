"""`markwatch rematch`: match the stored listings against new or changed marks and GIs now."""
from __future__ import annotations

from typing import List, Optional

import typer

from config.settings import get_settings


def register(app: typer.Typer) -> None:
    @app.command()
    def rematch(target: Optional[List[str]] = typer.Option(None, "--target", "-t",
                                                           help="Mark or GI id to re-match even if unchanged (repeatable)"),
                workers: int = typer.Option(1, "--workers", min=1, help="Matcher processes for pending listings"),
                quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the summary line")):
        """Match the listings already in the store against marks and GIs that are new or changed
        since they were matched (what the next `markwatch run` does first), or against --target
        ids even if unchanged, then match pending listings. Holds the run lock; recorded as a run.
        Exit 0 on success, 1 on failure, 2 for an unknown id, 3 when a pass holds the lock.

        Example: markwatch rematch --target tm-feitian
        """
        from store.db import session_scope
        from store.models import Run

        from .common import db_engine, fail
        from .lock import LockBusy, RunLockGuard
        from .runs import finish_run, start_run
        from .stages import match_pending, merge_counts, rematch as do_rematch

        st = get_settings()
        eng = db_engine()
        say = (lambda m: None) if quiet else (lambda m: typer.echo(m, err=True))
        lock = RunLockGuard(eng)
        try:
            lock.acquire(wait=st.run_lock_wait)
        except LockBusy as e:
            fail(f"{e}; try again when it has finished", 3)
        try:
            with session_scope(eng) as s:
                run_id = start_run(s, kind="rematch", trigger="manual").id
            lock.set_run(run_id)

            def progress(n: int) -> None:
                lock.heartbeat()
                say(f"re-matched {n} stored listings")

            status, error, counts = "ok", None, {}
            try:
                if target:
                    counts = do_rematch(eng, st, run_id, targets=list(target), progress=progress)
                counts = merge_counts(counts, match_pending(eng, st, run_id, progress=progress, workers=workers))
            except KeyError as e:
                status, error = "failed", str(e.args[0])
            except Exception as e:
                status, error = "failed", f"{type(e).__name__}: {e}"
            with session_scope(eng) as s:
                finish_run(s, s.get(Run, run_id), status, counts, {}, error)
        finally:
            lock.release()
        if error and status == "failed" and error.startswith("no active"):
            fail(error, 2)
        typer.echo(f"run {run_id} {status}: {counts.get('rematch_targets', 0)} new or changed targets re-matched "
                   f"against {counts.get('rematch_listings', 0)} stored listings, "
                   f"{counts.get('rematch_leads_new', 0)} new leads; {counts.get('listings_matched', 0)} pending "
                   f"listings matched, {counts.get('leads_new', 0)} new leads" + (f"; error: {error}" if error else ""))
        if status == "failed":
            raise typer.Exit(1)
