"""scrapy-redis: with MARKWATCH_REDIS_URL set, the frontier and dupefilter live in Redis."""
from __future__ import annotations

import uuid

import pytest

from crawler.sandbox import SandboxServer
from crawler.testing import crawl_once, import_demo_watchlist, mall_source

pytestmark = pytest.mark.redis
URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    r = redis.Redis.from_url(URL)
    try:
        r.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("needs Redis on 127.0.0.1:6379 (scripts/services.sh)")
    yield r
    r.close()


def test_crawl_uses_a_shared_redis_frontier(settings, db, redis_client, monkeypatch, tmp_path):
    crawl_id = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MARKWATCH_REDIS_URL", URL)
    monkeypatch.setenv("MARKWATCH_CRAWL_ID", crawl_id)
    monkeypatch.setenv("MARKWATCH_REDIS_PERSIST", "1")
    from config.settings import Settings

    settings = Settings()  # settings are built once from the environment: build them after setting it
    assert settings.crawl.redis_url == URL
    import_demo_watchlist(db)
    try:
        with SandboxServer(seed=3, n_listings=60, n_rooms=2, cache_dir=tmp_path / "img", slow_seconds=0.1) as sb:
            _, c = crawl_once(settings, db, [mall_source(sb.base_url, concurrency=4)])
            fetched = sum(n for p, n in sb.stats.paths.items() if p.startswith(("/item/", "/search", "/shop/")))
        assert c["new"] > 20
        seen = redis_client.scard(f"markwatch:{crawl_id}:test-mall:dupefilter")
        assert seen >= c["new"] and seen <= fetched  # every page went through the shared dupefilter
        assert redis_client.zcard(f"markwatch:{crawl_id}:test-mall:requests") == 0  # frontier drained
    finally:
        for k in redis_client.scan_iter(f"markwatch:{crawl_id}:*"):
            redis_client.delete(k)


# -- two crawler processes, one frontier ------------------------------------------------------

def _job(tmp_path, settings, db, base_url: str, crawl_id: str, k: int, run_id: int) -> Path:
    import json

    from crawler.sources import parse_source

    src = parse_source(mall_source(base_url, concurrency=2), "<test>").resolved(base_url)
    from store.repo import search_terms
    from store.db import session_scope

    with session_scope(db) as s:
        terms = search_terms(s)
    job = {"run_id": run_id, "data_dir": str(settings.resolved_data_dir), "db_url": settings.db_url, "terms": terms,
           "sources": [src], "counts_file": str(tmp_path / f"counts-{k}.json"), "log_level": "WARNING",
           "redis": {"url": URL, "crawl_id": crawl_id, "persist": True}}
    p = tmp_path / f"job-{k}.json"
    p.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    return p


def _start(job: Path, tmp_path, k: int):
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "crawler.crawl_process", str(job)], cwd=str(REPO), env=env,
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"crawl-{k}.log", "wb"))


def _pages(sb) -> dict:
    """What the sandbox served: path -> times, pages only (search, shop, item; not images)."""
    return {p: n for p, n in sb.stats.paths.items() if p.startswith(("/item/", "/search", "/shop/"))}


def _stored(db) -> set:
    from sqlalchemy import select

    from store.db import session_scope
    from store.models import Listing

    with session_scope(db) as s:
        return set(s.scalars(select(Listing.listing_id)))


def _run_row(db) -> int:
    from store.db import session_scope
    from store.models import Run

    with session_scope(db) as s:
        r = Run(kind="crawl", trigger="manual", status="running", counts={}, durations={})
        s.add(r)
        s.flush()
        return r.id


def test_two_crawlers_split_one_frontier_and_survive_a_kill(settings, db, redis_client, tmp_path):
    """Two crawl processes with one scrapy-redis frontier: every page is fetched as often as one
    process alone fetches it (the sandbox counts), both take a share, and when one is stopped
    mid-crawl (SIGTERM, as `systemctl stop` does) the other finishes with nothing lost."""
    import signal
    import time

    import_demo_watchlist(db)
    site = dict(seed=5, n_listings=80, n_rooms=1, cache_dir=tmp_path / "img", slow_seconds=0.1)
    keys = []
    try:
        # reference: one process alone, fresh sandbox and frontier
        cid = f"ref-{uuid.uuid4().hex[:8]}"
        keys.append(cid)
        with SandboxServer(**site) as sb:
            p = _start(_job(tmp_path, settings, db, sb.base_url, cid, 0, _run_row(db)), tmp_path, 0)
            assert p.wait(timeout=600) == 0
            want = _pages(sb)
        stored_alone = _stored(db)
        assert len(stored_alone) > 20
        from sqlalchemy import delete

        from store.db import session_scope
        from store.models import Listing
        with session_scope(db) as s:  # start again from an empty store
            s.execute(delete(Listing))

        cid = f"two-{uuid.uuid4().hex[:8]}"
        keys.append(cid)
        with SandboxServer(**site) as sb:
            run_id = _run_row(db)
            a = _start(_job(tmp_path, settings, db, sb.base_url, cid, 1, run_id), tmp_path, 1)
            b = _start(_job(tmp_path, settings, db, sb.base_url, cid, 2, run_id), tmp_path, 2)
            items = sum(1 for q in want if q.startswith("/item/"))
            deadline = time.monotonic() + 300
            while sum(1 for q in _pages(sb) if q.startswith("/item/")) < items // 4:  # a quarter done
                assert time.monotonic() < deadline and a.poll() is None, "crawl A ended before it was stopped"
                time.sleep(0.05)
            a.send_signal(signal.SIGTERM)
            assert a.wait(timeout=120) is not None
            assert b.wait(timeout=600) == 0
            got = _pages(sb)
        assert got == want  # every page fetched exactly as often as by one crawler: no page twice, none lost
        assert _stored(db) == stored_alone
        import json
        share = json.loads((tmp_path / "counts-2.json").read_text())["sources"]["test-mall"]
        assert 0 < share.get("new", 0) < len(stored_alone)  # B did not crawl everything alone
    finally:
        for cid in keys:
            for k in redis_client.scan_iter(f"markwatch:{cid}:*"):
                redis_client.delete(k)
