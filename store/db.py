"""Engine and session set-up. The session's lifecycle belongs to the caller (CLI command, job,
request): ``with session_scope(engine) as s: ...`` commits on success and rolls back on error."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings, get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str | None = None, settings: Settings | None = None) -> Engine:
    st = settings or get_settings()
    url = url or st.db_url
    if url.startswith("sqlite"):
        st.ensure_dirs()
        eng = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn, _rec):  # WAL: readers never block the crawler's writes
            cur = dbapi_conn.cursor()
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


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest migration id, read from the ``revision``/``down_revision`` lines of
    store/migrations/versions/*.py without importing Alembic (officer commands start fast).
    None when the chain has no single head (Alembic then decides)."""
    import re

    revs, downs = set(), set()
    for p in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = p.read_text(encoding="utf-8")
        r = re.search(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
        if r:
            revs.add(r.group(1))
            d = re.search(r"^down_revision\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
            if d:
                downs.add(d.group(1))
    heads = revs - downs
    return heads.pop() if len(heads) == 1 else None


def ensure_schema(engine: Engine) -> None:
    """Upgrade to head if needed. Cheap when already current: one SELECT of the stored revision
    compared with :func:`head_revision`; Alembic is imported only when an upgrade is due."""
    from sqlalchemy import text

    head = head_revision()
    if head is not None:
        try:
            with engine.connect() as conn:
                if conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head:
                    return
        except Exception:  # no alembic_version table yet: a new database
            pass
    upgrade(engine.url.render_as_string(hide_password=False))
