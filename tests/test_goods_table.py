"""The shipped 类似商品和服务区分表 (config/data/similar_goods.json) and its build script."""
from __future__ import annotations

import json
from pathlib import Path

from config.data import similar_goods_build as build
from config.settings import DATA_TABLES_DIR

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "reference" / "similar-goods" / "qfb-ncl12.txt"


def _shipped() -> dict:
    return json.loads((DATA_TABLES_DIR / "similar_goods.json").read_text(encoding="utf-8"))


def test_shipped_table_has_the_counts_of_the_ncl12_table():
    d = _shipped()
    assert "类似商品和服务区分表" in d["meta"]["title"] and "12" in d["meta"]["edition"]
    assert d["meta"]["source"] and d["meta"]["build_date"]
    assert len(d["classes"]) == 45
    assert 480 <= len(d["groups"]) <= 500
    unique_items = {(name, code) for name, code, _g, _p in d["items"]}
    assert 11_500 <= len(unique_items) <= 12_500
    assert all(g["parts"] and all(g["parts"]) for g in d["groups"].values())
    assert all(int(code[:2]) == g["class"] for code, g in d["groups"].items())


def test_items_codes_and_parts_are_parsed():
    d = _shipped()
    items = {(name, group) for name, _code, group, _p in d["items"]}
    assert ("运动鞋", "2507") in items and ("连衣裙", "2501") in items and ("口红", "0306") in items
    codes = {name: code for name, code, _g, _p in d["items"]}
    assert codes["运动鞋"] == "250132"
    assert codes["羽绒服装"].startswith("C")                    # a CNIPA non-standard item
    assert all(c.lstrip("C").isdigit() and len(c.lstrip("C")) == 6 for c in codes.values())
    assert not any(name.startswith((",", "，", "※")) for name in codes)


def test_notes_are_parsed_into_relations():
    d = _shipped()
    assert d["groups"]["0101"]["parts_dissimilar"]               # 本类似群各部分之间商品不类似
    assert sum(g["parts_dissimilar"] for g in d["groups"].values()) >= 40
    rel = {(r["from"], r["to"], r["kind"]) for r in d["relations"]}
    assert ("2501", "2502", "similar") in rel                    # 童装与2502类似
    assert ("2103", "2105", "similar") in rel
    assert any(k == "cross_search_old" for _a, _b, k in rel)      # 与第九版及以前版本…交叉检索
    assert d["cross_group_items"]["服装"] == ["2501", "2502", "2503", "2504", "2505"]


def test_build_script_reproduces_the_shipped_table(tmp_path):
    out = tmp_path / "similar_goods.json"
    meta = build.build(SOURCE, out)
    shipped = _shipped()
    assert meta["counts"] == shipped["meta"]["counts"]
    built = json.loads(out.read_text(encoding="utf-8"))
    assert built["groups"] == shipped["groups"] and built["relations"] == shipped["relations"]


def test_parser_repairs_known_transcription_flaws_and_reports_bad_lines():
    text = "第二十五类\n服装，鞋，帽。\n2507鞋\n乱码行\n鞋*25O130,运动鞋*250132注：本类似群各部分之间商品不类似\n"
    warnings = []
    d = build.parse(text, warn=warnings.append)
    assert [i[:2] for i in d["items"]] == [["鞋", "250130"], ["运动鞋", "250132"]]  # O read as 0
    assert d["groups"]["2507"]["parts_dissimilar"]
    assert warnings == ["4: group 2507: no goods item in line: '乱码行'"]   # named, then skipped
    assert build.cn_int("二十五") == 25 and build.cn_int("十") == 10 and build.cn_int("四十五") == 45
