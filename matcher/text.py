"""Text matcher for word marks: catches disguised marks (homophones, look-alikes, traditional
forms, inserted symbols, pinyin, leetspeak) without raising leads for indicative use, words that
merely contain the mark's characters, or the mark's ordinary meaning on unrelated goods.

How it works (see docs/matching-text.md):

1. At load, every registered form of every mark (text, aliases, generated toneless pinyin) is
   folded (matcher/variants.py) into keys over a haystack of three symbols per character
   (sound, visual, sound): whole-form keys, pair keys (one character kept, its neighbour by sound
   or look) and, for marks of three or more CJK characters, the two (n-1)-character halves (one
   character changed). All keys go into ONE Aho-Corasick automaton. Long Latin marks also get a
   single-deletion index (one letter added, dropped or changed).
2. Per text: one str.translate and one automaton pass find candidates in time linear in the text;
   the goods gate filters them before any verification.
3. Each surviving window is verified against the registered form character by character (same /
   look-alike / sound-alike / near-sound / glyph look-alike), checked to be a word of its own
   (jieba-based aligner, Latin letter boundaries) and read in context (cue words, X同款/平替/风,
   适用于 X, X牌, price).
4. Score 0-100 (60 is the default queue threshold) with zh-CN reasons and an English rendering
   in ``evidence['reasons_en']``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import ahocorasick
from rapidfuzz.distance import Levenshtein

from watchlist.model import Watchlist

from .goods import GoodsClassifier, GoodsInference, load_goods_classifier, registered_classes
from .normalize import fold
from .text_glyphs import look_alike_glyphs
from .text_rules import (STYLE_GENERIC, WordAligner, brand_after, find_cues, fold_around,
                         indicative_after, indicative_before, style_after, style_before)
from .types import Match, MatchContext, TextSource
from .variants import (_CONF, _T2S, FOLD0, TRI_RAW, VIS, CompiledMark, Form, compile_forms, is_cjk,
                       is_kana, look_alike_char, near_sound_char, pair_keys, sound_alike_char,
                       triples, vis)

# Base score of a hit by how the text relates to the registered mark (before context signals).
BASE = {
    "exact": 45,        # the mark itself: a lead only with another signal (exact-plain is ambiguous)
    "spaced": 68,       # 耐 克, N-I-K-E: inserted to dodge keyword filters
    "fullwidth": 68,    # ＮＩＫＥ
    "traditional": 66,  # 茅臺
    "accent": 64,       # Nestlé for NESTLE
    "confusable": 72,   # Cyrillic/Greek letters posing as Latin ones
    "pinyin": 64,       # maotai
    "lookalike": 70,    # 水久, 老甘妈, カ士, N1KE, GUCCl
    "homophone": 68,    # 耐客, 依利
    "nearsound": 63,    # 三鑫 for 三星: same sound up to fuzzy pinyin (xin/xing, zh/z, n/l)
    "fuzzy": 64,        # STARBUKS: one letter added, dropped or changed in a long Latin mark
    "similar": 40,      # one character of a 3+ character mark changed to an unrelated one
}
# Kinds that keep the mark's identity: the only ones protected across classes (well-known marks).
IDENTITY_KINDS = {"exact", "spaced", "fullwidth", "traditional", "accent", "confusable"}
MIN_OCR_CONFIDENCE = 0.4
FIELD_ZH = {"title": "标题", "description": "描述", "caption": "直播画面文字", "image": "图片文字"}
FIELD_EN = {"title": "title", "description": "description", "caption": "live caption", "image": "image text"}
KIND_ZH = {
    "exact": "相同", "spaced": "相同（字间插入空格或符号）", "fullwidth": "相同（全角字符）",
    "traditional": "相同（繁体写法）", "accent": "相同（加变音符号）", "confusable": "字形相同（混用外文字母）",
    "pinyin": "读音相同（拼音写法）", "lookalike": "字形相近", "homophone": "读音相同", "nearsound": "读音相近",
    "fuzzy": "拼写相近（相差一个字母）", "similar": "仅一字之差",
}
KIND_EN = {
    "exact": "is identical to", "spaced": "is identical (spaces/symbols inserted) to",
    "fullwidth": "is identical (full-width) to", "traditional": "is the traditional form of",
    "accent": "is identical (accents added) to", "confusable": "looks identical (foreign letters) to",
    "pinyin": "is the pinyin of", "lookalike": "looks like", "homophone": "sounds like",
    "nearsound": "sounds almost like",
    "fuzzy": "is spelled one letter off", "similar": "differs by one character from",
}
_LATIN_TOKEN = re.compile(r"[A-Za-z0-9@$|!]{5,}")


@dataclass(slots=True)
class Hit:
    cm: CompiledMark
    form: Form
    kind: str
    src: TextSource
    start: int            # raw offsets in src.text
    end: int
    matched: str
    subs: list = field(default_factory=list)  # (text char, mark char, 'look'|'sound'|'both')
    style: str | None = None
    style_pre: bool = False
    brand: str | None = None
    indicative: str | None = None

    @property
    def base(self) -> int:
        return BASE[self.kind]


def _is_wordchar_cjk(p: str) -> bool:
    return len(p) == 1 and (is_cjk(p) or is_kana(p))


class TextMatcher:
    def __init__(self, watchlist: Watchlist, goods: GoodsClassifier | None = None):
        self.goods = goods or load_goods_classifier()
        self.marks: list[CompiledMark] = []
        keys: dict[str, list[tuple]] = {}
        self.fuzzy: dict[str, list[tuple[int, int]]] = {}

        def add(key: str, entry: tuple) -> None:
            if key:
                keys.setdefault(key, []).append(entry)

        for ent, mark in watchlist.word_marks():
            forms = compile_forms([mark.text or "", *mark.aliases])
            if not forms:
                continue
            cm = CompiledMark(len(self.marks), mark, ent, forms, registered_classes(mark))
            cm.anywhere = bool(mark.well_known or not cm.classes)
            cm.lens = [len(f.k0) for f in forms]
            self.marks.append(cm)
            for fi, f in enumerate(forms):
                whole = triples(f.k0)
                add(whole, (cm.idx, fi, "v", len(f.k0)))
                if f.cjk:
                    for pk, k in pair_keys(f.k0):
                        add(pk, (cm.idx, fi, "s", k))
                    if len(f.k0) >= 3 and all(is_cjk(c) for c in f.k0):
                        # one character changed to an unrelated one: either half is intact
                        add(triples(f.k0[:-1]), (cm.idx, fi, "pre", len(f.k0) - 1))
                        add(triples(f.k0[1:]), (cm.idx, fi, "suf", len(f.k0) - 1))
                if f.latin and f.origin != "pinyin" and len(f.k0) >= 6:
                    k1 = vis(f.k0)
                    for d in {k1, *(k1[:i] + k1[i + 1:] for i in range(len(k1)))}:
                        self.fuzzy.setdefault(d, []).append((cm.idx, fi))
        lens = [len(k) for k in self.fuzzy] or [0]
        self.fuzzy_len = (max(5, min(lens)), max(lens) + 2)  # a token one letter longer than a form
        self.automaton = ahocorasick.Automaton()
        for k, v in keys.items():
            # payload entries carry what the goods gate needs, so no lookup happens per hit
            self.automaton.add_word(k, tuple(
                (mi, fi, kk, kl, self.marks[mi].lens[fi], self.marks[mi].anywhere, self.marks[mi].classes)
                for mi, fi, kk, kl in v))
        if keys:
            self.automaton.make_automaton()
        self.n_keys = len(keys)
        suffixes = self.goods.goods_words() | {"牌", "品牌", "同款", "平替", "风", "风格", "款", "系列",
                                                 "官方", "旗舰店", "正品", "专卖", "原装", "专柜"}
        self.aligner = WordAligner(suffixes)

    # --- candidates -----------------------------------------------------------------------------

    def _candidates(self, text: str):
        """Automaton hits over the raw text's haystack (three symbols per layer-0 character)."""
        if not self.n_keys:
            return ()
        return list(self.automaton.iter(text.translate(TRI_RAW)))

    def _fuzzy_tokens(self, text: str):
        lo, hi = self.fuzzy_len
        for m in _LATIN_TOKEN.finditer(text):
            if not lo <= m.end() - m.start() <= hi:
                continue
            tok = m.group(0).lower().translate(VIS)
            found = set()
            for d in {tok, *(tok[:i] + tok[i + 1:] for i in range(len(tok)))}:
                for entry in self.fuzzy.get(d, ()):
                    found.add(entry)
            for mi, fi in found:
                yield m.start(), m.end(), mi, fi

    # --- verification ---------------------------------------------------------------------------

    def _compare(self, form: Form, seg: str):
        """(kind, subs) when seg (layer 0) is a variant of the form, else None."""
        if seg == form.k0:
            return "same", []
        n = len(form.k0)
        if len(seg) != n or n < 2:
            return None
        changed = sum(1 for a, b in zip(seg, form.k0) if a != b)
        if changed > (max(1, n // 3) if form.latin else max(1, n // 2)) or changed == n:
            return None  # too many characters changed: no need to look at them one by one
        subs = []
        diffs = 0
        for a, b in zip(seg, form.k0):
            if a == b:
                continue
            la = look_alike_char(a, b)
            sa = form.cjk and sound_alike_char(a, b)
            if la or sa:
                subs.append((a, b, "both" if la and sa else "look" if la else "sound"))
            elif form.cjk and near_sound_char(a, b):
                subs.append((a, b, "near"))
            else:
                diffs += 1
                subs.append((a, b, "diff"))
        nsub = len(subs)
        if form.latin:
            if diffs or n < 4 or nsub > max(1, n // 3):
                return None
            return "lookalike", subs
        if not form.cjk or n - nsub < 1 or nsub > max(1, n // 2):
            return None
        if diffs == 0:
            looks = sum(1 for s in subs if s[2] in ("look", "both"))
            sounds = sum(1 for s in subs if s[2] in ("sound", "both", "near"))
            if looks and looks >= sounds:
                return "lookalike", subs
            return ("nearsound" if any(s[2] == "near" for s in subs) else "homophone"), subs
        if diffs == 1 and nsub == 1 and n >= 3 and all(is_cjk(c) for c in seg):
            return "similar", subs  # _verify may upgrade it to a glyph look-alike
        return None

    def _surface_kind(self, form: Form, raw: str) -> str:
        """For a layer-0 equal hit: how the raw text differs from the registered form."""
        if form.origin == "pinyin":
            return "pinyin"
        seps_raw = sum(1 for ch in raw if not FOLD0[ord(ch)])
        seps_form = sum(1 for ch in form.raw if not FOLD0[ord(ch)])
        kinds = []
        for ch in raw:
            if ch in _CONF.homoglyph:
                return "confusable"
            n = unicodedata.normalize("NFKC", ch)
            if n != ch:
                kinds.append("fullwidth")
            c = n.casefold()
            if any(is_cjk(x) for x in c) and _T2S.convert(c) != c:
                kinds.append("traditional")
            if c.isalpha() and unicodedata.normalize("NFKD", c) != c and not is_cjk(c[0]) and not is_kana(c[0]):
                kinds.append("accent")
        if kinds:
            # the registered form may itself be written that way
            if unicodedata.normalize("NFKC", form.raw) == form.raw or "fullwidth" not in kinds:
                for k in ("traditional", "fullwidth", "accent"):
                    if k in kinds and not self._form_has(form.raw, k):
                        return k
        if seps_raw > seps_form:
            return "spaced"
        return "exact"

    @staticmethod
    def _form_has(raw: str, kind: str) -> bool:
        for ch in raw:
            n = unicodedata.normalize("NFKC", ch)
            if kind == "fullwidth" and n != ch:
                return True
            c = n.casefold()
            if kind == "traditional" and is_cjk(c[:1] or "a") and _T2S.convert(c) != c:
                return True
            if kind == "accent" and unicodedata.normalize("NFKD", c) != c:
                return True
        return False

    def _aligned(self, parts: list[str], r0: int, r1: int) -> bool:
        """Is raw[r0:r1] a word of its own (not characters inside a longer word)?"""
        first, last = parts[r0], parts[r1 - 1]
        # Latin ends: no letter may continue the word (Santa is not ANTA, Redmi is not MI).
        if first and first[0].isascii() and first[0].isalpha():
            if r0 > 0 and parts[r0 - 1][-1:].isascii() and parts[r0 - 1][-1:].isalpha():
                return False
        if last and last[-1].isascii() and last[-1].isalpha():
            if r1 < len(parts) and parts[r1][:1].isascii() and parts[r1][:1].isalpha():
                return False
        cjk_first = _is_wordchar_cjk(first)
        cjk_last = _is_wordchar_cjk(last)
        if not (cjk_first or cjk_last):
            return True
        inner_gap = any(not parts[i] for i in range(r0, r1))
        if inner_gap or not all(_is_wordchar_cjk(parts[i]) for i in range(r0, r1)):
            # spaced / mixed: every CJK piece must be whole (耐 克 yes, 人格 力量 no)
            if cjk_first and r0 > 0 and _is_wordchar_cjk(parts[r0 - 1]):
                return False
            if cjk_last and r1 < len(parts) and _is_wordchar_cjk(parts[r1]):
                return False
            return True
        a = r0
        while a > 0 and _is_wordchar_cjk(parts[a - 1]):
            a -= 1
        b = r1
        while b < len(parts) and _is_wordchar_cjk(parts[b]):
            b += 1
        a, b = max(a, r0 - 12), min(b, r1 + 12)  # a long run only matters near the hit
        run = "".join(parts[a:b])
        return self.aligner.aligned(run, r0 - a, r1 - a)

    def _windows(self, cands, classes: frozenset[int]) -> set[tuple[int, int, int, int]]:
        """Candidate windows (mark, form, start, end in layer-0 positions) of marks that can match
        on these goods at all (the goods gate is applied before any verification)."""
        out: set[tuple[int, int, int, int]] = set()
        for end, payload in cands:
            k = end // 3   # the layer-0 character the key ends in
            for mi, fi, kk, klen, flen, anywhere, mclasses in payload:
                if not (anywhere or not classes or classes & mclasses):
                    continue
                if kk == "s":
                    ws = k - klen
                    we = ws + flen
                elif kk == "pre":
                    ws = k + 1 - klen
                    we = ws + flen
                elif kk == "suf":
                    ws, we = k + 1 - flen, k + 1
                else:
                    ws, we = k + 1 - klen, k + 1
                if ws < 0:
                    continue
                out.add((mi, fi, ws, we))
        return out

    def _verify(self, src: TextSource, windows, fuzzy, classes: frozenset[int] = frozenset()) -> list[Hit]:
        text = src.text
        k0 = text.translate(FOLD0)
        n0 = len(k0)
        parts: list[str] | None = None
        idx: list[int] = []
        hits: list[Hit] = []
        for mi, fi, ws, we in sorted(windows):
            if we > n0:
                continue
            cm = self.marks[mi]
            form = cm.forms[fi]
            res = self._compare(form, k0[ws:we])
            if res is None:
                continue
            kind, subs = res
            if parts is None:  # raw character -> layer-0 positions, only once something verified
                parts = [FOLD0[ord(ch)] for ch in text]
                for i, p in enumerate(parts):
                    idx.extend([i] * len(p))
            r0, r1 = idx[ws], idx[we - 1] + 1
            # the raw span must start and end on the hit (a char folding to 2 chars may straddle)
            if (ws > 0 and idx[ws - 1] == r0) or (we < n0 and idx[we] == r1 - 1):
                continue
            raw = text[r0:r1]
            if kind == "same":
                kind = self._surface_kind(form, raw)
            elif form.origin == "pinyin":
                kind = "pinyin"
            if kind in ("homophone", "nearsound", "lookalike", "similar") and form.cjk:
                # an ordinary dictionary word is not a disguised mark (unless it is the mark's)
                if self.aligner.word_freq(k0[ws:we]) >= 50:
                    continue
            if not self._aligned(parts, r0, r1):
                continue
            if kind == "similar" and look_alike_glyphs(subs[0][0], subs[0][1]):
                kind, subs = "lookalike", [(subs[0][0], subs[0][1], "glyph")]  # shapes look alike
            hits.append(self._context(cm, form, kind, src, r0, r1, raw, subs, k0, ws, we))
        for r0, r1, mi, fi in fuzzy:
            cm = self.marks[mi]
            if not (cm.anywhere or not classes or classes & cm.classes):
                continue
            if parts is None:
                parts = [FOLD0[ord(ch)] for ch in text]
            form = cm.forms[fi]
            tok = fold(text[r0:r1]).translate(VIS)
            if Levenshtein.distance(tok, vis(form.k0)) > 1:
                continue
            if any(h.cm is cm and h.start <= r0 < h.end for h in hits):
                continue
            if not self._aligned(parts, r0, r1):
                continue
            ws = sum(len(p) for p in parts[:r0])
            we = ws + sum(len(p) for p in parts[r0:r1])
            hits.append(self._context(cm, form, "fuzzy", src, r0, r1, text[r0:r1], [], k0, ws, we))
        return hits

    def _context(self, cm, form, kind, src, r0, r1, raw, subs, k0, ws, we) -> Hit:
        text = src.text
        before, after = fold_around(text, r0, r1)
        h = Hit(cm, form, kind, src, r0, r1, raw.strip(), subs)
        h.style = style_after(after)
        if h.style is None:
            h.style = style_before(before)
            h.style_pre = h.style is not None
        h.brand = brand_after(after)
        h.indicative = indicative_before(k0[:ws]) or indicative_after(k0[we:])
        return h

    # --- matching -------------------------------------------------------------------------------

    def _sources(self, ctx: MatchContext) -> list[TextSource]:
        out = []
        by_image: dict[str, list[TextSource]] = {}
        for s in ctx.texts:
            if not s.text:
                continue
            if s.field == "image":
                if s.confidence is not None and s.confidence < MIN_OCR_CONFIDENCE:
                    continue
                by_image.setdefault(s.image or "", []).append(s)
            out.append(s)
        # OCR splits words across boxes: also read each image's boxes joined in order.
        for img, boxes in by_image.items():
            if len(boxes) > 1:
                confs = [b.confidence for b in boxes if b.confidence is not None]
                out.append(TextSource("image", "".join(b.text for b in boxes), image=img or None,
                                      box=None, confidence=min(confs) if confs else None))
        return out

    def match(self, ctx: MatchContext) -> list[Match]:
        hits: list[Hit] = []
        gate = None  # the listing's classes and those of goods the notes call similar (once)
        for src in self._sources(ctx):
            cands = self._candidates(src.text)
            if cands and gate is None:
                gate = self._gate_classes(ctx)
            windows = self._windows(cands, gate) if cands else ()
            fuzzy = list(self._fuzzy_tokens(src.text)) if self.fuzzy else ()
            if not windows and not fuzzy:
                continue
            if gate is None:
                gate = self._gate_classes(ctx)
            hits.extend(self._verify(src, windows, fuzzy, gate))
        if not hits:
            return []
        return self._score(ctx, hits)

    def _gate_classes(self, ctx: MatchContext) -> frozenset[int]:
        """Classes a mark must be registered in to be judged on this listing at all: the goods'
        classes plus those of groups the 注 notes call similar (relation() decides afterwards)."""
        goods = self.goods.infer(ctx.listing.category, ctx.listing.title)
        return self.goods.related_classes(goods) if goods.classes == ctx.goods_classes else ctx.goods_classes

    def _score(self, ctx: MatchContext, hits: list[Hit]) -> list[Match]:
        listing = ctx.listing
        folded = [fold(s.text) for s in ctx.texts if s.text and not (
            s.field == "image" and s.confidence is not None and s.confidence < MIN_OCR_CONFIDENCE)]
        cues: list[str] = []
        for f in folded:
            for c in find_cues(f):
                if c not in cues:
                    cues.append(c)
        generic_style = next((w for w in STYLE_GENERIC if any(w in f for f in folded)), None)
        by_mark: dict[int, list[Hit]] = {}
        for h in hits:
            by_mark.setdefault(h.cm.idx, []).append(h)
        out = []
        for mi, hs in by_mark.items():
            m = self._score_mark(ctx, self.marks[mi], hs, cues, generic_style)
            if m is not None:
                out.append(m)
        return out

    def _score_mark(self, ctx, cm: CompiledMark, hs: list[Hit], cues, generic_style) -> Match | None:
        mark = cm.mark
        listing = ctx.listing
        classes = ctx.goods_classes
        goods = self.goods.infer(listing.category, listing.title)
        if goods.classes != classes:  # the caller decided the classes: judge by class only
            goods = GoodsInference(frozenset(), classes, 1.0, (), "context")
        goods_rel, rel_detail = self.goods.relation(mark.nice_classes, mark.similar_groups, goods)
        in_class = goods_rel in ("same", "similar") or not cm.classes
        unknown = goods_rel == "unknown"
        cross = goods_rel == "different"
        if cross:
            if not mark.well_known:
                return None
            hs = [h for h in hs if h.kind in IDENTITY_KINDS]
            if not hs:
                return None
        text_hits = [h for h in hs if h.src.field != "image"]
        image_only = not text_hits
        pool = text_hits or hs

        def rank(h: Hit):
            return (h.base + (25 if h.style else 0) + (35 if cross and h.brand else 0),
                    h.src.confidence or 1.0)

        best = max(pool, key=rank)
        indicative = next((h for h in hs if h.indicative), None)
        reasons: list[str] = []
        en: list[str] = []
        name = mark.text or best.form.raw
        alias = f"（{best.form.raw}）" if best.form.origin == "alias" else ""
        kind_zh = KIND_ZH[best.kind]
        detail = ""
        subs = [s for s in best.subs if s[2] != "diff"][:2]
        if best.kind in ("homophone", "nearsound", "lookalike") and subs and best.form.cjk:
            rel = {"sound": "同音", "look": "形近", "both": "音形皆近", "near": "音近", "glyph": "字形相似"}
            detail = "（" + "，".join(f"'{a}'与'{b}'{rel[k]}" for a, b, k in subs) + "）"
        if best.src.field == "image":
            conf = f"（置信度{best.src.confidence:.2f}）" if best.src.confidence is not None else ""
            reasons.append(f"图片文字'{best.matched}'{conf}与注册商标'{name}'{alias}{kind_zh}{detail}")
        else:
            reasons.append(f"{FIELD_ZH.get(best.src.field, best.src.field)}含'{best.matched}'，"
                           f"与注册商标'{name}'{alias}{kind_zh}{detail}")
        en.append(f"{FIELD_EN.get(best.src.field, best.src.field)} '{best.matched}' {KIND_EN[best.kind]} "
                  f"the registered mark '{name}'")
        score = best.base
        leaf = (re.split(r"\s*(?:/|>|＞|»|\\|\||,|，)\s*", listing.category or "")[-1] or "商品").strip()
        weak_unknown = False
        if goods_rel == "same" and cm.classes:
            if len(rel_detail) == 4:
                reasons.append(f"商品'{'、'.join(goods.words)}'属类似群{rel_detail}，与注册商品同群")
                en.append(f"goods '{', '.join(goods.words)}' are in 类似群 {rel_detail}, the mark's group")
            else:
                common = sorted(classes & registered_classes(mark))
                reasons.append(f"类别{leaf}属第{'、'.join(map(str, common))}类")
                en.append(f"category {leaf} is in Nice class {', '.join(map(str, common))}")
        elif goods_rel == "similar":
            score -= 8
            reasons.append(f"商品属类似商品（类似群{rel_detail}，依《类似商品和服务区分表》）")
            en.append(f"similar goods (类似群 {rel_detail}, per the CNIPA similar goods table)")
        elif unknown and cm.classes:
            score -= 5
            reasons.append("商品类别未能识别")
            en.append("goods class unknown")
            # a sound/look-alike of a short mark on unknown goods is not a lead by itself
            weak_unknown = best.kind not in IDENTITY_KINDS and len(best.form.k0) <= (2 if best.form.cjk else 4)
        weak_score = score  # every other signal (brand use, cues, phrasing, price) adds to this
        if (in_class or unknown) and best.brand and best.kind in IDENTITY_KINDS:
            score += 20
            reasons.append(f"以'{best.matched}{best.brand}'作为商品品牌标注")
            en.append(f"marked as the goods' brand ('{best.matched}{best.brand}')")
        if cross:
            score = 30
            reasons.append(f"'{name}'为驰名商标，跨类保护（商品属第{'、'.join(map(str, sorted(classes)))}类）")
            en.append("well-known mark, protected across classes")
            if best.brand:
                score += 35
                reasons.append(f"以'{best.matched}{best.brand}'作为商品品牌使用")
                en.append(f"used as the goods' brand ('{best.matched}{best.brand}')")
        if cues:
            score += 30 + 5 * min(1, len(cues) - 1)
            reasons.append("含" + "、".join(f"'{c}'" for c in cues[:3]))
            en.append("counterfeit cue words: " + ", ".join(cues[:3]))
        style_hit = next((h for h in pool if h.style), None)
        if style_hit:
            score += 25
            phrase = (style_hit.style + style_hit.matched) if style_hit.style_pre else (style_hit.matched + style_hit.style)
            reasons.append(f"使用'{phrase}'字样，借商标推销仿品")
            en.append(f"look-alike phrasing '{phrase}'")
        elif generic_style:
            score += 10
            reasons.append(f"含'{generic_style}'")
            en.append(f"look-alike phrasing '{generic_style}'")
        ref = getattr(mark, "reference_price", None)
        if ref and listing.price is not None and listing.price > 0:
            ratio = listing.price / ref
            if ratio <= 0.4:
                score += 25
            elif ratio <= 0.6:
                score += 10
            if ratio <= 0.6:
                reasons.append(f"售价¥{listing.price:g}仅为参考价¥{ref:g}的{ratio * 100:.0f}%")
                en.append(f"price {listing.price:g} is {ratio * 100:.0f}% of the reference price {ref:g}")
        weak_alone = weak_unknown and score <= weak_score
        if image_only:
            score += 20
            reasons.append("商标仅出现在图片中，标题未写明")
            en.append("the mark appears only in the images, not in the title")
            if best.src.confidence is not None:
                score *= min(1.0, 0.55 + 0.5 * best.src.confidence)
        if weak_alone:
            score = min(score, 45)
            reasons.append("商品未能识别且仅为音近/形近，证据不足")
            en.append("goods unknown and only a sound/look-alike: not enough on its own")
        if indicative:
            score = min(score, 30)
            reasons.append(f"'{indicative.indicative}'表明为配件说明用途（指示性使用）")
            en.append(f"indicative use ('{indicative.indicative}')")
        score = int(round(max(0, min(100, score))))
        ev = {"field": best.src.field, "matched_text": best.matched, "kind": best.kind,
              "form": best.form.raw, "form_origin": best.form.origin,
              "goods_classes": sorted(classes), "mark_classes": sorted(registered_classes(mark)),
              "goods": {"relation": goods_rel, "groups": sorted(goods.groups), "words": list(goods.words),
                        "confidence": goods.confidence, "source": goods.source},
              "cues": cues, "reasons_en": en}
        if best.src.field == "image":
            ev.update(image=best.src.image, box=best.src.box, confidence=best.src.confidence)
        else:
            ev["span"] = [best.start, best.end]
        if best.subs:
            ev["substitutions"] = [list(s) for s in best.subs]
        if best.style:
            ev["style"] = best.style
        if indicative:
            ev["indicative"] = indicative.indicative
        return Match(listing.listing_id, listing.platform, mark.id, "word", score, reasons, ev)
