"""`markwatch leads ...`: the lead queue."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import db_engine, fail

app = typer.Typer(help="The lead queue: list, export, review.", no_args_is_help=True)


@app.command("list")
def list_(status: Optional[str] = typer.Option(None, help="Only leads with this status (new, in_review, ...)"),
          limit: int = typer.Option(50, help="At most N leads")):
    """List leads, highest priority first.

    Example: markwatch leads list --status new --limit 20
    """
    from alerts.export import lead_rows
    from store.db import session_scope

    with session_scope(db_engine()) as s:
        n = 0
        for r in lead_rows(s, status=status, limit=limit):
            n += 1
            typer.echo(f"#{r['lead_id']}\t{r['score']}\t{r['status']}\t{r['target_id']}\t{r['platform']}/{r['listing_id']}\t"
                       f"{r['title'][:40]}\t{'；'.join(r['reasons'])}")
        if n == 0:
            typer.echo("no leads", err=True)


@app.command()
def export(file: Path = typer.Argument(..., help="Output file ('-' for stdout)"),
           format: str = typer.Option("jsonl", "--format", "-f", help="jsonl or csv"),
           status: Optional[str] = typer.Option(None, help="Only leads with this status")):
    """Export leads, one row per lead: the DESIGN.md lead fields plus listing kind, url, title,
    seller, status, first/last seen.

    Example: markwatch leads export --format csv leads.csv
    """
    import sys

    from alerts.export import lead_rows, write_csv, write_jsonl
    from store.db import session_scope

    if format not in ("jsonl", "csv"):
        fail(f"--format must be jsonl or csv, not {format!r}", 2)
    out = sys.stdout if str(file) == "-" else file.open("w", encoding="utf-8", newline="")
    try:
        with session_scope(db_engine()) as s:
            n = (write_jsonl if format == "jsonl" else write_csv)(lead_rows(s, status=status), out)
    finally:
        if out is not sys.stdout:
            out.close()
    typer.echo(f"exported {n} leads to {file}", err=True)
