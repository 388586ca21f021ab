"""OCR second looks (issue 12): vertical columns read as upright characters, small boxes re-read
enlarged, the inverted image read only when it is likely to help; and real public photos read."""
from __future__ import annotations

import glob
import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

pytest.importorskip("rapidocr_onnxruntime")

from matcher import ocr_engine  # noqa: E402
from matcher.ocr_lines import lines  # noqa: E402

REAL = Path(__file__).parent / "data" / "ocr-real"
FONTS = sorted(glob.glob("/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc"))
needs_cjk = pytest.mark.skipif(not FONTS, reason="no Noto CJK font (install fonts-noto-cjk)")


def _font(px: int):
    for i in range(10):
        f = ImageFont.truetype(FONTS[0], px, index=i)
        if "SC" in f.getname()[0]:
            return f
    return ImageFont.truetype(FONTS[0], px)


def _column(text: str, px: int = 40, bg=(245, 240, 225), fg=(30, 30, 30)) -> Image.Image:
    img = Image.new("RGB", (px * 3, int(px * 1.15) * len(text) + 2 * px), bg)
    d = ImageDraw.Draw(img)
    for i, ch in enumerate(text):
        d.text((px, px + i * int(px * 1.15)), ch, font=_font(px), fill=fg)
    return img


def _texts(boxes) -> list[str]:
    return [t["text"] for t in lines(boxes)]


@needs_cjk
def test_vertical_column_is_laid_out_as_one_row_of_upright_characters():
    import numpy as np

    col = np.asarray(_column("宝剑锋从磨砺出", px=48))[:, 48:96, ::-1].copy()  # the column, BGR
    row = ocr_engine._upright_cells(col, 48)
    assert row is not None and row.shape[0] == 48
    # seven square cells (48 px) side by side, with small gaps
    assert 7 * 48 <= row.shape[1] <= 7 * 48 + 6 * 12
    text, conf = ocr_engine.get_engine(1).text_rec([row])[0][0][:2]
    assert text == "宝剑锋从磨砺出" and conf > 0.9


def test_blank_column_gives_no_cells():
    import numpy as np

    assert ocr_engine._upright_cells(np.full((300, 48, 3), 200, np.uint8), 48) is None


@needs_cjk
def test_vertical_mark_is_read_from_a_generated_column():
    boxes = ocr_engine.read_image(_column("松竹梅兰"))
    assert any("松竹梅兰" in t for t in _texts(boxes))


def test_inverted_pass_only_when_little_text_or_dark():
    light = Image.new("RGB", (400, 300), (235, 235, 235))
    dark = Image.new("RGB", (400, 300), (25, 30, 40))
    many = [{"text": "正品保障假一赔十", "confidence": 0.99, "box": [[0, 0], [10, 0], [10, 5], [0, 5]]}]
    assert not ocr_engine._wants_inverted(light, many)  # a light photo with text: one pass
    assert ocr_engine._wants_inverted(light, [])  # nothing found: look at the negative
    low = [dict(many[0], confidence=0.4)]
    assert ocr_engine._wants_inverted(light, low)  # only unreadable text found
    assert ocr_engine._wants_inverted(dark, many)  # dark photo


def test_second_looks_never_lose_or_weaken_a_reading():
    img = Image.open(REAL / "chineseocr_lite_5.jpg").convert("RGB")
    first, scale = ocr_engine._first_pass(img, 1)
    after = ocr_engine.second_looks(img, first, scale, 1)
    assert len(after) == len(first)
    changed = 0
    for a, b in zip(first, after):
        assert b["box"] == a["box"]
        assert b["confidence"] >= a["confidence"]
        if b["text"] != a["text"]:  # the more confident second look leads, the first reading stays
            assert b["second_look"] in ("enlarged", "upright") and b["other"]["text"] == a["text"]
            changed += 1
    assert changed  # the small bottle labels got a second look
    # both readings of a re-read box are offered to the matcher
    texts = {t["text"] for t in lines(after)}
    for b in after:
        if b.get("other") and b["other"]["confidence"] >= 0.75:
            assert b["text"] in texts and b["other"]["text"] in texts


def test_engine_key_names_the_second_look_settings():
    # cached readings made without the second looks are read again
    assert f"up{ocr_engine.SMALL_TEXT_PX}" in ocr_engine.ENGINE_KEY and "inv" in ocr_engine.ENGINE_KEY


@pytest.mark.parametrize("name", ["chineseocr_lite_4.jpg", "chineseocr_lite_5.jpg", "paddleocr_1.jpg",
                                  "rapidocr_ch_en_num.jpg"])
def test_real_photo_text_is_read(name):
    """Product, promo and sign photos from public OCR test sets (tests/data/ocr-real/README.md):
    every phrase of the hand-written truth is among the reader's lines (spaces/case ignored)."""
    truth = json.loads((REAL / "truth.json").read_text(encoding="utf-8"))[name]["texts"]
    res = ocr_engine.read_bytes((REAL / name).read_bytes(), name)
    got = [t.replace(" ", "").lower() for t in _texts(res["boxes"])]
    missing = [s for s in truth if not any(s.replace(" ", "").lower() in g for g in got)]
    assert not missing, (missing, got)
