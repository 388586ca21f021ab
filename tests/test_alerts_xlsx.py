"""The digest's XLSX (alerts/xlsx.py, XlsxWriter): what a spreadsheet reader (openpyxl) gets back."""
from __future__ import annotations

import pytest


def test_workbook_reads_back_with_values_types_bold_frozen_header(tmp_path):
    from openpyxl import load_workbook

    from alerts.xlsx import write_xlsx

    p = tmp_path / "d.xlsx"
    rows = [["编号", "售价", "商品"],
            [7, 12.5, '=HYPERLINK("http://evil.test","x")'],
            [8, None, "贵州茅台 <飞天> & 53度\x07"]]
    write_xlsx(p, [("概览", [["日期", "2026-11-30"]], False), ("按优先级", rows, True)])
    wb = load_workbook(p)
    assert wb.sheetnames == ["概览", "按优先级"]
    ws = wb["按优先级"]
    got = list(ws.iter_rows(values_only=True))
    assert got[0] == ("编号", "售价", "商品")
    assert got[1] == (7, 12.5, '=HYPERLINK("http://evil.test","x")')
    # a control character XML cannot carry is replaced, the rest of the text kept
    assert got[2] == (8, None, "贵州茅台 <飞天> & 53度\ufffd")
    cells = [c for row in ws.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)  # seller text is never a formula
    assert all(c.font.b for c in ws[1]) and not ws["A2"].font.b
    assert ws.freeze_panes == "A2"
    assert wb["概览"].freeze_panes is None


def test_columns_past_z_and_bad_sheet_names(tmp_path):
    from openpyxl import load_workbook

    from alerts.xlsx import write_xlsx

    p = tmp_path / "w.xlsx"
    write_xlsx(p, [("s", [list(range(30))], False)])
    ws = load_workbook(p)["s"]
    assert ws["Z1"].value == 25 and ws["AD1"].value == 29
    for bad in ([], [("a/b", [], False)], [("x", [], False), ("X", [], False)], [("n" * 32, [], False)]):
        with pytest.raises(ValueError):
            write_xlsx(tmp_path / "bad.xlsx", bad)
