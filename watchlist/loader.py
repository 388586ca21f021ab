"""Load and save watchlists: YAML (the DESIGN.md contract) and CSV (word marks only).

Every problem is reported with the file, the line, the entry and the field; all problems of a
file are collected before raising, so a holder can fix a file in one go.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import Problem, WatchlistError
from .model import Enterprise, GeographicalIndication, Mark, Watchlist

CSV_FIELDS = ["enterprise_id", "enterprise_name", "mark_id", "text", "aliases", "nice_classes",
              "well_known", "reference_price", "similar_groups"]


class _LineDict(dict):
    line: int = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    d = _LineDict(loader.construct_pairs(node, deep=True))
    d.line = node.start_mark.line + 1
    return d


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_of(obj: Any, loc: tuple) -> int | None:
    """Deepest line number known along a pydantic error location."""
    line = getattr(obj, "line", None)
    cur = obj
    for part in loc:
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            break
        line = getattr(cur, "line", line)
    return line


def _entry_name(prefix: str, raw: Any, loc: tuple) -> tuple[str, str]:
    """Turn an error location into (entry, field) an officer can read."""
    entry = prefix
    if isinstance(raw, dict) and raw.get("id"):
        entry += f" (id {raw['id']})"
    cur = raw
    field = "-"
    i = 0
    while i < len(loc):
        part = loc[i]
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        if isinstance(part, str) and isinstance(nxt, int) and part in ("marks", "authorized_sellers", "authorized_users"):
            try:
                cur = cur[part][nxt]
            except (KeyError, IndexError, TypeError):
                cur = None
            entry += f" > {part}[{nxt}]"
            if isinstance(cur, dict) and cur.get("id"):
                entry += f" (id {cur['id']})"
            i += 2
            continue
        if isinstance(part, str) and part not in ("function-after", "function-before"):
            field = part if field == "-" else f"{field}.{part}"
        elif isinstance(part, int):
            field = f"{field}[{part}]"
        i += 1
    return entry, field


_NEEDS = re.compile(r"needs '(\w+)'")


def _message(err: dict) -> str:
    msg = err.get("msg", "invalid")
    if err.get("type") == "missing":
        return "is required but missing"
    if err.get("type") == "extra_forbidden":
        return "is not a known field"
    if err.get("type") == "literal_error":
        return f"{msg} (got {err.get('input')!r})"
    return msg.removeprefix("Value error, ")


def _validate_items(file: str, raw_items: Any, key: str, model, problems: list[Problem]) -> list:
    out = []
    if raw_items is None:
        return out
    if not isinstance(raw_items, list):
        problems.append(Problem(file, getattr(raw_items, "line", None), key, key, "must be a list"))
        return out
    for i, raw in enumerate(raw_items):
        prefix = f"{key}[{i}]"
        if not isinstance(raw, dict):
            problems.append(Problem(file, None, prefix, "-", "must be a mapping"))
            continue
        try:
            out.append(model.model_validate(dict(raw)))
        except ValidationError as e:
            for err in e.errors():
                loc = tuple(p for p in err["loc"])
                entry, field = _entry_name(prefix, raw, loc)
                if field == "-" and (m := _NEEDS.search(err.get("msg", ""))):
                    field = m.group(1)
                problems.append(Problem(file, _line_of(raw, loc), entry, field, _message(err)))
    return out


def _check_ids(file: str, raw: dict, problems: list[Problem]) -> None:
    """Ids must be unique across enterprises, marks and GIs: leads name their target by id."""
    seen: dict[str, str] = {}

    def see(item: Any, where: str) -> None:
        if not isinstance(item, dict) or not item.get("id"):
            return
        ident = str(item["id"])
        if ident in seen:
            problems.append(Problem(file, getattr(item, "line", None), where, "id",
                                    f"duplicate id {ident!r} (already used by {seen[ident]})"))
        else:
            seen[ident] = where

    for i, ent in enumerate(raw.get("enterprises") or []):
        see(ent, f"enterprises[{i}] (id {ent.get('id') if isinstance(ent, dict) else '?'})")
        for j, m in enumerate((ent.get("marks") if isinstance(ent, dict) else None) or []):
            see(m, f"enterprises[{i}] > marks[{j}] (id {m.get('id') if isinstance(m, dict) else '?'})")
    for i, gi in enumerate(raw.get("geographical_indications") or []):
        see(gi, f"geographical_indications[{i}] (id {gi.get('id') if isinstance(gi, dict) else '?'})")


def _check_logo_files(file: str, wl: Watchlist, problems: list[Problem]) -> None:
    for i, ent in enumerate(wl.enterprises):
        for j, m in enumerate(ent.marks):
            if m.kind == "logo" and not wl.logo_path(m).is_file():
                problems.append(Problem(file, None, f"enterprises[{i}] (id {ent.id}) > marks[{j}] (id {m.id})",
                                        "image", f"file not found: {wl.logo_path(m)}"))


def parse_watchlist_yaml(text: str, file: str = "<watchlist>", base_dir: Path | None = None,
                         check_files: bool = True) -> Watchlist:
    try:
        raw = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise WatchlistError([Problem(file, line, "document", "-", f"not valid YAML: {getattr(e, 'problem', e)}")]) from None
    if raw is None:
        raw = _LineDict()
    if not isinstance(raw, dict):
        raise WatchlistError([Problem(file, 1, "document", "-", "must be a mapping with 'enterprises' and/or 'geographical_indications'")])
    problems: list[Problem] = []
    unknown = set(raw) - {"version", "enterprises", "geographical_indications"}
    for k in sorted(unknown):
        problems.append(Problem(file, raw.line, "document", k, "is not a known field"))
    version = raw.get("version", 1)
    if version != 1:
        problems.append(Problem(file, raw.line, "document", "version", f"unsupported version {version!r} (expected 1)"))
    ents = _validate_items(file, raw.get("enterprises"), "enterprises", Enterprise, problems)
    gis = _validate_items(file, raw.get("geographical_indications"), "geographical_indications",
                          GeographicalIndication, problems)
    wl = Watchlist(version=1, enterprises=ents, geographical_indications=gis, base_dir=base_dir)
    _check_ids(file, raw, problems)
    if check_files:
        _check_logo_files(file, wl, problems)
    if problems:
        raise WatchlistError(problems)
    return wl


def _split(v: str) -> list[str]:
    return [p.strip() for p in v.replace(",", "|").replace(";", "|").split("|") if p.strip()] if v else []


def parse_watchlist_csv(text: str, file: str = "<watchlist.csv>", base_dir: Path | None = None) -> Watchlist:
    """Word marks from CSV: one row per mark, enterprises grouped by enterprise_id."""
    reader = csv.DictReader(io.StringIO(text))
    problems: list[Problem] = []
    missing = [f for f in ("enterprise_id", "mark_id", "text") if f not in (reader.fieldnames or [])]
    if missing:
        raise WatchlistError([Problem(file, 1, "header", m, "column is required but missing") for m in missing])
    ents: dict[str, dict] = {}
    for row in reader:
        line = reader.line_num
        entry = f"row {line - 1} (mark_id {row.get('mark_id') or '?'})"
        try:
            classes = [int(c) for c in _split(row.get("nice_classes") or "")]
        except ValueError:
            problems.append(Problem(file, line, entry, "nice_classes", f"not a list of numbers: {row.get('nice_classes')!r}"))
            continue
        price_s = (row.get("reference_price") or "").strip()
        try:
            price = float(price_s) if price_s else None
        except ValueError:
            problems.append(Problem(file, line, entry, "reference_price", f"not a number: {price_s!r}"))
            continue
        wk = (row.get("well_known") or "").strip().lower() in ("1", "true", "yes", "y", "是")
        mark = {"id": (row.get("mark_id") or "").strip(), "kind": "word", "text": (row.get("text") or "").strip(),
                "aliases": _split(row.get("aliases") or ""), "nice_classes": classes, "well_known": wk,
                "reference_price": price, "similar_groups": _split(row.get("similar_groups") or "")}
        try:
            Mark.model_validate(mark)
        except ValidationError as e:
            for err in e.errors():
                field = ".".join(str(p) for p in err["loc"]) or "text"
                problems.append(Problem(file, line, entry, field, _message(err)))
            continue
        eid = (row.get("enterprise_id") or "").strip()
        if not eid:
            problems.append(Problem(file, line, entry, "enterprise_id", "is required but missing"))
            continue
        ent = ents.setdefault(eid, {"id": eid, "name": (row.get("enterprise_name") or eid).strip(), "marks": []})
        ent["marks"].append(mark)
    if problems:
        raise WatchlistError(problems)
    _check_ids(file, {"enterprises": list(ents.values())}, problems)
    wl = Watchlist(enterprises=[Enterprise.model_validate(e) for e in ents.values()], base_dir=base_dir)
    if problems:
        raise WatchlistError(problems)
    return wl


def load_watchlist(path: str | Path, check_files: bool = True) -> Watchlist:
    """Load a watchlist file (.yaml/.yml or .csv). Raises WatchlistError naming file/line/entry/field."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WatchlistError([Problem(str(p), None, "file", "-", "file not found")]) from None
    except UnicodeDecodeError as e:
        raise WatchlistError([Problem(str(p), None, "file", "-", f"not UTF-8 text ({e.reason})")]) from None
    base = p.resolve().parent
    if p.suffix.lower() == ".csv":
        return parse_watchlist_csv(text, str(p), base)
    return parse_watchlist_yaml(text, str(p), base, check_files=check_files)


def dump_watchlist_yaml(wl: Watchlist) -> str:
    data = wl.model_dump(mode="json", exclude={"base_dir"}, exclude_none=True)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def dump_watchlist_csv(wl: Watchlist) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for ent, m in wl.word_marks():
        w.writerow({"enterprise_id": ent.id, "enterprise_name": ent.name, "mark_id": m.id, "text": m.text,
                    "aliases": "|".join(m.aliases), "nice_classes": "|".join(map(str, m.nice_classes)),
                    "well_known": "true" if m.well_known else "false",
                    "reference_price": "" if m.reference_price is None else f"{m.reference_price:g}",
                    "similar_groups": "|".join(m.similar_groups)})
    return buf.getvalue()


def save_watchlist(wl: Watchlist, path: str | Path) -> None:
    p = Path(path)
    text = dump_watchlist_csv(wl) if p.suffix.lower() == ".csv" else dump_watchlist_yaml(wl)
    p.write_text(text, encoding="utf-8")
