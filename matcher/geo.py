"""China's administrative divisions (GB/T 2260) and a resolver for free-text locations.

Sellers and 产地 fields write places in many forms: "浙江 义乌", "金华义乌", "江苏省苏州市相城区",
"产地：黑龙江五常", "发货地 江苏·苏州". ``resolve_location`` turns such text into the most specific
division it can determine (6-digit code, full 省市县 name, level). It never guesses: a name that
fits several divisions with nothing to tell them apart (西湖: Hangzhou or Nanchang) comes back
``ambiguous`` with the candidates, text with no place name or contradictory names comes back
``unresolved``, each with a reason in zh-CN.

``is_within(code, region_codes)`` is containment by code prefix: a county lies inside its city
and its province. ``relation(resolution, region_codes)`` says whether a resolved location is
inside, outside, or undetermined (a city that contains a county-level region, say).

Data: ``config/data/admin_divisions.tsv`` and ``admin_divisions_aliases.tsv`` (sources and
date in their headers). Pure and cached; loading takes a few hundred milliseconds once.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product
from pathlib import Path

import ahocorasick

from config.settings import DATA_TABLES_DIR

from .normalize import t2s

DIVISIONS_FILE = DATA_TABLES_DIR / "admin_divisions.tsv"
ALIASES_FILE = DATA_TABLES_DIR / "admin_divisions_aliases.tsv"
COUNTRIES_FILE = DATA_TABLES_DIR / "countries_zh.tsv"
# Longer location texts are cut to this many characters before scanning (a location is a few words).
MAX_LOCATION_CHARS = 500
# Words that say "from abroad" without naming the country (产地：进口).
_FOREIGN_WORDS = ("进口", "境外", "海外", "国外", "原装进口", "外国")

LEVEL_NAMES = {1: "省", 2: "市", 3: "县"}

# The 56 ethnic groups, for stripping "…族自治州/县/旗" down to the place name.
_NATIONS = ("蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 "
            "东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 "
            "俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各").split()
_NATION_RE = re.compile("(?:" + "|".join(sorted(_NATIONS, key=len, reverse=True)) + ")族?$")
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "自治旗",
             "新区", "林区", "特区", "地区", "省", "市", "县", "区", "盟", "旗")
# District names too generic to be used without their suffix.
_NO_SHORT = {"城区", "郊区", "矿区", "东区", "西区", "市中区", "城中区", "城东区", "城西区", "城北区", "城南区",
             "新区", "中区", "市区", "新城区", "老城区", "高新区", "开发区", "经开区", "城关区", "向阳区", "和平区",
             "红旗区", "新华区", "长安区", "中心区", "白云区"}
# Words that introduce a location field; dropped before matching.
_LABEL_RE = re.compile(r"^(?:商品|宝贝|货品)?(?:原产地|产地|发货地|所在地|发货|地址|产区|来自|位于|寄出地|货源地|生产地|"
                       r"出产地|籍贯|地区|城市|省份|原产国|产国|国家|ip属地|ip)\s*[:：]?\s*", re.I)
_COUNTRY_RE = re.compile(r"中华人民共和国|中国大陆|中国|大陆|国内")
_SEP_RE = re.compile(r"[\s·•・,，、/|｜\-—–_>＞»:：;；()（）\[\]【】<>《》\"'“”‘’.。]+")
# District names that are also ordinary address words: only a place right after another place.
_GENERIC = {"东区", "西区", "南区", "北区", "中区", "城区", "郊区", "矿区", "新区", "市中区", "城中区", "城东区",
            "城西区", "城北区", "城南区", "新城区", "老城区", "城关区", "中心区", "开发区", "高新区", "市区"}
# A short name followed by one of these is a town, road or building, not the division.
_NOT_DIVISION_AFTER = ("镇", "乡", "街道", "街", "村", "路", "大道", "巷", "号", "社区", "小区", "广场", "公园",
                       "大学", "大厦", "商城", "市场", "花园", "机场", "火车站")


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    level: int  # 1 province, 2 city, 3 county
    parent: str

    @property
    def prefix(self) -> str:
        """The code prefix shared by everything inside this division."""
        return self.code[: 2 * self.level] if self.level < 3 else self.code


@dataclass(frozen=True)
class Resolution:
    """What a location text resolved to.

    status: 'resolved' (code/name/level set), 'ambiguous' (candidates set), 'foreign' (a country or
    region outside China: ``name`` is its Chinese name, outside every Chinese region), 'unresolved'
    or 'empty'.
    reason: zh-CN, why it is not resolved (or a note on a resolved one, e.g. an ignored part).
    """
    text: str
    status: str
    code: str | None = None
    name: str | None = None
    level: int | None = None
    reason: str | None = None
    candidates: tuple[str, ...] = ()
    matched: tuple[str, ...] = ()  # the place words found in the text

    @property
    def ok(self) -> bool:
        return self.status == "resolved"

    def line(self) -> str:
        """``CODE<TAB>full name`` or ``?<TAB>reason`` (the ``markwatch geo resolve`` format)."""
        return f"{self.code}\t{self.name}" if self.ok else f"?\t{self.reason}"


@dataclass(slots=True)
class _Mention:
    word: str
    start: int
    cands: dict[str, int] = field(default_factory=dict)  # code -> penalty


def _strip_short(name: str) -> str | None:
    """The name without its administrative suffix (and ethnic designations), or None."""
    if name in _NO_SHORT:
        return None
    for suf in _SUFFIXES:
        if name.endswith(suf) and len(name) > len(suf):
            stem = name[: -len(suf)]
            if suf.startswith("自治") or suf.endswith("自治区"):
                prev = None
                while stem != prev:
                    prev = stem
                    stem = _NATION_RE.sub("", stem) if len(stem) > 2 else stem
            return stem if len(stem) >= 2 else None
    return None


class Gazetteer:
    """Divisions by code, and every way of writing them, for scanning text."""

    def __init__(self, divisions_file: Path = DIVISIONS_FILE, aliases_file: Path = ALIASES_FILE,
                 countries_file: Path = COUNTRIES_FILE):
        self.by_code: dict[str, Division] = {}
        self.old_codes: dict[str, str] = {}
        self.zones: dict[str, str] = {}  # NBS statistical zone (开发区, 园区) -> the city it lies in
        # word -> {code: kind}; kind 0 = full name or recorded alias, 1 = short name
        self.words: dict[str, dict[str, int]] = {}
        for row in _read_tsv(divisions_file):
            code, name, shorts, level, parent = row[0], row[1], row[2], int(row[3]), row[4]
            if "直辖" in name:  # 省直辖县级行政区划: a bookkeeping row, not a place
                continue
            self.by_code[code] = Division(code, name, level, parent)
            self._add(name, code, 0)
            for s in {*(shorts.split("/") if shorts else ()), _strip_short(name)}:
                if s and len(s) >= 2 and s != name and name not in _NO_SHORT:
                    self._add(s, code, 1)
        for row in _read_tsv(aliases_file):
            alias, code, old = row[0], row[1], row[2] if len(row) > 2 else ""
            if code not in self.by_code:
                continue
            self._add(alias, code, 0)
            if "statistical zone" in (row[3] if len(row) > 3 else ""):
                self.zones[t2s(alias)] = code
            s = _strip_short(alias)
            if s and s not in self.words:
                self._add(s, code, 1)
            if old:
                self.old_codes[old] = code
        self._automaton = ahocorasick.Automaton()
        for w in self.words:
            self._automaton.add_word(w, w)
        self._automaton.make_automaton()
        self.countries: dict[str, str] = {}  # Chinese name -> ISO 3166 / UN M.49 code
        if countries_file.exists():
            for row in _read_tsv(countries_file):
                for n in row[1].split("/"):
                    if len(n) >= 2:
                        self.countries[t2s(n)] = row[0]
        for w in _FOREIGN_WORDS:
            self.countries.setdefault(w, "")
        self._foreign = ahocorasick.Automaton()
        for w in self.countries:
            self._foreign.add_word(w, w)
        self._foreign.make_automaton()

    def foreign_words(self, text: str, taken: list[tuple[int, int]]) -> list[str]:
        """Country / region names outside China in `text`, leaving out those overlapping a
        Chinese place word (蒙古 inside 内蒙古); `taken` are (start, end) spans of place words."""
        found: dict[int, str] = {}
        for end, w in self._foreign.iter(text):
            start = end - len(w) + 1
            if any(a <= end and start < b for a, b in taken):
                continue
            if start not in found or len(w) > len(found[start]):
                found[start] = w
        return [found[k] for k in sorted(found)]

    def _add(self, word: str, code: str, kind: int) -> None:
        word = t2s(word)  # text is converted the same way (opencc turns 乾 into 干, say)
        d = self.words.setdefault(word, {})
        d[code] = min(kind, d.get(code, kind))

    # --- codes -------------------------------------------------------------------------
    def get(self, code: str) -> Division | None:
        return self.by_code.get(self.current_code(code))

    def current_code(self, code: str) -> str:
        """A code as listed today (old codes of renamed or merged units map to the current one)."""
        code = str(code).strip()
        return code if code in self.by_code else self.old_codes.get(code, code)

    def ancestors(self, code: str) -> list[Division]:
        """The division and its parents, province first."""
        out = []
        d = self.by_code.get(code)
        while d is not None and len(out) < 3:
            out.append(d)
            if d.level == 1:
                break
            # counties directly under a province (省直辖县级) have a bookkeeping parent: skip it
            d = self.by_code.get(d.parent) or self.by_code.get(d.code[:2] + "0000")
        return out[::-1]

    def full_name(self, code: str) -> str:
        parts: list[str] = []
        for d in self.ancestors(code):
            if not parts or parts[-1] != d.name:
                parts.append(d.name)
        return "".join(parts)

    # --- scanning ----------------------------------------------------------------------
    def scan(self, chunk: str) -> list[tuple[int, str]]:
        """Non-overlapping place words in a chunk: most characters covered, then fewest words.

        Linear in the chunk's length (dynamic programming with back-pointers). A generic district
        name (东区, 城区, 郊区 …) counts only at the start of the chunk or right after another place
        word: in 某某商务园东区 it is part of a street address, not 攀枝花市东区."""
        hits: dict[int, list[str]] = {}
        for end, w in self._automaton.iter(chunk):
            start = end - len(w) + 1
            kinds = self.words[w]
            if min(kinds.values()) == 1:  # short name only: not when a town/road/… follows
                after = chunk[end + 1:end + 5]
                if after.startswith(_NOT_DIVISION_AFTER) and not any(
                        after.startswith(s) for s in ("市", "县", "区")):
                    continue
                # …湖南区 in 独墅湖南区: a short name plus a suffix that makes no division is part
                # of another name
                if after[:1] in ("区", "县", "市") and start > 0 and w + after[:1] not in self.words:
                    continue
            hits.setdefault(start, []).append(w)
        ends = {s + len(w) for s, ws in hits.items() for w in ws}
        for start in list(hits):
            kept = [w for w in hits[start] if w not in _GENERIC or start == 0 or start in ends]
            if kept:
                hits[start] = kept
            else:
                del hits[start]
        n = len(chunk)
        # best[i] = (covered, -words) from position i; pick[i] = word taken at i (None: skip a char)
        best: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        pick: list[str | None] = [None] * (n + 1)
        for i in range(n - 1, -1, -1):
            cand, choice = best[i + 1], None
            for w in hits.get(i, ()):
                nxt = best[i + len(w)]
                c = (nxt[0] + len(w), nxt[1] - 1)
                if c > cand:
                    cand, choice = c, w
            best[i], pick[i] = cand, choice
        out, i = [], 0
        while i < n:
            w = pick[i]
            if w is None:
                i += 1
            else:
                out.append((i, w))
                i += len(w)
        return out

    def is_within(self, code: str, region_codes) -> bool:
        code = self.current_code(code)
        for r in region_codes:
            d = self.get(r)
            prefix = d.prefix if d else _prefix_of(str(r))
            if code.startswith(prefix):
                return True
        return False


def _prefix_of(code: str) -> str:
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def _read_tsv(path: Path) -> list[list[str]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        header = None
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if header is None:
                header = parts
                continue
            rows.append(parts + [""] * (len(header) - len(parts)))
    return rows


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    return Gazetteer()


def _normalise(text: str) -> str:
    t = t2s(unicodedata.normalize("NFKC", text or "")).strip().casefold()
    t = _LABEL_RE.sub("", t)
    return _COUNTRY_RE.sub(" ", t)


def _lca(codes: set[str], gz: Gazetteer) -> str | None:
    chains = [[d.code for d in gz.ancestors(c)] for c in codes]
    common = None
    for level_codes in zip(*chains):
        if len(set(level_codes)) == 1:
            common = level_codes[0]
        else:
            break
    return common


MAX_MENTIONS = 6


@lru_cache(maxsize=65536)
def resolve_location(text: str) -> Resolution:
    """Resolve a free-text location to a division; see the module docstring."""
    gz = gazetteer()
    raw = text or ""
    norm = _normalise(raw[:MAX_LOCATION_CHARS])
    if not _SEP_RE.sub("", norm):
        return Resolution(raw, "empty", reason="未填写地点" if not raw.strip() else f"'{raw.strip()}'没有具体地名")
    mentions: list[_Mention] = []
    pos = 0
    spans: list[tuple[int, int]] = []
    joined = " ".join(_SEP_RE.split(norm))
    for chunk in _SEP_RE.split(norm):
        for start, w in gz.scan(chunk):
            kinds = gz.words[w]
            low = min(gz.by_code[c].level for c in kinds)
            m = _Mention(w, pos + start)
            for c, k in kinds.items():
                m.cands[c] = 2 * (k + gz.by_code[c].level - low)
                if k and gz.by_code[c].name.endswith("县"):
                    m.cands[c] += 1  # 伊宁 = 伊宁市 rather than 伊宁县 (same short name, same level)
            mentions.append(m)
            spans.append((pos + start, pos + start + len(w)))
        pos += len(chunk) + 1
    abroad = gz.foreign_words(joined, spans)
    if abroad and not mentions:
        named = [w for w in abroad if gz.countries.get(w)]
        where = "、".join(dict.fromkeys(named or abroad))
        return Resolution(raw, "foreign", name=named[0] if named else None,
                          reason=f"'{raw.strip()}'是境外（{where}），不在中国境内", matched=tuple(abroad))
    if abroad and mentions and any(gz.countries.get(w) for w in abroad):
        return Resolution(raw, "unresolved", reason=f"'{raw.strip()}'同时写了境外（{'、'.join(abroad)}）和国内地名",
                          matched=tuple(m.word for m in mentions) + tuple(abroad))
    if not mentions:
        return Resolution(raw, "unresolved", reason=f"'{raw.strip()}'中没有可识别的省/市/县名称")
    mentions = mentions[:MAX_MENTIONS]
    matched = tuple(m.word for m in mentions)
    # Try each candidate as the deepest unit: every mention then takes a candidate on that
    # unit's line of descent, or is ignored. Best: fewest ignored words, most distinct units
    # named (吉林 吉林 = province + city), then the smallest penalty (full names over short ones,
    # higher levels over lower ones for the same word: 海南 = the province).
    best_key = None
    results: dict[str, tuple] = {}
    for deep in {c for m in mentions for c in m.cands}:
        line = {d.code for d in gz.ancestors(deep)}
        options = []
        for m in mentions:
            opts = [(c, p) for c, p in m.cands.items() if c in line]
            options.append(opts or [(None, 0)])
        for combo in product(*options):
            codes = [c for c, _ in combo if c is not None]
            if deep not in codes:
                continue
            skips = sum(1 for c, _ in combo if c is None)
            key = (skips, -len(set(codes)), sum(p for _, p in combo))
            if best_key is None or key < best_key:
                best_key, results = key, {deep: combo}
            elif key == best_key:
                results.setdefault(deep, combo)
    if not results:  # cannot happen (a single word always nests with itself), but be safe
        return Resolution(raw, "unresolved", reason=f"'{raw.strip()}'无法识别", matched=matched)
    skipped = [m.word for m, (c, _) in zip(mentions, next(iter(results.values()))) if c is None]
    if len(results) == 1:
        code = next(iter(results))
        d = gz.by_code[code]
        note = f"忽略了与其他地名不一致的'{'、'.join(skipped)}'" if skipped else None
        return Resolution(raw, "resolved", code, gz.full_name(code), d.level, note, matched=matched)
    cands = tuple(sorted(results))
    names = "、".join(gz.full_name(c) for c in cands[:5]) + ("等" if len(cands) > 5 else "")
    if best_key[0] > 0 and len(mentions) > 1:
        return Resolution(raw, "unresolved", reason=f"'{raw.strip()}'中的地名互相矛盾（{names}）",
                          candidates=cands, matched=matched)
    common = _lca(set(cands), gz)
    if common is not None:
        d = gz.by_code[common]
        return Resolution(raw, "resolved", common, gz.full_name(common), d.level,
                          f"更具体的地点不确定：{names}", candidates=cands, matched=matched)
    word = "、".join(dict.fromkeys(matched))
    return Resolution(raw, "ambiguous", reason=f"'{word}'有多处同名：{names}，未写明省/市",
                      candidates=cands, matched=matched)


def is_within(code: str, region_codes) -> bool:
    """True if the division `code` lies inside (or is) one of `region_codes` (prefix containment)."""
    return gazetteer().is_within(code, region_codes)


def full_name(code: str) -> str:
    gz = gazetteer()
    return gz.full_name(gz.current_code(code))


def relation(res: Resolution, region_codes) -> str:
    """'inside', 'outside' or 'undetermined': where a resolved (or ambiguous) location lies
    relative to a region. A location coarser than the region that contains it (a city for a
    county-level region) is undetermined; ambiguous candidates all on one side decide."""
    gz = gazetteer()
    region = [gz.current_code(r) for r in region_codes]
    if res.status == "foreign":
        return "outside"  # every GI region here is a Chinese division
    if not region:
        return "undetermined"
    # a resolved province with ambiguous counties below it (江苏 鼓楼) is judged by its candidates
    codes = list(res.candidates) if res.candidates else [res.code] if res.ok else []
    if not codes:
        return "undetermined"
    verdicts = set()
    for c in codes:
        if gz.is_within(c, region):
            verdicts.add("inside")
        elif any(gz.is_within(r, [c]) for r in region):
            verdicts.add("undetermined")  # the location contains (part of) the region
        else:
            verdicts.add("outside")
    return verdicts.pop() if len(verdicts) == 1 else "undetermined"


def check_admin_code(code: str) -> str | None:
    """None if `code` is a GB/T 2260 division the gazetteer knows (an old code of a renamed unit
    counts), else an English error message naming the edition."""
    gz = gazetteer()
    if gz.get(str(code).strip()) is None:
        return (f"admin code {code} is not a division in the gazetteer (NBS 2023 codes, "
                f"config/data/admin_divisions.tsv): check it with 'markwatch geo show {code}'")
    return None


def check_region_place(place: str) -> tuple[str | None, str | None]:
    """Resolve a GI region place exactly: ``(code, None)`` or ``(None, error)``.

    A region is never silently widened: the place must name one division completely. Rejected,
    with an English message naming what it resolved to: text left over beside the division
    names (苏州工业园区 → only 苏州市; 五常市某镇), an NBS statistical zone (a 开发区 or 园区 is
    not a division), an ambiguous or contradictory name, a place abroad, nothing recognised.
    """
    gz = gazetteer()
    res = resolve_location(place)
    if res.status == "foreign":
        return None, f"place {place!r} is outside China ({res.name or '境外'})"
    if not res.ok:
        return None, f"place {place!r} does not resolve to one division: {res.reason}"
    if res.reason:  # an ignored word, or a coarser common ancestor of several candidates
        return None, (f"place {place!r} does not resolve exactly ({res.reason}); "
                      f"give the division's full name or its admin code")
    zones = [w for w in res.matched if w in gz.zones]
    if zones:
        return None, (f"place {place!r} is a statistical zone (开发区/园区) inside {res.name}, not a "
                      f"division: list the districts or counties it covers, or admin codes")
    norm = _normalise(place)
    left = _SEP_RE.sub("", norm)
    for w in res.matched:
        left = left.replace(w, "", 1)
    if left:
        return None, (f"place {place!r} only resolves to its parent division {res.name} "
                      f"({left!r} is not a county-level or higher division); give divisions or admin codes")
    return res.code, None
