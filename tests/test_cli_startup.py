"""Officer commands start light: what a command's process imports decides how long an officer
waits for `leads list` (issue 17). Each check runs a fresh interpreter and reads `sys.modules`."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import REPO

# Modules an officer command must not pay for: image stack, Excel, crawler, word segmentation,
# schema migrations, pinyin tables, the matcher and its automaton, the watchlist YAML parser.
HEAVY = {"PIL", "numpy", "cv2", "openpyxl", "scrapy", "jieba", "alembic", "pypinyin", "ahocorasick",
         "rapidfuzz", "playwright", "yaml", "matcher", "crawler"}


def loaded_heavy(argv: list[str]) -> set[str]:
    """Run `markwatch ARGV` in a new interpreter; the HEAVY top-level modules it imported."""
    code = ("import sys\n"
            f"sys.argv = ['markwatch', *{argv!r}]\n"
            "from pipeline.cli import app\n"
            "try:\n    app()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print('LOADED', sorted({m.split('.')[0] for m in sys.modules}), file=sys.stderr)\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert p.returncode == 0, p.stderr[-2000:]
    line = [x for x in p.stderr.splitlines() if x.startswith("LOADED ")][-1]
    return set(eval(line[len("LOADED "):])) & HEAVY  # a list of str printed by this very code


@pytest.mark.parametrize("argv", [["leads", "list", "--help"], ["digest", "--help"], ["runs", "list", "--help"],
                                  ["sellers", "list", "--help"], ["leads", "show", "--help"]])
def test_officer_command_help_imports_no_heavy_module(argv):
    assert loaded_heavy(argv) == set()


def test_digest_on_a_store_imports_no_heavy_module(db, tmp_path):
    """`digest` writes its XLSX with XlsxWriter (alerts/xlsx.py): no openpyxl (nor the numpy it
    pulls in), no matcher tables, no word segmentation, no Alembic."""
    got = loaded_heavy(["digest", "--no-send", "--output", str(tmp_path / "dg")])
    assert got == set()
    assert [p.suffix for p in sorted((tmp_path / "dg").iterdir())] == [".html", ".xlsx"]


def test_rendering_reason_codes_does_not_load_the_matcher():
    """Officer commands render stored reason codes (matcher.reasons); that must not import the
    engine, the watchlist parser or the automaton."""
    code = ("import sys\nfrom alerts.i18n import match_reasons\n"
            "match_reasons([], {'reason_codes': []}, 'zh-CN')\nimport matcher.reasons\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & %r))" % (HEAVY - {"matcher"},))
    p = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == "[]"
    import matcher

    assert matcher.MatchEngine.__name__ == "MatchEngine"  # the package's names still resolve

