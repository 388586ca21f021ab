"""Goods inference holds on REAL marketplace category paths and titles (tests/data/real-goods/,
sources in its README). The floors sit a little under what the shipped data measures
(`make bench BENCH_ARGS=goods` prints the figures) so a regression in the vocabulary or the rules
shows here."""
from __future__ import annotations

from bench.bench_goods import evaluate


def test_real_chinese_category_paths():
    a = evaluate("category_paths.tsv")
    assert a.n >= 300
    assert a.rate(a.ok) >= 0.90 and a.rate(a.wrong) <= 0.08, a.wrong_rows
    assert a.rate(a.precise) >= 0.65


def test_held_out_category_paths_of_another_marketplace_tree():
    # labelled before the classifier was run on them; the vocabulary was not tuned to them
    a = evaluate("heldout_category_paths.tsv")
    assert a.n >= 120
    assert a.rate(a.ok) >= 0.70 and a.rate(a.wrong) <= 0.15, a.wrong_rows


def test_real_english_category_names():
    a = evaluate("english_categories.tsv")
    assert a.n >= 100
    assert a.rate(a.ok) >= 0.90 and a.rate(a.wrong) <= 0.05, a.wrong_rows


def test_held_out_english_category_names():
    # labelled before the classifier was run on them; many stay unknown (no English goods list yet)
    a = evaluate("heldout_english_categories.tsv")
    assert a.n >= 100
    assert a.rate(a.ok) >= 0.60 and a.rate(a.wrong) <= 0.08, a.wrong_rows


def test_real_titles_without_a_category():
    a = evaluate("titles.tsv")
    assert a.n >= 150
    assert a.rate(a.ok) >= 0.90 and a.rate(a.wrong) <= 0.03, a.wrong_rows
