"""``markwatch ocr read``: what an officer or developer sees for an image."""
from __future__ import annotations

import json

import pytest
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

pytest.importorskip("rapidocr_onnxruntime")

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


@pytest.fixture
def image(tmp_path):
    try:
        f = ImageFont.truetype(DEJAVU, 64)
    except OSError:
        pytest.skip("DejaVu font not installed")
    img = Image.new("RGB", (640, 480), (250, 250, 245))
    ImageDraw.Draw(img).text((120, 200), "VELORA", font=f, fill=(10, 10, 10))
    p = tmp_path / "photo.png"
    img.save(p)
    return p


def test_read_prints_text_confidence_and_box_and_caches(image, isolated_settings):
    from pipeline.cli import app

    r = CliRunner().invoke(app, ["ocr", "read", str(image)])
    assert r.exit_code == 0, r.output
    line = next(ln for ln in r.output.splitlines() if "VELORA" in ln)
    text, conf, box = line.strip().split("\t")[:3]
    assert text == "VELORA" and float(conf) > 0.8
    pts = [tuple(map(int, p.split(","))) for p in box.split()]
    assert len(pts) == 4 and 100 < min(x for x, _ in pts) < 140
    assert list((isolated_settings / "cache" / "ocr").rglob("*.json"))  # cached in the data dir

    r = CliRunner().invoke(app, ["ocr", "read", "--json", str(image)])
    d = json.loads(r.stdout.strip().splitlines()[-1])
    assert d["image"] == str(image) and [t["text"] for t in d["texts"]] == ["VELORA"]


def test_read_reports_a_corrupt_image_and_fails_when_nothing_was_readable(tmp_path):
    from pipeline.cli import app

    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    r = CliRunner().invoke(app, ["ocr", "read", str(bad)])
    assert r.exit_code == 1
    assert "skipped (corrupt" in r.output


def test_read_thorough_reads_the_image_and_bypasses_the_cache(image, isolated_settings):
    from pipeline.cli import app

    r = CliRunner().invoke(app, ["ocr", "read", "--thorough", str(image)])
    assert r.exit_code == 0, r.output
    assert any(ln.strip().startswith("VELORA\t") for ln in r.output.splitlines())
    assert not list((isolated_settings / "cache" / "ocr").rglob("*.json"))  # a forced look is not cached
