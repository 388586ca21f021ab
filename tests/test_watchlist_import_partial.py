"""`markwatch watchlist import` keeps the good rows: each bad row is reported (file, line, field),
the rest imported, a summary says "imported ...; refused N rows" and the exit is 2 — the same
behaviour as the console's bulk import. `watchlist check` and `import` judge logo images by content.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app

BAD_CSV = ("enterprise_id,enterprise_name,mark_id,text,aliases,nice_classes,well_known,reference_price\n"
           "ent-a,甲公司,tm-a,甲牌,,25,false,100\n"
           "ent-a,甲公司,tm-b,乙牌,,二十五,false,100\n"
           "ent-a,甲公司,tm-c,丙牌,,25,maybe,abc\n"
           "ent-a,甲公司,tm-e,戊牌,,25,false,\n")
BAD_YAML = """version: 1
enterprises:
  - id: ent-a
    name: 甲公司
    marks:
      - {id: tm-a, kind: word, text: 甲牌, nice_classes: [25]}
      - {id: tm-b, kind: word, text: 乙牌, nice_classes: [46]}
      - {id: tm-c, kind: word, text: "", nice_classes: [25]}
      - {id: tm-d, kind: word, text: 丁牌, nice_classes: [25], reference_price: -5}
  - id: ent-b
    name: 乙公司
    marks:
      - {id: tm-a, kind: word, text: 重复, nice_classes: [25]}
      - {id: tm-f, kind: word, text: 己牌, nice_classes: [25]}
"""
LOGO_DIR = Path(__file__).parent / "data" / "flickrlogos27" / "logos"


def stored(settings) -> dict[str, tuple[str, str | None, bool]]:
    from store.db import make_engine, session_scope
    from store.models import Mark

    with session_scope(make_engine(settings=settings)) as s:
        return {m.id: (m.enterprise_id, m.text, m.active) for m in s.query(Mark)}


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_csv_import_keeps_good_rows_and_names_the_bad_ones(tmp_path, settings):
    f = tmp_path / "wl.csv"
    f.write_text(BAD_CSV, encoding="utf-8")
    r = run("watchlist", "import", str(f))
    assert r.exit_code == 2
    assert f"{f}:3: row 2 (mark_id tm-b): field 'nice_classes': Nice class 二十五 is not a number" in r.output
    assert f"{f}:4: row 3 (mark_id tm-c): field 'well_known': not yes/no: 'maybe'" in r.output
    assert f"{f}:4: row 3 (mark_id tm-c): field 'reference_price'" in r.output
    assert "2 marks" in r.output and "refused 2 rows: tm-b (line 3), tm-c (line 4)" in r.output
    assert set(stored(settings)) == {"tm-a", "tm-e"}


def test_yaml_import_keeps_good_entries_and_refuses_a_duplicate_id(tmp_path, settings):
    f = tmp_path / "wl.yaml"
    f.write_text(BAD_YAML, encoding="utf-8")
    r = run("watchlist", "import", str(f))
    assert r.exit_code == 2
    for line, field in ((7, "nice_classes"), (8, "text"), (9, "reference_price"), (13, "id")):
        assert f"{f}:{line}: " in r.output and f"field '{field}'" in r.output
    assert "refused 4 entries: mark tm-b (line 7), mark tm-c (line 8), mark tm-d (line 9), mark tm-a (line 13)" in r.output
    # the first holder of tm-a keeps it; ent-b's other mark is imported
    assert stored(settings) == {"tm-a": ("ent-a", "甲牌", True), "tm-f": ("ent-b", "己牌", True)}


def test_clean_file_imports_with_exit_0(tmp_path, settings):
    f = tmp_path / "wl.csv"
    f.write_text("\n".join(BAD_CSV.splitlines()[:2]) + "\n", encoding="utf-8")
    r = run("watchlist", "import", str(f))
    assert r.exit_code == 0 and "refused" not in r.output and "1 marks" in r.output


def test_enterprise_with_bad_sellers_is_refused_with_all_its_marks(tmp_path, settings):
    """Importing the marks without the (half-read) authorised-seller list would turn the official
    store's listings into leads: the enterprise and its marks are refused together."""
    f = tmp_path / "wl.yaml"
    f.write_text("""version: 1
enterprises:
  - id: ent-a
    name: 甲公司
    authorized_sellers: [{platform: mall}]
    marks:
      - {id: tm-a, kind: word, text: 甲牌, nice_classes: [25]}
  - id: ent-b
    name: 乙公司
    marks:
      - {id: tm-b, kind: word, text: 乙牌, nice_classes: [25]}
""", encoding="utf-8")
    r = run("watchlist", "import", str(f))
    assert r.exit_code == 2 and "authorized_sellers" in r.output and "needs seller_id or seller_name" in r.output
    assert "mark tm-a (line 7)" in r.output and "enterprise ent-a (line 3)" in r.output
    assert set(stored(settings)) == {"tm-b"}


def test_a_broken_file_imports_nothing(tmp_path, settings, db):
    f = tmp_path / "wl.csv"
    f.write_text(BAD_CSV.replace("reference_price", "referense_price"), encoding="utf-8")
    r = run("watchlist", "import", str(f))
    assert r.exit_code == 2 and "referense_price" in r.output and "nothing read" in r.output
    assert stored(settings) == {}


def test_deactivate_missing_is_not_applied_when_rows_were_refused(tmp_path, settings):
    good = tmp_path / "good.csv"
    good.write_text(BAD_CSV.splitlines()[0] + "\nent-a,甲公司,tm-z,庚牌,,25,false,\n", encoding="utf-8")
    assert run("watchlist", "import", str(good)).exit_code == 0
    f = tmp_path / "wl.csv"
    f.write_text(BAD_CSV, encoding="utf-8")
    r = run("watchlist", "import", "--deactivate-missing", str(f))
    assert r.exit_code == 2 and "--deactivate-missing not applied" in r.output
    assert stored(settings)["tm-z"][2] is True


def logo_watchlist(tmp_path: Path) -> Path:
    shutil.copy(sorted(LOGO_DIR.glob("*.png"))[0], tmp_path / "real.png")
    (tmp_path / "text.png").write_text("this is not an image, only named like one\n" * 20)
    f = tmp_path / "wl.yaml"
    f.write_text("""version: 1
enterprises:
  - id: ent-a
    name: 甲公司
    marks:
      - {id: logo-real, kind: logo, image: real.png, nice_classes: [25]}
      - {id: logo-text, kind: logo, image: text.png, nice_classes: [25]}
      - {id: tm-a, kind: word, text: 甲牌, nice_classes: [25]}
""", encoding="utf-8")
    return f


def test_check_judges_logo_files_by_content(tmp_path, settings):
    f = logo_watchlist(tmp_path)
    r = run("watchlist", "check", str(f))
    assert r.exit_code == 2 and " ok" not in r.output
    assert f"{f}:7: " in r.output and "logo-text" in r.output and "field 'image'" in r.output
    assert "not a readable image" in r.output and "logo-real" not in r.output.split("refuse")[0]


def test_import_refuses_a_logo_that_is_not_an_image_and_keeps_the_rest(tmp_path, settings):
    f = logo_watchlist(tmp_path)
    r = run("watchlist", "import", str(f))
    assert r.exit_code == 2 and "refused 1 entries: mark logo-text (line 7)" in r.output
    assert set(stored(settings)) == {"logo-real", "tm-a"}


def test_xlsx_import_keeps_good_rows(tmp_path, settings):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "marks"
    ws.append(["enterprise_id", "mark_id", "text", "nice_classes"])
    ws.append(["ent-a", "tm-a", "甲牌", "25"])
    ws.append(["ent-a", "tm-b", "", "25"])
    f = tmp_path / "wl.xlsx"
    wb.save(f)
    r = run("watchlist", "import", str(f))
    assert r.exit_code == 2 and f"{f}:3: sheet marks row 3 (mark_id tm-b): field 'text'" in r.output
    assert "refused 1 rows: tm-b (line 3)" in r.output and set(stored(settings)) == {"tm-a"}
