"""`markwatch serve`: the web console (uvicorn)."""
from __future__ import annotations

import typer

from config.settings import get_settings


def banner(host: str, port: int, db_url: str) -> str:
    """The start-up line: the console's address and the database, with any password masked
    (``postgresql+psycopg://mw:***@db/mw``): the line goes to logs and terminals."""
    from sqlalchemy.engine import make_url

    try:
        shown = make_url(db_url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: show only its scheme, if any
        shown = (db_url.split("://", 1)[0] + "://…") if "://" in db_url else "(unreadable URL)"
    return f"console: http://{host}:{port}/  (database {shown})"


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on"),
              port: int = typer.Option(8000, help="Port to listen on"),
              insecure_cookies: bool = typer.Option(False, "--insecure-cookies",
                                                    help="Do not mark cookies Secure even behind HTTPS (testing only)")):
        """Start the review console: officers' queue, lead evidence, dashboard; holders' registration.
        Create accounts first with `markwatch users add`. Put it behind an HTTPS reverse proxy in
        production (cookies are marked Secure on HTTPS requests).

        Example: markwatch serve --host 127.0.0.1 --port 8000
        """
        import uvicorn

        from web.app import create_app

        from .common import db_engine

        eng = db_engine()
        web = create_app(get_settings(), eng)
        if insecure_cookies:
            web.state.secure_cookies = False
        typer.echo(banner(host, port, get_settings().db_url), err=True)
        uvicorn.run(web, host=host, port=port, log_level="info", proxy_headers=True, forwarded_allow_ips="127.0.0.1")
