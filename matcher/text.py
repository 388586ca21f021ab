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
from .normalize import fold, t2s
from .reasons import BASE_SCORES, PRICE_LOW_RATIO, PRICE_LOWISH_RATIO, WEIGHTS, reason, render_all
from .text_glyphs import look_alike_glyphs
from .text_rules import (NICKNAME_RE, STYLE_GENERIC, WordAligner, abuse_after, abuse_before, brand_after,
                         accessory_word, find_cue_hits, fold_around, indicative_after, indicative_before, indicative_lists,
                         indicative_before_en, style_after, style_before)
from .types import Match, MatchContext, TextSource
from .variants import (_CONF, _T2S, FOLD0, TRI_RAW, VIS, CompiledMark, Form, compile_forms, is_cjk,
                       is_kana, look_alike_char, pair_keys, sounds_as_mark_char,
                       triples, vis)

# Base scores by kind and the signal weights live in ONE table: matcher/reasons.py
BASE = BASE_SCORES
# Kinds that are evidence of a disguise but weak for a short mark (two CJK characters or four
# Latin letters): on unknown goods they are not a lead by themselves (issue 11).
WEAK_KINDS = {"homophone", "nearsound", "lookalike", "similar", "fuzzy", "pinyin", "folded"}


def _over_fold_chars() -> frozenset[str]:
    """Characters OpenCC t2s changes although they are standard simplified characters themselves
    (GB 2312 encodes them): 乾 (乾坤, 乾县) → 干, 於 → 于, 後 → 后, 麽 → 么 ... A text that
    differs from the mark only there is not "identical" to it."""
    out = set()
    for cp in range(0x4E00, 0x9FA6):
        c = chr(cp)
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            continue
        if t2s(c) != c:
            out.add(c)
    return frozenset(out)


OVER_FOLD = _over_fold_chars()
def _english_words() -> frozenset[str]:
    """Ordinary English words (config/data/english_words.txt, SCOWL via Debian wamerican)."""
    from config.settings import DATA_TABLES_DIR

    p = DATA_TABLES_DIR / "english_words.txt"
    return frozenset(w for w in p.read_text(encoding="utf-8").split("\n") if w and not w.startswith("#"))


ENGLISH_WORDS = _english_words()
# A sound- or look-alike that is itself a jieba dictionary word this frequent is an ordinary word,
# not a disguised mark (美德 for 美的, 骑行, 实木).
ORDINARY_WORD_FREQ = 50
# Kinds that keep the mark's identity: the only ones protected across classes (well-known marks).
IDENTITY_KINDS = {"exact", "spaced", "fullwidth", "traditional", "accent", "confusable"}
MIN_OCR_CONFIDENCE = 0.4
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
    abuse: tuple[str, str] | None = None   # (phrase, pattern) of keyword abuse at the hit

    @property
    def base(self) -> int:
        return BASE[self.kind]


def _is_wordchar_cjk(p: str) -> bool:
    return len(p) == 1 and (is_cjk(p) or is_kana(p))


class TextMatcher:
    def __init__(self, watchlist: Watchlist, goods: GoodsClassifier | None = None, language: str = "zh-CN"):
        self.goods = goods or load_goods_classifier()
        self.language = language
        self.rates, self.rates_date = load_rates()
        self.nicknames: dict[str, list[int]] = {}
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
            if cm.classes:  # initials for "b家" nicknames, from the registered Latin spellings
                inits = set()
                for f in forms:
                    if f.origin != "pinyin" and f.raw[:1].isascii() and f.raw[:1].isalpha():
                        words = [w for w in re.split(r"[^A-Za-z]+", f.raw) if w]
                        inits.add(words[0][0].lower())
                        if len(words) > 1:
                            inits.add("".join(w[0] for w in words[:2]).lower())
                for i in inits:
                    self.nicknames.setdefault(i, []).append(cm.idx)
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

    # --- disk cache (matcher/compiled_cache.py) ---------------------------------------------------

    _SHARED = ("goods", "aligner")  # rebuilt on restore: the process's goods tables and jieba

    def state(self) -> dict:
        """Everything compiled from the watchlist (marks, keys automaton, fuzzy index, nicknames,
        rates), without the goods classifier and the jieba word aligner, for pickling."""
        return {k: v for k, v in self.__dict__.items() if k not in self._SHARED} | {
            "aligner_suffixes": self.aligner.suffixes}

    @classmethod
    def restore(cls, state: dict, goods: GoodsClassifier, language: str = "zh-CN") -> "TextMatcher":
        """A matcher from :meth:`state` of one built with the same watchlist and code."""
        tm = cls.__new__(cls)
        st = dict(state)
        suffixes = st.pop("aligner_suffixes")
        tm.__dict__.update(st)
        tm.goods, tm.language = goods, language
        tm.aligner = WordAligner(suffixes)
        return tm

    # --- candidates -----------------------------------------------------------------------------

    def _candidates(self, text: str):
        """Automaton hits over the raw text's haystack (three symbols per layer-0 character)."""
        if not self.n_keys:
            return ()
        return list(self.automaton.iter(text.translate(TRI_RAW)))

    def _fuzzy_tokens(self, text: str):
        lo, hi = self.fuzzy_len
        for m in _LATIN_TOKEN.finditer(text):
            a, b = m.start(), m.end()
            # a symbol stands for a letter only between letters: '!xiaomi' is not 'ixiaomi'
            while a < b and not text[a].isalnum():
                a += 1
            while b > a and not text[b - 1].isalnum():
                b -= 1
            if not lo <= b - a <= hi:
                continue
            tok = text[a:b].lower().translate(VIS)
            found = set()
            for d in {tok, *(tok[:i] + tok[i + 1:] for i in range(len(tok)))}:
                for entry in self.fuzzy.get(d, ()):
                    found.add(entry)
            for mi, fi in found:
                yield a, b, mi, fi

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
            sa = form.cjk and sounds_as_mark_char(a, b)
            if la or sa:
                subs.append((a, b, "both" if la and sa else "look" if la else "sound"))
            elif form.cjk and sounds_as_mark_char(a, b, near=True):
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

    def _glued_after(self, parts: list[str], r1: int) -> bool:
        """Is the character after a short mark's sound-/look-alike glued to it, i.e. a lone
        character that forms no word with what follows (格列|喹酮, 利宁|格, 万威|客)? Then the
        hit is the start of a longer name, not the mark. Goods nouns and phrasing (耐客|鞋,
        依利|奶) are fine."""
        if r1 >= len(parts) or not _is_wordchar_cjk(parts[r1]):
            return False
        b = r1
        while b < len(parts) and b < r1 + 6 and _is_wordchar_cjk(parts[b]):
            b += 1
        nxt = "".join(parts[r1:b])
        first = next(iter(self.aligner.dt.cut(nxt, HMM=False)), "")
        if len(first) >= 2 or first in self.aligner.suffixes:
            return False
        return self.aligner.word_freq(first) < 5000  # a frequent one-character word (的, 和) is a word

    @staticmethod
    def _over_folded(registered: str, raw: str) -> bool:
        """Do the two spellings differ at a character OpenCC over-folds (乾 vs 干)?"""
        a = [c for c in registered if is_cjk(c)]
        b = [c for c in raw if is_cjk(c)]
        if len(a) != len(b):
            return False
        return any(x != y and (x in OVER_FOLD or y in OVER_FOLD) for x, y in zip(a, b))

    def _aligned(self, parts: list[str], r0: int, r1: int, strict: bool = False) -> bool:
        """Is raw[r0:r1] a word of its own (not characters inside a longer word)?

        strict (homophones, look-alikes): any dictionary word of the natural segmentation that
        straddles an end of the hit rejects it (超小|迷你 is not 小米, 冻|芝士 is not 东芝)."""
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
        if strict and self.aligner.crossing_word(run, r0 - a, r1 - a, min_freq=3) is not None:
            return False
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
            if form.latin and (not raw[:1].isalnum() or not raw[-1:].isalnum()):
                continue  # a symbol is a letter only between letters ('!ke' is not 'ike')
            if kind == "same":
                kind = self._surface_kind(form, raw)
                if self._over_folded(form.raw, raw):
                    kind = "folded"
            elif form.origin == "pinyin":
                kind = "pinyin"
            if kind in ("homophone", "nearsound", "lookalike", "similar") and form.cjk:
                # an ordinary dictionary word is not a disguised mark (unless it is the mark's)
                if self.aligner.word_freq(k0[ws:we]) >= ORDINARY_WORD_FREQ:
                    continue
            if not self._aligned(parts, r0, r1, strict=kind in WEAK_KINDS):
                continue
            if kind == "spaced" and _spaced_run_continues(text, r0, r1):
                continue
            if kind in WEAK_KINDS and form.cjk and len(form.k0) <= 2 and self._glued_after(parts, r1):
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
            if fold(text[r0:r1]) in ENGLISH_WORDS:
                continue  # an ordinary English word ('Phone') is not a typo of a mark ('iPhone')
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
        h.indicative = (indicative_before(k0[:ws]) or indicative_after(k0[we:])
                        or indicative_before_en(fold(text[max(0, r0 - 24):r0])))
        ab = abuse_before(before) if kind in IDENTITY_KINDS else None
        if ab:
            h.abuse = (ab[0] + h.matched, ab[1])
        elif kind in IDENTITY_KINDS:
            aa = abuse_after(after)
            if aa:
                h.abuse = (h.matched + aa[0], aa[1])
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
            if windows or fuzzy:
                if gate is None:
                    gate = self._gate_classes(ctx)
                hits.extend(self._verify(src, windows, fuzzy, gate))
            if self.nicknames and src.field != "image" and "家" in src.text:
                hits.extend(self._nickname_hits(src, ctx.goods_classes))
        if not hits:
            return []
        return self._score(ctx, hits)

    def _gate_classes(self, ctx: MatchContext) -> frozenset[int]:
        """Classes a mark must be registered in to be judged on this listing at all: the goods'
        classes plus those of groups the 注 notes call similar (relation() decides afterwards)."""
        goods = self.goods.infer(ctx.listing.category, ctx.listing.title)
        return self.goods.related_classes(goods) if goods.classes == ctx.goods_classes else ctx.goods_classes

    def _nickname_hits(self, src: TextSource, classes: frozenset[int]) -> list[Hit]:
        """b家风衣: an initial + 家 nickname glued to a goods word, on the goods of exactly one
        registered mark with that initial (ambiguous initials are not guessed)."""
        if not classes:
            return []
        out = []
        low = src.text.casefold()
        for m in NICKNAME_RE.finditer(low):
            cands = [mi for mi in self.nicknames.get(m.group(1), ()) if classes & self.marks[mi].classes]
            if len(cands) != 1:
                continue
            cm = self.marks[cands[0]]
            form = next((f for f in cm.forms if f.latin and f.origin != "pinyin"), cm.forms[0])
            h = Hit(cm, form, "nickname", src, m.start(), m.end(), src.text[m.start():m.end()])
            h.abuse = (h.matched, "nickname")
            out.append(h)
        return out

    def _score(self, ctx: MatchContext, hits: list[Hit]) -> list[Match]:
        _spread_indicative(hits)
        folded = [fold(s.text) for s in ctx.texts if s.text and not (
            s.field == "image" and s.confidence is not None and s.confidence < MIN_OCR_CONFIDENCE)]
        whole = " ".join(folded)
        cues: list = []
        seen: set[str] = set()
        for f in folded:
            for c in find_cue_hits(f, whole):
                if c.word not in seen:
                    seen.add(c.word)
                    cues.append(c)
        generic_style = next((w for w in STYLE_GENERIC if any(w in f for f in folded)), None)
        by_mark: dict[int, list[Hit]] = {}
        for h in hits:
            by_mark.setdefault(h.cm.idx, []).append(h)
        # brand stacking: the title names three or more different enterprises' marks outright,
        # none of them as indicative use (手机壳 for 苹果/三星/华为 names what it fits)
        stacked = []
        title_text = ctx.listing.title or ""
        if len(by_mark) >= 3 and ctx.goods_classes and not _COMPAT_RE.search(fold(title_text)):
            ents = {}
            for mi, hs in by_mark.items():
                if any(h.src.field == "title" and h.kind in IDENTITY_KINDS and not h.indicative
                       and not _model_follows(title_text, h.end) for h in hs):
                    ents.setdefault(id(self.marks[mi].enterprise), self.marks[mi])
            if len(ents) >= 3:
                stacked = [cm.mark.text or cm.forms[0].raw for cm in ents.values()]
                # the first brand named is the goods' own; the others are the abused keywords
                first = min(by_mark, key=lambda mi: min(h.start for h in by_mark[mi] if h.src.field == "title")
                            if any(h.src.field == "title" for h in by_mark[mi]) else 1 << 30)
                own = self.marks[first].mark.text or self.marks[first].forms[0].raw
                stacked = [x for x in stacked if x != own] + [own]
        out = []
        for mi, hs in by_mark.items():
            m = self._score_mark(ctx, self.marks[mi], hs, cues, generic_style, stacked)
            if m is not None:
                out.append(m)
        return out

    def _ref_price(self, mark, classes: frozenset[int], groups) -> tuple[float, str | None] | None:
        """(reference price, goods key) that applies to these goods, or None.

        ``reference_prices`` keys are Nice classes ('25') or 类似群 groups ('2507'); a group key
        applies only when the goods module says the listing is in that group. The single
        ``reference_price`` applies to all goods of the mark's classes."""
        rp = getattr(mark, "reference_prices", None) or {}
        if rp:
            for g in sorted(groups or ()):
                if str(g) in rp:
                    return rp[str(g)], str(g)
            for c in sorted(classes):
                if str(c) in rp:
                    return rp[str(c)], str(c)
            return None
        ref = getattr(mark, "reference_price", None)
        if ref and (not classes or not mark.nice_classes or classes & set(mark.nice_classes)):
            return ref, None
        return None

    def _score_mark(self, ctx, cm: CompiledMark, hs: list[Hit], cues, generic_style, stacked) -> Match | None:
        W = WEIGHTS
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
        # a spaced or symbol-split form next to the plain mark is not a disguise (lan*come/兰蔻)
        if any(h.kind == "exact" and h.src.field != "image" for h in hs):
            hs = [h for h in hs if h.kind != "spaced"] or hs
        text_hits = [h for h in hs if h.src.field != "image"]
        image_only = not text_hits
        pool = text_hits or hs

        def rank(h: Hit):
            return (h.base + (W["style"] if h.style else 0) + (W["cross_brand_use"] if cross and h.brand else 0),
                    h.src.confidence or 1.0)

        best = max(pool, key=rank)
        indicative = next((h for h in hs if h.indicative), None)
        codes: list[dict] = []
        name = mark.text or best.form.raw
        subs = [[a, b, ("tone" if k == "sound" and not _same_tone(a, b) else k)]
                for a, b, k in best.subs if k != "diff"][:2]
        hit = {"field": best.src.field, "matched": best.matched, "mark": name, "kind": best.kind,
               "form": best.form.raw if best.form.origin == "alias" else None, "subs": subs}
        if best.src.field == "image":
            hit["confidence"] = best.src.confidence
        codes.append(reason("hit", **hit))
        score = best.base
        leaf = (re.split(r"\s*(?:/|>|＞|»|\\|\||,|，)\s*", listing.category or "")[-1] or "商品").strip()
        if goods_rel == "same" and cm.classes:
            if len(rel_detail) == 4:
                codes.append(reason("goods_group", words=list(goods.words), group=rel_detail))
            else:
                common = sorted(classes & cm.classes)
                if common:
                    codes.append(reason("goods_class", category=leaf, classes=common))
        elif goods_rel == "similar":
            score += W["similar_goods"]
            codes.append(reason("goods_similar", group=rel_detail))
        elif unknown and cm.classes:
            score += W["unknown_goods"]
            codes.append(reason("goods_unknown"))
        short = (sum(1 for c in best.form.k0 if is_cjk(c)) <= 2) if best.form.cjk else len(best.form.k0) <= 4
        weak_unknown = unknown and best.kind in WEAK_KINDS and (short or best.kind in ("similar", "fuzzy", "folded"))
        if weak_unknown:
            codes.append(reason("weak_unknown"))
        if (in_class or unknown) and best.brand and best.kind in IDENTITY_KINDS:
            score += W["brand_use"]
            codes.append(reason("brand_use", phrase=best.matched + best.brand))
        if cross:
            score = W["cross_class"]
            codes.append(reason("well_known_cross", mark=name, classes=sorted(classes)))
            if best.brand:
                score += W["cross_brand_use"]
                codes.append(reason("brand_use_cross", phrase=best.matched + best.brand))
        active = [c for c in cues if c.off is None]
        for c in cues:
            if c.off is not None:
                codes.append(reason("cue_off", word=c.word, context=c.context))
        if active:
            score += W["cue_first"] * max(c.weight for c in active) + W["cue_more"] * min(1, len(active) - 1)
            codes.append(reason("cues", words=[c.word for c in active[:3]]))
        style_hit = next((h for h in pool if h.style), None)
        abuse_hit = next((h for h in pool if h.abuse), None)
        if style_hit:
            score += W["style"]
            phrase = (style_hit.style + style_hit.matched) if style_hit.style_pre else (style_hit.matched + style_hit.style)
            codes.append(reason("style", phrase=phrase))
        elif abuse_hit:
            score += W["keyword_abuse"]
            codes.append(reason("keyword_abuse", phrase=abuse_hit.abuse[0], pattern=abuse_hit.abuse[1], mark=name))
        elif generic_style:
            score += W["style_generic"]
            codes.append(reason("style_generic", phrase=generic_style))
        if stacked and name in stacked[:-1] and in_class and not style_hit and not abuse_hit:
            score += W["brand_stack"]
            codes.append(reason("brand_stack", marks=stacked[:5]))
        score += self._price_signal(mark, listing, classes, ctx.goods_groups or goods.groups, codes)
        if image_only:
            score += W["image_only"]
            codes.append(reason("image_only"))
            if best.src.confidence is not None:
                score *= min(1.0, 0.55 + 0.5 * best.src.confidence)
        if weak_unknown and not any(c.weight >= 1.0 for c in active):
            # only a strong counterfeit cue lifts weak evidence on goods nobody could classify
            score = min(score, W["weak_unknown_cap"])
        if indicative:
            score = min(score, W["indicative_cap"])
            codes.append(reason("indicative", phrase=indicative.indicative))
        score = int(round(max(0, min(100, score))))
        ev = {"field": best.src.field, "matched_text": best.matched, "kind": best.kind,
              "form": best.form.raw, "form_origin": best.form.origin,
              "goods_classes": sorted(classes), "mark_classes": sorted(cm.classes),
              "goods": {"relation": goods_rel, "groups": sorted(goods.groups), "words": list(goods.words),
                        "confidence": goods.confidence, "source": goods.source},
              "cues": [c.word for c in active], "reason_codes": codes,
              "reasons_en": render_all(codes, "en")}
        if best.src.field == "image":
            ev.update(image=best.src.image, box=best.src.box, confidence=best.src.confidence)
        else:
            ev["span"] = [best.start, best.end]
        if best.subs:
            ev["substitutions"] = [list(x) for x in best.subs]
        if best.style:
            ev["style"] = best.style
        if indicative:
            ev["indicative"] = indicative.indicative
        return Match(listing.listing_id, listing.platform, mark.id, "word", score,
                     render_all(codes, self.language), ev)

    def _price_signal(self, mark, listing, classes, groups, codes: list[dict]) -> float:
        """Points for a low price, comparing in the reference price's currency only (converted
        with the dated rate table); no rate -> no price signal, said in a reason."""
        refk = self._ref_price(mark, classes, groups)
        if refk is None or listing.price is None or listing.price <= 0:
            return 0
        ref, goods = refk
        acc = accessory_word(listing.title or "") if goods is None else None
        if acc is not None:
            # the mark's one reference price is its own goods' (a phone, a watch): a case or a
            # strap is cheap by nature. A reference price for the accessory's 类似群 still applies.
            codes.append(reason("price_accessory", word=acc))
            return 0
        cur = (getattr(listing, "currency", None) or "CNY").upper()
        ref_cur = (getattr(mark, "reference_currency", None) or "CNY").upper()
        price, rate, extra = listing.price, None, {}
        if cur != ref_cur:
            rates = self.rates
            if cur not in rates or ref_cur not in rates:
                codes.append(reason("price_no_rate", currency=cur, ref_currency=ref_cur))
                return 0
            rate = rates[cur] / rates[ref_cur]
            price = listing.price * rate
            extra = {"rate": round(rate, 6), "rate_date": self.rates_date, "converted": round(price, 2)}
        ratio = price / ref
        if ratio > PRICE_LOWISH_RATIO:
            return 0
        codes.append(reason("price_low", price=listing.price, currency=cur, ref=ref, ref_currency=ref_cur,
                            ratio=round(ratio, 4), goods=goods, **extra))
        return WEIGHTS["price_low"] if ratio <= PRICE_LOW_RATIO else WEIGHTS["price_lowish"]


def _same_tone(a: str, b: str) -> bool:
    """Do two characters share a reading WITH its tone (客/克 kè), not only the syllable (迷 mí /
    米 mǐ)? Reasons say "读音相同" only then (issue 11: keep the reasons honest)."""
    from .variants import pinyin_dict

    ra = set(pinyin_dict.get(ord(a), "").split(","))
    rb = set(pinyin_dict.get(ord(b), "").split(","))
    return bool(ra & rb - {""})


def _spaced_run_continues(text: str, r0: int, r1: int) -> bool:
    """风.云.意.幻: the hit is part of a longer phrase spelt out with the same non-space separator
    between single characters, not a mark split to dodge a filter."""
    seps = {c for c in text[r0:r1] if not c.isalnum() and not c.isspace() and not is_cjk(c)}
    if len(seps) != 1:
        return False
    sep = seps.pop()
    after = text[r1:r1 + 3]
    before = text[max(0, r0 - 3):r0]
    return (len(after) >= 2 and after[0] == sep and is_cjk(after[1])) or \
        (len(before) >= 2 and before[-1] == sep and is_cjk(before[-2]))


def _spread_indicative(hits: list[Hit]) -> None:
    """An indicative word covers every brand of the list it governs ("适用华为小米OPPO",
    "华为小米通用", "小米手环7表带"), not only the one right after it (text_rules.indicative_lists)."""
    by_src: dict[int, list[Hit]] = {}
    for h in hits:
        if h.src.field != "image":
            by_src.setdefault(id(h.src), []).append(h)
    for hs in by_src.values():
        if all(h.indicative for h in hs):
            continue
        found = indicative_lists(hs[0].src.text, [(h.start, h.end) for h in hs])
        for h in hs:
            if not h.indicative:
                h.indicative = found.get((h.start, h.end))


_COMPAT_RE = re.compile(r"通用|适用|兼容|适配|专用|compatible|for use with")


def _model_follows(text: str, end: int) -> bool:
    """A model number right after a brand (苹果7plus, 小米5s) names the device an accessory fits."""
    rest = text[end:end + 3].lstrip(" /")
    return bool(rest) and rest[0].isascii() and rest[0].isalnum()


def load_rates(path=None) -> tuple[dict[str, float], str]:
    """CNY per unit of each currency from config/data/currency_rates.tsv, and the table's date.
    Raises ValueError naming file, line and field on a bad row."""
    from pathlib import Path

    from config.settings import DATA_TABLES_DIR

    p = Path(path) if path else DATA_TABLES_DIR / "currency_rates.tsv"
    rates = {"CNY": 1.0}
    date = "?"
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("# date:"):
            date = line.split(":", 1)[1].strip()
            continue
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 2:
            raise ValueError(f"{p}:{n}: field 'cny_per_unit': missing")
        try:
            v = float(cols[1])
        except ValueError:
            raise ValueError(f"{p}:{n}: field 'cny_per_unit': not a number: {cols[1]!r}") from None
        if v <= 0:
            raise ValueError(f"{p}:{n}: field 'cny_per_unit': must be > 0")
        rates[cols[0].strip().upper()] = v
    return rates, date
