"""`markwatch match`: stateless batch matching in the DESIGN.md formats, bad lines reported."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEVSET, REPO

MARKWATCH = [sys.executable, "-m", "pipeline.cli"]

WATCHLIST = """\
version: 1
enterprises:
  - id: ent-sh
    name: 山河服饰
    authorized_sellers: [{platform: mall, seller_id: official}]
    marks:
      - {id: tm-sh, kind: word, text: 山河行, aliases: [SHANHEXING], nice_classes: [25], well_known: false}
"""


def listing(i, title, **kw):
    d = {"platform": "mall", "listing_id": f"L{i}", "url": f"http://mall.test/{i}", "kind": "listing",
         "title": title, "description": "", "price": 99.0, "currency": "CNY", "seller_id": f"s{i}",
         "seller_name": f"店{i}", "seller_location": "浙江 杭州", "category": "服装/男装", "images": [],
         "captured_at": "2026-11-20T08:00:00+08:00"}
    d.update(kw)
    return json.dumps(d, ensure_ascii=False)


def run_match(tmp_path, lines, *extra):
    wl = tmp_path / "wl.yaml"
    wl.write_text(WATCHLIST, encoding="utf-8")
    li = tmp_path / "listings.jsonl"
    li.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "leads.jsonl"
    p = subprocess.run(MARKWATCH + ["match", "--watchlist", str(wl), "--listings", str(li), "--output", str(out),
                                    "--no-ocr", "--no-logos", *extra],
                       cwd=REPO, capture_output=True, text=True, timeout=300)
    leads = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    return p, leads


def test_match_writes_leads_in_contract_format(tmp_path):
    p, leads = run_match(tmp_path, [listing(1, "山河行 男士夹克 高仿"), listing(2, "普通 男士夹克")])
    assert p.returncode == 0, p.stderr
    assert [l["listing_id"] for l in leads] == ["L1"]
    lead = leads[0]
    assert {"listing_id", "platform", "target_id", "target_kind", "score", "reasons"} <= set(lead)
    assert lead["target_id"] == "tm-sh" and lead["target_kind"] == "word"
    assert 0 <= lead["score"] <= 100 and lead["reasons"] and all(isinstance(r, str) for r in lead["reasons"])
    assert "matched 2 listings" in p.stderr  # summary line


def test_authorised_seller_is_not_a_lead(tmp_path):
    p, leads = run_match(tmp_path, [listing(1, "山河行 男士夹克", seller_id="official")])
    assert p.returncode == 0 and leads == []


def test_bad_lines_are_reported_and_good_lines_kept(tmp_path):
    lines = [listing(1, "山河行 夹克 高仿"),
             '{"platform": "mall", "listing_id": "L2", "title": "山河行"',  # malformed JSON
             listing(3, ""),  # missing title
             listing(4, "山河行 夹克 高仿", price="九十九"),  # non-numeric price
             listing(5, "山河行 外套 高仿")]
    p, leads = run_match(tmp_path, lines)
    assert p.returncode == 0
    assert sorted(l["listing_id"] for l in leads) == ["L1", "L5"]
    err = p.stderr
    assert "listings.jsonl:2: field '-': malformed JSON" in err
    # the column is where the line breaks off (its end), not "column 1" of the next line
    assert f"at column {len(lines[1]) + 1})" in err
    assert "listings.jsonl:3: field 'title'" in err
    assert "listings.jsonl:4: field 'price': not a number" in err
    assert "3 bad lines skipped" in err


def test_bad_watchlist_exits_2_with_location(tmp_path):
    wl = tmp_path / "wl.yaml"
    wl.write_text(WATCHLIST.replace("kind: word", "kind: slogan"), encoding="utf-8")
    li = tmp_path / "l.jsonl"
    li.write_text(listing(1, "x") + "\n", encoding="utf-8")
    p = subprocess.run(MARKWATCH + ["match", "-w", str(wl), "-l", str(li), "-o", str(tmp_path / "o.jsonl")],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "wl.yaml:7" in p.stderr and "field 'kind'" in p.stderr


def test_every_command_has_help_with_example():
    from typer.testing import CliRunner

    from pipeline.cli import app

    runner = CliRunner()
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    import typer.main
    group = typer.main.get_command(app)
    missing = []
    for name, cmd in group.commands.items():
        subs = getattr(cmd, "commands", None) or {None: cmd}
        for sub, c in subs.items():
            args = [name] + ([sub] if sub else []) + ["--help"]
            r = runner.invoke(app, args)
            if r.exit_code != 0 or "Example" not in r.output:
                missing.append(" ".join(args[:-1]))
    assert not missing, f"commands without --help example: {missing}"


@pytest.mark.skipif(not (DEVSET / "gold.jsonl").exists(), reason="../shared/devset not beside the checkout")
def test_devset_leads_are_readable_by_score_py(tmp_path):
    out = tmp_path / "leads.jsonl"
    p = subprocess.run(MARKWATCH + ["match", "--watchlist", str(DEVSET / "watchlist.yaml"), "--listings",
                                    str(DEVSET / "listings.jsonl"), "--output", str(out), "--no-ocr"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    s = subprocess.run([sys.executable, str(DEVSET / "score.py"), str(DEVSET / "gold.jsonl"), str(out),
                        "--groups", "word,gi"], capture_output=True, text=True)
    assert "unreadable" not in s.stdout
    assert "word  precision" in s.stdout and "gi    precision" in s.stdout
