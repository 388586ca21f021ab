"""`markwatch db ...`: schema management."""
from __future__ import annotations

import typer

from config.settings import get_settings
from config.redact import mask_url

app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision")):
    """Create or upgrade the database schema.

    Example: MARKWATCH_DATABASE_URL=postgresql+psycopg://127.0.0.1/markwatch markwatch db upgrade
    """
    from store.db import upgrade as do_upgrade

    st = get_settings()
    do_upgrade(st.db_url, revision)
    typer.echo(f"database at {mask_url(st.db_url)} is at revision {revision}")
