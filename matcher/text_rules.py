"""Context rules of the text matcher: counterfeit cues, "X同款/平替/风" phrasing, indicative use
("适用于/兼容 X"), brand use ("X牌"), and whether a hit is a word of its own or merely characters
inside another word (人格力量 vs 格力, 三星堆 vs 三星, 平安踏青 vs 安踏).

All lists are general Chinese marketplace vocabulary, not brand names.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

from .normalize import fold

# Counterfeit cue words (假货暗语) as sellers write them; matched on fold()ed text.
CUE_WORDS = (
    "高仿", "精仿", "超仿", "仿品", "仿牌", "a货", "超a", "原单", "外贸原单", "尾单", "跟单", "复刻",
    "纯原", "公司级", "顶级版", "顶级版本", "高版本", "莆田", "工厂货", "代工厂", "原厂代工", "真标",
    "山寨", "非正品", "一比一", "1比1",
)
_CUE_RE = re.compile(
    r"(?<![a-z0-9])1\s*[:：比]\s*1(?![0-9])|(?<![a-z])a货|超a(?![a-z])|"
    + "|".join(re.escape(w) for w in CUE_WORDS if not w.startswith(("a", "超a", "1")))
)


def find_cues(folded: str) -> list[str]:
    """Cue words in a fold()ed text, in order, without repeats; '1：1' is reported as '1:1'."""
    out: list[str] = []
    for m in _CUE_RE.finditer(folded):
        w = m.group(0)
        if w[0] == "1":
            w = "1:1"
        elif w in ("a货", "超a"):
            w = w.replace("a", "A")
        if w not in out:
            out.append(w)
    return out


# "X同款 / X平替 / X风 / 仿X": the listing borrows the mark to sell look-alike goods.
# Not plain 款 after the mark: "华为款 手机壳" says which phone a case fits (indicative use).
STYLE_AFTER = ("同款", "平替", "替代", "代替", "风格", "风")
STYLE_BEFORE = ("仿", "平替", "同款", "致敬", "对标", "媲美", "比肩", "山寨")
# Phrases that say the listing sells look-alikes of some brand (not naming it next to the mark).
STYLE_GENERIC = ("大牌平替", "大牌同款", "平替", "同款")
# Indicative use: accessories and parts that name the mark to say what they fit.
INDICATIVE_BEFORE = ("适用于", "适用", "兼容", "适配", "适合", "配套", "专用于", "用于", "for", "fits", "fit")
# after the mark (within a few characters): "X空调专用遥控器", "X手机配件". Not 通用 (男女通用).
INDICATIVE_AFTER = ("专用", "配件", "周边配")
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


def brand_after(following: str) -> str | None:
    for w in BRAND_AFTER:
        if following.startswith(w):
            return w
    return None


# --- word alignment ------------------------------------------------------------------------------

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
        import jieba

        jieba.setLogLevel(60)
        jieba.initialize()
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

    def crossing_word(self, run: str, s: int, e: int) -> str | None:
        """A word of the natural segmentation that straddles an end of the hit (花生 in 鲁花生)."""
        pos = 0
        for tok in self.dt.cut(run, HMM=False):
            a, b = pos, pos + len(tok)
            pos = b
            if len(tok) < 2 or self.word_freq(tok) < self.cross_freq:
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
