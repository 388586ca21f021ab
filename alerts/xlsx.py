"""A small XLSX writer for the digest: sheets of plain rows, text always stored as text.

The digest needs only values in rows, a bold header row and frozen panes. openpyxl does that
too, but importing it (with the numpy, Pillow and lxml it pulls in) and building its cell
objects cost ~0.45 CPU-s of a `markwatch digest` of ~1.3 s (issue 17). This module writes the
same SpreadsheetML (ECMA-376 Part 1, the parts every reader needs: content types, workbook,
relationships, one style sheet, one worksheet per sheet) with the standard library.

Values: ``int``/``float`` (finite) become number cells, ``None`` an empty cell, anything else
its ``str()`` as an inline string cell (``t="inlineStr"``), so seller-controlled text such as
``=HYPERLINK(...)`` is never a formula. Characters XML 1.0 cannot carry (control characters
other than tab, newline, carriage return; lone surrogates) are replaced by U+FFFD rather than
failing the whole digest.
"""
from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")

_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                  '<Default Extension="xml" ContentType="application/xml"/>'
                  '<Override PartName="/xl/workbook.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                  '<Override PartName="/xl/styles.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                  '{sheets}</Types>')
_SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" '
               'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
              'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
           '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill>'
           '<fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
           '</styleSheet>')


def _col(i: int) -> str:
    """Column letters of 0-based column i (0 -> A, 26 -> AA)."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _text(v) -> str:
    return escape(_BAD_XML.sub("\ufffd", str(v)))


def _cell(ref: str, v, style: int) -> str:
    st = f' s="{style}"' if style else ""
    if v is None:
        return f'<c r="{ref}"{st}/>' if style else ""
    if isinstance(v, bool):
        v = str(v)
    if isinstance(v, (int, float)) and math.isfinite(v):
        return f'<c r="{ref}"{st}><v>{v!r}</v></c>'
    return f'<c r="{ref}"{st} t="inlineStr"><is><t xml:space="preserve">{_text(v)}</t></is></c>'


def _sheet_xml(rows: list[list], header: bool) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">']
    if header and rows:
        out.append('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                   'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>')
    out.append("<sheetData>")
    for r, row in enumerate(rows, 1):
        style = 1 if header and r == 1 else 0
        out.append(f'<row r="{r}">' + "".join(_cell(f"{_col(c)}{r}", v, style) for c, v in enumerate(row)) + "</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out)


def write_xlsx(path: str | Path, sheets: list[tuple[str, list[list], bool]]) -> None:
    """Write a workbook of `sheets` — (name, rows, header) with header=True for a bold, frozen
    first row — to `path`. Raises ValueError for no sheets, an empty or duplicate name, or a
    name longer than 31 characters or containing []:*?/\\ (Excel's rules); OSError from the
    file system."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    names = [n for n, _, _ in sheets]
    for n in names:
        if not n or len(n) > 31 or _BAD_SHEET.search(n):
            raise ValueError(f"sheet name {n!r}: 1-31 characters, none of []:*?/\\")
    if len({n.casefold() for n in names}) != len(names):
        raise ValueError(f"duplicate sheet names: {names}")
    wb = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
          + "".join(f'<sheet name="{_text(n)}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, 1))
          + "</sheets></workbook>")
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                      f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(names) + 1))
            + f'<Relationship Id="rId{len(names) + 1}" Type="http://schemas.openxmlformats.org/officeDocument/'
              '2006/relationships/styles" Target="styles.xml"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES.format(
            sheets="".join(_SHEET_TYPE.format(n=i) for i in range(1, len(names) + 1))))
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", wb)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/styles.xml", _STYLES)
        for i, (_, rows, header) in enumerate(sheets, 1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", _sheet_xml(rows, header))
