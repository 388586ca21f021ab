"""Bulk statements straight to the driver (store/bulk.py) and the bulk listing import built on
them (issue 17): rows read back exactly as the ORM would have written them, on SQLite and on
PostgreSQL, and a key another writer stored between the lookup and the insert is updated, not
duplicated or lost."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import bindparam, func, insert, select, update

from config.listing import Listing as ListingRecord
from store import repo
from store.db import session_scope
from store.models import Listing as ListingRow, ListingSnapshot

from .test_alerts_postgres import pg  # noqa: F401  (fresh scratch database, dropped afterwards)


def rec(lid: str, **kw) -> ListingRecord:
    d = dict(platform="mall", listing_id=lid, title=f"山河行 夹克 {lid}", price=99.5, sales=3, seller_id="s1",
             images=["a.jpg", "https://x.invalid/b.png"])
    d.update(kw)
    return ListingRecord(**d)


def _row(s, lid):
    return s.scalar(select(ListingRow).where(ListingRow.platform == "mall", ListingRow.listing_id == lid))


def check_round_trip(engine):
    from store.bulk import executemany

    t = ListingRow.__table__
    at = datetime(2026, 11, 30, 8, 1, 2, 345678)
    rows = [dict(platform="mall", listing_id=f"B{i}", source=None, url="", kind="listing", title=f"标题 {i} 100%",
                 description="", caption="", price=None if i else 1.25, currency="CNY", sales=i, seller_id="s",
                 seller_name="店", seller_location="", origin=None, category="", images=[f"{i}.jpg"] if i else [],
                 captured_at="", first_seen=at, last_seen=at, status="active", removed_at=None, content_hash="h",
                 match_state="pending", matched_hash=None, match_error=None, local_dir=None) for i in range(3)]
    with session_scope(engine) as s:
        assert executemany(s.connection(), insert(t), rows) == 3
    with session_scope(engine) as s:
        got = {r.listing_id: r for r in s.scalars(select(ListingRow).where(ListingRow.listing_id.like("B%")))}
        assert got["B0"].price == 1.25 and got["B1"].price is None
        assert got["B0"].images == [] and got["B2"].images == ["2.jpg"]  # JSON, not a string
        assert got["B1"].first_seen == at and got["B1"].title == "标题 1 100%"  # '%' kept literally
        # an UPDATE with a constant and a CASE reading the old row, keyed by bound parameters
        stmt = (update(t).where(t.c.id == bindparam("_pk"))
                .values(status="removed", sales=bindparam("_sales"), removed_at=bindparam("_at")))
        n = executemany(s.connection(), stmt, [{"_pk": got["B0"].id, "_sales": 7, "_at": at},
                                               {"_pk": got["B2"].id, "_sales": 8, "_at": None}])
        assert n == 2
    with session_scope(engine) as s:
        b0, b1, b2 = (_row(s, f"B{i}") for i in range(3))
        assert (b0.status, b0.sales, b0.removed_at) == ("removed", 7, at)
        assert (b2.status, b2.sales, b2.removed_at) == ("removed", 8, None)
        assert (b1.status, b1.sales) == ("active", 1)


def check_lost_insert(engine, monkeypatch):
    """Another writer stores B's key after the chunk looked its keys up and before its INSERT:
    the conflict skips our row, and B is then updated as an existing listing (one row, outcome
    'changed', a snapshot for the new price), while A and C are inserted normally."""
    import store.bulk as bulk

    real = bulk.executemany
    raced = []

    def racing(conn, stmt, rows):
        if not raced and getattr(stmt, "is_insert", False) and stmt.table.name == "listings":
            raced.append(1)
            other = dict(rows[1], title="别人先写入", price=1.0, content_hash="other", first_seen=datetime(2026, 1, 1),
                         last_seen=datetime(2026, 1, 1))
            real(conn, insert(ListingRow.__table__), [other])
        return real(conn, stmt, rows)

    monkeypatch.setattr(bulk, "executemany", racing)
    with session_scope(engine) as s:
        out = repo.upsert_listings(s, [rec("A"), rec("B", price=50.0), rec("C")])
    assert raced and out == ["new", "changed", "new"]
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(ListingRow)
                        .where(ListingRow.listing_id.in_(["A", "B", "C"]))) == 3
        b = _row(s, "B")
        assert (b.title, b.price, b.match_state) == ("山河行 夹克 B", 50.0, "pending")
        assert [h.price for h in b.snapshots] == [50.0]
        assert [h.price for h in _row(s, "A").snapshots] == [99.5]
        assert s.scalar(select(func.count()).select_from(ListingSnapshot)) == 3


def test_bulk_rows_read_back_as_written_sqlite(db):
    check_round_trip(db)


def test_key_stored_by_another_writer_meanwhile_is_updated_not_lost_sqlite(db, monkeypatch):
    check_lost_insert(db, monkeypatch)


@pytest.mark.postgres
def test_bulk_rows_and_racing_writer_on_postgresql(pg, monkeypatch):  # noqa: F811
    from store.db import make_engine, upgrade

    upgrade(pg)
    eng = make_engine(pg)
    try:
        check_round_trip(eng)
        check_lost_insert(eng, monkeypatch)
    finally:
        eng.dispose()
