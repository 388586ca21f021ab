"""`markwatch digest`: the daily digest (HTML + XLSX, zh-CN), saved and sent through apprise."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer

from config.settings import get_settings


def register(app: typer.Typer) -> None:
    @app.command()
    def digest(day: Optional[str] = typer.Option(None, "--date", help="Day YYYY-MM-DD (default: today in MARKWATCH_TIMEZONE)"),
               output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder for the files (default: <data dir>/digests/<date>)"),
               holder: Optional[str] = typer.Option(None, "--holder", help="Only this enterprise's marks (or this GI): a holder's digest"),
               send: bool = typer.Option(True, "--send/--no-send", help="Send through apprise (MARKWATCH_NOTIFY_URLS, MARKWATCH_HOLDER_NOTIFY_URLS)")):
        """Write the daily digest of new leads — by priority, by mark, by platform — as HTML and
        XLSX, and send it to the configured notification URLs. Exit 1 when sending failed.

        Example: markwatch digest --date 2026-11-20 --output /tmp/digest
        """
        from alerts.daily import run_digest

        from .common import db_engine, fail

        d = None
        if day:
            try:
                d = date.fromisoformat(day)
            except ValueError:
                fail(f"--date {day!r}: expected YYYY-MM-DD", 2)
        try:
            results = run_digest(get_settings(), db_engine(), d, output, holder, notify=send)
        except ValueError as e:
            fail(str(e), 2)
        failed = False
        for r in results:
            who = f" for {r.digest.holder_name}" if r.digest.holder else ""
            typer.echo(f"digest {r.digest.date}{who}: {r.digest.total} new leads "
                       f"({r.digest.bands['high']} high priority) -> {r.files['html']}, {r.files['xlsx']}"
                       + (f"; sent to {r.sent_to} URL(s)" if r.sent_to else ""))
            if r.error:
                failed = True
                typer.echo(f"error: {r.error}", err=True)
        if send and not any(r.sent_to or r.error for r in results):
            typer.echo("(not sent: no notification URLs configured; set MARKWATCH_NOTIFY_URLS)", err=True)
        if failed:
            raise typer.Exit(1)
