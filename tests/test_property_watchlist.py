"""Issue 16 item 2: watchlist round trips YAML -> CSV/XLSX -> YAML give the same watchlist, or
saving refuses clearly; exporting and re-importing never drops authorised sellers."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchlist import WatchlistExportError, load_watchlist, save_watchlist
from watchlist.model import AuthorizedSeller, Enterprise, GeographicalIndication, Mark, Region, Watchlist

SEPS = ",;|:"
# Text an officer could type anywhere (no control characters, surrogates or line separators).
ANY = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Co", "Cn"))
CJK = st.sampled_from("茅台飞天五常大米青岛啤酒格力小米安踏龙井高仿同款旗舰店官方贵州省市县")


def words(alphabet, lo=1, hi=10):
    return st.text(alphabet=alphabet, min_size=lo, max_size=hi).map(str.strip).filter(bool)


def watchlists(alphabet):
    text = words(alphabet)
    item = text.filter(lambda s: not any(c in s for c in SEPS))
    price = st.one_of(st.none(), st.floats(min_value=0.01, max_value=1e8, allow_nan=False, allow_infinity=False))
    classes = st.lists(st.integers(1, 45), max_size=4)
    seller = st.one_of(
        st.builds(AuthorizedSeller, platform=st.one_of(st.none(), item), seller_id=item,
                  seller_name=st.one_of(st.none(), text)),
        st.builds(AuthorizedSeller, platform=st.one_of(st.none(), item), seller_name=text))
    word = st.builds(Mark, id=st.just("x"), kind=st.just("word"), text=text, aliases=st.lists(item, max_size=3),
                     nice_classes=classes, well_known=st.booleans(), reference_price=price)
    logo = st.builds(Mark, id=st.just("x"), kind=st.just("logo"), image=item.map(lambda s: f"logos/{s}.png"),
                     nice_classes=classes, well_known=st.booleans())
    ent = st.builds(Enterprise, id=st.just("x"), name=text, qualifications=st.lists(item, max_size=2),
                    authorized_sellers=st.lists(seller, max_size=3), marks=st.lists(st.one_of(word, logo), max_size=3))
    gi = st.builds(GeographicalIndication, id=st.just("x"), name=text, aliases=st.lists(item, max_size=2), product=text,
                   category=st.one_of(st.none(), text),
                   region=st.builds(Region, admin_codes=st.lists(st.sampled_from(["230184", "330106", "370600", "520382", "110101", "440300"]), min_size=1, max_size=2, unique=True),
                                    places=st.lists(st.sampled_from(["黑龙江省哈尔滨市五常市", "浙江省杭州市西湖区", "山东省烟台市", "贵州省遵义市仁怀市", "五常市"]), max_size=2, unique=True)),
                   authorized_users=st.lists(seller, max_size=2), nice_classes=classes)

    def number(ents, gis):
        n = 0
        for e in ents:
            n += 1
            e.id = f"ent-{n}"
            for m in e.marks:
                n += 1
                m.id = f"tm-{n}"
        for g in gis:
            n += 1
            g.id = f"gi-{n}"
        return Watchlist(enterprises=ents, geographical_indications=gis)

    return st.builds(number, st.lists(ent, max_size=4), st.lists(gi, max_size=3))


def roundtrip(wl: Watchlist, tmp, suffix: str) -> Watchlist:
    p = tmp / f"wl{suffix}"
    save_watchlist(wl, p)
    return load_watchlist(p, check_files=False)


def same(a: Watchlist, b: Watchlist) -> bool:
    return a.model_dump(exclude={"base_dir"}) == b.model_dump(exclude={"base_dir"})


@given(watchlists(CJK | st.sampled_from("ABCxyz 0129-_.'\"")))
def test_yaml_xlsx_yaml_is_lossless(tmp_path_factory, wl):
    tmp = tmp_path_factory.mktemp("rt")
    y = roundtrip(wl, tmp, ".yaml")
    x = roundtrip(y, tmp, ".xlsx")
    back = roundtrip(x, tmp, ".yml")
    assert same(wl, y) and same(wl, x) and same(wl, back)


@given(watchlists(CJK | st.sampled_from("ABCxyz 0129_.'\"")))
def test_yaml_csv_yaml_is_lossless_or_refuses_gis(tmp_path_factory, wl):
    tmp = tmp_path_factory.mktemp("rt")
    if wl.geographical_indications:
        with pytest.raises(WatchlistExportError, match="GI"):
            save_watchlist(wl, tmp / "wl.csv")
        assert not (tmp / "wl.csv").exists()
        wl = Watchlist(enterprises=wl.enterprises)
    c = roundtrip(wl, tmp, ".csv")
    assert same(wl, c) and same(wl, roundtrip(c, tmp, ".yaml"))


@given(watchlists(ANY))
def test_any_text_round_trips_or_is_refused_with_a_reason(tmp_path_factory, wl):
    tmp = tmp_path_factory.mktemp("rt")
    assert same(wl, roundtrip(wl, tmp, ".yaml"))
    for suffix in (".csv", ".xlsx"):
        try:
            back = roundtrip(Watchlist(enterprises=wl.enterprises) if suffix == ".csv" else wl, tmp, suffix)
        except WatchlistExportError as e:
            assert str(e)
            continue
        assert same(Watchlist(enterprises=wl.enterprises) if suffix == ".csv" else wl, back)


def test_csv_export_then_import_keeps_authorised_sellers(tmp_path, db):
    """The reported loss: export to CSV, import back, and the official store is still authorised."""
    from store.db import session_scope
    from store.repo import load_watchlist_from_db, upsert_watchlist

    wl = Watchlist(enterprises=[Enterprise(id="ent-moutai", name="贵州茅台酒股份有限公司", qualifications=["well_known_mark"],
                                           authorized_sellers=[AuthorizedSeller(platform="demo-mall", seller_id="s-official",
                                                                                seller_name="茅台官方旗舰店"),
                                                               AuthorizedSeller(seller_name="茅台酒专卖店")],
                                           marks=[Mark(id="tm-moutai", kind="word", text="茅台", nice_classes=[33])])])
    with session_scope(db) as s:
        upsert_watchlist(s, wl)
    with session_scope(db) as s:
        save_watchlist(load_watchlist_from_db(s), tmp_path / "out.csv")
    with session_scope(db) as s:
        upsert_watchlist(s, load_watchlist(tmp_path / "out.csv"))
    with session_scope(db) as s:
        (ent,) = load_watchlist_from_db(s).enterprises
    assert [(a.platform, a.seller_id, a.seller_name) for a in ent.authorized_sellers] == [
        ("demo-mall", "s-official", "茅台官方旗舰店"), (None, None, "茅台酒专卖店")]


def test_formula_like_cells_are_refused_in_csv_and_kept_as_text_in_xlsx(tmp_path):
    wl = Watchlist(enterprises=[Enterprise(id="e1", name="=HYPERLINK(\"http://x\")", marks=[])])
    with pytest.raises(WatchlistExportError, match="formula"):
        save_watchlist(wl, tmp_path / "w.csv")
    assert same(wl, roundtrip(wl, tmp_path, ".xlsx"))
