"""Helpers shared by CLI modules: settings, an engine with an up-to-date schema, errors."""
from __future__ import annotations

import typer

from config.settings import get_settings
from config.redact import mask_url


def fail(msg: str, code: int = 1) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def db_engine():
    """The configured database, upgraded to the current schema."""
    from store.db import ensure_schema, make_engine

    st = get_settings()
    try:
        eng = make_engine(settings=st)
        ensure_schema(eng)
    except Exception as e:  # unreachable server, bad URL, read-only dir ...
        fail(f"cannot open database {mask_url(st.db_url)}: {type(e).__name__}: {mask_url(str(e)) if '://' in str(e) else e}")
    return eng
