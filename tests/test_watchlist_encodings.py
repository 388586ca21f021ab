"""Issue 16 item 4 (watchlists): Chinese Excel's CSV encodings — UTF-8 with BOM, GBK, GB18030 —
are read correctly and the encoding reported; bytes in none of them are a located error."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from watchlist import WatchlistError, load_watchlist

CSV = ("enterprise_id,enterprise_name,mark_id,text,aliases,nice_classes,well_known,reference_price\n"
       "ent-moutai,贵州茅台酒股份有限公司,tm-moutai,茅台,贵州茅台|飞天,33,是,1499\n"
       "ent-wuliangye,宜宾五粮液股份有限公司,tm-wly,五粮液,,33,否,\n")


@pytest.mark.parametrize("enc,bom", [("utf-8", b"\xef\xbb\xbf"), ("gbk", b""), ("gb18030", b""), ("utf-8", b"")])
def test_excel_csv_encodings_read_the_same_watchlist(tmp_path, enc, bom):
    p = tmp_path / "marks.csv"
    p.write_bytes(bom + CSV.replace("\n", "\r\n").encode(enc))
    meta: dict = {}
    wl = load_watchlist(p, meta=meta)
    assert [e.id for e in wl.enterprises] == ["ent-moutai", "ent-wuliangye"]
    assert wl.enterprises[0].name == "贵州茅台酒股份有限公司" and wl.enterprises[0].marks[0].aliases == ["贵州茅台", "飞天"]
    assert wl.enterprises[0].marks[0].well_known and not wl.enterprises[1].marks[0].well_known
    assert meta["encoding"] == ("utf-8-sig" if bom else "gbk" if enc == "gb18030" else enc)


def test_cli_reports_a_detected_encoding_and_refuses_unknown_bytes(tmp_path, settings):
    from pipeline.cli import app

    p = tmp_path / "marks.csv"
    p.write_bytes(CSV.encode("gbk"))
    r = CliRunner().invoke(app, ["watchlist", "import", str(p)])
    assert r.exit_code == 0 and "GBK" in r.output and "2 enterprises" in r.output, r.output
    bad = tmp_path / "big5.csv"
    bad.write_bytes(CSV.encode("utf-8") + "台灣".encode("big5") + b"\xff\xfe\xfa,x\n")
    with pytest.raises(WatchlistError) as ei:
        load_watchlist(bad)
    (pr,) = ei.value.problems
    assert pr.line == 4 and "not UTF-8, GBK or GB18030" in pr.message
