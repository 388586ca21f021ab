"""Text normalisation shared by the matchers: NFKC, case folding, traditional→simplified."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")
_KEEP = re.compile(r"[^0-9a-z\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff]+")


@lru_cache(maxsize=65536)
def t2s(text: str) -> str:
    try:
        return _T2S.convert(text)
    except UnicodeEncodeError:  # lone surrogates (hostile input) cannot be converted: U+FFFD them
        return _T2S.convert(text.encode("utf-8", "replace").decode("utf-8"))


def fold(text: str) -> str:
    """NFKC + casefold + simplified Chinese; keeps spacing and punctuation."""
    return t2s(unicodedata.normalize("NFKC", text).casefold())


def compact(text: str) -> str:
    """fold() and then drop everything that is not a letter, digit, CJK or kana character."""
    return _KEEP.sub("", fold(text))
