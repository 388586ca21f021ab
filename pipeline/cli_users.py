"""`markwatch users ...`: console accounts (admin, officer, holder)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import db_engine, fail

app = typer.Typer(help="Console accounts: add (or reset), list, disable.", no_args_is_help=True)


@app.command()
def add(name: str = typer.Argument(..., help="User name (the login form's 'username')"),
        role: str = typer.Option(..., "--role", help="admin | officer | holder"),
        enterprise: Optional[str] = typer.Option(None, "--enterprise", help="Holder only: the enterprise (or GI) id they may see"),
        password_file: Optional[Path] = typer.Option(None, "--password-file", help="Read the password from this file's first line (else prompted)"),
        language: str = typer.Option("zh-CN", help="zh-CN or en")):
    """Add a user, or reset an existing user's password, role and enterprise. Passwords are stored
    as argon2id hashes; at least 10 characters.

    Example: markwatch users add zhang --role officer --password-file /run/secrets/zhang
             markwatch users add moutai --role holder --enterprise ent-moutai
    """
    from store.db import session_scope
    from web.auth import AuthError, add_user, audit

    if password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").splitlines()[0] if password_file.stat().st_size else ""
        except OSError as e:
            fail(f"{password_file}: {e.strerror}", 2)
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(db_engine()) as s:
            u = add_user(s, name, role, password, enterprise, language)
            audit(s, "cli", "user.add", u.username, detail=u.role)
            uid = u.id
    except AuthError as e:
        fail(str(e), 2)
    typer.echo(f"user {name} (#{uid}): {role}" + (f", enterprise {enterprise}" if enterprise else ""))


@app.command("list")
def list_():
    """List console users.

    Example: markwatch users list
    """
    from sqlalchemy import select

    from store.db import session_scope
    from store.models import WebUser

    with session_scope(db_engine()) as s:
        for u in s.scalars(select(WebUser).order_by(WebUser.username)):
            last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "never"
            typer.echo(f"{u.username}\t{u.role}\t{u.enterprise_id or '-'}\t{'active' if u.active else 'disabled'}\t{last}")


@app.command()
def disable(name: str = typer.Argument(..., help="User name")):
    """Disable a user and end their sessions.

    Example: markwatch users disable zhang
    """
    from sqlalchemy import delete, select

    from store.db import session_scope
    from store.models import WebSession, WebUser

    with session_scope(db_engine()) as s:
        u = s.scalar(select(WebUser).where(WebUser.username == name))
        if u is None:
            fail(f"no user {name!r}", 2)
        u.active = False
        s.execute(delete(WebSession).where(WebSession.user_id == u.id))
    typer.echo(f"user {name} disabled")
