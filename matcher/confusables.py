"""Confusable characters: which characters a seller can swap in for a mark's characters.

Two tables ship in ``config/data/`` (their sources are in their headers):

- ``confusables.tsv``: ``char<TAB>skeleton<TAB>layer<TAB>origin`` rows.
  ``homoglyph`` rows map letters of other scripts that render like Latin letters or digits
  (Cyrillic а, Greek ο, Cherokee Ꭺ, ...) to the ASCII character; they were derived from Unicode's
  confusables data (UTS #39 ``confusables.txt``) with :func:`generate_tsv`. ``lookalike`` rows map
  kana and CJK radicals that look like a CJK ideograph (カ→力, ロ→口, ⼈→人) and are also from
  Unicode's data. ``leet`` rows are the curated digit/symbol-for-letter swaps (N1KE, LEG0, 5AMSUNG,
  GUCCl) that Unicode's data only partly covers.
- ``xingjinzi.txt``: curated groups of visually similar CJK characters (形近字), one group per line.

Everything maps one character to one character so that folded strings keep their length (the
matcher relies on that to map a hit back onto the listing's text).
"""
from __future__ import annotations

import sys
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from config.settings import DATA_TABLES_DIR

TSV = DATA_TABLES_DIR / "confusables.tsv"
XJZ = DATA_TABLES_DIR / "xingjinzi.txt"


@dataclass
class ConfusableTables:
    homoglyph: dict[str, str] = field(default_factory=dict)  # other-script letter -> ASCII (identity-level)
    leet: dict[str, str] = field(default_factory=dict)       # ASCII digit/symbol/letter -> letter skeleton
    lookalike: dict[str, str] = field(default_factory=dict)  # CJK/kana -> representative ideograph
    # Direct look-alike pairs (not transitive): what verification accepts as 形近.
    mates: dict[str, frozenset[str]] = field(default_factory=dict)

    def look_alike(self, a: str, b: str) -> bool:
        return a == b or b in self.mates.get(a, ()) or a in self.mates.get(b, ())


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FFFF


def _read_rows(path: Path):
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) >= 3:
            yield parts[0], parts[1], parts[2]


def _groups(path: Path) -> list[list[str]]:
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        chars = [c for c in line if not c.isspace()]
        if len(chars) >= 2:
            out.append(chars)
    return out


@lru_cache(maxsize=2)
def load_confusables(tsv: str | None = None, xjz: str | None = None) -> ConfusableTables:
    t = ConfusableTables()
    for src, dst, layer in _read_rows(Path(tsv) if tsv else TSV):
        if len(src) != 1 or len(dst) != 1:
            continue
        if layer in ("homoglyph", "leet", "lookalike"):
            getattr(t, layer).setdefault(src, dst)
    # 形近字 groups: union-find over the groups and the CJK lookalike rows, one representative each.
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    mates: dict[str, set[str]] = {}

    def mate(a: str, b: str) -> None:
        mates.setdefault(a, set()).add(b)
        mates.setdefault(b, set()).add(a)

    for g in _groups(Path(xjz) if xjz else XJZ):
        for c in g[1:]:
            union(g[0], c)
        for a in g:
            for b in g:
                if a != b:
                    mate(a, b)
    for src, dst in list(t.lookalike.items()):
        mate(src, dst)
        if _is_cjk(src) and _is_cjk(dst):
            union(src, dst)
    for ch in list(parent):
        t.lookalike[ch] = find(ch)
    # kana / radical rows point at an ideograph: follow it to that ideograph's representative.
    for src, dst in list(t.lookalike.items()):
        t.lookalike[src] = find(dst)
    t.mates = {k: frozenset(v) for k, v in mates.items()}
    return t


# --- generation from Unicode's data (run by maintainers, not at run time) -----------------------

_LATIN_SCRIPTS = ("CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "LATIN", "COPTIC", "LISU",
                  "CANADIAN", "GEORGIAN", "DESERET", "OSAGE", "OLD", "CARIAN", "LYCIAN")

LEET = {
    # digits and symbols for letters (curated; UTS #39 lists 0~O and 1~l, the rest are common
    # evasions seen on marketplaces)
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b", "9": "g", "2": "z",
    "@": "a", "$": "s", "|": "i", "!": "i", "€": "e",
    # Latin letters that read as each other in capitals or in common fonts
    "l": "i", "c": "g", "q": "o", "u": "v",
}


def generate_tsv(confusables_json: str, out=sys.stdout) -> None:
    """Write confusables.tsv from a UTS #39 confusables table in JSON form (as shipped by the
    ``confusable_homoglyphs`` package, which converts Unicode's ``confusables.txt``)."""
    import json

    data = json.loads(Path(confusables_json).read_text(encoding="utf-8"))
    rows: dict[str, tuple[str, str, str]] = {}
    for ch, items in data.items():
        if len(ch) != 1 or ch.isascii():
            continue
        try:
            script = unicodedata.name(ch).split()[0]
        except ValueError:
            continue
        for it in items:
            c = it["c"]
            if len(c) != 1:
                continue
            if c.isascii() and c.isalnum() and script in _LATIN_SCRIPTS:
                # only when NFKC does not already do it
                if unicodedata.normalize("NFKC", ch).casefold() != c.casefold():
                    rows.setdefault(ch, (ch, c.casefold(), "homoglyph"))
            elif _is_cjk(c) and (script in ("KATAKANA", "HIRAGANA", "KANGXI", "CJK") or _is_cjk(ch)):
                if unicodedata.normalize("NFKC", ch) != c:
                    rows.setdefault(ch, (ch, c, "lookalike"))
    print("# Confusable characters for the text matcher (markwatch matcher/confusables.py).", file=out)
    print("# Source: Unicode UTS #39 confusables.txt (Unicode Data Files licence), via the JSON form", file=out)
    print("# shipped in the PyPI package confusable_homoglyphs 3.3.1; regenerate with", file=out)
    print("#   python -m matcher.confusables path/to/confusables.json > config/data/confusables.tsv", file=out)
    print("# 'homoglyph': letters of other scripts that render as an ASCII letter/digit (Cyrillic, Greek,", file=out)
    print("# Cherokee, ...); 'lookalike': kana / CJK radicals / variant ideographs that look like an", file=out)
    print("# ideograph; 'leet': curated digit/symbol-for-letter swaps (not from Unicode).", file=out)
    print("# Columns: char<TAB>skeleton<TAB>layer<TAB>name", file=out)
    for ch, (src, dst, layer) in sorted(rows.items()):
        print(f"{src}\t{dst}\t{layer}\t{unicodedata.name(src, '?')}", file=out)
    for src, dst in LEET.items():
        print(f"{src}\t{dst}\tleet\tcurated", file=out)


if __name__ == "__main__":
    generate_tsv(sys.argv[1])
