"""`markwatch watchlist ...`: import, export and check the watchlist."""
from __future__ import annotations

from pathlib import Path

import typer

from .common import db_engine, fail

app = typer.Typer(help="Register marks and GIs to watch (YAML, CSV or XLSX).", no_args_is_help=True)


@app.command("import")
def import_(file: Path = typer.Argument(..., help="Watchlist .yaml/.yml, .csv (enterprises and marks) or .xlsx"),
            deactivate_missing: bool = typer.Option(False, help="Stop watching marks/GIs not in the file")):
    """Import a watchlist; re-importing updates entries in place by their ids.

    Example: markwatch watchlist import crawler/sandbox/demo_watchlist.yaml
    """
    from config.textio import label
    from store.db import session_scope
    from store.watchlist_ids import import_watchlist
    from watchlist import WatchlistError, load_watchlist

    meta: dict = {}
    try:
        wl = load_watchlist(file, meta=meta)
    except WatchlistError as e:
        fail(str(e), 2)
    if meta.get("encoding", "utf-8") != "utf-8":
        typer.echo(f"{file}: encoding {label(meta['encoding'])} (detected)", err=True)
    eng = db_engine()
    try:
        with session_scope(eng) as s:
            c = import_watchlist(s, wl, str(file.resolve()), deactivate_missing=deactivate_missing)
    except WatchlistError as e:
        fail(str(e), 2)
    typer.echo(f"imported {file}: {c['enterprises']} enterprises ({c['created']} new), {c['marks']} marks, {c['gis']} GIs")


@app.command()
def export(file: Path = typer.Argument(..., help="Output .yaml, .xlsx or .csv (no GIs)")):
    """Export the stored watchlist; importing the file back gives the same watchlist. Exit 2
    (nothing written) when the format cannot carry it, e.g. GIs in CSV.

    Example: markwatch watchlist export backup.xlsx
    """
    from store.db import session_scope
    from store.repo import load_watchlist_from_db
    from watchlist import WatchlistExportError, save_watchlist

    with session_scope(db_engine()) as s:
        wl = load_watchlist_from_db(s)
    try:
        save_watchlist(wl, file)
    except WatchlistExportError as e:
        fail(f"{file}: {e}", 2)
    typer.echo(f"wrote {file}")


@app.command()
def check(file: Path = typer.Argument(..., help="Watchlist file to validate")):
    """Validate a watchlist file without importing it (exit 2 on problems).

    Example: markwatch watchlist check my-marks.yaml
    """
    from config.textio import label
    from watchlist import WatchlistError, load_watchlist

    meta: dict = {}
    try:
        wl = load_watchlist(file, meta=meta)
    except WatchlistError as e:
        fail(str(e), 2)
    n = sum(len(e.marks) for e in wl.enterprises)
    enc = f", {label(meta['encoding'])}" if meta.get("encoding", "utf-8") != "utf-8" else ""
    typer.echo(f"{file}: ok{enc} ({len(wl.enterprises)} enterprises, {n} marks, {len(wl.geographical_indications)} GIs)")
