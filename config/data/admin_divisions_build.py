"""Rebuild ``admin_divisions.tsv`` and ``admin_divisions_aliases.tsv`` (run by hand, not at run time).

Sources (both bundled in PyPI packages, no network needed once the wheels are at hand):
- jionlp 1.5.31 (Apache-2.0), ``jionlp/dictionary/china_location.zip`` (snapshot dated 2025-11-27):
  province / city / county names, GB/T 2260 codes and short names; and
  ``china_location_change.txt``: renames and mergers approved 2002-2023 (old name => new unit).
- cpca 0.5.5 (MIT), ``cpca/resources/adcodes.csv``: an older (c. 2015) snapshot, used only for the
  old names and old codes of units that were renamed or merged since (郫县 → 郫都区, 章丘市 → 章丘区).
- CODE_FIXES below: units re-designated 2020-2021 whose code in the jionlp snapshot is still the old
  one; the codes are those the Ministry of Civil Affairs published (民政部 县级以上行政区划代码).

usage: python config/data/admin_divisions_build.py JIONLP_DIR CPCA_ADCODES_CSV
"""
from __future__ import annotations

import csv
import io
import re
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (stale code in the snapshot, MCA code)
CODE_FIXES = {
    "新津区": ("510132", "510118"), "海门区": ("320684", "320614"), "蓬莱区": ("370684", "370614"),
    "繁昌区": ("340222", "340212"), "湾沚区": ("340221", "340210"), "任泽区": ("130526", "130505"),
    "南和区": ("130527", "130506"), "偃师区": ("410381", "410307"), "孟津区": ("410322", "410308"),
    "沙县区": ("350427", "350405"), "龙海区": ("350681", "350604"), "水城区": ("520221", "520204"),
}
# Units the snapshot still lists beside their successor.
STALE = {"澄江县"}
# Old names that neither source links to the current unit by name.
MANUAL_ALIASES = [
    ("内蒙", "150000", "common abbreviation of 内蒙古自治区"),
    ("澄江县", "530481", "old name (澄江县 → 澄江市, 2019)"),
    ("郫县", "510117", "old name (郫县 → 郫都区, 2016)"),
    ("襄樊", "420600", "old name (襄樊市 → 襄阳市, 2010)"),
    ("襄樊市", "420600", "old name (襄樊市 → 襄阳市, 2010)"),
    ("思茅市", "530800", "old name (思茅市 → 普洱市, 2007)"),
    ("鄞县", "330212", "old name (鄞县 → 鄞州区, 2002)"),
    ("绍兴县", "330603", "old name (绍兴县 → 柯桥区, 2013)"),
    ("衢县", "330803", "old name (衢县 → 衢江区, 2001)"),
    ("蓟县", "120119", "old name (蓟县 → 蓟州区, 2016)"),
    ("开县", "500154", "old name (开县 → 开州区, 2016)"),
    ("楚州", "320803", "old name (楚州区 → 淮安区, 2012)"),
    ("楚州区", "320803", "old name (楚州区 → 淮安区, 2012)"),
    ("胶南", "370211", "merged (胶南市 → 黄岛区, 2012)"),
    ("胶南市", "370211", "merged (胶南市 → 黄岛区, 2012)"),
    ("唐海", "130209", "old name (唐海县 → 曹妃甸区, 2012)"),
    ("唐海县", "130209", "old name (唐海县 → 曹妃甸区, 2012)"),
    ("崇文区", "110101", "merged (崇文区 → 东城区, 2010)"),
    ("宣武区", "110102", "merged (宣武区 → 西城区, 2010)"),
    ("闸北区", "310106", "merged (闸北区 → 静安区, 2015)"),
    ("卢湾区", "310101", "merged (卢湾区 → 黄浦区, 2011)"),
    ("南汇区", "310115", "merged (南汇区 → 浦东新区, 2009)"),
    ("万盛区", "500110", "merged (万盛区 → 綦江区, 2011)"),
    ("双桥区", "500111", "merged (双桥区 → 大足区, 2011)"),
    ("茂港区", "440904", "merged (茂港区 → 电白区, 2014)"),
    ("长岛", "370614", "merged (长岛县 → 蓬莱区, 2020)"),
    ("长岛县", "370614", "merged (长岛县 → 蓬莱区, 2020)"),
]

LEVEL = {0: 1, 1: 2, 2: 3}


def read_snapshot(jionlp_dir: Path):
    z = zipfile.ZipFile(jionlp_dir / "dictionary" / "china_location.zip")
    text = z.read("china_location.txt").decode("utf-8")
    rows, pseudo = [], []
    parents: dict[int, str] = {}
    for line in text.splitlines():
        depth = len(line) - len(line.lstrip("\t"))
        if depth > 2:
            continue
        parts = line.strip().split("\t")
        if len(parts) != 3:  # Taiwan's districts come without codes
            continue
        name, code, short = parts
        if name in STALE:
            continue
        if name in CODE_FIXES and code == CODE_FIXES[name][0]:
            code = CODE_FIXES[name][1]
        parent = parents.get(depth - 1, "") if depth else ""
        parents[depth] = code
        if depth and code == parent:  # a municipality repeated as its own city; HK/Macao districts
            continue
        if depth == 2 and (("70" <= code[4:] <= "79" and not name.endswith(("市", "县", "旗")))
                           or re.search(r"(开发区|示范区|管理区|园区|实验区)$", name) or name == "天府新区"):
            # NBS statistical units (development zones): not GB/T 2260 divisions; alias to the city
            pseudo.append((name, parent))
            continue
        rows.append((code, name, short, LEVEL[depth], parent))
    return rows, pseudo


def main(argv: list[str]) -> int:
    jionlp_dir, cpca_csv = Path(argv[0]), Path(argv[1])
    rows, pseudo = read_snapshot(jionlp_dir)
    by_code = {r[0]: r for r in rows}
    names: dict[str, list[str]] = {}
    for r in rows:
        names.setdefault(r[1], []).append(r[0])
    aliases: list[tuple[str, str, str]] = []
    for name, code in pseudo:
        if code in by_code:
            aliases.append((name, code, "statistical zone inside this city (not a GB/T 2260 unit)"))
    # Renames and mergers 2002-2023.
    for line in (jionlp_dir / "dictionary" / "china_location_change.txt").read_text(encoding="utf-8").splitlines():
        if "=>" not in line:
            continue
        old, new = line.split("=>")
        old_p, new_p = old.split("\t"), new.split("\t")
        date = old_p[0]
        old_name = old_p[-2] if len(old_p) == 8 else old_p[-1]
        if len(old_p) == 6:
            old_name = old_p[4]
        new_name = new_p[-1]
        cands = [c for c in names.get(new_name, []) if c[:2] == code_prefix_guess(new_p, names)]
        if len(cands) == 1 and old_name != new_name:
            aliases.append((old_name, cands[0], f"old name ({old_name} → {new_name}, {date[:4]})"))
    # Older names from cpca's c. 2015 snapshot.
    with cpca_csv.open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            code, name = rec["adcode"][:6], rec["name"]
            if name == "市辖区" or code.endswith("0000") or "直辖" in name:
                continue
            cur = by_code.get(code)
            if cur and cur[1] == name:
                continue
            if name in names and any(c[:4] == code[:4] for c in names[name]):
                continue
            stem = re.sub(r"(市|县|区)$", "", name)
            if len(stem) < 2:
                continue
            same = [r[0] for r in rows if r[0][:4] == code[:4] and r[0] != code[:4] + "00"
                    and re.sub(r"(市|县|区)$", "", r[1]) == stem]
            old_level = 2 if code.endswith("00") else 3
            if not same:
                same = [r[0] for r in rows if r[0][:2] == code[:2] and r[3] >= old_level
                        and re.sub(r"(市|县|区)$", "", r[1]) == stem]
            if len(same) == 1:
                aliases.append((name, same[0], f"old name ({name}, code {code}) → {by_code[same[0]][1]}"))
            elif cur and cur[1] != name:
                aliases.append((name, code, f"old name ({name}) → {cur[1]}"))
    aliases.extend(MANUAL_ALIASES)
    # Attach the old code where cpca's snapshot knows the old name (same province).
    old_codes: dict[str, list[str]] = {}
    with cpca_csv.open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            old_codes.setdefault(rec["name"], []).append(rec["adcode"][:6])
    seen = set()
    uniq = []
    for a in aliases:
        if a[0] in seen or a[0] in names:
            continue
        seen.add(a[0])
        uniq.append(a)
    head = ("# China's administrative divisions, province / city / county (GB/T 2260 codes).\n"
            "# Source: jionlp 1.5.31 (Apache-2.0) dictionary/china_location.zip, snapshot 2025-11-27,\n"
            "# with the 2020-2021 district codes corrected to the MCA list (see admin_divisions_build.py).\n"
            "# Built 2026-11-21 by config/data/admin_divisions_build.py. level: 1 province, 2 city, 3 county.\n")
    out = io.StringIO()
    out.write(head)
    out.write("code\tname\tshort\tlevel\tparent\n")
    for r in sorted(rows):
        out.write("\t".join(map(str, r)) + "\n")
    (HERE / "admin_divisions.tsv").write_text(out.getvalue(), encoding="utf-8")
    out = io.StringIO()
    out.write("# Former names and statistical zones, mapped to the current unit (GB/T 2260 code).\n"
              "# Sources: jionlp 1.5.31 china_location_change.txt (2002-2023), cpca 0.5.5 adcodes.csv (c. 2015),\n"
              "# and MANUAL_ALIASES in admin_divisions_build.py. Built 2026-11-21.\n")
    out.write("alias\tcode\told_code\tnote\n")
    for a in sorted(uniq):
        olds = [c for c in old_codes.get(a[0], []) if c[:2] == a[1][:2] and c != a[1] and c not in by_code]
        out.write("\t".join((a[0], a[1], olds[0] if len(olds) == 1 else "", a[2])) + "\n")
    (HERE / "admin_divisions_aliases.tsv").write_text(out.getvalue(), encoding="utf-8")
    print(f"{len(rows)} divisions, {len(uniq)} aliases")
    return 0


def code_prefix_guess(new_p: list[str], names: dict[str, list[str]]) -> str:
    """Province code prefix of the new unit, from the province name in a change record."""
    prov = new_p[0]
    codes = names.get(prov, [])
    return codes[0][:2] if codes else ""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
