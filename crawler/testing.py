"""Helpers for tests and benchmarks that crawl the sandbox (no internet, free ports)."""
from __future__ import annotations

import copy
from pathlib import Path

import yaml

from config.settings import SOURCES_DIR

from .sandbox import DEMO_WATCHLIST


def _load(name: str) -> dict:
    return yaml.safe_load((SOURCES_DIR / name).read_text(encoding="utf-8"))


def _source(file: str, base_url: str | None, name: str, politeness: dict) -> dict:
    d = copy.deepcopy(_load(file))
    d["name"] = name
    if base_url:
        d.pop("sandbox", None)
        d["base_url"] = base_url
    d["politeness"].update(politeness)
    return d


def mall_source(base_url: str | None = None, name: str = "test-mall", **politeness) -> dict:
    """The shipped sandbox-mall source pointed at `base_url` (or sandbox: true when None)."""
    return _source("sandbox-mall.yaml", base_url, name, politeness)


def live_source(base_url: str | None = None, name: str = "test-live", **politeness) -> dict:
    """The shipped sandbox-live source pointed at `base_url` (or sandbox: true when None)."""
    return _source("sandbox-live.yaml", base_url, name, politeness)


def import_demo_watchlist(engine) -> None:
    from store.db import session_scope
    from store.repo import upsert_watchlist
    from watchlist import load_watchlist

    with session_scope(engine) as s:
        upsert_watchlist(s, load_watchlist(DEMO_WATCHLIST))


def crawl_once(settings, engine, sources: list[dict], say=lambda m: None) -> tuple[int, dict]:
    """A recorded run that only crawls `sources`; returns (run id, counts)."""
    from store.db import session_scope
    from store.models import Run, utcnow

    from .runner import crawl

    with session_scope(engine) as s:
        run = Run(kind="crawl", trigger="manual", status="running", counts={}, durations={})
        s.add(run)
        s.flush()
        run_id = run.id
    counts = crawl(settings, run_id=run_id, only=[d["name"] for d in sources], extra_sources=sources, say=say,
                   engine=engine, log_level="INFO")
    with session_scope(engine) as s:
        r = s.get(Run, run_id)
        r.status, r.finished_at = "ok", utcnow()
    return run_id, counts


def empty_sources_dir(tmp: Path) -> Path:
    d = Path(tmp) / "no-sources"
    d.mkdir(parents=True, exist_ok=True)
    return d
