"""Folding used by the text matcher: full-width, case, traditional, accents, confusables."""
from __future__ import annotations

from matcher.confusables import TSV, load_confusables
from matcher.normalize import compact, fold
from matcher.variants import fold0, near_sound_char, phon, pinyin_forms, sound_alike_char, vis


def test_fold_and_compact_keep_their_contract():
    assert fold("ＡＢＣ 茅臺") == "abc 茅台"
    assert compact("N-I-K-E 耐 克!") == "nike耐克"


def test_layer0_folds_fullwidth_traditional_accents_and_other_scripts():
    assert fold0("ＨＵＡＷＥＩ") == "huawei"
    assert fold0("雙匯") == "双汇"
    assert fold0("Nestlé") == "nestle"
    assert fold0("\u041d\u0410WEI") == "hawei"  # Cyrillic Н, А
    assert fold0("农夫.山泉") == "农夫山泉"


def test_visual_skeleton_equates_leetspeak_and_lookalikes():
    assert vis(fold0("V1VO")) == vis(fold0("VIVO")) == vis(fold0("VlVO"))
    assert vis("水久") == vis("永久")
    assert vis("カ士") == vis("力士")
    assert vis("李宁") != vis("李林")


def test_sound_skeleton_and_readings():
    assert phon("依利") == phon("伊利")
    assert sound_alike_char("卯", "茅") and not sound_alike_char("历", "茅")
    assert near_sound_char("鑫", "星") and not sound_alike_char("鑫", "星")
    assert "maotai" in pinyin_forms("茅台")


def test_confusables_table_names_its_source_and_is_loaded():
    head = TSV.read_text(encoding="utf-8").splitlines()[:3]
    assert any("confusables" in line and "Unicode" in line for line in head)
    t = load_confusables()
    assert t.homoglyph["\u0430"] == "a"         # Cyrillic а
    assert t.look_alike("午", "牛") and t.look_alike("牛", "午")
    assert not t.look_alike("午", "马")
