"""`markwatch listings ...`: load listings from files."""
from __future__ import annotations

from pathlib import Path

import typer

from .common import db_engine, fail

app = typer.Typer(help="Listings in the store.", no_args_is_help=True)


@app.command("import")
def import_(file: Path = typer.Argument(..., help="Listings JSONL (DESIGN.md format)"),
            source: str = typer.Option("import", help="Source name recorded on the listings")):
    """Store listings from a JSONL file; bad lines are reported and skipped, good lines kept.
    Imported listings are matched by the next `markwatch run` (or `markwatch run --no-crawl`).

    Example: markwatch listings import devset/listings.jsonl
    """
    from config.textio import label
    from matcher.listing import listings_encoding

    from .stages import import_listings_file

    if not file.is_file():
        fail(f"{file}: file not found")
    enc = listings_encoding(file)
    if enc != "utf-8":
        typer.echo(f"{file}: encoding {label(enc)} (detected)", err=True)
    c = import_listings_file(db_engine(), file, source=source, err=lambda m: typer.echo(f"error: {m}", err=True))
    typer.echo(f"{file}: {c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged, "
               f"{c['bad_lines']} bad lines skipped")
