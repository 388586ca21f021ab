"""Goods-class gating: infer Nice classes of a listing from its category and title.

The table lives in ``config/data/goods_classes.yaml`` (with its sources noted there).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from config.settings import DATA_TABLES_DIR

_SPLIT = re.compile(r"\s*(?:/|>|＞|»|\\|\||,|，)\s*")


class GoodsClassifier:
    def __init__(self, table: dict):
        self.category = {k: frozenset(v or ()) for k, v in (table.get("category") or {}).items()}
        self.title = {k: frozenset(v or ()) for k, v in (table.get("title") or {}).items()}
        # Single-character goods nouns (酒, 鞋, 包): only used to read compounds such as 茅台酒.
        self.head_nouns = {k: frozenset(v or ()) for k, v in (table.get("head_nouns") or {}).items()}
        # Longest keywords first so that 运动鞋 wins over 鞋.
        self._cat_keys = sorted(self.category, key=len, reverse=True)
        self._title_keys = sorted(self.title, key=len, reverse=True)

    def from_category(self, category: str) -> frozenset[int]:
        """Classes of the deepest recognised segment of a category path (运动户外/运动鞋 -> 25,
        not 25 and 28): the leaf names the goods, its parents only the department."""
        for seg in reversed(_SPLIT.split(category or "")):
            seg = seg.strip()
            if not seg:
                continue
            if seg in self.category:
                if self.category[seg]:
                    return self.category[seg]
                continue
            for k in self._cat_keys:
                if k in seg and self.category[k]:
                    return self.category[k]
        return frozenset()

    def from_title(self, title: str) -> frozenset[int]:
        out: set[int] = set()
        for k in self._title_keys:
            if k in title:
                out |= self.title[k]
        return frozenset(out)

    def classes(self, category: str, title: str) -> frozenset[int]:
        """Classes of the goods: the category's when it is known, else the title's."""
        c = self._category_cached(category or "")
        return c if c else self.from_title(title)

    @lru_cache(maxsize=4096)
    def _category_cached(self, category: str) -> frozenset[int]:
        return self.from_category(category)

    def goods_words(self) -> set[str]:
        """Every goods word the table knows (category and title keywords, head nouns)."""
        return set(self.category) | set(self.title) | set(self.head_nouns)

    def __hash__(self) -> int:
        return id(self)


@lru_cache(maxsize=4)
def load_goods_classifier(path: str | None = None) -> GoodsClassifier:
    p = Path(path) if path else DATA_TABLES_DIR / "goods_classes.yaml"
    return GoodsClassifier(yaml.safe_load(p.read_text(encoding="utf-8")) or {})
