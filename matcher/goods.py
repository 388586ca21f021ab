"""Goods of a listing, judged the way CNIPA judges them: by the 类似商品和服务区分表.

Data (shipped, nothing read at run time from elsewhere):

- ``config/data/similar_goods.json``: the CNIPA 类似商品和服务区分表, NCL 12th edition, built by
  ``config/data/similar_goods_build.py`` (45 classes, 492 类似群 groups, ~12,000 goods items with
  codes, and the 注 notes as relations between groups).
- ``config/data/goods_vocab.yaml``: the marketplace vocabulary layer (Taobao/JD/Tmall category
  words, English goods words) with its sources in its header.

Inference (:meth:`GoodsClassifier.infer`) reads the category path first (deepest segment that names
goods wins; a brand/model tail such as ``艾美特FSW52R`` is skipped), then the title when the path
decides nothing. Words inside a compatibility phrase (适用于华为, 苹果安卓通用, compatible with
iPhone) never set the goods. The result carries the 类似群 groups, the Nice classes, a confidence
and the words that decided it; ``unknown`` when nothing matched.

Relation (:meth:`GoodsClassifier.relation`) of a mark's registered goods (``nice_classes`` and/or
``similar_groups``) to the inferred goods: ``same`` (same group, or same class for a mark
registered by class), ``similar`` (a group the 注 notes call similar or cross-searched; a score
signal, not a gate), ``different`` or ``unknown``. Well-known marks (驰名商标) are the caller's
business: the relation is about goods only.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from config.settings import DATA_TABLES_DIR

_SPLIT = re.compile(r"\s*(?:/|>|＞|»|\\|\||,|，|›)\s*")
# A brand/model tail of a category path: optional CJK brand, then a model code with a digit
# (艾美特FSW52R, 美的 MB-FB40, Air Max 90, iPhone 15 Pro).
_MODEL = re.compile(r"^[\u4e00-\u9fff]{0,8}\s*[A-Za-z][A-Za-z0-9 .+\-]*\d[A-Za-z0-9 .+\-]*$"
                    r"|^[\u4e00-\u9fff]{0,8}\s*\d+[A-Za-z][A-Za-z0-9.+\-]*$")
# Compatibility / indicative phrases: the words they govern name another product, not the goods.
_COMPAT_ZH = re.compile(
    r"(?:适用于?|适配于?|兼容于?|专用于|用于|配套于?|支持)\s*[\u4e00-\u9fffA-Za-z0-9+\-]{1,12}(?:\s[A-Za-z0-9+\-]{1,8})?"
    r"|[\u4e00-\u9fffA-Za-z0-9+\-]{1,10}(?:通用|专用|适用|兼容)")
_COMPAT_EN = re.compile(
    r"\b(?:compatible with|for use with|fits|fit for|replacement for|designed for|works with|for)\s+"
    r"((?:[A-Za-z0-9+\-]+\s*){1,3})", re.I)
_COMPAT_HINT = re.compile(r"适|兼容|用于|配套|支持|通用|专用|\b(?:for|fits?|compatible|works)\b", re.I)
# One-character goods nouns that make the word before them a qualifier (手机包 is a bag, 茶杯 a
# cup), except in common words they start (包邮 = free shipping).
_COMPOUND_HEADS = frozenset("包鞋衣裤帽袜杯锅灯")
_NOT_HEAD = frozenset({"包邮", "包装", "包括", "包含", "包退", "包换", "包送", "包真", "包正", "包年",
                       "衣服", "裤子"})
# Words after the goods in a category leaf that name a set or its parts, not other goods.
_SET_TAIL = re.compile(r"(?:及|与|和)?(?:套装|套件|组合|礼盒|系列|用品|配件|附件|零件|类)$")
_LATIN_WORD = re.compile(r"[a-z][a-z\-']*[a-z]|[a-z]")
_CJK = re.compile(r"[\u4e00-\u9fff]")

# Confidence by where the goods were read.
CONF_CATEGORY_LEAF = 0.95      # the leaf segment names the goods exactly
CONF_CATEGORY_SUFFIX = 0.85    # the leaf ends with a goods word (女士连衣裙)
CONF_CATEGORY_PARENT_STEP = 0.1  # each level above the leaf
CONF_DEPARTMENT = 0.5          # only a department word (家用电器): class, no group
CONF_TITLE = 0.6               # read from the title
CONF_TITLE_CLASS_ONLY = 0.4
# Only the head of a long text is read for goods (marketplace titles are at most 60 characters;
# second-hand "titles" run on into descriptions), which keeps the cost per title bounded.
TITLE_CHARS = 80


@dataclass(frozen=True, slots=True)
class GoodsInference:
    """Goods of one listing.

    groups: 类似群 codes ('2507'); empty when only the class is known (a department word).
    classes: Nice classes (1-45); empty means unknown goods.
    confidence: 0-1 (see CONF_* above).
    words: the words that decided (a category segment's goods word, or title words).
    source: 'category' | 'title' | 'none'.
    items: names of the table's goods items matched (used for item-specific 注 relations).
    """
    groups: frozenset[str]
    classes: frozenset[int]
    confidence: float
    words: tuple[str, ...]
    source: str
    items: tuple[str, ...] = ()

    @property
    def unknown(self) -> bool:
        return not self.classes


UNKNOWN = GoodsInference(frozenset(), frozenset(), 0.0, (), "none")


def _strip_paren(name: str) -> str:
    return re.sub(r"[（(][^)）]*[)）]", "", name).strip()


def _en_forms(word: str) -> tuple[str, ...]:
    """Lower-case English word and its possible singulars (batteries -> battery, knives -> knife,
    dresses -> dress, briefcases -> briefcase, shoes -> shoe); the caller keeps the first form
    its vocabulary knows."""
    w = word.lower()
    out = [w]
    if len(w) > 3 and w.endswith("ies"):
        out.append(w[:-3] + "y")
    if len(w) > 3 and w.endswith("ves"):
        out += [w[:-3] + "fe", w[:-3] + "f"]
    if len(w) > 3 and w.endswith("es"):
        out.append(w[:-2])
    if len(w) > 2 and w.endswith("s") and not w.endswith("ss"):
        out.append(w[:-1])
    return tuple(out)


class GoodsClassifier:
    """Infers goods from category paths and titles; relates them to a mark's registered goods.

    ``table``: the marketplace vocabulary (goods_vocab.yaml shape: category/title/english/
    not_goods/head_nouns); ``similar``: the parsed 区分表 (similar_goods.json shape), or None for a
    vocabulary-only classifier (tests).
    """

    def __init__(self, table: dict, similar: dict | None = None):
        similar = similar or {}
        self.groups: dict[str, dict] = similar.get("groups") or {}
        self.class_names: dict[int, str] = {int(k): v for k, v in (similar.get("classes") or {}).items()}
        self.category = {k: self._targets(v) for k, v in (table.get("category") or {}).items()}
        self.title = {k: self._targets(v) for k, v in (table.get("title") or {}).items()}
        self.english = {k.lower(): self._targets(v) for k, v in (table.get("english") or {}).items()}
        self.head_nouns = {k: frozenset(int(c) for c in (v or ())) for k, v in (table.get("head_nouns") or {}).items()}
        self.not_goods = set(table.get("not_goods") or ())
        # Goods items of the table by name (and by name without its parenthesised qualifier).
        self.items: dict[str, frozenset[str]] = {}
        for name, _code, group, *_ in similar.get("items") or ():
            if int(group[:2]) >= 35:
                continue  # services: listings sell goods; 教育, 美容服务 in a path are not the goods
            for n in {name, _strip_paren(name)}:
                if len(n) >= 2 and _CJK.search(n):
                    self.items[n] = self.items.get(n, frozenset()) | {group}
        self._cat_keys = sorted(self.category, key=len, reverse=True)
        self._en_max = max((k.count(" ") + 1 for k in self.english), default=1)
        # Title words (vocabulary title and category words, item names), probed by their first two
        # characters and lengths (cheaper than an automaton with thousands of root branches).
        words: dict[str, tuple[frozenset[str], frozenset[int], bool]] = {}
        for n, groups in self.items.items():
            if n not in self.not_goods and len(n) <= 12:
                words[n] = (groups, self._classes_of(groups), False)
        for src in (self.category, self.title):
            for k, (g, c) in src.items():
                if len(k) >= 2 and k not in self.not_goods:
                    words[k] = (g, c, True)
        self._words = words
        lens: dict[str, set[int]] = {}
        for k in words:
            lens.setdefault(k[:2], set()).add(len(k))
        self._prefix_lens = {k: tuple(sorted(v)) for k, v in lens.items()}
        self._first_chars = re.compile("[%s]" % "".join(sorted({re.escape(k[0]) for k in words})) if words else "(?!)")
        self._similar = self._similar_index(similar)

    # --- data ------------------------------------------------------------------------------------

    def _targets(self, v) -> tuple[frozenset[str], frozenset[int]]:
        """A vocabulary value (['2507'] groups or [25] classes) -> (groups, classes)."""
        groups = frozenset(str(x) for x in (v or ()) if isinstance(x, str))
        classes = frozenset(int(x) for x in (v or ()) if isinstance(x, int)) | self._classes_of(groups)
        return groups, classes

    def _classes_of(self, groups) -> frozenset[int]:
        return frozenset(int(g[:2]) for g in groups)

    @staticmethod
    def _similar_index(similar: dict) -> dict[str, list[tuple[str, tuple[str, ...], tuple[str, ...]]]]:
        """group -> [(other group, items on this side, items on the other side)], both directions,
        from the 注 notes (类似 and 交叉检索 with a current group) and 跨类似群保护 items."""
        idx: dict[str, list] = {}
        for r in similar.get("relations") or ():
            if r["kind"] not in ("similar", "cross_search") or r["from"] == r["to"]:
                continue
            a, b = r["from"], r["to"]
            fa, fb = tuple(r.get("from_items") or ()), tuple(r.get("to_items") or ())
            idx.setdefault(a, []).append((b, fa, fb))
            idx.setdefault(b, []).append((a, fb, fa))
        for name, groups in (similar.get("cross_group_items") or {}).items():
            for a in groups:
                for b in groups:
                    if a != b:
                        idx.setdefault(a, []).append((b, (name,), (name,)))
        return idx

    # --- inference -------------------------------------------------------------------------------

    def _segment(self, seg: str, leaf: bool = True) -> tuple[frozenset[str], frozenset[int], str, float,
                                                             tuple[str, ...]] | None:
        """Goods named by one category segment: (groups, classes, word, confidence, items).
        Above the leaf, a department word only counts when it is the whole segment (阳台户外 is
        not 户外 goods)."""
        if seg in self.category:
            g, c = self.category[seg]
            return g, c, seg, CONF_CATEGORY_LEAF if g else CONF_DEPARTMENT, (seg,) if seg in self.items else ()
        if seg in self.items and seg not in self.not_goods:
            g = self.items[seg]
            return g, self._classes_of(g), seg, CONF_CATEGORY_LEAF, (seg,)
        low = seg.lower()
        if not _CJK.search(seg) and re.search(r"[a-z]", low):
            hit = self._english(low)
            if hit:
                g, c, w = hit
                return g, c, w, CONF_CATEGORY_LEAF if g else CONF_DEPARTMENT, ()
            return None
        # head-final compounds: 女士连衣裙 is 连衣裙, 水果刀 is not 水果
        best = None
        for k in self._cat_keys:
            if len(k) >= 2 and seg.endswith(k) and (leaf or self.category[k][0]):
                g, c = self.category[k]
                best = (g, c, k, CONF_CATEGORY_SUFFIX if g else CONF_DEPARTMENT, ())
                break
        for n in range(len(seg) - 1, 1, -1):
            tail = seg[-n:]
            if tail in self.items and tail not in self.not_goods:
                if best is None or len(tail) > len(best[2]):
                    g = self.items[tail]
                    best = (g, self._classes_of(g), tail, CONF_CATEGORY_SUFFIX, (tail,))
                break
        return best

    def _english(self, text: str) -> tuple[frozenset[str], frozenset[int], str] | None:
        """Goods named by English text: the last goods word or phrase (English noun phrases are
        head-final: 'running shoes', 'shoe bag' is a bag). Longer phrases win at a position;
        plural forms are read as their singular."""
        toks = [_en_forms(w) for w in _LATIN_WORD.findall(text.lower())]
        found = None
        i = 0
        while i < len(toks):
            for n in range(min(self._en_max, len(toks) - i), 0, -1):
                head = " ".join(t[0] for t in toks[i:i + n - 1])
                hit = None
                for form in toks[i + n - 1]:
                    k = f"{head} {form}" if head else form
                    if k in self.english:
                        hit = k
                        break
                if hit:
                    found = (*self.english[hit], hit)
                    i += n - 1
                    break
            i += 1
        return found

    def _from_segments(self, segs: list[str]) -> GoodsInference:
        depth = 0
        leaf = True
        for seg in reversed(segs):
            if _MODEL.match(seg):
                continue  # brand/model tail (艾美特FSW52R) names no goods
            hit = self._segment(seg, leaf)
            if (hit is None or not hit[1]) and leaf and _CJK.search(seg):
                # the leaf names goods before a set/parts word (刀具套装, 座椅及附件); any other
                # word inside a compound only qualifies its head (面膜碗 is a bowl, not a mask)
                m = _SET_TAIL.search(seg)
                t = self.from_text(seg[:m.start()]) if m and m.start() >= 2 else UNKNOWN
                if not t.unknown:
                    hit = (t.groups, t.classes, t.words[0], CONF_CATEGORY_SUFFIX - 0.1, t.items)
            leaf = False
            if hit and hit[1]:
                g, c, word, conf, items = hit
                conf = max(0.3, conf - CONF_CATEGORY_PARENT_STEP * depth)
                return GoodsInference(g, c, round(conf, 2), (word,), "category", items)
            depth += 1
        return UNKNOWN

    def from_path(self, category: str) -> GoodsInference:
        """Goods of a category path ('家用电器/生活电器/电风扇/艾美特FSW52R'), cached per path."""
        return self._path_cached(category or "")

    @lru_cache(maxsize=8192)
    def _path_cached(self, category: str) -> GoodsInference:
        segs = [s.strip() for s in _SPLIT.split(category) if s.strip()]
        return self._from_segments(segs)

    @staticmethod
    def _compat_spans(title: str) -> list[tuple[int, int]]:
        if not _COMPAT_HINT.search(title):
            return []
        spans = [m.span() for m in _COMPAT_ZH.finditer(title)]
        spans += [m.span(1) for m in _COMPAT_EN.finditer(title)]
        return spans

    def from_text(self, title: str) -> GoodsInference:
        """Goods named in a title (or any product text). The longest goods word wins; among
        equally long ones a vocabulary word over a table item, then the last (Chinese goods nouns
        come last: 小米手环 is a 手环). A word followed by a one-character goods noun qualifies
        it (手机包 is a bag); a word followed by 色 is a colour (糖果色). Words in a
        compatibility phrase are ignored."""
        if not title:
            return UNKNOWN
        title = title[:TITLE_CHARS]
        whole = title.strip()
        if whole in self.items or whole in self.category:
            # the text is a goods name itself (a GI's product 苹果): read it even when it is a
            # word titles use as a brand
            g = self.items.get(whole)
            if whole in self.category:
                g, c = self.category[whole]
            else:
                c = self._classes_of(g)
            return GoodsInference(g, c, CONF_TITLE, (whole,), "title", (whole,) if whole in self.items else ())
        spans = self._compat_spans(title)

        def free(a: int, b: int) -> bool:  # the word overlaps no compatibility phrase
            return not any(s < b and a < e for s, e in spans)

        best = None   # ((length, is vocabulary, end), word, groups, classes, is vocabulary)
        words, prefix_lens = self._words, self._prefix_lens
        for m in self._first_chars.finditer(title):
            a = m.start()
            for n in prefix_lens.get(title[a:a + 2], ()):
                hit = words.get(title[a:a + n])
                if hit and (not spans or free(a, a + n)):
                    nxt = title[a + n:a + n + 1]
                    if nxt == "色":
                        continue  # 糖果色, 酒红色: a colour, not the goods
                    if nxt in _COMPOUND_HEADS and nxt in self.head_nouns \
                            and title[a + n:a + n + 2] not in _NOT_HEAD and nxt not in title[a:a + n]:
                        # 手机包, 枕头包: the word only qualifies the next noun (a bag)
                        hit = (frozenset(), self.head_nouns[nxt], True)
                        n += 1
                    key = (n, hit[2], a + n)
                    if best is None or key > best[0]:
                        best = (key, title[a:a + n], *hit)
        if best is None:
            # English title words (outside compatibility phrases)
            text = title
            for s, e in sorted(spans, reverse=True):
                text = text[:s] + " " + text[e:]
            hit = self._english(text)
            if hit and hit[1]:
                g, c, w = hit
                return GoodsInference(g, c, CONF_TITLE if g else CONF_TITLE_CLASS_ONLY, (w,), "title")
            return UNKNOWN
        _, w, g, c, _vocab = best
        return GoodsInference(g, c, CONF_TITLE if g else CONF_TITLE_CLASS_ONLY, (w,), "title",
                              (w,) if w in self.items else ())

    def infer(self, category: str, title: str) -> GoodsInference:
        """Goods of a listing: the category path's when it names goods, else the title's.
        The last few listings are cached (the engine and the text matcher ask for the same one)."""
        g = self.from_path(category)
        return g if not g.unknown else self._title_cached(title or "")

    @lru_cache(maxsize=256)
    def _title_cached(self, title: str) -> GoodsInference:
        return self.from_text(title)

    # --- compatibility API (Nice classes only) ---------------------------------------------------

    def classes(self, category: str, title: str) -> frozenset[int]:
        """Nice classes of the goods (empty = unknown): ``infer(category, title).classes``."""
        return self.infer(category, title).classes

    def from_category(self, category: str) -> frozenset[int]:
        """Nice classes of a category path or segment (empty = unknown)."""
        return self.from_path(category).classes

    def from_title(self, title: str) -> frozenset[int]:
        """Nice classes of the goods a title names (empty = unknown)."""
        return self.from_text(title).classes

    def goods_words(self) -> set[str]:
        """Marketplace goods words (vocabulary and head nouns), for reading 'mark + goods' compounds."""
        return set(self.category) | set(self.title) | set(self.head_nouns)

    # --- relation --------------------------------------------------------------------------------

    @lru_cache(maxsize=8192)
    def related_classes(self, goods: GoodsInference) -> frozenset[int]:
        """Classes of the goods and of the groups the 注 notes call similar to them (for the
        inferred items): a mark registered in none of these can only be 'different' (or the
        goods 'unknown', when this is empty). The listing-side pre-gate; cached per inference."""
        out = set(goods.classes)
        for g in goods.groups:
            out.update(int(s[:2]) for s in self.similar_groups_of(g, goods.items))
        return frozenset(out)

    def similar_groups_of(self, group: str, items: tuple[str, ...] = ()) -> set[str]:
        """Groups the 注 notes call similar to ``group``: group-wide notes always, item-specific
        notes (内裤 与0506月经内裤类似) only when one of ``items`` (goods items of the listing) is
        named on this side."""
        out = set()
        for other, mine, _theirs in self._similar.get(group, ()):
            if not mine or any(i in mine for i in items):
                out.add(other)
        return out

    def relation(self, nice_classes, similar_groups, goods: GoodsInference) -> tuple[str, str]:
        """Relation of a mark's registered goods to a listing's goods, with the deciding detail.

        nice_classes: classes the mark is registered in (may be empty).
        similar_groups: 类似群 codes the mark is registered in (may be empty).
        Returns (relation, detail): relation in 'same' | 'similar' | 'different' | 'unknown';
        detail is the group or class shared ('2507', '25'), or 'A~B' for similar groups.
        A mark with neither classes nor groups is protected on all goods: 'same' (or 'unknown').
        Source: CNIPA 类似商品和服务区分表 (same 类似群 = similar goods; 注 notes for cross-group
        similarity); a mark registered by class covers every group of the class.
        """
        if goods.unknown:
            return "unknown", ""
        mgroups = set(similar_groups or ())
        mclasses = set(int(c) for c in nice_classes or ())
        if not mgroups and not mclasses:
            return "same", ""
        shared = sorted(goods.groups & mgroups)
        if shared:
            return "same", shared[0]
        common = sorted(goods.classes & mclasses)
        if common:
            return "same", str(common[0])
        for g in sorted(goods.groups):
            sim = self.similar_groups_of(g, goods.items)
            hit = sorted(s for s in sim if s in mgroups or int(s[:2]) in mclasses)
            if hit:
                return "similar", f"{g}~{hit[0]}"
        if not goods.groups:
            # only the class is known (a department word): a group of the mark in that class may
            # be the goods or not
            cls = sorted(c for c in goods.classes if c in self._classes_of(mgroups))
            if cls:
                return "similar", str(cls[0])
        return "different", ""

    def __hash__(self) -> int:
        return id(self)


def registered_classes(mark) -> frozenset[int]:
    """Nice classes a watchlist mark is registered in: its ``nice_classes`` and the classes of its
    ``similar_groups`` ('2507' -> 25). For class-level gates (logos, OCR policy)."""
    return frozenset(mark.nice_classes or ()) | frozenset(int(g[:2]) for g in getattr(mark, "similar_groups", ()) or ())


@lru_cache(maxsize=4)
def load_goods_classifier(path: str | None = None, similar_path: str | None = None) -> GoodsClassifier:
    """The classifier over the shipped vocabulary and 区分表 (or the given files), cached.
    Raises FileNotFoundError naming the table when similar_goods.json is missing."""
    p = Path(path) if path else DATA_TABLES_DIR / "goods_vocab.yaml"
    s = Path(similar_path) if similar_path else DATA_TABLES_DIR / "similar_goods.json"
    table = yaml.load(p.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    similar = json.loads(s.read_text(encoding="utf-8")) if s.exists() else None
    if similar is None:
        raise FileNotFoundError(f"{s}: the similar-goods table is missing; build it with "
                                "config/data/similar_goods_build.py")
    return GoodsClassifier(table, similar)
