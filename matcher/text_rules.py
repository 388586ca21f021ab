"""Context rules of the text matcher: counterfeit cues, "X同款/平替/风" phrasing, indicative use
("适用于/兼容 X"), brand use ("X牌"), and whether a hit is a word of its own or merely characters
inside another word (人格力量 vs 格力, 三星堆 vs 三星, 平安踏青 vs 安踏).

All lists are general Chinese marketplace vocabulary, not brand names.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .normalize import fold

# Counterfeit cue words (假货暗语): a maintained lexicon with weights and off-contexts in
# config/data/cue_words.tsv (sources in its header).


@dataclass(frozen=True, slots=True)
class Cue:
    pattern: str
    weight: float
    off: tuple[str, ...]
    context: str
    lang: str
    rx: re.Pattern


@dataclass(frozen=True, slots=True)
class CueHit:
    word: str       # the cue as written in the lexicon (regex cues: the text found, normalised)
    weight: float
    off: str | None  # the context word that switched it off, if any
    context: str


def _cue_regex(pattern: str, lang: str) -> re.Pattern:
    if pattern.startswith("re:"):
        return re.compile(pattern[3:])
    body = r"\s*".join(re.escape(p) for p in pattern.split(" ")) if " " in pattern else re.escape(pattern)
    if lang == "en":  # English words need word boundaries: 'reps' is not in 'prepsuite'
        return re.compile(r"(?<![a-z])" + body + r"(?![a-z])")
    return re.compile(body)


def load_cues(path: str | Path | None = None) -> tuple[Cue, ...]:
    """Read the cue lexicon. Raises ValueError naming file, line and field on a bad row."""
    from config.settings import DATA_TABLES_DIR

    p = Path(path) if path else DATA_TABLES_DIR / "cue_words.tsv"
    out = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = (line.split("\t") + ["", "", "", ""])[:5]
        pat, w, off, ctx, lang = (c.strip() for c in cols)
        try:
            weight = float(w)
        except ValueError:
            raise ValueError(f"{p}:{n}: field 'weight': not a number: {w!r}") from None
        if not 0 < weight <= 1:
            raise ValueError(f"{p}:{n}: field 'weight': must be in (0, 1]")
        if lang not in ("zh", "en"):
            raise ValueError(f"{p}:{n}: field 'lang': must be zh or en, not {lang!r}")
        try:
            rx = _cue_regex(pat, lang)
        except re.error as e:
            raise ValueError(f"{p}:{n}: field 'pattern': bad regex: {e}") from None
        out.append(Cue(pat, weight, tuple(x.strip().lower() for x in off.split("|") if x.strip()), ctx, lang, rx))
    return tuple(out)


CUES = load_cues()
CUE_WORDS = tuple(c.pattern for c in CUES if not c.pattern.startswith("re:"))


def _cue_name(c: Cue, found: str) -> str:
    if not c.pattern.startswith("re:"):
        return c.pattern
    f = re.sub(r"\s+", "", found)
    if f[:1] == "1":
        return "1:1"
    return f.upper() if f.isascii() else f.replace("a", "A")


def find_cue_hits(folded: str, context: str | None = None) -> list[CueHit]:
    """Cue words in a fold()ed text, in order of position, each once; a cue covered by a longer
    one found too (原单 in 外贸原单 / 原单尾货) is dropped. A cue whose off-context appears in
    ``context`` (fold()ed text of the whole listing; default: the text itself) is returned with
    ``off`` set (an ordinary trade term there, e.g. A货 on 翡翠)."""
    ctx = folded if context is None else context
    ctx_compact = re.sub(r"[\s,，.;:/|_\-]+", "", ctx)
    found: dict[str, tuple[int, CueHit]] = {}
    for c in CUES:
        m = c.rx.search(folded)
        if not m:
            continue
        name = _cue_name(c, m.group(0))
        if name in found:
            continue
        off = next((o for o in c.off if o in ctx or (" " in o and o.replace(" ", "") in ctx_compact)), None)
        found[name] = (m.start(), CueHit(name, c.weight, off, c.context))
    hits = [v for k, v in found.items() if not any(k != o and k in o for o in found)]
    return [h for _, h in sorted(hits, key=lambda x: x[0])]


def find_cues(folded: str) -> list[str]:
    """Active cue words in a fold()ed text, in order, without repeats ('1：1' is reported '1:1')."""
    return [h.word for h in find_cue_hits(folded) if h.off is None]


# Keyword abuse (the platforms' 滥用商标关键字 rules): the mark is named to attract searches for
# goods that are not the mark's. 非X / 不是X before the mark, X同品质 / X品质 / X同等 after it.
ABUSE_BEFORE = (("不是", "not"), ("并非", "not"), ("非", "non"))
ABUSE_AFTER = (("同品质", "same_quality"), ("同等品质", "same_quality"), ("同级", "same_quality"),
               ("品质", "same_quality"), ("同质量", "same_quality"), ("家", "nickname"))


def abuse_before(preceding: str) -> tuple[str, str] | None:
    """preceding: fold()ed raw text right before the hit. ('非', 'non') for 非耐克."""
    for w, pat in ABUSE_BEFORE:
        if preceding.endswith(w):
            if w == "非" and preceding[-2:-1] in ("是", "并", "绝", "而"):
                continue  # 是非, 绝非: ordinary words / handled as 并非
            return w, pat
    return None


def abuse_after(following: str) -> tuple[str, str] | None:
    """following: fold()ed raw text right after the hit. ('同品质', 'same_quality') for X同品质;
    ('家', 'nickname') for X家 glued to the next word (耐克家外套), not 家电/家居/家用."""
    for w, pat in ABUSE_AFTER:
        if following.startswith(w):
            if w == "家":
                nxt = following[1:2]
                if not nxt or nxt in "电居用具纺庭人族乡里" or not ("\u4e00" <= nxt <= "\u9fff"):
                    return None
            if w == "品质":
                continue  # plain X品质 is how official shops praise their own goods; only 同品质
            return w, pat
    return None


# Nicknames: one or two Latin initials + 家 glued to the next goods word (b家风衣, lv家包).
NICKNAME_RE = re.compile(r"(?<![a-z0-9])([a-z]{1,2})家(?=[\u4e00-\u9fff])")


# "X同款 / X平替 / X风 / 仿X": the listing borrows the mark to sell look-alike goods.
# Not plain 款 after the mark: "华为款 手机壳" says which phone a case fits (indicative use).
STYLE_AFTER = ("同款", "平替", "替代", "代替", "风格", "风")
STYLE_BEFORE = ("仿", "平替", "同款", "致敬", "对标", "媲美", "比肩", "山寨")
# Phrases that say the listing sells look-alikes of some brand (not naming it next to the mark).
STYLE_GENERIC = ("大牌平替", "大牌同款", "平替", "同款")
# Indicative use: accessories and parts that name the mark to say what they fit.
INDICATIVE_BEFORE = ("适用于", "适用", "兼容", "适配", "适合", "配套", "专用于", "用于", "for", "fits", "fit")
# English indicative use, read on fold()ed raw text (spaces kept) right before the mark.
INDICATIVE_EN = re.compile(
    r"(?<![a-z])(compatible with|compatible for|for use with|for use in|replacement for|replaces|designed for|"
    r"made for|works with|fits for|fits|fit for|for)\s*[-:(\[]?\s*$")


def indicative_before_en(preceding: str) -> str | None:
    """preceding: fold()ed raw text before the hit. 'compatible with' for 'Case compatible with X'."""
    m = INDICATIVE_EN.search(preceding)
    return m.group(1) if m else None
# after the mark (within a few characters): "X空调专用遥控器", "X手机配件". Not 通用 (男女通用).
INDICATIVE_AFTER = ("专用", "配件", "周边配", "compatible", "replacement")
# Brand use of the mark ("X牌", "X品牌", X®): on other goods this is use as a trade mark.
BRAND_AFTER = ("牌", "品牌", "®", "™", "(r)", "(tm)")


def style_after(following: str) -> str | None:
    """following: fold()ed raw text right after the hit (separators kept)."""
    for w in STYLE_AFTER:
        if following.startswith(w):
            if w == "风":
                nxt = following[1:2]
                if nxt == "格":
                    return "风格"
                if nxt and ("\u4e00" <= nxt <= "\u9fff"):
                    return None  # 风扇, 风味, 风衣: another word
            return w
    return None


def style_before(preceding: str) -> str | None:
    for w in STYLE_BEFORE:
        if preceding.endswith(w):
            return w
    return None


def indicative_before(k0_before: str) -> str | None:
    """k0_before: compact layer-0 text before the hit (at most a few characters are looked at)."""
    tail = k0_before[-6:]
    for w in INDICATIVE_BEFORE:
        i = tail.rfind(w)
        if i >= 0 and len(tail) - (i + len(w)) <= 1:
            if w.isascii() and i > 0 and tail[i - 1].isascii() and tail[i - 1].isalpha():
                continue
            return w
    return None


def indicative_after(k0_after: str) -> str | None:
    head = k0_after[:8]
    for w in INDICATIVE_AFTER:
        if w in head:
            return w
    return None


# --- brand lists in indicative use ---------------------------------------------------------------
#
# Accessory titles name every device they fit: "手机壳 适用华为小米OPPO", "数据线 适用于华为/小米",
# "车载支架 华为小米通用", "小米手环7表带". The indicative word covers the whole list, not only the
# brand right after it. A list is brand hits, model tokens (13, mate50, OPPO, watch gt3), device words
# and separators; it ends at any other word. (Rule of the field: naming the products an accessory fits
# is descriptive/indicative use, Trademark Law of the PRC art. 59 and CNIPA's 商标侵权判断标准 art. 23.)
LIST_SEPARATORS = set(" \t/／、,，;；|+&＋-—_.·()（）[]【】") | {"和", "及", "与", "或"}
DEVICE_WORDS = ("手机", "手环", "手表", "平板", "电脑", "笔记本", "耳机", "音箱", "手柄", "电视", "路由器",
                "汽车", "车型", "系列", "全系", "机型", "款")
LIST_AFTER = ("通用", "兼容", "适用", "可用", "均可用", "都能用")
# Goods words of accessories that say "for <device>" when they follow a brand + device name
# (小米手环7表带, 华为手表表带, 华为手机壳): the listing sells the accessory, not the device.
ACCESSORY_WORDS = ("手机壳", "保护壳", "保护套", "钢化膜", "贴膜", "水凝膜", "膜", "壳", "套", "表带", "腕带",
                   "替换带", "表链", "支架", "充电器", "充电头", "充电线", "数据线", "快充线", "挂绳", "贴纸",
                   "耳机套", "耳帽", "笔", "键盘", "遥控器", "电池", "适配器", "转接头", "扩展坞", "镜头")


def _list_tokens(text: str, in_hit: list[bool]) -> list[tuple[int, int, bool]]:
    """``text`` cut into (start, end, is_list_token): a brand hit, a model token (ASCII letters and
    digits), a device word or a separator is a list token; any other character is one token alone."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        j = i + 1
        if in_hit[i]:
            while j < len(text) and in_hit[j]:
                j += 1
            out.append((i, j, True))
        elif c in LIST_SEPARATORS or c.isspace():
            out.append((i, j, True))
        elif c.isascii() and c.isalnum():
            while j < len(text) and text[j].isascii() and text[j].isalnum() and not in_hit[j]:
                j += 1
            out.append((i, j, True))
        else:
            d = next((w for w in DEVICE_WORDS if text.startswith(w, i)), None)
            if d is not None:
                out.append((i, i + len(d), True))
                j = i + len(d)
            else:
                out.append((i, j, False))
        i = j
    return out


def indicative_lists(text: str, spans: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """Brand hits of ``text`` that stand in a list an indicative word governs.

    ``spans``: (start, end) of every mark hit in ``text`` (raw character offsets). Returns
    {span: phrase} for the spans inside a list that starts right after an indicative word
    (:data:`INDICATIVE_BEFORE`) or ends right before 通用/兼容 (:data:`LIST_AFTER`), or that are
    followed by a device word and an accessory goods word (小米手环7表带). Lists stop at any
    other word, so "适用华为 正品小米手机" does not cover 小米."""
    if not spans:
        return {}
    in_hit = [False] * len(text)
    for a, b in spans:
        for k in range(max(0, a), min(len(text), b)):
            in_hit[k] = True
    toks = _list_tokens(text, in_hit)
    at_start = {t[0]: n for n, t in enumerate(toks)}
    at_end = {t[1]: n for n, t in enumerate(toks)}
    low = text.casefold()
    out: dict[tuple[int, int], str] = {}

    def covered(a: int, b: int, phrase: str) -> None:
        for sp in spans:
            if a <= sp[0] and sp[1] <= b:
                out.setdefault(sp, phrase)

    def find_all(w: str):
        k = low.find(w)
        while k >= 0:
            yield k
            k = low.find(w, k + len(w))

    for w in INDICATIVE_BEFORE:  # forward from the indicative word
        if not ("\u4e00" <= w[0] <= "\u9fff"):
            continue  # English 'for' is read on the hit itself (indicative_before_en)
        for k in find_all(w):
            n = at_start.get(k + len(w))
            if n is None:
                continue
            m = n
            while m < len(toks) and toks[m][2]:
                m += 1
            if m > n:
                covered(toks[n][0], toks[m - 1][1], w)
    for w in LIST_AFTER:  # backward from 通用/兼容 after the list
        for k in find_all(w):
            n = at_end.get(k)
            if n is None:
                continue
            m = n
            while m >= 0 and toks[m][2]:
                m -= 1
            if m < n:
                covered(toks[m + 1][0], toks[n][1], w)
    for a, b in spans:  # brand + device word (+ model) + accessory goods word
        if (a, b) in out:
            continue
        rest = text[b:b + 12]
        dev = next((d for d in DEVICE_WORDS[:11] if rest.startswith(d)), None)
        if dev is None:
            continue
        k = len(dev)
        while k < len(rest) and ((rest[k].isascii() and rest[k].isalnum()) or rest[k] in " -"):
            k += 1
        acc = next((x for x in ACCESSORY_WORDS if rest.startswith(x, k)), None)
        if acc is not None:
            out[(a, b)] = text[b:b + k + len(acc)].strip()
    return out


def accessory_word(title: str) -> str | None:
    """The accessory goods word of a title (手机壳, 表带, 充电器 …), or None: an accessory's price
    says nothing about the device's reference price."""
    return next((w for w in ACCESSORY_WORDS if len(w) >= 2 and w in title), None)


def brand_after(following: str) -> str | None:
    for w in BRAND_AFTER:
        if following.startswith(w):
            return w
    return None


# --- word alignment ------------------------------------------------------------------------------

def load_jieba():
    """The jieba module with its default dictionary loaded (jieba.initialize(); ~0.8 CPU-s, from
    jieba's own marshal cache after the first run), logging silenced.

    jieba imports ``pkg_resources`` (setuptools, ~0.1-0.2 CPU-s) only to open its bundled files
    and falls back to opening them next to its module when that import fails; the first import
    here takes that fallback (same files, same dictionary). ``pkg_resources`` stays importable
    for anyone else."""
    import sys

    if "jieba" not in sys.modules and "pkg_resources" not in sys.modules:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # ImportError inside jieba
        try:
            import jieba  # noqa: F401
        finally:
            del sys.modules["pkg_resources"]
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


class WordAligner:
    """Does a hit stand as a word of its own inside a run of CJK text?

    Compares the best jieba segmentation (dictionary word probabilities) of the run with the
    best segmentation that is forced to cut at the hit's two ends. When cutting there costs a lot
    (the characters belong to a stronger word: 人格|力量, 三星堆, 平安|踏青, 山东|鲁|花生) the hit is
    inside another word. Words made of the mark plus a goods noun or a phrasing suffix (茅台酒,
    格力空调, 耐克同款) do not count against the hit.
    """

    def __init__(self, suffixes: set[str], mark_freq: int = 20, max_penalty: float = 2.5,
                 cross_penalty: float = 0.3, cross_freq: int = 20):
        jieba = load_jieba()
        self.dt = jieba.dt
        self.freq = jieba.dt.FREQ
        self.log_total = math.log(jieba.dt.total)
        self.log_mark = math.log(mark_freq) - self.log_total
        self.suffixes = suffixes
        self.max_suffix = max((len(s) for s in suffixes), default=0)
        self.max_penalty = max_penalty
        self.cross_penalty = cross_penalty
        self.cross_freq = cross_freq

    def word_freq(self, w: str) -> int:
        return self.freq.get(w) or 0

    def _logp(self, w: str) -> float:
        return math.log(self.freq.get(w) or 1) - self.log_total

    def _best(self, s: str, extra: tuple[int, int, float] | None = None,
              banned: set[tuple[int, int]] | None = None) -> float:
        n = len(s)
        if n == 0:
            return 0.0
        dag = self.dt.get_DAG(s)
        route = [0.0] * (n + 1)
        for i in range(n - 1, -1, -1):
            best = -1e18
            for j in dag[i]:
                if banned and (i, j) in banned:
                    continue
                v = self._logp(s[i:j + 1]) + route[j + 1]
                if v > best:
                    best = v
            if extra and extra[0] == i:
                v = extra[2] + route[extra[1]]
                if v > best:
                    best = v
            if best == -1e18:  # only banned words: fall back to one character
                best = self._logp(s[i]) + route[i + 1]
            route[i] = best
        return route[0]

    @lru_cache(maxsize=65536)
    def penalty(self, run: str, s: int, e: int) -> float:
        """How much less likely the run is when cut at s and e (natural log; 0 = free cut)."""
        banned = set()
        for k in range(1, self.max_suffix + 1):
            if run[e:e + k] in self.suffixes:
                banned.add((s, e + k - 1))
        # the hit as a word: as likely as the dictionary says, and at least a rare word's chance
        lm = max(self.log_mark, self._logp(run[s:e]))
        free = self._best(run, (s, e, lm), banned)
        forced = self._best(run[:s]) + lm + self._best(run[e:])
        return max(0.0, free - forced)

    def crossing_word(self, run: str, s: int, e: int, min_freq: int | None = None) -> str | None:
        """A word of the natural segmentation that straddles an end of the hit (花生 in 鲁花生)."""
        pos = 0
        floor = self.cross_freq if min_freq is None else min_freq
        for tok in self.dt.cut(run, HMM=False):
            a, b = pos, pos + len(tok)
            pos = b
            if len(tok) < 2 or self.word_freq(tok) < floor:
                continue
            if (a < s < b) or (a < e < b):
                if a == s and tok[e - s:] in self.suffixes:
                    continue  # mark + goods noun / phrasing (茅台酒, 格力空调)
                return tok
        return None

    def aligned(self, run: str, s: int, e: int) -> bool:
        # a phrasing or goods word right after the hit closes it (乐高平替 is 乐高|平替, not 高平)
        for k in range(2, self.max_suffix + 1):
            if run[e:e + k] in self.suffixes:
                run = run[:e]
                break
        if s == 0 and e == len(run):
            return True
        p = self.penalty(run, s, e)
        if p > self.max_penalty:
            return False
        return p <= self.cross_penalty or self.crossing_word(run, s, e) is None


def fold_around(text: str, start: int, end: int, before: int = 6, after: int = 4) -> tuple[str, str]:
    """fold()ed raw text just before start and just after end (separators kept)."""
    return fold(text[max(0, start - before):start]), fold(text[end:end + after])
