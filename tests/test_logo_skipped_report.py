"""`markwatch match` lists which images were skipped and why (summary lines and --report FILE)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from matcher.logo_synth import make_logo
from tests.conftest import REPO

WATCHLIST = """\
version: 1
enterprises:
  - id: ent-a
    name: 甲公司
    marks:
      - {id: logo-a, kind: logo, image: logo.png, nice_classes: [25], well_known: true}
"""


def _listing(i, images):
    return json.dumps({"platform": "mall", "listing_id": f"L{i}", "url": f"http://mall.test/{i}", "kind": "listing",
                       "title": "男士夹克", "description": "", "price": 99.0, "currency": "CNY", "seller_id": f"s{i}",
                       "seller_name": f"店{i}", "seller_location": "浙江 杭州", "category": "服装/男装",
                       "images": images, "captured_at": "2026-11-20T08:00:00+08:00"}, ensure_ascii=False)


@pytest.mark.parametrize("extra", [[], ["--workers", "2"]])
def test_match_lists_skipped_images_with_reasons(tmp_path, extra):
    make_logo("QD", "disc", (30, 90, 160)).save(tmp_path / "logo.png")
    (tmp_path / "wl.yaml").write_text(WATCHLIST, encoding="utf-8")
    Image.new("RGB", (200, 200), (200, 180, 160)).save(tmp_path / "ok.jpg")
    (tmp_path / "broken.jpg").write_bytes(b"<html>not an image</html>")
    Image.new("1", (12000, 12000)).save(tmp_path / "bomb.png")
    lines = [_listing(1, ["ok.jpg", "missing.jpg"]), _listing(2, ["broken.jpg", "bomb.png"]),
             _listing(3, ["https://img.example.com/x.jpg"])]
    (tmp_path / "l.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = tmp_path / "report.json"
    env = {**os.environ, "MARKWATCH_DATA_DIR": str(tmp_path / "data")}
    p = subprocess.run([sys.executable, "-m", "pipeline.cli", "match", "-w", str(tmp_path / "wl.yaml"),
                        "-l", str(tmp_path / "l.jsonl"), "-o", str(tmp_path / "leads.jsonl"), "--no-ocr", "--logos", *extra,
                        "--report", str(report)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    got = {(x["listing_id"], x["image"]): x for x in json.loads(report.read_text(encoding="utf-8"))["skipped_images"]}
    assert got[("L1", "missing.jpg")]["reason"] == "missing"
    assert got[("L2", "broken.jpg")]["reason"] == "corrupt"
    assert got[("L2", "bomb.png")]["reason"] == "too_many_pixels"
    assert got[("L3", "https://img.example.com/x.jpg")]["reason"] == "remote"
    assert ("L1", "ok.jpg") not in got
    assert all(x["reason_zh"] and x["stages"] == ["logo"] for x in got.values())
    # the summary on stderr names them too
    assert "bomb.png: too_many_pixels" in p.stderr and "图片像素过多" in p.stderr
    assert "missing.jpg: missing" in p.stderr
