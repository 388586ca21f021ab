"""Engine and session set-up. The session's lifecycle belongs to the caller (CLI command, job,
request): ``with session_scope(engine) as s: ...`` commits on success and rolls back on error."""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class SchemaError(RuntimeError):
    """The database schema is not current and cannot be upgraded (e.g. a read-only data dir)."""


def sqlite_read_only(path: Path) -> bool:
    """True when an existing SQLite file or its directory cannot be written by this process
    (WAL needs to create -wal/-shm files beside the database)."""
    return path.is_file() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def make_engine(url: str | None = None, settings: Settings | None = None) -> Engine:
    """An engine for `url` (default: the settings' database). A SQLite database in a read-only
    data directory is opened read-only (``mode=ro``; ``immutable=1`` when its WAL files are
    absent and cannot be created), so read-only commands work; writes then fail with
    'attempt to write a readonly database'."""
    st = settings or get_settings()
    url = url or st.db_url
    if url.startswith("sqlite"):
        db_path = Path(url.split(":///", 1)[1]) if ":///" in url else None
        read_only = db_path is not None and sqlite_read_only(db_path)
        if read_only:
            wal_ready = db_path.with_name(db_path.name + "-shm").exists()
            url = f"sqlite:///file:{db_path}?mode=ro{'' if wal_ready else '&immutable=1'}&uri=true"
        else:
            st.ensure_dirs()
        eng = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn, _rec):  # WAL: readers never block the crawler's writes
            cur = dbapi_conn.cursor()
            if not read_only:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()
        return eng
    return create_engine(url, pool_pre_ping=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    s = sessionmaker(bind=engine, expire_on_commit=False)()
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the database schema to `revision` (Alembic)."""
    from alembic import command

    st = get_settings()
    url = url or st.db_url
    if url.startswith("sqlite"):
        st.ensure_dirs()
    command.upgrade(alembic_config(url), revision)


_REV = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)


@lru_cache(maxsize=1)
def schema_head() -> str | None:
    """The head revision, read from the migration files' ``revision``/``down_revision`` lines
    (no Alembic import: read-only commands stay cheap). None when the files do not have exactly
    one head (then ensure_schema asks Alembic)."""
    revs, downs = set(), set()
    for f in (MIGRATIONS_DIR / "versions").glob("*.py"):
        t = f.read_text(encoding="utf-8")
        if (r := _REV.search(t)):
            revs.add(r.group(1))
            if (d := _DOWN.search(t)):
                downs.add(d.group(1))
    heads = revs - downs
    return heads.pop() if len(heads) == 1 else None


head_revision = schema_head  # the name other modules and tests use


def current_revision(engine: Engine) -> str | None:
    """The revision stored in ``alembic_version`` (None for an empty database)."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine) -> None:
    """Upgrade to head if needed. When current this is one SELECT: no Alembic, no write, so it
    works on a read-only data directory. Raises SchemaError when an upgrade is needed but the
    database is read-only."""
    head = schema_head()
    if head is None:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    cur = current_revision(engine)
    if cur == head:
        return
    if "mode=ro" in str(engine.url):
        raise SchemaError(f"database schema is at {cur or 'nothing'} but this version needs {head}, and the "
                          f"data directory is read-only: run `markwatch db upgrade` where it is writable")
    upgrade(engine.url.render_as_string(hide_password=False))
