"""Shared fixtures: every test gets its own data directory and SQLite database."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEVSET = REPO.parent / "shared" / "devset"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """MARKWATCH_DATA_DIR in a temp dir; the database defaults to SQLite inside it."""
    from config.settings import reset_settings_cache

    data = tmp_path / "var"
    monkeypatch.setenv("MARKWATCH_DATA_DIR", str(data))
    monkeypatch.delenv("MARKWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("MARKWATCH_WATCHLIST", raising=False)
    reset_settings_cache()
    yield data
    reset_settings_cache()


@pytest.fixture
def settings(isolated_settings):
    from config.settings import get_settings

    return get_settings()


@pytest.fixture
def db(settings):
    """An upgraded SQLite engine in the test's data dir."""
    from store.db import make_engine, upgrade

    upgrade(settings.db_url)
    eng = make_engine(settings=settings)
    yield eng
    eng.dispose()



# Hypothesis budgets: small in `make test`, larger in `make fuzz` (HYPOTHESIS_PROFILE=fuzz).
from hypothesis import HealthCheck, settings as _hyp_settings  # noqa: E402

for _name, _n in (("default", 40), ("fuzz", 2000)):
    _hyp_settings.register_profile(_name, max_examples=_n, deadline=None,
                                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
_hyp_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def demo_pass_settings(monkeypatch, tmp_path, **env: str):
    """Settings for a pass over sandbox sources given as ``extra_sources``: the demo watchlist, no
    configured sources, OCR off (matching speed is not what these tests check), plus ``env``
    (``MARKWATCH_<NAME>`` values, e.g. ``LOGO_ENABLED="0"``). Built after the environment is set."""
    from config.settings import get_settings, reset_settings_cache
    from crawler.sandbox import DEMO_WATCHLIST

    monkeypatch.setenv("MARKWATCH_OCR_ENABLED", "0")
    for k, v in env.items():
        monkeypatch.setenv(f"MARKWATCH_{k}", v)
    monkeypatch.setenv("MARKWATCH_WATCHLIST", str(DEMO_WATCHLIST))
    empty = tmp_path / "sources"
    empty.mkdir()
    monkeypatch.setenv("MARKWATCH_SOURCES_DIR", str(empty))
    reset_settings_cache()
    return get_settings()
