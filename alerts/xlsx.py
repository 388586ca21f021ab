"""The digest's XLSX: sheets of plain rows written with XlsxWriter, text always stored as text.

XlsxWriter (a write-only, pure-Python library) is used rather than openpyxl because the digest
only writes: importing openpyxl (it imports numpy when installed) and building its cell objects
cost ~0.45 CPU-s of a ~1.3 CPU-s `markwatch digest` (issue 17); XlsxWriter imports in ~0.05 s and
streams rows (``constant_memory``). openpyxl stays the reader of uploaded XLSX watchlists.

Values: ``int``/``float`` (finite) become number cells, ``None`` an empty cell, anything else
its ``str()`` written with ``write_string`` -- so seller-controlled text such as
``=HYPERLINK(...)`` is never a formula. Characters XML 1.0 cannot carry (control characters
other than tab, newline, carriage return; lone surrogates) are replaced by U+FFFD rather than
failing the whole digest.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: object) -> str:
    """``str(value)`` with the characters XML 1.0 cannot carry replaced by U+FFFD."""
    return _BAD_XML.sub("\ufffd", str(value))


def write_xlsx(path: Path, sheets: list[tuple[str, list[list], bool]]) -> None:
    """Write ``sheets`` — ``(name, rows, header)`` with ``header`` = first row bold and frozen —
    to ``path``. Raises ``ValueError`` for no sheets, a name Excel refuses (empty, over 31
    characters, one of ``[]:*?/\\``) or the same name twice (case-insensitive)."""
    import xlsxwriter
    from xlsxwriter.exceptions import XlsxWriterException

    if not sheets:
        raise ValueError("an XLSX workbook needs at least one sheet")
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False})
    try:
        bold = wb.add_format({"bold": True})
        for name, rows, header in sheets:
            try:
                ws = wb.add_worksheet(name)
            except XlsxWriterException as e:
                raise ValueError(f"sheet name {name!r}: {e}") from None
            if header:
                ws.freeze_panes(1, 0)
            for r, row in enumerate(rows):
                fmt = bold if header and r == 0 else None
                for c, v in enumerate(row):
                    if v is None:
                        continue
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                        ws.write_number(r, c, v, fmt)
                    else:
                        ws.write_string(r, c, clean_text(v), fmt)
    finally:
        wb.close()
