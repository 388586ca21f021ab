"""Issue 16 item 3: a mark id belongs to its enterprise; another enterprise's file reusing it is an
error naming both files, and the first holder keeps the mark (the other marks of that file are
imported: one bad row never aborts the rest)."""
from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli import app

A = """version: 1
enterprises:
  - id: ent-a
    name: 甲酒业
    marks:
      - {id: tm-feitian, kind: word, text: 飞天, nice_classes: [33]}
"""
B = """version: 1
enterprises:
  - id: ent-b
    name: 乙贸易
    marks:
      - {id: tm-other, kind: word, text: 乙牌, nice_classes: [33]}
      - {id: tm-feitian, kind: word, text: 飞天仙女, nice_classes: [25]}
"""


def _stored(settings):
    from store.db import make_engine, session_scope
    from store.models import Mark

    with session_scope(make_engine(settings=settings)) as s:
        return {m.id: (m.enterprise_id, m.text) for m in s.query(Mark)}


def test_reuse_by_another_enterprise_names_both_files(tmp_path, settings):
    a, b = tmp_path / "holder-a.yaml", tmp_path / "holder-b.yaml"
    a.write_text(A, encoding="utf-8")
    b.write_text(B, encoding="utf-8")
    r = CliRunner().invoke(app, ["watchlist", "import", str(a)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["watchlist", "import", str(b)])
    assert r.exit_code == 2
    assert "holder-a.yaml" in r.output and "holder-b.yaml" in r.output and "tm-feitian" in r.output
    assert "ent-a" in r.output and "refused 1 entries: mark tm-feitian" in r.output
    # the first holder keeps the mark; B's own mark is imported
    assert _stored(settings) == {"tm-feitian": ("ent-a", "飞天"), "tm-other": ("ent-b", "乙牌")}


def test_same_enterprise_may_reimport_and_gi_cannot_take_an_enterprise_id(tmp_path, settings):
    a = tmp_path / "a.yaml"
    a.write_text(A, encoding="utf-8")
    assert CliRunner().invoke(app, ["watchlist", "import", str(a)]).exit_code == 0
    a.write_text(A.replace("飞天", "飞天牌"), encoding="utf-8")
    assert CliRunner().invoke(app, ["watchlist", "import", str(a)]).exit_code == 0
    assert _stored(settings) == {"tm-feitian": ("ent-a", "飞天牌")}
    g = tmp_path / "gi.yaml"
    g.write_text("geographical_indications:\n  - {id: ent-a, name: 五常大米, product: 大米, region: {places: [五常]}}\n",
                 encoding="utf-8")
    r = CliRunner().invoke(app, ["watchlist", "import", str(g)])
    assert r.exit_code == 2 and "a.yaml" in r.output and "gi.yaml" in r.output
