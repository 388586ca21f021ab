"""Property and fuzz tests (hypothesis) for the readers, the normaliser and location resolution.
Budgets: 40 examples per property in `make test`, 2000 in `make fuzz` (tests/conftest.py)."""
from __future__ import annotations

import json
import string

from hypothesis import given
from hypothesis import strategies as st

from matcher.listing import MAX_PRICE, MAX_SALES, Listing, ListingError, read_listings
from watchlist import WatchlistError, load_watchlist

JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-10**40, 10**40),
                      st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))
JSON = st.recursive(JSON_LEAF, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(st.text(max_size=8), c, max_size=4)),
                    max_leaves=30)
FIELDS = ["platform", "listing_id", "title", "url", "kind", "description", "price", "currency", "seller_id",
          "seller_name", "seller_location", "category", "images", "captured_at", "origin", "sales", "caption"]
RECORD = st.fixed_dictionaries({"platform": st.just("mall"), "listing_id": st.text(min_size=1, max_size=8),
                                "title": st.text(min_size=1, max_size=30)},
                               optional={f: JSON for f in FIELDS if f not in ("platform", "listing_id", "title")})
LINE = st.one_of(RECORD.map(lambda d: json.dumps(d, ensure_ascii=False)), JSON.map(json.dumps),
                 st.text(max_size=60).filter(lambda s: "\n" not in s and "\r" not in s),
                 st.binary(max_size=60).map(lambda b: b.decode("latin-1")))


@given(st.lists(LINE, min_size=1, max_size=12), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_listing_reader_never_raises_and_accounts_for_every_line(tmp_path_factory, lines, enc):
    p = tmp_path_factory.mktemp("fz") / "l.jsonl"
    clean = [line.replace("\n", " ").replace("\r", " ").replace("\x0b", " ").replace("\x0c", " ")
             .replace("\x1c", " ").replace("\x1d", " ").replace("\x1e", " ").replace("\x85", " ")
             .replace("\u2028", " ").replace("\u2029", " ") for line in lines]
    p.write_bytes("\n".join(clean).encode(enc, "surrogatepass" if enc.startswith("utf") else "replace"))
    items = list(read_listings(p))  # must not raise
    nonblank = [i for i, line in enumerate(clean, 1) if line.strip()]
    assert len(items) <= len(nonblank)
    for it in items:
        assert isinstance(it, (Listing, ListingError))
        if isinstance(it, ListingError):
            assert it.line in nonblank and str(p) in str(it) and it.field
        else:  # what is accepted is storable and in range
            for v in (it.title, it.seller_name, it.description, it.platform, it.listing_id):
                v.encode("utf-8")
            assert it.price is None or 0 <= it.price <= MAX_PRICE
            assert it.sales is None or 0 <= it.sales <= MAX_SALES


@given(RECORD)
def test_a_valid_record_survives_any_neighbouring_garbage(tmp_path_factory, rec):
    p = tmp_path_factory.mktemp("fz") / "l.jsonl"
    good = {"platform": "mall", "listing_id": "keep-me", "title": "贵州茅台 飞天"}
    p.write_text("\n".join([json.dumps(rec), "{" * 5000, json.dumps(good, ensure_ascii=False)]) + "\n",
                 encoding="utf-8", errors="surrogatepass")
    items = list(read_listings(p))
    assert isinstance(items[-1], Listing) and items[-1].listing_id == "keep-me"


YAMLISH = st.text(alphabet=string.printable + "茅台飞天：，-[]{}&*!|>%@`", max_size=300)


@given(YAMLISH)
def test_watchlist_yaml_reader_gives_located_errors_or_a_watchlist(tmp_path_factory, text):
    p = tmp_path_factory.mktemp("fz") / "w.yaml"
    p.write_text(text, encoding="utf-8")
    try:
        load_watchlist(p, check_files=False)
    except WatchlistError as e:
        assert e.problems and all(pr.file == str(p) for pr in e.problems)


@given(st.text(alphabet=string.printable + "茅台，|;\"", max_size=300))
def test_watchlist_csv_reader_gives_located_errors_or_a_watchlist(tmp_path_factory, text):
    p = tmp_path_factory.mktemp("fz") / "w.csv"
    p.write_text("enterprise_id,enterprise_name,mark_id,text,aliases,nice_classes,well_known,reference_price\n" + text,
                 encoding="utf-8")
    try:
        load_watchlist(p, check_files=False)
    except WatchlistError as e:
        assert e.problems and all(pr.file == str(p) for pr in e.problems)


@given(st.binary(max_size=400))
def test_watchlist_xlsx_reader_refuses_garbage_with_one_error(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("fz") / "w.xlsx"
    p.write_bytes(b"PK\x03\x04" + data)
    try:
        load_watchlist(p, check_files=False)
    except WatchlistError as e:
        assert e.problems and e.problems[0].file == str(p)


def test_yaml_alias_bomb_is_refused(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))
    p = tmp_path / "bomb.yaml"
    p.write_text(bomb)
    try:
        load_watchlist(p)
        raise AssertionError("alias bomb accepted")
    except WatchlistError as e:
        assert e.problems[0].line == 1 and "anchors" in e.problems[0].message


# -- the normaliser ---------------------------------------------------------------------------
@given(st.text(max_size=80))
def test_normaliser_total_idempotent_and_keeps_only_word_characters(text):
    from matcher.normalize import _KEEP, compact, fold

    c = compact(text)  # never raises, even on lone surrogates from hostile pages
    assert compact(c) == c
    assert not _KEEP.search(c)
    assert fold(text.upper()) == fold(text.lower()) or not text.isascii()


@given(st.text(alphabet=" -_·.*|/", min_size=1, max_size=3), st.booleans())
def test_normaliser_ignores_inserted_symbols_and_width(sep, wide):
    from matcher.normalize import compact

    mark = "茅台MOUTAI"
    spaced = sep.join(mark)
    if wide:  # full-width Latin, as sellers write to dodge filters
        spaced = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in spaced)
    assert compact(spaced) == compact(mark) == "茅台moutai"


# -- location resolution ----------------------------------------------------------------------
@given(st.text(max_size=120))
def test_location_resolution_is_total(text):
    from matcher.geo import resolve_location

    r = resolve_location(text)
    assert r.status in ("resolved", "ambiguous", "unresolved", "empty", "foreign")
    assert (r.code is not None) == (r.status == "resolved")


PLACES = [("黑龙江省哈尔滨市五常市", "230184"), ("浙江省杭州市西湖区", "330106"), ("山东省烟台市", "370600"),
          ("贵州省遵义市仁怀市", "520382")]


@given(st.sampled_from(PLACES), st.text(alphabet=string.ascii_letters + string.digits + " ,;/()-_#", max_size=20),
       st.text(alphabet=string.ascii_letters + string.digits + " ,;/()-_#", max_size=20))
def test_location_noise_around_a_full_name_does_not_change_it(place, before, after):
    from matcher.geo import resolve_location

    name, code = place
    base = resolve_location(name)
    assert base.status == "resolved" and base.code == code
    r = resolve_location(f"{before} {name} {after}")
    assert r.status == "resolved" and r.code == code, (r.status, r.code, r.reason)


# -- encoding detection -------------------------------------------------------------------------
HANZI = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
CHINESE_LINE = st.lists(st.one_of(HANZI, HANZI, st.sampled_from(" ,.:0123456789ABCxyz，。：（）")), min_size=8, max_size=40) \
    .map("".join).filter(lambda s: sum("\u4e00" <= c <= "\u9fa5" for c in s) >= 6)


@given(st.lists(CHINESE_LINE, min_size=1, max_size=5), st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]))
def test_chinese_text_in_any_supported_encoding_decodes_unchanged(lines, enc):
    """A record of Chinese text (≥ 6 hanzi) written by any supported tool reads back unchanged.
    (Two or three hanzi alone can be valid UTF-8 and GBK at once; see config/textio.py.)"""
    from config.textio import decode_text

    text = "\n".join(lines)
    got, found = decode_text(text.encode(enc), "<t>")
    assert got == text
    assert found == {"gb18030": "gbk"}.get(enc, enc) or (enc == "gb18030" and found == "gb18030")
