"""`markwatch runs list|show`: run records."""
from __future__ import annotations

import json

import typer

from .common import db_engine, fail

app = typer.Typer(help="Run records: counts, durations, named failures.", no_args_is_help=True)


@app.command("list")
def list_(limit: int = typer.Option(20, help="Most recent N runs")):
    """List recent runs.

    Example: markwatch runs list --limit 5
    """
    from sqlalchemy import select

    from store.db import session_scope
    from store.models import Run

    with session_scope(db_engine()) as s:
        for r in s.scalars(select(Run).order_by(Run.id.desc()).limit(limit)):
            dur = (r.finished_at - r.started_at).total_seconds() if r.finished_at else None
            c = r.counts or {}
            stage = f" ({c['stage']})" if r.status == "running" and c.get("stage") else ""
            typer.echo(f"{r.id}\t{r.started_at:%Y-%m-%d %H:%M:%S}\t{r.status}{stage}\t{r.trigger}\t"
                       f"{'' if dur is None else f'{dur:.1f}s'}\tmatched {c.get('listings_matched', 0)}, "
                       f"leads new {c.get('leads_new', 0)}\t{len(r.failures)} failures")


@app.command()
def show(run_id: int = typer.Argument(..., help="Run id (see `markwatch runs list`)")):
    """Show one run: counts, durations and its named failures (removed, blocked, captcha, ...).

    Example: markwatch runs show 12
    """
    from collections import Counter

    from sqlalchemy import select

    from store.db import session_scope
    from store.models import Run

    with session_scope(db_engine()) as s:
        r = s.get(Run, run_id)
        if r is None:
            fail(f"no run {run_id}")
        typer.echo(f"run {r.id}: {r.status} ({r.kind}, {r.trigger}) pid {r.pid} on {r.host}")
        typer.echo(f"started {r.started_at:%Y-%m-%d %H:%M:%S} finished {r.finished_at or '-'}")
        if r.error:
            typer.echo(f"error: {r.error}")
        typer.echo("counts: " + json.dumps(r.counts, ensure_ascii=False, sort_keys=True))
        typer.echo("durations (s): " + json.dumps(r.durations, sort_keys=True))
        kinds = Counter(f.kind for f in r.failures)
        typer.echo("failures: " + (", ".join(f"{k} {v}" for k, v in kinds.most_common()) or "none"))
        for f in r.failures[:200]:
            typer.echo(f"  {f.kind}\t{f.source or '-'}\t{f.url or '-'}\t{f.detail or ''}")
