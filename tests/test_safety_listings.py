"""Issue 16 items 1 and 4: hostile or oddly encoded listings files never lose the good lines."""
from __future__ import annotations

import json

from sqlalchemy import func, select
from typer.testing import CliRunner

from matcher.listing import Listing, ListingError, read_listings

GOOD = {"platform": "mall", "title": "贵州茅台 飞天 53度 500ml", "seller_name": "某某酒行",
        "seller_location": "浙江杭州", "price": 1499, "sales": 12}


def good(i: int) -> str:
    return json.dumps({**GOOD, "listing_id": f"g{i}"}, ensure_ascii=False)


def hostile_lines() -> list[tuple[str, str]]:
    """(line, field the error must name) — each one of the reported attacks."""
    return [
        ('{"platform": "mall", "listing_id": "b1", "title": "\\ud800"}', "title"),
        (json.dumps({**GOOD, "listing_id": "b2", "sales": 1e30}), "sales"),
        (json.dumps({**GOOD, "listing_id": "b3", "price": 1e308}), "price"),
        ('{"platform": "mall", "listing_id": "b4", "title": ' + "[" * 50000 + "]" * 50000 + "}", "-"),
        ("[" * 200000 + "]" * 200000, "-"),
        (json.dumps({**GOOD, "listing_id": "b6", "seller_name": {"a": [1]}}, ensure_ascii=False), "seller_name"),
        (json.dumps({**GOOD, "listing_id": "b7", "price": "NaN"}), "price"),
        (json.dumps({**GOOD, "listing_id": "b8", "sales": -3}), "sales"),
    ]


def test_each_hostile_line_is_a_located_error_and_good_lines_survive(tmp_path):
    bad = hostile_lines()
    lines = [good(0)]
    for line, _ in bad:
        lines += [line, good(len(lines))]
    p = tmp_path / "l.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    items = list(read_listings(p))
    ok = [x for x in items if isinstance(x, Listing)]
    errs = [x for x in items if isinstance(x, ListingError)]
    assert len(ok) == len(bad) + 1 and all(x.title == GOOD["title"] for x in ok)
    assert [(e.line, e.field) for e in errs] == [(2 * i + 2, f) for i, (_, f) in enumerate(bad)]
    assert all(str(p) in str(e) for e in errs)


def test_overlong_line_is_skipped_not_loaded(tmp_path):
    p = tmp_path / "l.jsonl"
    p.write_text(good(1) + "\n" + json.dumps({**GOOD, "listing_id": "x", "description": "假" * 5000}) + "\n" + good(2) + "\n")
    items = list(read_listings(p, max_line_bytes=4096))
    assert [type(x).__name__ for x in items] == ["Listing", "ListingError", "Listing"]
    assert "longer than 4096 bytes" in str(items[1]) and items[1].line == 2


def _cli_import(path):
    from pipeline.cli import app

    return CliRunner().invoke(app, ["listings", "import", str(path)])


def _stored(settings):
    from store.db import make_engine, session_scope
    from store.models import Listing as Row

    eng = make_engine(settings=settings)
    with session_scope(eng) as s:
        return sorted(s.scalars(select(Row.title)).all()), s.scalar(select(func.count()).select_from(Row))


def test_cli_import_keeps_good_lines_of_a_hostile_file(tmp_path, settings):
    p = tmp_path / "l.jsonl"
    lines = [good(0)] + [line for line, _ in hostile_lines()] + [good(99)]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    r = _cli_import(p)
    assert r.exit_code == 0, r.output
    assert f"{len(hostile_lines())} bad lines" in r.output
    titles, n = _stored(settings)
    assert n == 2 and titles == [GOOD["title"]] * 2


def test_gbk_and_bom_files_are_decoded_and_reported(tmp_path, settings):
    rows = [good(i) for i in range(3)]
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes("\n".join(rows).encode("gbk"))
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + "\n".join(json.dumps({**GOOD, "listing_id": f"m{i}", "title": "五常大米 稻花香"},
                                                           ensure_ascii=False) for i in range(3)).encode())
    r = _cli_import(gbk)
    assert r.exit_code == 0 and "3 new" in r.output and "GBK" in r.output, r.output
    r = _cli_import(bom)
    assert r.exit_code == 0 and "3 new" in r.output and "0 bad" in r.output, r.output
    titles, n = _stored(settings)
    assert n == 6 and titles.count(GOOD["title"]) == 3 and titles.count("五常大米 稻花香") == 3


def test_undecodable_line_is_an_error_not_garbage(tmp_path):
    p = tmp_path / "mixed.jsonl"
    p.write_bytes(good(1).encode() + b"\n" + good(2).encode("utf-8")[:-3] + b"\xff\xfe\"}\n" + good(3).encode() + b"\n")
    items = list(read_listings(p))
    assert [type(x).__name__ for x in items] == ["Listing", "ListingError", "Listing"]
    assert "not valid UTF-8" in str(items[1])


def test_match_command_survives_hostile_lines(tmp_path):
    from pipeline.cli import app

    wl = tmp_path / "wl.yaml"
    wl.write_text("version: 1\nenterprises:\n  - id: ent-moutai\n    name: 贵州茅台酒股份有限公司\n    marks:\n"
                  "      - {id: tm-moutai, kind: word, text: 茅台, nice_classes: [33], well_known: true}\n", encoding="utf-8")
    p = tmp_path / "l.jsonl"
    fake = {**GOOD, "title": "高仿 贵州茅台 飞天 53度", "category": "食品饮料/酒类/白酒"}
    lines = [json.dumps({**fake, "listing_id": "a"}, ensure_ascii=False)] + [line for line, _ in hostile_lines()] + \
            [json.dumps({**fake, "listing_id": "z"}, ensure_ascii=False)]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    out = tmp_path / "leads.jsonl"
    r = CliRunner().invoke(app, ["match", "-w", str(wl), "-l", str(p), "-o", str(out), "--no-ocr", "--no-logos"])
    assert r.exit_code == 0, r.output
    got = sorted(json.loads(x)["listing_id"] for x in out.read_text(encoding="utf-8").splitlines())
    assert got == ["a", "z"]
