"""Watchlist files: every error names the file, the line/entry and the field; re-import updates."""
from __future__ import annotations

import pytest

from watchlist import WatchlistError, dump_watchlist_yaml, load_watchlist

GOOD = """\
version: 1
enterprises:
  - id: ent-hx
    name: 华夏茶业有限公司
    qualifications: [well_known_mark]
    authorized_sellers: [{platform: shop-a, seller_id: s1, seller_name: 华夏官方店}]
    marks:
      - {id: tm-hx, kind: word, text: 华夏春, aliases: [HUAXIACHUN], nice_classes: [30], well_known: true, reference_price: 88}
geographical_indications:
  - id: gi-test
    name: 梅州金柚
    product: 水果
    category: 食品饮料/水果
    region: {admin_codes: ['441400'], places: [梅州]}
"""


def write(tmp_path, text, name="wl.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def problems(tmp_path, text, name="wl.yaml"):
    with pytest.raises(WatchlistError) as ei:
        load_watchlist(write(tmp_path, text, name))
    return ei.value.problems


def test_good_file_loads(tmp_path):
    wl = load_watchlist(write(tmp_path, GOOD))
    assert [m.id for _, m in wl.marks()] == ["tm-hx"]
    assert wl.geographical_indications[0].region.admin_codes == ["441400"]


def test_missing_field_names_file_line_entry_field(tmp_path):
    text = GOOD.replace("kind: word, text: 华夏春, ", "kind: word, ")
    (p,) = problems(tmp_path, text)
    assert p.file.endswith("wl.yaml") and p.line == 8
    assert "tm-hx" in p.entry and p.field == "text"
    assert "wl.yaml:8" in str(p)


def test_unknown_mark_kind(tmp_path):
    (p,) = problems(tmp_path, GOOD.replace("kind: word", "kind: sound"))
    assert p.field == "kind" and "sound" in p.message and p.line == 8


def test_duplicate_id(tmp_path):
    text = GOOD + """\
  - id: tm-hx
    name: 重复
    product: 水果
    region: {places: [梅州]}
"""
    ps = problems(tmp_path, text)
    assert any(p.field == "id" and "duplicate id 'tm-hx'" in p.message and p.line == 15 for p in ps)


def test_broken_yaml_reports_line(tmp_path):
    (p,) = problems(tmp_path, GOOD.replace("[well_known_mark]", "[well_known_mark"))
    assert p.line is not None and "not valid YAML" in p.message


def test_bad_admin_code_and_nice_class(tmp_path):
    ps = problems(tmp_path, GOOD.replace("'441400'", "'4414'").replace("nice_classes: [30]", "nice_classes: [99]"))
    fields = {p.field for p in ps}
    assert "nice_classes" in fields and "region.admin_codes" in fields


def test_missing_logo_file(tmp_path):
    text = GOOD.replace("marks:\n", "marks:\n      - {id: logo-hx, kind: logo, image: logos/none.png, nice_classes: [30]}\n")
    (p,) = problems(tmp_path, text)
    assert p.field == "image" and "not found" in p.message


def test_all_problems_reported_together(tmp_path):
    text = GOOD.replace("kind: word", "kind: sound").replace("    name: 梅州金柚\n", "")
    assert len(problems(tmp_path, text)) == 2


def test_csv_word_marks(tmp_path):
    p = write(tmp_path, "enterprise_id,enterprise_name,mark_id,text,aliases,nice_classes,well_known,reference_price\n"
                        "e1,甲公司,m1,山河,SHANHE|山河牌,25|18,true,199\n"
                        "e1,甲公司,m2,云岭,,30,false,\n", "marks.csv")
    wl = load_watchlist(p)
    (ent,) = wl.enterprises
    assert [m.id for m in ent.marks] == ["m1", "m2"]
    assert ent.marks[0].aliases == ["SHANHE", "山河牌"] and ent.marks[0].nice_classes == [25, 18]
    assert ent.marks[0].well_known and ent.marks[0].reference_price == 199


def test_csv_errors_name_row_and_field(tmp_path):
    p = write(tmp_path, "enterprise_id,mark_id,text,nice_classes,reference_price\n"
                        "e1,m1,山河,25,abc\n"
                        "e1,m2,,30,\n", "marks.csv")
    with pytest.raises(WatchlistError) as ei:
        load_watchlist(p)
    ps = ei.value.problems
    assert {(p.line, p.field) for p in ps} == {(2, "reference_price"), (3, "text")}


def test_yaml_roundtrip(tmp_path):
    wl = load_watchlist(write(tmp_path, GOOD))
    again = load_watchlist(write(tmp_path, dump_watchlist_yaml(wl), "again.yaml"))
    assert again.model_dump() == wl.model_dump()


def test_reimport_updates_in_place(tmp_path, db):
    from sqlalchemy import func, select

    from store.db import session_scope
    from store.models import Mark
    from store.repo import upsert_watchlist

    with session_scope(db) as s:
        upsert_watchlist(s, load_watchlist(write(tmp_path, GOOD)))
    changed = GOOD.replace("reference_price: 88", "reference_price: 120")
    with session_scope(db) as s:
        upsert_watchlist(s, load_watchlist(write(tmp_path, changed)))
    with session_scope(db) as s:
        assert s.scalar(select(func.count()).select_from(Mark)) == 1
        assert s.get(Mark, "tm-hx").reference_price == 120
