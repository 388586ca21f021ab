"""Character-level folding tables and the variant forms of word marks.

Three "layers" of a text, each one character per character of the layer-0 string so that a hit
in any layer maps straight back to the same positions:

- layer 0 (:data:`FOLD0`, applied to raw text): confusable letters of other scripts to ASCII,
  NFKD accent stripping, NFKC (full-width, circled, compatibility forms), case folding,
  traditional→simplified (OpenCC, per character) and removal of everything that is not a letter,
  digit, CJK or kana character (spaces and symbols sellers insert: 耐 克, N-I-K-E, 农夫.山泉);
- layer 1 (:data:`VIS`, on layer 0): visual skeleton — leetspeak (N1KE, LEG0), look-alike Latin
  (l/I/1), kana and 形近字 folded to one representative (カ士→力士, 水久→永久);
- layer 2 (:data:`PHON`, on layer 0): sound skeleton — every CJK character replaced by one
  private-use character per fuzzy-pinyin class of its default reading, digits by their Chinese
  numeral's (耐客→耐克, 3星→三星). The matcher reads layers 1 and 2 interleaved as triples
  (:data:`TRI_RAW`: S(c) V(c) S(c)) so a homophone or look-alike is looked up from one kept
  neighbour.

Per listing the matcher runs one str.translate (:data:`TRI_RAW`, straight from raw text: three
symbols per layer-0 character, see :func:`_triple`) and one automaton pass; the tables are filled
once per character ever seen.
"""
from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import opencc

from .confusables import load_confusables
from .text_rules import load_jieba

_T2S = opencc.OpenCC("t2s")
_CONF = load_confusables()


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FFFF


def is_kana(ch: str) -> bool:
    return 0x3040 <= ord(ch) <= 0x30FF


def is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _strip_accents(s: str) -> str:
    d = unicodedata.normalize("NFKD", s)
    return "".join(c for c in d if not unicodedata.combining(c))


@lru_cache(maxsize=None)
def fold_char(ch: str) -> str:
    """Layer-0 fold of one raw character ('' for separators and symbols)."""
    h = _CONF.homoglyph.get(ch)
    if h is not None:
        return h
    s = unicodedata.normalize("NFKC", _strip_accents(ch)).casefold()
    out = []
    for c in s:
        h = _CONF.homoglyph.get(c)
        if h is not None:
            out.append(h)
        elif c.isalnum():
            out.append(_T2S.convert(c) if is_cjk(c) else c)
    return "".join(out)


def fold_keep_char(ch: str) -> str:
    """Like fold_char but keeps separators as a single space (for boundary checks)."""
    f = fold_char(ch)
    return f if f else " "


class _FoldMap(dict):
    """str.translate table that computes (and remembers) each character's layer-0 fold."""

    def __missing__(self, code: int) -> str:
        v = fold_char(chr(code))
        self[code] = v
        return v


FOLD0 = _FoldMap()
# Pre-fill ASCII so the common case never takes the Python path.
for _c in range(128):
    FOLD0[_c]


def fold0(text: str) -> str:
    return text.translate(FOLD0)


# --- layer 1: visual skeleton -------------------------------------------------------------------

class _IdentityMissing(dict):
    """translate table whose unmapped characters map to themselves (remembered, so translate
    never takes the slow LookupError path twice for a character)."""

    def __missing__(self, code: int) -> str:
        v = self[code] = chr(code)
        return v


VIS: dict[int, str] = _IdentityMissing()
for _s, _d in _CONF.leet.items():
    VIS[ord(_s)] = _d
for _s, _d in _CONF.lookalike.items():
    for _c in {_s, _T2S.convert(_s)}:
        if len(_c) == 1 and len(_d) == 1:
            VIS.setdefault(ord(_c), _d)


def vis(k0: str) -> str:
    return k0.translate(VIS)


@lru_cache(maxsize=262144)
def look_alike_char(a: str, b: str) -> bool:
    """Direct look-alike pair (形近字, kana/CJK, leet/confusable Latin)."""
    if a == b:
        return True
    if a.isascii() and b.isascii():
        return VIS.get(ord(a), a) == VIS.get(ord(b), b)
    return _CONF.look_alike(a, b)


# --- layer 2: sound skeleton --------------------------------------------------------------------

def _toneless(py: str) -> str:
    s = unicodedata.normalize("NFKD", py)
    return "".join(c for c in s if not unicodedata.combining(c)).replace("ü", "v").lower()


READINGS: dict[str, tuple[str, ...]] = {}
_SYL: dict[str, str] = {}


def near_syllable(py: str) -> str:
    """Fuzzy pinyin (模糊音) as speakers of many dialects hear it: zh/z/j, ch/c/q, sh/s/x, n/l,
    and -ng/-n after a, e, i (三鑫 xin for 三星 xing, 古奇 qi for 古驰 chi)."""
    if py[:2] in ("zh", "ch", "sh"):
        py = py[0] + py[2:]
    elif py[:1] in ("j", "q", "x"):
        py = {"j": "z", "q": "c", "x": "s"}[py[0]] + py[1:]
    elif py[:1] == "n" and len(py) > 1 and py[1] != "g":
        py = "l" + py[1:]
    if py.endswith("ng") and not py.endswith("ong") and len(py) > 2:
        py = py[:-1]
    return py


def _syl(py: str) -> str:
    """Private-use character of a syllable's near-sound class (layer 2 is built on those)."""
    k = near_syllable(py)
    c = _SYL.get(k)
    if c is None:
        c = _SYL[k] = chr(0xE000 + len(_SYL))
    return c


PHON: dict[int, str] = _IdentityMissing()
# near-sound class of a reading -> classes of the default readings of characters that can be read
# so (勒 is read lei by default but also le: a seller may use it for 乐 le), weighted by how common
# the character is (jieba's dictionary counts of the character as a word)
_ALSO: dict[str, dict[str, int]] = {}


def _pinyin_table() -> dict[int, str]:
    """pypinyin's table of character readings (``pypinyin.pinyin_dict.pinyin_dict``: code point ->
    comma-separated toned readings, from the Unihan database via pypinyin 0.55).

    Read from that module's file without importing the ``pypinyin`` package, whose ``__init__``
    also loads its phrase dictionary (~0.3-0.4 CPU-s) that the matcher never uses. When the package
    is already loaded its own table is used."""
    import importlib.util
    import sys
    from pathlib import Path

    mod = sys.modules.get("pypinyin.pinyin_dict")
    if mod is None:
        pkg = importlib.util.find_spec("pypinyin")  # finds the package without running it
        path = Path(next(iter(pkg.submodule_search_locations))) / "pinyin_dict.py"
        spec = importlib.util.spec_from_file_location("_markwatch_pinyin_dict", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    return mod.pinyin_dict


pinyin_dict = _pinyin_table()


def _char_freq() -> dict[str, int]:
    try:
        jieba = load_jieba()
        return {w: f for w, f in jieba.dt.FREQ.items() if len(w) == 1}
    except Exception:  # pragma: no cover - jieba is a dependency; counts only order candidates
        return {}


_CF = _char_freq()
for _code, _pys in pinyin_dict.items():
    _rs = []
    for _p in _pys.split(","):
        _t = _toneless(_p.strip())
        if _t and _t not in _rs:
            _rs.append(_t)
    if not _rs:
        continue
    _ch = chr(_code)
    READINGS[_ch] = tuple(_rs)
    PHON[_code] = _syl(_rs[0])
    if 0x4E00 <= _code <= 0x9FFF:
        for _r in _rs[1:]:
            _d = _ALSO.setdefault(_syl(_r), {})
            _d[PHON[_code]] = _d.get(PHON[_code], 0) + 1 + _CF.get(_ch, 0)
for _d, _num in zip("0123456789", "零一二三四五六七八九"):
    READINGS[_d] = READINGS.get(_num, ())
    if READINGS[_d]:
        PHON[ord(_d)] = _syl(READINGS[_d][0])


def phon(k0: str) -> str:
    return k0.translate(PHON)


@lru_cache(maxsize=262144)
def sound_alike_char(a: str, b: str) -> bool:
    """Same toneless reading (any of the characters' readings)."""
    if a == b:
        return True
    ra, rb = READINGS.get(a), READINGS.get(b)
    return bool(ra and rb and set(ra) & set(rb))


@lru_cache(maxsize=262144)
def sounds_as_mark_char(a: str, b: str, near: bool = False) -> bool:
    """Does text character a, read one of its main ways (the first two readings pypinyin lists,
    common ones first), sound like mark character b in any of b's readings? 勒 (lēi/lè) for 乐
    (lè/yuè) yes; 行 (xíng/háng/héng) for 衡 no: 行 is read héng only in rare words, so a seller
    evoking 衡 would not write it. near: up to fuzzy pinyin."""
    if a == b:
        return True
    ra, rb = READINGS.get(a), READINGS.get(b)
    if not (ra and rb):
        return False
    main = ra[:2]
    if near:
        return bool({near_syllable(x) for x in main} & {near_syllable(x) for x in rb})
    return bool(set(main) & set(rb))


@lru_cache(maxsize=262144)
def near_sound_char(a: str, b: str) -> bool:
    """Same reading up to fuzzy pinyin (zh/z, ch/c, sh/s, n/l, -ng/-n)."""
    ra, rb = READINGS.get(a), READINGS.get(b)
    return bool(ra and rb and {near_syllable(x) for x in ra} & {near_syllable(x) for x in rb})


def sound_options(ch: str, per_char: int = 4) -> list[str]:
    """Layer-2 symbols a character sounding like ch can have in a text: the near-sound classes of
    ch's readings, plus the default-reading classes of characters that can also be read so."""
    rs = READINGS.get(ch)
    if not (rs and is_cjk(ch)):
        return [ch]
    o: list[str] = []
    for r in rs[:3]:
        c = _syl(r)
        if c not in o:
            o.append(c)
    for r in rs[:3]:
        for c, _n in sorted(_ALSO.get(_syl(r), {}).items(), key=lambda kv: -kv[1]):
            if c not in o and len(o) < per_char:
                o.append(c)
    return o


def phon_keys(k0: str, limit: int = 64, per_char: int = 6) -> list[str]:
    """Sound-skeleton strings of a mark (one per combination of its characters' sound options)."""
    opts = [sound_options(ch, per_char) for ch in k0]
    return ["".join(p) for p in itertools.islice(itertools.product(*opts), limit)]


class _ComposedMap(dict):
    """translate table applied to RAW text: the layer-0 fold of each character, then `inner`
    applied to every character of the fold (so one translate yields a whole layer)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def __missing__(self, code: int) -> str:
        v = self[code] = "".join(self.inner(c) for c in fold_char(chr(code)))
        return v


@lru_cache(maxsize=None)
def _triple(c: str) -> str:
    """The three symbols of a layer-0 character in the matcher's haystack.

    CJK and kana: S(c) V(c) S(c) (sound class, visual class, sound class); anything else (Latin
    letters, digits): V(c) V(c) V(c). Keys then find, in ONE pass:
    a whole form (its characters' triples in a row: exact, spaced, traditional, leet, 形近 folds);
    ``V(A) S(A) X`` = A followed by a character whose sound class is X (homophone or a look-alike
    of B, X = its sound class), and ``X S(B) V(B)`` = such a character followed by B.
    """
    if is_cjk(c) or is_kana(c):
        s = PHON[ord(c)]
        return s + VIS[ord(c)] + s
    v = VIS[ord(c)]
    return v + v + v


def triples(k0: str) -> str:
    """The haystack symbols of a layer-0 string (what TRI_RAW gives for the raw text)."""
    return "".join(_triple(c) for c in k0)


# raw text -> the matcher's haystack: three symbols per layer-0 character (see _triple)
TRI_RAW = _ComposedMap(_triple)


def look_options(ch: str) -> list[str]:
    """Sound classes of the direct look-alikes of ch (形近字 table, kana, Unicode look-alikes)."""
    out: list[str] = []
    for m in sorted(_CONF.mates.get(ch, ())):
        if len(m) != 1:
            continue
        s = PHON[ord(m)]
        if s not in out:
            out.append(s)
    return out


# Arabic digits sellers write for Chinese numerals (3星 for 三星, 7匹狼 for 七匹狼): in the haystack a
# digit is a non-CJK character (its triple is three visual symbols), so a numeral of a mark also
# lists the digit's visual symbol among its options.
_NUMERAL_DIGIT = {"零": "0", "〇": "0", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5",
                  "六": "6", "七": "7", "八": "8", "九": "9"}


@lru_cache(maxsize=None)
def _options(ch: str) -> tuple[str, ...]:
    """Haystack symbols a character standing for ch can have (its sound and look options; for a
    numeral, the digit). Cached per character: a 5,000-mark watchlist asks for the same few
    thousand characters ~18,000 times."""
    opts = sound_options(ch) + look_options(ch)
    d = _NUMERAL_DIGIT.get(ch)
    if d:
        opts.append(VIS[ord(d)])
    return tuple(dict.fromkeys(opts))


def pair_keys(k0: str) -> list[tuple[str, int]]:
    """(key, k) pairs for each adjacent pair (k-1, k) of CJK characters of a mark: one character
    kept and the other by sound or by look; k is the position in the mark of the pair's second
    character (keys end on it, so the window is found from the key's end alone). A homophone or look-alike keeps at least one character, so it always has such a
    pair next to a kept one; requiring the kept character keeps the automaton selective."""
    out: list[tuple[str, int]] = []
    for k in range(1, len(k0)):
        a, b = k0[k - 1], k0[k]
        if not ((is_cjk(a) or is_kana(a)) and (is_cjk(b) or is_kana(b))):
            continue
        # the kept first character's whole triple S V S: the same haystack spots as its last two
        # symbols (a CJK/kana visual symbol only ever stands between its sound symbols), but the
        # key starts with a sound class, as every other CJK key does. pyahocorasick looks a
        # node's transitions up one by one: keys starting with ~1,500 different visual symbols
        # made every step at the root slow (5,000 marks: 1,550 -> 444 root transitions, the
        # automaton pass ~20 % faster, the same windows)
        head = PHON[ord(a)] + VIS[ord(a)] + PHON[ord(a)]
        tail = PHON[ord(b)] + VIS[ord(b)]
        for x in _options(b):
            out.append((head + x, k))
        for x in _options(a):
            out.append((x + tail, k))
    return out


def pinyin_forms(k0: str, limit: int = 8) -> list[str]:
    """Toneless pinyin spellings of an all-CJK mark (maotai, nongfushanquan); ü as v and u."""
    if not k0 or not all(is_cjk(c) for c in k0):
        return []
    opts = [list(READINGS.get(c, ()))[:2] for c in k0]
    if not all(opts):
        return []
    out: list[str] = []
    for combo in itertools.islice(itertools.product(*opts), limit):
        s = "".join(combo)
        for v in {s, s.replace("v", "u")}:
            if v not in out:
                out.append(v)
    return out


# --- compiled marks -----------------------------------------------------------------------------

@dataclass(slots=True)
class Form:
    raw: str          # as registered (text or alias) or the generated pinyin
    k0: str           # layer-0 fold
    origin: str       # 'text' | 'alias' | 'pinyin'
    latin: bool       # all ASCII letters/digits
    cjk: bool         # contains CJK


@dataclass(slots=True)
class CompiledMark:
    idx: int
    mark: object
    enterprise: object
    forms: list[Form] = field(default_factory=list)
    classes: frozenset[int] = frozenset()
    anywhere: bool = False          # protected in every class (well-known, or no class registered)
    lens: list[int] = field(default_factory=list)


def compile_forms(texts: list[str]) -> list[Form]:
    forms: list[Form] = []
    seen: set[str] = set()
    for i, t in enumerate(texts):
        k0 = fold0(t or "")
        if not k0 or k0 in seen:
            continue
        seen.add(k0)
        latin = all(c.isascii() for c in k0)
        cjk = any(is_cjk(c) for c in k0)
        forms.append(Form(t, k0, "text" if i == 0 else "alias", latin, cjk))
    for f in list(forms):
        if f.cjk and len(f.k0) >= 2:
            for py in pinyin_forms(f.k0):
                if py not in seen and len(py) >= 4:
                    seen.add(py)
                    forms.append(Form(py, py, "pinyin", True, False))
    return forms
