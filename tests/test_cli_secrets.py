"""The database password never appears in what the CLI prints (SECURITY.md: secrets never logged)."""
from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli import app


def test_unreachable_database_error_masks_the_password(monkeypatch):
    from config.settings import reset_settings_cache

    monkeypatch.setenv("MARKWATCH_DATABASE_URL", "postgresql+psycopg://officer:S3cretPW@127.0.0.1:1/markwatch")
    reset_settings_cache()
    r = CliRunner().invoke(app, ["leads", "list"])
    out = r.output + (r.stderr if r.stderr_bytes is not None else "")
    assert r.exit_code != 0
    assert "S3cretPW" not in out and "127.0.0.1" in out
    reset_settings_cache()
