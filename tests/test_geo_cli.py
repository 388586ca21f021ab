"""`markwatch geo resolve`: one line per input, code<TAB>full name or ?<TAB>why."""
from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def test_resolve_arguments_one_line_each():
    r = runner.invoke(app, ["geo", "resolve", "浙江 义乌", "产地：山东寿光", "西湖", "见包装"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "330782\t浙江省金华市义乌市"
    assert lines[1] == "370783\t山东省潍坊市寿光市"
    assert lines[2].startswith("?\t") and "西湖" in lines[2]
    assert lines[3].startswith("?\t") and len(lines) == 4


def test_resolve_reads_standard_input_one_location_per_line():
    r = runner.invoke(app, ["geo", "resolve"], input="发货地 江苏·苏州\n金华义乌\n\n江苏省苏州市相城区\n")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == ["320500\t江苏省苏州市", "330782\t浙江省金华市义乌市", "?\t未填写地点",
                                     "320507\t江苏省苏州市相城区"]


def test_strict_exit_status_and_help_example():
    assert runner.invoke(app, ["geo", "resolve", "--strict", "通州"]).exit_code == 1
    assert runner.invoke(app, ["geo", "resolve", "--strict", "北京 通州"]).exit_code == 0
    h = runner.invoke(app, ["geo", "resolve", "--help"])
    assert "Example" in h.stdout and "markwatch geo resolve" in h.stdout
