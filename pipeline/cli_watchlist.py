"""`markwatch watchlist ...`: import, export and check the watchlist."""
from __future__ import annotations

from pathlib import Path

import typer

from .common import db_engine, fail

app = typer.Typer(help="Register marks and GIs to watch (YAML or CSV).", no_args_is_help=True)


@app.command("import")
def import_(file: Path = typer.Argument(..., help="Watchlist .yaml/.yml or .csv (word marks)"),
            deactivate_missing: bool = typer.Option(False, help="Stop watching marks/GIs not in the file")):
    """Import a watchlist; re-importing updates entries in place by their ids.

    Example: markwatch watchlist import devset/watchlist.yaml
    """
    from store.db import session_scope
    from store.repo import upsert_watchlist
    from watchlist import WatchlistError, load_watchlist

    try:
        wl = load_watchlist(file)
    except WatchlistError as e:
        fail(str(e), 2)
    eng = db_engine()
    with session_scope(eng) as s:
        c = upsert_watchlist(s, wl, deactivate_missing=deactivate_missing)
    typer.echo(f"imported {file}: {c['enterprises']} enterprises ({c['created']} new), {c['marks']} marks, {c['gis']} GIs")


@app.command()
def export(file: Path = typer.Argument(..., help="Output .yaml or .csv (word marks only)")):
    """Export the stored watchlist.

    Example: markwatch watchlist export backup.yaml
    """
    from store.db import session_scope
    from store.repo import load_watchlist_from_db
    from watchlist import save_watchlist

    with session_scope(db_engine()) as s:
        wl = load_watchlist_from_db(s)
    save_watchlist(wl, file)
    typer.echo(f"wrote {file}")


@app.command()
def check(file: Path = typer.Argument(..., help="Watchlist file to validate")):
    """Validate a watchlist file without importing it (exit 2 on problems).

    Example: markwatch watchlist check my-marks.yaml
    """
    from watchlist import WatchlistError, load_watchlist

    try:
        wl = load_watchlist(file)
    except WatchlistError as e:
        fail(str(e), 2)
    n = sum(len(e.marks) for e in wl.enterprises)
    typer.echo(f"{file}: ok ({len(wl.enterprises)} enterprises, {n} marks, {len(wl.geographical_indications)} GIs)")
