"""Console queue page with 100,000 leads in the store, on SQLite and on PostgreSQL.

Fills a scratch store with synthetic enterprises, marks, listings and leads (bulk inserts, the
schema from the Alembic migrations incl. 0004's queue indexes), then renders pages through the
ASGI app in-process (routing, session and CSRF lookup, queries, Jinja2) as a logged-in officer
and as a holder, and reports the median and 95th-percentile wall time per page.

    python -m bench web                                     # or: make bench BENCH_ARGS=web
    python -m bench.bench_web --leads 100000 --repeat 20 --pg postgresql+psycopg://127.0.0.1:5432

Target (issue 15): the queue page renders in < 300 ms with 100,000 leads, on SQLite and on
PostgreSQL. PostgreSQL gets a scratch database (created and dropped); when the server cannot be
reached that half is reported as a named failure, not skipped silently.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

TARGET_MS = 300.0
PLATFORMS = ["taobao", "jd", "pdd", "douyin", "kuaishou", "xianyu"]
WORDS = ["新款", "包邮", "正品", "高仿", "复刻", "原单", "旗舰", "礼盒", "男女", "夏季", "经典", "特价", "现货", "爆款"]
STATUSES = ["new"] * 6 + ["in_review"] * 1 + ["confirmed", "dismissed", "referred", "closed", "suppressed"]


def fill(engine, n_leads: int, seed: int = 7) -> dict:
    """Bulk-insert a store with `n_leads` leads (one per listing); returns ids to use."""
    from sqlalchemy import insert

    from store.models import Enterprise, Lead, Listing, Mark, utcnow
    from store.db import session_scope
    from web.auth import add_user

    rng = random.Random(seed)
    now = utcnow()
    n_ent, n_marks = 50, 300
    ents = [{"id": f"ent-{i:03d}", "name": f"企业{i:03d}有限公司", "qualifications": []} for i in range(n_ent)]
    marks = [{"id": f"tm-{i:04d}", "enterprise_id": f"ent-{i % n_ent:03d}", "kind": "word",
              "text": f"品牌{i:04d}", "aliases": [], "nice_classes": [25], "well_known": i % 10 == 0,
              "reference_price": float(rng.choice([99, 299, 899, 1499])), "active": True} for i in range(n_marks)]
    with session_scope(engine) as s:
        s.execute(insert(Enterprise), ents)
        s.execute(insert(Mark), marks)
    batch = 10000
    for start in range(0, n_leads, batch):
        rows, leads = [], []
        for i in range(start, min(n_leads, start + batch)):
            m = marks[i % n_marks]
            title = f"{rng.choice(WORDS)} {m['text']} {rng.choice(WORDS)} {rng.choice(WORDS)} 第{i}号"
            rows.append({"id": i + 1, "platform": rng.choice(PLATFORMS), "listing_id": f"L{i:07d}", "url": "",
                         "kind": "listing", "title": title, "description": "", "caption": "",
                         "price": round(rng.uniform(10, 2000), 2), "currency": "CNY", "sales": rng.randint(0, 5000),
                         "seller_id": f"s{rng.randint(0, 20000)}", "seller_name": f"店铺{rng.randint(0, 20000)}",
                         "seller_location": "浙江 杭州", "category": "服装/鞋", "images": [], "captured_at": "",
                         "first_seen": now, "last_seen": now, "status": "active", "content_hash": "",
                         "match_state": "done"})
            seen = now - timedelta(days=rng.randint(0, 60))
            score = rng.randint(60, 100)
            leads.append({"id": i + 1, "listing_pk": i + 1, "target_id": m["id"], "target_kind": "word", "score": score,
                          "reasons": [f"标题含'{m['text']}'，与注册商标相同", "类别属第25类"],
                          "evidence": {"field": "title", "matched_text": m["text"]},
                          "status": rng.choice(STATUSES), "priority": score * 0.5 + rng.uniform(0, 40),
                          "priority_reasons": [], "first_seen": seen, "last_seen": now})
        with session_scope(engine) as s:
            s.execute(insert(Listing), rows)
            s.execute(insert(Lead), leads)
    with session_scope(engine) as s:
        add_user(s, "bench-officer", "officer", "bench-officer-pass")
        add_user(s, "bench-holder", "holder", "bench-holder-pass", "ent-007")
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text
        with engine.begin() as c:
            for t in ("listings", "leads"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), {n_leads})"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))  # what autovacuum does on a live store after bulk loads
    else:
        from sqlalchemy import text
        with engine.begin() as c:
            c.execute(text("ANALYZE"))
    return {"n_leads": n_leads}


def _time(client, path: str, repeat: int) -> dict:
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = client.get(path)
        ts.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"GET {path}: HTTP {r.status_code}")
    ts.sort()
    return {"median_ms": round(statistics.median(ts), 1), "p95_ms": round(ts[max(0, int(len(ts) * 0.95) - 1)], 1)}


def measure(url: str | None, data_dir: Path, n_leads: int, repeat: int) -> dict:
    from fastapi.testclient import TestClient

    from config.settings import Settings
    from store.db import make_engine, upgrade
    from web.app import create_app

    st = Settings(data_dir=data_dir, database_url=url)
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(st.db_url)
    eng = make_engine(settings=st)
    t0 = time.perf_counter()
    fill(eng, n_leads)
    fill_s = time.perf_counter() - t0
    app = create_app(st, eng)
    out: dict = {"fill_s": round(fill_s, 1)}
    pages = {"queue": "/queue", "queue_page_500": "/queue?page=500", "queue_all_by_score": "/queue?status=all&sort=score",
             "queue_search": "/queue?q=品牌0042&status=all", "queue_platform_mark": "/queue?platform=jd&target=tm-0007",
             "api_leads": "/api/leads?per_page=50"}
    for user, pw in (("bench-officer", "bench-officer-pass"), ("bench-holder", "bench-holder-pass")):
        c = TestClient(app, base_url="http://127.0.0.1")
        import re
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"username": user, "password": pw, "csrf_token": token}, follow_redirects=False)
        if r.status_code != 303:
            raise RuntimeError(f"login {user}: HTTP {r.status_code}")
        c.get("/queue")  # warm caches (templates, connection pool)
        for name, path in (pages.items() if user == "bench-officer" else [("holder_queue", "/queue?status=all")]):
            out[name] = _time(c, path, repeat)
    eng.dispose()
    out["queue_ok"] = out["queue"]["p95_ms"] < TARGET_MS
    return out


def run(n_leads: int = 100_000, repeat: int = 20, pg: str | None = "postgresql+psycopg://127.0.0.1:5432",
        sqlite: bool = True) -> dict:
    """{"sqlite": {...}, "postgresql": {...} | {"failure": ...}, "target_ms": 300, "n_leads": n}"""
    res: dict = {"n_leads": n_leads, "target_ms": TARGET_MS}
    with tempfile.TemporaryDirectory(prefix="mw-bench-web-") as td:
        if sqlite:
            res["sqlite"] = measure(None, Path(td) / "sqlite", n_leads, repeat)
        if pg:
            try:
                import psycopg

                admin = psycopg.connect(pg.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True,
                                        connect_timeout=3)
            except Exception as e:
                res["postgresql"] = {"failure": f"postgres_unreachable: {type(e).__name__}: {e}"}
            else:
                name = f"mw_bench_web_{uuid.uuid4().hex[:8]}"
                admin.execute(f'CREATE DATABASE "{name}"')
                try:
                    res["postgresql"] = measure(f"{pg}/{name}", Path(td) / "pg", n_leads, repeat)
                finally:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    admin.close()
    return res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--pg", default="postgresql+psycopg://127.0.0.1:5432", help="PostgreSQL server URL ('' to skip)")
    ap.add_argument("--no-sqlite", action="store_true")
    a = ap.parse_args(argv if argv is not None else sys.argv[1:])
    res = run(a.leads, a.repeat, a.pg or None, not a.no_sqlite)
    print(f"web console: {res['n_leads']:,} leads; target: queue page < {TARGET_MS:.0f} ms")
    for db in ("sqlite", "postgresql"):
        r = res.get(db)
        if r is None:
            continue
        if "failure" in r:
            print(f"  {db}: FAILED {r['failure']}")
            continue
        print(f"  {db}: store filled in {r['fill_s']} s; queue {'OK' if r['queue_ok'] else 'TOO SLOW'}")
        for k, v in r.items():
            if isinstance(v, dict):
                print(f"    {k:22s} median {v['median_ms']:7.1f} ms   p95 {v['p95_ms']:7.1f} ms")


if __name__ == "__main__":
    main()
