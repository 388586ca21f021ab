"""`markwatch watchlist ...`: import, export and check the watchlist."""
from __future__ import annotations

from pathlib import Path

import typer

from .common import db_engine, fail

app = typer.Typer(help="Register marks and GIs to watch (YAML, CSV or XLSX).", no_args_is_help=True)


def _read(file: Path):
    """read_watchlist with logo images checked by content (the check `logos check` makes), or
    exit 2 when the file itself is unusable (nothing of it is taken)."""
    from config.settings import get_settings
    from watchlist import WatchlistError, read_watchlist

    try:
        return read_watchlist(file, logo_cache=get_settings().resolved_data_dir / "cache")
    except WatchlistError as e:
        fail(f"{e}\n{file}: nothing read: the file itself has a problem", 2)


def _refused_line(read, verb: str = "refused") -> str:
    what = "rows" if read.rows else "entries"
    items = ", ".join(("" if r.kind == "row" else f"{r.kind} ") + r.id + (f" (line {r.line})" if r.line else "")
                      for r in read.refused[:10])
    more = f", and {len(read.refused) - 10} more" if len(read.refused) > 10 else ""
    return f"{verb} {len(read.refused)} {what}: {items}{more}"


@app.command("import")
def import_(file: Path = typer.Argument(..., help="Watchlist .yaml/.yml, .csv (enterprises and marks) or .xlsx"),
            deactivate_missing: bool = typer.Option(False, help="Stop watching marks/GIs not in the file")):
    """Import a watchlist; re-importing updates entries in place by their ids.

    One bad row never aborts the rest: each refused row (CSV/XLSX) or entry (YAML) is reported
    with file, line, entry and field, the good ones are imported, and the command ends with
    "imported ...; refused N rows" and exit 2. A logo whose image is missing or not a usable
    image (judged by content, as `markwatch logos check`) is refused. An enterprise whose own
    fields are bad is refused with all its marks (a half-read authorised-seller list would turn
    the official store's listings into leads). A file that cannot be read at all imports nothing
    (exit 2). --deactivate-missing is not applied when anything was refused.

    Example: markwatch watchlist import crawler/sandbox/demo_watchlist.yaml
    """
    from config.textio import label
    from store.db import session_scope
    from store.watchlist_ids import import_keeping_good
    from watchlist import WatchlistError

    read = _read(file)
    if read.encoding != "utf-8":
        typer.echo(f"{file}: encoding {label(read.encoding)} (detected)", err=True)
    eng = db_engine()
    try:
        with session_scope(eng) as s:
            c = import_keeping_good(s, read, str(file.resolve()), deactivate_missing)
    except WatchlistError as e:
        fail(f"{e}\n{file}: nothing imported", 2)
    for p in read.problems:
        typer.echo(str(p), err=True)
    line = (f"imported {file}: {c['enterprises']} enterprises ({c['created']} new), {c['marks']} marks, "
            f"{c['gis']} GIs")
    if not read.refused:
        typer.echo(line)
        return
    typer.echo(f"{line}; {_refused_line(read)}")
    if deactivate_missing:
        typer.echo("--deactivate-missing not applied: rows were refused; fix them and import again", err=True)
    raise typer.Exit(2)


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
    """Validate a watchlist file without importing it (exit 2 on problems): every field, ids, and
    each logo image by its content (the check `markwatch logos check` and import make).

    Example: markwatch watchlist check my-marks.yaml
    """
    from config.textio import label

    read = _read(file)
    wl = read.watchlist
    n = sum(len(e.marks) for e in wl.enterprises)
    enc = f", {label(read.encoding)}" if read.encoding != "utf-8" else ""
    if not read.problems:
        typer.echo(f"{file}: ok{enc} ({len(wl.enterprises)} enterprises, {n} marks, {len(wl.geographical_indications)} GIs)")
        return
    for p in read.problems:
        typer.echo(str(p), err=True)
    typer.echo(f"{file}: {len(read.problems)} problems{enc}; an import would take {len(wl.enterprises)} enterprises, "
               f"{n} marks, {len(wl.geographical_indications)} GIs and {_refused_line(read, 'refuse')}")
    raise typer.Exit(2)
