"""The store: listings once per platform + id, history of price/sales, removal, re-match state."""
from __future__ import annotations

from sqlalchemy import func, select

from matcher.listing import Listing
from store import repo
from store.db import session_scope
from store.models import Listing as ListingRow, ListingSnapshot


def rec(**kw):
    d = dict(platform="mall", listing_id="A1", title="山河行 夹克", price=100.0, sales=5, seller_id="s1")
    d.update(kw)
    return Listing(**d)


def count(s, model):
    return s.scalar(select(func.count()).select_from(model))


def test_same_listing_is_stored_once_and_history_kept(db):
    with session_scope(db) as s:
        _, o1 = repo.upsert_listing(s, rec())
    with session_scope(db) as s:
        _, o2 = repo.upsert_listing(s, rec())
    with session_scope(db) as s:
        _, o3 = repo.upsert_listing(s, rec(price=60.0, sales=9))
    assert (o1, o2, o3) == ("new", "unchanged", "changed")
    with session_scope(db) as s:
        assert count(s, ListingRow) == 1
        row = s.scalar(select(ListingRow))
        assert row.price == 60.0 and row.match_state == "pending"
        assert [(h.price, h.sales) for h in row.snapshots] == [(100.0, 5), (60.0, 9)]
        assert row.last_seen >= row.first_seen


def test_unchanged_listing_is_not_matched_again(db):
    with session_scope(db) as s:
        row, _ = repo.upsert_listing(s, rec())
        row.match_state, row.matched_hash = "done", row.content_hash
    with session_scope(db) as s:
        repo.upsert_listing(s, rec(sales=7))  # sales only: no re-match
        assert repo.listings_to_match(s) == []
        repo.upsert_listing(s, rec(title="山河行 夹克 高仿"))
        assert len(repo.listings_to_match(s)) == 1


def test_removed_and_reappearing(db):
    with session_scope(db) as s:
        repo.upsert_listing(s, rec())
        assert repo.mark_removed(s, "mall", "A1")
        assert not repo.mark_removed(s, "mall", "A1")
    with session_scope(db) as s:
        assert s.scalar(select(ListingRow)).status == "removed"
        repo.upsert_listing(s, rec())
    with session_scope(db) as s:
        row = s.scalar(select(ListingRow))
        assert row.status == "active" and row.removed_at is None


def test_same_id_on_two_platforms_are_two_listings(db):
    with session_scope(db) as s:
        repo.upsert_listing(s, rec())
        repo.upsert_listing(s, rec(platform="live"))
        assert count(s, ListingRow) == 2
        assert count(s, ListingSnapshot) == 2


def test_search_terms_from_watchlist(db, tmp_path):
    from watchlist.loader import parse_watchlist_yaml

    wl = parse_watchlist_yaml("""
enterprises:
  - id: e1
    name: 甲
    marks: [{id: m1, kind: word, text: 山河行, aliases: [SHANHEXING], nice_classes: [25]}]
geographical_indications:
  - {id: g1, name: 梅州金柚, product: 水果, region: {places: [梅州]}}
""")
    with session_scope(db) as s:
        repo.upsert_watchlist(s, wl)
    with session_scope(db) as s:
        assert sorted(repo.search_terms(s)) == sorted(["山河行", "SHANHEXING", "梅州金柚"])
