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


def _drop_owned_elsewhere(s, read, file: str) -> None:
    """Take the entries whose id the store holds under another owner out of ``read`` (they are
    refused with store/watchlist_ids.py's problem naming both files); the rest is imported."""
    from store.watchlist_ids import ownership_problems
    from watchlist import RefusedEntry, WatchlistError

    wl = read.watchlist
    found = ownership_problems(s, wl, file)
    if not found:
        return
    where: dict[str, tuple] = {}
    for i, e in enumerate(wl.enterprises):
        where[f"enterprises[{i}] (id {e.id})"] = ("enterprise", e.id)
        for j, mk in enumerate(e.marks):
            where[f"enterprises[{i}] (id {e.id}) > marks[{j}] (id {mk.id})"] = ("mark", mk.id)
    for i, g in enumerate(wl.geographical_indications):
        where[f"geographical_indications[{i}] (id {g.id})"] = ("gi", g.id)
    drop: set[tuple] = set()
    for p in found:
        unit = where.get(p.entry)
        if unit is None:  # cannot tell what it refers to: refuse the file, as before
            raise WatchlistError(found)
        drop.add(unit)
        p.line = p.line or read.lines.get(unit[1])
    read.problems.extend(found)
    kept_ents = []
    for e in wl.enterprises:
        if ("enterprise", e.id) in drop:
            read.refused.extend(RefusedEntry("row" if read.rows else "mark", mk.id, read.lines.get(mk.id))
                                for mk in e.marks)
            read.refused.append(RefusedEntry("enterprise", e.id, read.lines.get(e.id)))
            continue
        for mk in [mk for mk in e.marks if ("mark", mk.id) in drop]:
            read.refused.append(RefusedEntry("row" if read.rows else "mark", mk.id, read.lines.get(mk.id)))
        e.marks = [mk for mk in e.marks if ("mark", mk.id) not in drop]
        kept_ents.append(e)
    wl.enterprises = kept_ents
    for g in [g for g in wl.geographical_indications if ("gi", g.id) in drop]:
        read.refused.append(RefusedEntry("gi", g.id, read.lines.get(g.id)))
    wl.geographical_indications = [g for g in wl.geographical_indications if ("gi", g.id) not in drop]


def import_keeping_good(s, read, name: str, deactivate_missing: bool = False) -> dict:
    """Import what ``read`` (watchlist.read_watchlist) kept into session ``s`` (the caller
    commits): entries whose id belongs to another holder are refused too (added to
    ``read.problems``/``read.refused``), the rest upserted (store.watchlist_ids.import_watchlist).
    ``deactivate_missing`` is applied only when nothing was refused (a refused mark is not
    "missing"). Returns the upsert counts. Raises WatchlistError only when an ownership problem
    cannot be traced to an entry (nothing written)."""
    from store.watchlist_ids import import_watchlist

    _drop_owned_elsewhere(s, read, name)
    return import_watchlist(s, read.watchlist, name, deactivate_missing=deactivate_missing and not read.refused)


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
