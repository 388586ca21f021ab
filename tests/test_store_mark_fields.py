"""Marks registered by 类似群 group, with per-goods reference prices, survive the store: the pass
matches from the stored watchlist, so a field lost there is a gate or a price signal lost."""
from __future__ import annotations

from store.db import session_scope
from store.repo import load_watchlist_from_db, upsert_watchlist
from watchlist.model import Enterprise, Mark, Watchlist


def test_groups_and_reference_prices_round_trip_through_the_store(db):
    wl = Watchlist(enterprises=[Enterprise(id="e-fy", name="上海飞跃", marks=[
        Mark(id="tm-fy", kind="word", text="飞跃", similar_groups=["2507"],
             reference_prices={"2507": 159, "2509": 29}, reference_currency="CNY", registration_number="123")])])
    with session_scope(db) as s:
        upsert_watchlist(s, wl)
    with session_scope(db) as s:
        back = load_watchlist_from_db(s)
    mk = back.enterprises[0].marks[0]
    assert mk.similar_groups == ["2507"]
    assert mk.reference_prices == {"2507": 159.0, "2509": 29.0}
    assert mk.reference_currency == "CNY" and mk.registration_number == "123"
