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

def _job(tmp_path, settings, db, base_url: str, crawl_id: str, k: int, run_id: int, lease: float = 30.0) -> Path:
    import json

    from crawler.sources import parse_source

    src = parse_source(mall_source(base_url, concurrency=2), "<test>").resolved(base_url)
    from store.repo import search_terms
    from store.db import session_scope

    with session_scope(db) as s:
        terms = search_terms(s)
    job = {"run_id": run_id, "data_dir": str(settings.resolved_data_dir), "db_url": settings.db_url, "terms": terms,
           "sources": [src], "counts_file": str(tmp_path / f"counts-{k}.json"), "log_level": "WARNING",
           "redis": {"url": URL, "crawl_id": crawl_id, "persist": True, "lease": lease}}
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


def _clear_listings(db):
    from sqlalchemy import delete

    from store.db import session_scope
    from store.models import Listing
    with session_scope(db) as s:
        s.execute(delete(Listing))


def _two_crawlers(tmp_path, settings, db, redis_client, site: dict, want: dict, cid: str, sig, lease: float):
    """Start crawlers A and B on one frontier, send ``sig`` to A once a quarter of the item pages
    are fetched and A holds requests; wait for B. Returns (pages served, {1: A's counts if it wrote
    them, 2: B's counts})."""
    import json
    import time

    with SandboxServer(**site) as sb:
        run_id = _run_row(db)
        a = _start(_job(tmp_path, settings, db, sb.base_url, cid, 1, run_id, lease), tmp_path, 1)
        b = _start(_job(tmp_path, settings, db, sb.base_url, cid, 2, run_id, lease), tmp_path, 2)
        items = sum(1 for q in want if q.startswith("/item/"))
        deadline = time.monotonic() + 300

        def a_holds_pages() -> bool:  # A is crawling: it has taken requests from the shared frontier
            return any(redis_client.hlen(k) for k in redis_client.scan_iter(f"markwatch:{cid}:*:lease:*:{a.pid}:*"))

        # stop A mid-crawl: a quarter of the item pages fetched and A holding some in flight
        while sum(1 for q in _pages(sb) if q.startswith("/item/")) < items // 4 or not a_holds_pages():
            assert time.monotonic() < deadline and a.poll() is None, "crawl A ended before it was stopped"
            assert b.poll() is None, "crawl B finished before A took a share"
            time.sleep(0.02)
        a.send_signal(sig)
        assert a.wait(timeout=120) is not None
        assert b.wait(timeout=600) == 0, (tmp_path / "crawl-2.log").read_text(errors="replace")[-3000:]
        counts = {k: json.loads(f.read_text())["sources"]["test-mall"]
                  for k in (1, 2) if (f := tmp_path / f"counts-{k}.json").exists()}
        return _pages(sb), counts


def test_two_crawlers_split_one_frontier_and_survive_a_stop_and_a_kill(settings, db, redis_client, tmp_path):
    """Two crawl processes with one scrapy-redis frontier (crawler.frontier.SharedFrontier):
    - stopped mid-crawl (SIGTERM, as `systemctl stop` does), A finishes what it holds and B the rest:
      every page is fetched exactly as often as by one process alone (the sandbox counts), both take
      a share, the same listings are stored;
    - killed mid-crawl (SIGKILL), A's leased requests go back to the queue once its lease expires and
      B fetches them: no page is lost (a page A had in flight may be fetched twice), same listings."""
    import signal

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
        import json
        alone = json.loads((tmp_path / "counts-0.json").read_text())["sources"]["test-mall"]

        _clear_listings(db)  # start again from an empty store
        cid = f"stop-{uuid.uuid4().hex[:8]}"
        keys.append(cid)
        for k in (0, 1, 2):
            (tmp_path / f"counts-{k}.json").unlink(missing_ok=True)
        got, counts = _two_crawlers(tmp_path, settings, db, redis_client, site, want, cid, signal.SIGTERM, lease=30)
        assert got == want  # every page fetched exactly as often as by one crawler: no page twice, none lost
        assert _stored(db) == stored_alone
        # both took a share, and the shares add up to the pages one crawler fetches
        assert counts[1]["pages"] > 0 and counts[2]["pages"] > 0
        assert counts[1]["pages"] + counts[2]["pages"] == alone["pages"]
        assert not list(redis_client.scan_iter(f"markwatch:{cid}:*:lease:*"))  # no lease left behind

        _clear_listings(db)
        cid = f"kill-{uuid.uuid4().hex[:8]}"
        keys.append(cid)
        got, counts = _two_crawlers(tmp_path, settings, db, redis_client, site, want, cid, signal.SIGKILL, lease=3)
        lost = {q: n for q, n in want.items() if got.get(q, 0) < n}
        assert not lost  # nothing lost
        assert set(got) == set(want)  # and nothing fetched that one crawler would not fetch
        assert _stored(db) == stored_alone
        assert redis_client.zcard(f"markwatch:{cid}:test-mall:requests") == 0
        assert not list(redis_client.scan_iter(f"markwatch:{cid}:*:lease:*"))
    finally:
        for cid in keys:
            for k in redis_client.scan_iter(f"markwatch:{cid}:*"):
                redis_client.delete(k)
