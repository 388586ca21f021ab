"""The ``markwatch`` command line: a thin layer over library functions."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from config.settings import get_settings

app = typer.Typer(help="markwatch: e-commerce infringement monitoring for IP enforcement officers.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)


@app.callback()
def _root() -> None:
    """markwatch: e-commerce infringement monitoring. Settings come from MARKWATCH_* variables
    (MARKWATCH_DATA_DIR, MARKWATCH_DATABASE_URL, ...)."""


def fail(msg: str, code: int = 1) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


class Progress:
    """Progress on stderr, at most every `every` seconds (the first line after `every` seconds:
    a short job prints only its summary)."""

    def __init__(self, label: str, total: int | None = None, every: float = 2.0):
        self.label, self.total, self.every = label, total, every
        self.last = time.monotonic()

    def __call__(self, n: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            tot = f"/{self.total}" if self.total else ""
            typer.echo(f"{self.label}: {n}{tot}", err=True)


@app.command()
def match(
    watchlist: Path = typer.Option(..., "--watchlist", "-w", help="Watchlist YAML or CSV"),
    listings: Path = typer.Option(..., "--listings", "-l", help="Listings JSONL"),
    output: Path = typer.Option(..., "--output", "-o", help="Leads JSONL to write ('-' for stdout)"),
    threshold: Optional[int] = typer.Option(None, help="Lowest score written (default: MARKWATCH_QUEUE_THRESHOLD)"),
    ocr: Optional[bool] = typer.Option(None, "--ocr/--no-ocr", help="Read text in images (default: MARKWATCH_OCR_ENABLED)"),
    logos: Optional[bool] = typer.Option(None, "--logos/--no-logos", help="Look for logos in images"),
    report: Optional[Path] = typer.Option(None, "--report", help="Write the summary and every skipped image "
                                          "(listing, image, reason) to this JSON file"),
    workers: int = typer.Option(1, "--workers", min=1, help="Matcher processes, forked after loading (same output)"),
):
    """Match listings against a watchlist and write leads (no database needed).

    Example: markwatch match --watchlist tests/data/real-titles/watchlist.yaml --listings tests/data/real-titles/listings.jsonl --output leads.jsonl
    (add --workers 2 on a 2-core machine)
    """
    from matcher.batch import match_file
    from matcher.engine import EngineOptions
    from watchlist import WatchlistError

    st = get_settings()
    if not listings.is_file():
        fail(f"{listings}: file not found")
    opts = EngineOptions(threshold=st.queue_threshold if threshold is None else threshold,
                         ocr=st.ocr_enabled if ocr is None else ocr,
                         logos=st.logo_enabled if logos is None else logos,
                         cache_dir=st.resolved_data_dir / "cache", ocr_budget=st.ocr_budget)
    out = sys.stdout if str(output) == "-" else output.open("w", encoding="utf-8")
    try:
        summary = match_file(watchlist, listings, out, opts, progress=Progress("listings matched"), workers=workers,
                             freeze=True)
    except WatchlistError as e:
        fail(str(e), 2)
    finally:
        if out is not sys.stdout:
            out.close()
    typer.echo(summary.line(), err=True)
    for line in summary.skipped_lines():
        typer.echo(line, err=True)
    if report is not None:
        report.write_text(json.dumps(summary.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")


def _register_subcommands() -> None:
    """Each stage's commands live in their own module (a module that cannot be imported is an
    error, never a silently missing command)."""
    import importlib

    for mod, name in [("pipeline.cli_watchlist", "watchlist"), ("pipeline.cli_db", "db"),
                      ("pipeline.cli_listings", "listings"), ("pipeline.cli_leads", "leads"),
                      ("pipeline.cli_runs", "runs"), ("pipeline.cli_geo", "geo"),
                      ("pipeline.cli_evidence", "evidence"), ("pipeline.cli_logos", "logos"),
                      ("pipeline.cli_ocr", "ocr"), ("pipeline.cli_sellers", "sellers"),
                      ("pipeline.cli_sellers:suppressions_app", "suppressions"),
                      ("pipeline.cli_sources", "sources"),
                      ("pipeline.cli_users", "users"),
                      ("pipeline.cli_goods", "goods")]:
        mod, _, attr = mod.partition(":")
        m = importlib.import_module(mod)
        app.add_typer(getattr(m, attr or "app"), name=name)
    for mod in ("pipeline.cli_run", "pipeline.cli_demo", "pipeline.cli_schedule", "pipeline.cli_digest",
                "pipeline.cli_rematch", "pipeline.cli_scale", "pipeline.cli_serve"):
        m = importlib.import_module(mod)
        m.register(app)


_register_subcommands()


def main() -> None:
    try:
        app()
    except Exception as e:  # a read-only data directory or full disk: say so, no traceback
        # (SQLAlchemy is imported only by commands that use the database: `match` never pays for it)
        exc = sys.modules.get("sqlalchemy.exc")
        if exc is None or not isinstance(e, exc.OperationalError):
            raise
        msg = str(e.orig if e.orig is not None else e)
        if "readonly" in msg or "read-only" in msg or "disk" in msg:
            typer.echo(f"error: cannot write the database ({msg}); this command changes data and the data "
                       "directory is read-only or full. Read-only commands (leads list, evidence verify, "
                       "runs list) still work.", err=True)
            raise SystemExit(1) from None
        raise


if __name__ == "__main__":
    main()
