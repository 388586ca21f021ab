"""`markwatch goods infer / group`."""
from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli import app


def test_infer_prints_groups_classes_and_the_deciding_word():
    r = CliRunner().invoke(app, ["goods", "infer", "家用电器/生活电器/电风扇/艾美特FSW52R", "某平台/其它"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split("\t")[1:3] == ["1106", "11"] and lines[0].endswith("电风扇")
    assert lines[1].split("\t")[1] == "?"


def test_infer_reads_paths_from_stdin_and_a_title():
    r = CliRunner().invoke(app, ["goods", "infer", "--title", "小米手环7 NFC版"], input="\n")
    assert r.exit_code == 0 and "\t0901\t9\t" in r.output


def test_group_shows_name_notes_and_similar_groups():
    r = CliRunner().invoke(app, ["goods", "group", "2105"])
    assert r.exit_code == 0 and "2105 茶具" in r.output and "2103" in r.output
    bad = CliRunner().invoke(app, ["goods", "group", "9999"])
    assert bad.exit_code == 2 and "9999" in bad.output
