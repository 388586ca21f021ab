"""The store and the lead queue on PostgreSQL, and matcher workers claiming listing batches with
SELECT … FOR UPDATE SKIP LOCKED. Each test runs in a fresh database that is dropped afterwards."""
from __future__ import annotations

import json
import os
import threading
import uuid

import pytest

from tests.test_alerts_support import REPO, cli, leads, listing, seed, write_jsonl, no_browser_screenshots  # noqa: F401

PG = os.environ.get("MARKWATCH_TEST_PG", "postgresql+psycopg://127.0.0.1:5432")
DEVSET = REPO.parent / "shared" / "devset"
pytestmark = pytest.mark.postgres


def _admin():
    import psycopg

    return psycopg.connect(PG.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True,
                           connect_timeout=3)


@pytest.fixture
def pg(monkeypatch):
    try:
        con = _admin()
    except Exception as e:
        pytest.skip(f"PostgreSQL not reachable at {PG}: {e}")
    name = f"mw_alerts_{uuid.uuid4().hex[:10]}"
    con.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG}/{name}"
    monkeypatch.setenv("MARKWATCH_DATABASE_URL", url)
    try:
        yield url
    finally:
        from sqlalchemy import create_engine  # noqa: F401
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.close()


FAKE = "复刻 贵州茅台 飞天53度 酱香型白酒 500ml"


def test_queue_lifecycle_and_digest_on_postgres(pg, tmp_path):
    from openpyxl import load_workbook

    seed(tmp_path, [listing("a1", FAKE, price=260, sales=300, seller_id="s1"),
                    listing("a2", FAKE, price=250, seller_id="s-dealer", seller_name="授权店"),
                    listing("n1", "顶级版 NIKE Air Jordan 1 篮球鞋", price=220, kind="nike", seller_id="s3")])
    ls = leads()
    assert len(ls) == 3
    by = {l.listing.listing_id: l.id for l in ls}
    # re-crawl: same leads, updated
    assert cli("listings", "import", str(write_jsonl(tmp_path / "l2.jsonl", [
        listing("a1", FAKE, price=240, sales=310, seller_id="s1")]))).exit_code == 0
    assert cli("run", "--no-crawl", "-q").exit_code == 0
    assert sorted(l.id for l in leads()) == sorted(by.values())
    assert cli("leads", "confirm", str(by["a1"]), "--by", "张三").exit_code == 0
    assert cli("leads", "refer", str(by["a1"]), "--to", "公安", "--by", "张三", "-o", str(tmp_path / "p.zip")).exit_code == 0
    r = cli("leads", "dismiss", str(by["a2"]), "--by", "张三", "--reason", "授权经销商", "--suppress-seller")
    assert r.exit_code == 0, r.output
    assert cli("listings", "import", str(write_jsonl(tmp_path / "l3.jsonl", [
        listing("a3", FAKE + " 新款", price=250, seller_id="s-dealer", seller_name="授权店")]))).exit_code == 0
    assert cli("run", "--no-crawl", "-q").exit_code == 0
    st = {l.listing.listing_id: l.status for l in leads()}
    assert st == {"a1": "referred", "a2": "dismissed", "n1": "new", "a3": "suppressed"}
    a1 = next(l for l in leads() if l.id == by["a1"])
    assert [e.action for e in a1.events] == ["created", "confirm", "refer"]
    r = cli("digest", "--output", str(tmp_path / "d"), "--no-send")
    assert r.exit_code == 0 and "3 new leads" in r.output  # the suppressed one is not in the digest
    xl = next((tmp_path / "d").glob("*.xlsx"))
    assert len(list(load_workbook(xl)["按优先级"].iter_rows())) == 4
    assert "run 2" in cli("runs", "list").output or "2\t" in cli("runs", "list").output


@pytest.mark.skipif(not (DEVSET / "listings.jsonl").is_file(), reason="devset not available")
def test_matcher_workers_claim_disjoint_batches_with_skip_locked(pg, tmp_path):
    from sqlalchemy import func, select

    from config.settings import get_settings
    from pipeline.stages import match_pending
    from store.db import make_engine, session_scope
    from store.models import Lead, Listing

    rows = [json.loads(l) for l in (DEVSET / "listings.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    rows = [{**r, "listing_id": f"{r['listing_id']}-{c}", "url": "", "images": []} for c in range(3) for r in rows]
    assert cli("watchlist", "import", str(DEVSET / "watchlist.yaml")).exit_code == 0
    assert cli("listings", "import", str(write_jsonl(tmp_path / "l.jsonl", rows))).exit_code == 0
    st = get_settings().model_copy(update={"ocr_enabled": False, "logo_enabled": False})
    eng = make_engine(settings=st)
    results: dict[str, dict] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(name):
        try:
            start.wait()
            results[name] = match_pending(eng, st, None, batch=50)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(n,)) for n in ("w1", "w2")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    done = results["w1"]["listings_matched"] + results["w2"]["listings_matched"]
    assert done == len(rows)  # every listing matched exactly once between the two workers
    assert results["w1"]["listings_matched"] > 0 and results["w2"]["listings_matched"] > 0
    with session_scope(eng) as s:
        assert s.scalar(select(func.count()).select_from(Listing).where(Listing.match_state != "done")) == 0
        n_leads = s.scalar(select(func.count()).select_from(Lead))
    assert n_leads == results["w1"]["leads_new"] + results["w2"]["leads_new"] > 0
    eng.dispose()
