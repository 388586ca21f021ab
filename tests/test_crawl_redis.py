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
