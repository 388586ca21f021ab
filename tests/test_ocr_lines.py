"""Turning raw OCR boxes into matchable text: confidence floor, joining split words, alternatives."""
from __future__ import annotations

import math

from matcher.ocr_lines import alternatives, keep_box, lines


def rect(x, y, w, h, angle=0.0, cx=320, cy=320):
    """A box [[x,y]*4] (tl, tr, br, bl), optionally rotated by `angle` degrees about (cx, cy)."""
    pts = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    a = math.radians(angle)
    out = []
    for px, py in pts:
        dx, dy = px - cx, py - cy
        out.append([round(cx + dx * math.cos(a) - dy * math.sin(a)), round(cy + dx * math.sin(a) + dy * math.cos(a))])
    return out


def box(text, x, y, w, h, conf=0.99, angle=0.0, **extra):
    return {"text": text, "box": rect(x, y, w, h, angle), "confidence": conf, **extra}


def texts(out):
    return [o["text"] for o in out]


def test_split_word_is_joined_and_the_lone_fragment_is_not_offered_alone():
    # as detected: the one-character box is tighter than the line box
    raw = [box("正品保", 316, 62, 97, 39, 0.99), box("障", 403, 69, 31, 25, 0.97)]
    out = lines(raw)
    assert "正品保障" in texts(out)
    assert "障" not in texts(out)  # a one-character fragment means something only in its line
    assert "正品保" in texts(out)  # the single boxes stay available
    joined = next(o for o in out if o["text"] == "正品保障")
    assert joined["parts"] == 2
    assert joined["confidence"] == 0.97  # the weakest part
    xs = [p[0] for p in joined["box"]]
    assert min(xs) <= 316 and max(xs) >= 434  # the box covers both parts


def test_boxes_on_other_lines_or_far_apart_are_not_joined():
    raw = [box("包邮", 430, 150, 70, 34), box("正品保障", 446, 230, 108, 34),  # stacked stickers
           box("老干妈", 40, 400, 120, 40), box("限时特惠", 420, 400, 140, 40)]  # same row, far apart
    out = lines(raw)
    assert sorted(texts(out)) == sorted(["包邮", "正品保障", "老干妈", "限时特惠"])


def test_text_of_very_different_size_is_not_glued_on():
    raw = [box("包邮", 30, 510, 40, 20), box("SAMSUNG", 73, 492, 311, 52)]
    assert sorted(texts(lines(raw))) == ["SAMSUNG", "包邮"]


def test_latin_words_keep_a_space_only_when_apart():
    raw = [box("SAM", 100, 100, 60, 30), box("SUNG", 162, 100, 80, 30),
           box("NEW", 100, 300, 60, 30), box("YORK", 175, 300, 80, 30)]
    out = texts(lines(raw))
    assert "SAMSUNG" in out
    assert "NEW YORK" in out


def test_rotated_line_is_joined_in_reading_order():
    raw = [box("障", 410, 300, 30, 34, angle=25), box("正品保", 316, 300, 92, 34, angle=25)]
    assert "正品保障" in texts(lines(raw))


def test_vertical_column_is_joined_top_to_bottom():
    # two tall boxes stacked: a vertical sign split by the detector
    raw = [box("五常", 300, 100, 40, 84), box("大米", 300, 188, 40, 84)]
    assert "五常大米" in texts(lines(raw))


def test_confidence_floor_drops_garbage_and_symbols():
    raw = [box("原二鸭", 20, 360, 200, 60, 0.54), box("！", 500, 20, 20, 20, 0.99),
           box("■", 500, 500, 20, 20, 0.99), box("ZH", 300, 300, 60, 40, 0.65), box("MI", 100, 100, 80, 50, 0.96),
           box("参星", 325, 147, 144, 81, 0.81)]
    assert sorted(texts(lines(raw))) == ["MI", "参星"]
    assert keep_box("茅臺", 0.85)
    assert not keep_box("茅臺", 0.5)
    assert not keep_box("...", 1.0)


def test_runner_up_reading_is_offered_with_its_own_confidence():
    b = box("参星", 325, 147, 144, 81, 0.805, char_probs=[0.611, 0.999], alternatives=[[0, "叁", 0.387]])
    alts = alternatives(b)
    assert alts == [("叁星", round((0.387 + 0.999) / 2, 4))]
    out = lines([b])
    alt = next(o for o in out if o["text"] == "叁星")
    assert alt["alternative_of"] == "参星" and alt["box"] == out[0]["box"]


def test_unlikely_runner_up_is_not_offered():
    b = box("LLI", 100, 100, 60, 30, 0.70, char_probs=[0.3, 0.3, 0.3], alternatives=[[0, "1", 0.25]])
    assert "1LI" not in texts(lines([b]))  # its confidence (0.28) is below the floor
