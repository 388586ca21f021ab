"""Build ``config/data/similar_goods.json`` from the text of the CNIPA 类似商品和服务区分表.

Usage (build time only; the product reads the shipped JSON)::

    .venv/bin/python config/data/similar_goods_build.py [../shared/reference/similar-goods/qfb-ncl12.txt]

Input: the plain-text transcription of the table, NCL 12th edition (see the README beside it:
public repository lanbing1989/Intelligent-retrieval-of-Chinese-trademark-commodity-and-service-
classification, file ``45.txt``, MIT). Layout, per class::

    第二十五类                      class header
    <heading>, 【注释】 …           class heading and explanatory note (skipped)
    2507鞋                          类似群 group: four-digit code + name
    (一)鞋*250003,浴室凉鞋250004,…  a part of the group (label optional): items ``name[*]code``,
                                    ``※`` starts the CNIPA non-standard items (codes ``C…``)
    注：1.…；2.…                    notes of the group (may follow the last item on the same line)

Output shape (JSON)::

    {"meta": {...source, edition, build date, counts},
     "classes": {"25": "服装，鞋，帽"},
     "groups": {"2507": {"class": 25, "name": "鞋", "parts": [[item index, ...], ...],
                         "parts_dissimilar": false, "notes": ["…"]}},
     "items": [["运动鞋", "250132", "2507", 1], ...],        # name, code, group, part (1-based)
     "relations": [{"from": "2501", "from_part": null, "from_items": ["童装"],
                    "to": "2502", "to_part": null, "to_items": [], "kind": "similar"}, ...],
     "cross_group_items": {"服装": ["2501", "2502", ...]}}

Relation kinds: ``similar`` (注 says 类似), ``cross_search`` (交叉检索 with a current group),
``cross_search_old`` (交叉检索 with a group of an older edition: kept for reference, not used).

Known transcription flaws handled: letter O for zero in codes, ASCII commas, notes glued to the
last item, parts without their (一) label, two group headings on one line. Lines that cannot be parsed are reported on stderr with
their line number and skipped.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SRC = HERE.parents[1] / ".." / "shared" / "reference" / "similar-goods" / "qfb-ncl12.txt"
OUT = HERE / "similar_goods.json"

_CN_NUM = {c: i for i, c in enumerate("零一二三四五六七八九十", 0)}


def cn_int(s: str) -> int:
    """Chinese numeral 1-99 (一, 十二, 二十五, 四十五) to int."""
    if "十" in s:
        a, _, b = s.partition("十")
        return (_CN_NUM[a] if a else 1) * 10 + (_CN_NUM[b] if b else 0)
    return _CN_NUM[s]


CLASS_RE = re.compile(r"^第([一二三四五六七八九十]+)类$")
GROUP_RE = re.compile(r"^(\d{4})(\D.*)$")
PART_RE = re.compile(r"^[（(]([一二三四五六七八九十]+)[)）]")
ITEM_RE = re.compile(r"[,，]?\s*※?\s*([^,，※].*?)\s*(\*?)\s*(C?[0-9O]{6})(?=\s*(?:,|，|$))")
PART_REF = r"(?:第[（(]([一二三四五六七八九十]+)[)）]部分)?"
TARGET_RE = re.compile(r"(\d{4})" + PART_REF + r"([^\d]*)")
CROSS_GROUP_RE = re.compile(r"([^,，(（)）]+?(?:[（(][^)）\d]*[)）])?)[（(]([\d,，第()（）一二三四五六七八九十部分]+)[)）]")


def _split_notes(text: str) -> list[str]:
    """Note text after 注： into clauses (numbered 1. 2. …, separated by ；)."""
    out = []
    for s in re.split(r"[；;]\s*|(?:^|(?<=[。；;]))\s*\d+\.", text):
        s = re.sub(r"^\s*\d+\.", "", s or "").strip().rstrip("。").strip()
        if s:
            out.append(s)
    return out


def _names(s: str) -> list[str]:
    return [n.strip() for n in re.split(r"[,，]", s) if n.strip()]


def parse_relation(group: str, clause: str) -> list[dict]:
    """Relations stated by one note clause of ``group`` (empty when the clause states none)."""
    if "与" not in clause or not re.search(r"类似|交叉检索", clause):
        return []
    subj, _, rest = clause.partition("与")
    subj = subj.strip()
    from_part = None
    from_items: list[str] = []
    m = re.match(r"^(?:本类似群)?" + PART_REF + r"$", subj.replace("本类似群", "", 1) if subj.startswith("本类似群") else subj)
    if subj in ("本类似群", ""):
        pass
    elif m and m.group(1):
        from_part = cn_int(m.group(1))
    else:
        pm = re.match(r"^(?:本类似群)?第[（(]([一二三四五六七八九十]+)[)）]部分(.*)$", subj)
        if pm:
            from_part = cn_int(pm.group(1))
            from_items = _names(pm.group(2))
        else:
            from_items = _names(subj)
    out: list[dict] = []
    # rest: "<targets>类似[,与<targets>交叉检索]" or "<targets>交叉检索"
    for seg in re.finditer(r"(.*?)(类似|交叉检索)(?:[,，]与|$)", rest):
        body, verb = seg.group(1), seg.group(2)
        old = bool(re.search(r"第[一二三四五六七八九十]+版及以前版本", body))
        kind = "similar" if verb == "类似" else ("cross_search_old" if old else "cross_search")
        body = re.sub(r"第[一二三四五六七八九十]+版及以前版本", "", body)
        for t in TARGET_RE.finditer(body):
            out.append({"from": group, "from_part": from_part, "from_items": from_items,
                        "to": t.group(1), "to_part": cn_int(t.group(2)) if t.group(2) else None,
                        "to_items": _names(t.group(3)), "kind": kind})
    return out


def parse(text: str, warn=lambda msg: print(msg, file=sys.stderr)) -> dict:
    classes: dict[str, str] = {}
    groups: dict[str, dict] = {}
    items: list[list] = []
    relations: list[dict] = []
    cross: dict[str, list[str]] = {}
    cur_class = 0
    want_heading = False
    in_intro = False
    g: dict | None = None
    gcode = ""
    lines = text.splitlines()
    for ln, raw in enumerate(lines, 1):
        line = raw.strip().replace("\ufeff", "")
        if not line:
            continue
        m = CLASS_RE.match(line)
        if m:
            cur_class = cn_int(m.group(1))
            want_heading, in_intro, g = True, True, None
            continue
        if want_heading:
            classes[str(cur_class)] = line.rstrip("。")
            want_heading = False
            continue
        m = GROUP_RE.match(line)
        if m and cur_class and int(m.group(1)[:2]) == cur_class and not ITEM_RE.search(line):
            gcode = m.group(1)
            name = re.split(r"\d{4}", m.group(2))[0].strip()  # two headings run together (4008…4009剥制…)
            g = {"class": cur_class, "name": name, "parts": [], "parts_dissimilar": False, "notes": []}
            if gcode in groups:
                warn(f"{ln}: group {gcode} repeated; kept the first")
                g = None
                continue
            groups[gcode] = g
            in_intro = False
            continue
        if in_intro or g is None:
            continue
        note = ""
        nm = re.search(r"注[：:]", line)
        if nm:
            line, note = line[:nm.start()].strip(), line[nm.end():]
        elif re.match(r"^\d+\.\D", line) and g["notes"]:
            line, note = "", line  # a numbered note continued on its own line
        if line:
            pm = PART_RE.match(line)
            part_no = cn_int(pm.group(1)) if pm else len(g["parts"]) + 1
            body = line[pm.end():] if pm else line
            found = ITEM_RE.findall(body)
            if not found:
                if not note and not body.startswith("注"):
                    # a continuation of the previous notes (notes wrap onto several lines)
                    if g["notes"]:
                        note = body
                    else:
                        warn(f"{ln}: group {gcode}: no goods item in line: {body[:60]!r}")
            else:
                while len(g["parts"]) < part_no:
                    g["parts"].append([])
                for name, _star, code in found:
                    code = code.replace("O", "0")
                    g["parts"][part_no - 1].append(len(items))
                    items.append([name.strip().lstrip("※").strip(), code, gcode, part_no])
        if note:
            for clause in _split_notes(note):
                g["notes"].append(clause)
                if re.search(r"各部分之间(?:商品|服务)?不类似|各自然段间互不类似", clause):
                    g["parts_dissimilar"] = True
                    continue
                cm = re.match(r"^跨类似群保护(?:商品|服务)：(.*)$", clause)
                if cm:
                    for name, codes in CROSS_GROUP_RE.findall(cm.group(1)):
                        cross.setdefault(name.strip(" ,，"), sorted(set(re.findall(r"\d{4}", codes))))
                    continue
                relations.extend(parse_relation(gcode, clause))
    return {"classes": classes, "groups": groups, "items": items, "relations": relations,
            "cross_group_items": cross}


def build(src: Path, out: Path = OUT) -> dict:
    data = parse(src.read_text(encoding="utf-8"))
    meta = {
        "title": "类似商品和服务区分表 (CNIPA similar goods and services table)",
        "edition": "based on the Nice Classification (NCL) 12th edition",
        "source": "public repository lanbing1989/Intelligent-retrieval-of-Chinese-trademark-commodity-"
                  "and-service-classification, file 45.txt at commit 93736f1 (MIT), a transcription "
                  "of the official CNIPA table",
        "built_by": "config/data/similar_goods_build.py",
        "build_date": _dt.date.today().isoformat(),
        "counts": {"classes": len(data["classes"]), "groups": len(data["groups"]),
                   "items": len(data["items"]), "relations": len(data["relations"])},
    }
    doc = {"meta": meta, **data}
    out.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    return meta


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SRC
    print(json.dumps(build(src), ensure_ascii=False, indent=1))
