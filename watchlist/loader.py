"""Load and save watchlists: YAML (the DESIGN.md contract), CSV (enterprises and their marks,
one row per mark) and XLSX (every part, one sheet each).

Every problem is reported with the file, the line (YAML line, CSV line, XLSX row), the entry and
the field; all problems of a file are collected, so a holder can fix a file in one go. Each problem
carries a message code (watchlist/messages.py: zh-CN and English).

Two ways to read: ``load_watchlist`` takes a file whole or not at all (the pass, ``markwatch
match``); ``read_watchlist`` keeps the good entries and refuses the bad ones (``markwatch
watchlist import``, as the console's bulk import): one bad row never aborts the rest. What is
refused is the smallest unit that is safe to leave out: a mark (YAML entry or CSV/XLSX row), a GI,
or an enterprise with all its marks when the enterprise's own fields are bad (a half-read
authorised-seller list would turn the official store's listings into leads). Problems with the
file itself (not YAML, unknown columns or sheets, unsupported version) refuse the whole file.

Round trips are lossless: YAML -> CSV/XLSX -> YAML gives the same watchlist. Where a format cannot
carry something (GIs in CSV; a list item containing the cell separator; a formula-like CSV cell)
saving refuses with WatchlistExportError instead of writing a file that would read back different.

Files are decoded as UTF-8, UTF-8 with BOM, GBK or GB18030 (config.textio); YAML is parsed with
libyaml (CSafeLoader) keeping line numbers; anchors/aliases, files over MAX_FILE_BYTES and nesting
deeper than the interpreter can follow are refused with a located error.
"""
from __future__ import annotations

import csv
import io
import typing
from pathlib import Path
from typing import Any

from dataclasses import dataclass, field as dc_field

import yaml
from pydantic import ValidationError

from .errors import Problem, WatchlistError, problem
from .messages import from_pydantic
from .model import AuthorizedSeller, Enterprise, GeographicalIndication, Mark, Watchlist



class _LineDict(dict):
    line: int = 0


MAX_FILE_BYTES = 20 << 20


class WatchlistExportError(ValueError):
    """The watchlist cannot be saved in the asked format without losing something."""


class _LineLoader(yaml.CSafeLoader):
    pass


def _construct_mapping(loader, node: yaml.MappingNode) -> _LineDict:
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


_NEEDS_CODE = {"word_needs_text": "text", "logo_needs_image": "image"}


def _coded(file: str, line: int | None, entry: str, field: str, err: dict, unit: tuple | None) -> Problem:
    code, params = from_pydantic(err)
    if field == "-" and code in _NEEDS_CODE:
        field = _NEEDS_CODE[code]
    return Problem(file, line, entry, field, code=code, params=params, unit=unit)


def _validate_one(file: str, raw: Any, model, prefix: str, unit: tuple, problems: list[Problem],
                  line_root: Any = None, loc_prefix: tuple = (), entry_root: Any = None):
    """Validate one entry; its problems are appended with ``unit``. Returns the model or None.
    ``line_root``/``loc_prefix``/``entry_root``: where line numbers and entry names are looked up
    (a mark is named inside its enterprise)."""
    if not isinstance(raw, dict):
        problems.append(problem(file, getattr(raw, "line", None) or getattr(line_root, "line", None), prefix, "-",
                                "not_mapping", unit))
        return None
    try:
        return model.model_validate(dict(raw))
    except ValidationError as e:
        for err in e.errors():
            loc = loc_prefix + tuple(err["loc"])
            entry, field = _entry_name(prefix, raw if entry_root is None else entry_root, loc)
            problems.append(_coded(file, _line_of(raw if line_root is None else line_root, loc), entry, field, err, unit))
        return None


def _validate_items(file: str, raw_items: Any, key: str, model, problems: list[Problem],
                    unit_kind: str = "gi") -> list:
    """One model (or None) per entry of a list; a non-list is a whole-file problem."""
    if raw_items is None:
        return []
    if not isinstance(raw_items, list):
        problems.append(problem(file, getattr(raw_items, "line", None), key, key, "not_list"))
        return []
    return [_validate_one(file, raw, model, f"{key}[{i}]", (unit_kind, i), problems) for i, raw in enumerate(raw_items)]


def _validate_enterprises(file: str, raw_items: Any, problems: list[Problem]) -> list:
    """[(Enterprise without marks | None, [Mark | None, ...])] per raw enterprise: the enterprise's
    own fields and each mark are validated apart, so one bad mark refuses only itself."""
    if raw_items is None:
        return []
    if not isinstance(raw_items, list):
        problems.append(problem(file, getattr(raw_items, "line", None), "enterprises", "enterprises", "not_list"))
        return []
    out = []
    for i, raw in enumerate(raw_items):
        prefix = f"enterprises[{i}]"
        if not isinstance(raw, dict):
            problems.append(problem(file, None, prefix, "-", "not_mapping", ("enterprise", i)))
            out.append((None, []))
            continue
        own = _LineDict({k: v for k, v in raw.items() if k != "marks"})
        own.line = getattr(raw, "line", 0)
        ent = _validate_one(file, own, Enterprise, prefix, ("enterprise", i), problems, line_root=raw, entry_root=raw)
        raw_marks = raw.get("marks")
        marks: list = []
        if raw_marks is not None and not isinstance(raw_marks, list):
            problems.append(problem(file, getattr(raw, "line", None), _entry_name(prefix, raw, ())[0], "marks",
                                    "not_list", ("enterprise", i)))
            ent = None
        else:
            for j, mraw in enumerate(raw_marks or []):
                if not isinstance(mraw, dict):
                    problems.append(problem(file, getattr(raw, "line", None),
                                            _entry_name(prefix, raw, ("marks", j))[0], "-", "not_mapping", ("mark", i, j)))
                    marks.append(None)
                    continue
                marks.append(_validate_one(file, mraw, Mark, prefix, ("mark", i, j), problems, line_root=raw,
                                           loc_prefix=("marks", j), entry_root=raw))
        out.append((ent, marks))
    return out


def _check_ids(file: str, raw: dict, problems: list[Problem]) -> None:
    """Ids must be unique across enterprises, marks and GIs: leads name their target by id. The
    second use of an id is refused (the first keeps it)."""
    seen: dict[str, str] = {}

    def see(item: Any, where: str, unit: tuple) -> None:
        if not isinstance(item, dict) or not item.get("id"):
            return
        ident = str(item["id"])
        if ident in seen:
            problems.append(problem(file, getattr(item, "line", None), where, "id", "duplicate_id", unit,
                                    value=ident, other=seen[ident]))
        else:
            seen[ident] = where

    for i, ent in enumerate(raw.get("enterprises") or []):
        see(ent, f"enterprises[{i}] (id {ent.get('id') if isinstance(ent, dict) else '?'})", ("enterprise", i))
        for j, m in enumerate((ent.get("marks") if isinstance(ent, dict) else None) or []):
            see(m, f"enterprises[{i}] > marks[{j}] (id {m.get('id') if isinstance(m, dict) else '?'})", ("mark", i, j))
    for i, gi in enumerate(raw.get("geographical_indications") or []):
        see(gi, f"geographical_indications[{i}] (id {gi.get('id') if isinstance(gi, dict) else '?'})", ("gi", i))


def _logo_path(base_dir: Path | None, image: str | None) -> Path:
    p = Path(image or "")
    return p if p.is_absolute() or base_dir is None else base_dir / p


def _check_logo_files(file: str, wl: Watchlist, problems: list[Problem]) -> None:
    for i, ent in enumerate(wl.enterprises):
        for j, m in enumerate(ent.marks):
            if m.kind == "logo" and not wl.logo_path(m).is_file():
                problems.append(problem(file, None, f"enterprises[{i}] (id {ent.id}) > marks[{j}] (id {m.id})",
                                        "image", "logo_file_missing", path=str(wl.logo_path(m))))


@dataclass
class RefusedEntry:
    """Something of the file that was not taken: kind 'enterprise' | 'mark' | 'gi' | 'row'."""
    kind: str
    id: str
    line: int | None


@dataclass
class WatchlistRead:
    """What ``read_watchlist`` took from a file: the good entries, every problem, what was refused
    (one RefusedEntry per refused mark/row, GI, and enterprise refused with its marks), the text
    encoding and the line of each id (for problems found later, e.g. ownership in the store)."""
    watchlist: Watchlist
    problems: list[Problem] = dc_field(default_factory=list)
    refused: list[RefusedEntry] = dc_field(default_factory=list)
    encoding: str = "utf-8"
    lines: dict[str, int] = dc_field(default_factory=dict)
    rows: bool = False  # CSV/XLSX: a refused mark is a refused row


def _assemble(file: str, raw: dict, base_dir: Path | None, problems: list[Problem], check_files: bool,
              logo_cache: Path | None | bool = False, refused: list[RefusedEntry] | None = None,
              rows: bool = False) -> WatchlistRead:
    """Validate the raw entries unit by unit, check ids and logo files, and keep what is good.
    ``logo_cache``: False = no content check of logo images; None or a cache dir = check each logo
    by content (watchlist.logos.validate_logo, as `markwatch logos check`)."""
    ents = _validate_enterprises(file, raw.get("enterprises"), problems)
    gis = _validate_items(file, raw.get("geographical_indications"), "geographical_indications",
                          GeographicalIndication, problems, "gi")
    _check_ids(file, raw, problems)
    raw_ents = raw.get("enterprises") if isinstance(raw.get("enterprises"), list) else []
    raw_gis = raw.get("geographical_indications") if isinstance(raw.get("geographical_indications"), list) else []

    def line_of(item: Any, fallback: Any = None) -> int | None:
        return getattr(item, "line", None) or getattr(fallback, "line", None) or None

    # logo files: a missing or unusable image refuses its mark
    if check_files or logo_cache is not False:
        for i, (ent, marks) in enumerate(ents):
            for j, m in enumerate(marks):
                if m is None or m.kind != "logo":
                    continue
                where = f"enterprises[{i}] (id {raw_ents[i].get('id')}) > marks[{j}] (id {m.id})"
                line = line_of(raw_ents[i]["marks"][j], raw_ents[i])
                path = _logo_path(base_dir, m.image)
                if not path.is_file():
                    problems.append(problem(file, line, where, "image", "logo_file_missing", ("mark", i, j), path=str(path)))
                elif logo_cache is not False:
                    reason = _logo_problem(path, logo_cache)
                    if reason:
                        problems.append(problem(file, line, where, "image", "logo_unusable", ("mark", i, j),
                                                reason_en=reason[0], reason_zh=reason[1]))
    units = {p.unit for p in problems if p.unit}
    refused = list(refused or [])
    lines: dict[str, int] = {}
    good_ents = []
    for i, (ent, marks) in enumerate(ents):
        r_ent = raw_ents[i] if i < len(raw_ents) else None
        r_marks = (r_ent.get("marks") if isinstance(r_ent, dict) and isinstance(r_ent.get("marks"), list) else []) or []
        ent_out = ("enterprise", i) in units or ent is None
        kept = []
        for j, m in enumerate(marks):
            mraw = r_marks[j] if j < len(r_marks) else None
            mid = str(mraw.get("id")) if isinstance(mraw, dict) and mraw.get("id") else f"enterprises[{i}].marks[{j}]"
            ln = line_of(mraw, r_ent)
            if m is None or ent_out or ("mark", i, j) in units:
                refused.append(RefusedEntry("row" if rows else "mark", mid, ln))
            else:
                kept.append(m)
                if ln:
                    lines.setdefault(m.id, ln)
        if ent_out:
            eid = str(r_ent.get("id")) if isinstance(r_ent, dict) and r_ent.get("id") else f"enterprises[{i}]"
            if not rows or not r_marks:
                refused.append(RefusedEntry("enterprise", eid, line_of(r_ent)))
            continue
        ent.marks = kept
        good_ents.append(ent)
        if line_of(r_ent):
            lines.setdefault(ent.id, line_of(r_ent))
    good_gis = []
    for i, g in enumerate(gis):
        r = raw_gis[i] if i < len(raw_gis) else None
        if g is None or ("gi", i) in units:
            gid = str(r.get("id")) if isinstance(r, dict) and r.get("id") else f"geographical_indications[{i}]"
            refused.append(RefusedEntry("gi", gid, line_of(r)))
        else:
            good_gis.append(g)
            if line_of(r):
                lines.setdefault(g.id, line_of(r))
    wl = Watchlist(version=1, enterprises=good_ents, geographical_indications=good_gis, base_dir=base_dir)
    return WatchlistRead(wl, problems, refused, lines=lines, rows=rows)


def _logo_problem(path: Path, cache_dir: Path | None) -> tuple[str, str] | None:
    """(English, zh-CN) reason when the logo image cannot be used, judged by its content."""
    from matcher.logo_cache import LogoProblem

    from .logos import validate_logo

    try:
        validate_logo(path, cache_dir)
    except LogoProblem as e:
        return str(e), e.reason_zh or str(e)
    except OSError as e:
        return f"{path}: {e}", f"无法读取图片：{e}"
    return None


def _raise_any(read: WatchlistRead) -> Watchlist:
    if read.problems:
        raise WatchlistError(read.problems)
    return read.watchlist


def _fatal(read_problems: list[Problem]) -> None:
    """Problems with the file itself (unit None) refuse it whole."""
    if any(p.unit is None for p in read_problems):
        raise WatchlistError(read_problems)


def parse_watchlist_yaml(text: str, file: str = "<watchlist>", base_dir: Path | None = None,
                         check_files: bool = True) -> Watchlist:
    """The watchlist of a YAML text, whole: raises WatchlistError with every problem."""
    return _raise_any(read_watchlist_yaml(text, file, base_dir, check_files))


def read_watchlist_yaml(text: str, file: str = "<watchlist>", base_dir: Path | None = None,
                        check_files: bool = True, logo_cache: Path | None | bool = False) -> WatchlistRead:
    """The good entries of a YAML text and the problems of the others; raises WatchlistError only
    for problems with the file itself."""
    try:
        # An anchor needs '&' and an alias '*' (YAML 1.1 indicators): a text with neither has
        # none, so the separate event scan (a third of the load at 5,000 marks) is skipped.
        events = yaml.parse(text, Loader=yaml.CSafeLoader) if ("&" in text or "*" in text) else ()
        for ev in events:
            if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None):
                raise WatchlistError([Problem(file, ev.start_mark.line + 1, "document", "-",
                                              "YAML anchors and aliases (&, *) are not supported in a watchlist")])
        raw = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise WatchlistError([Problem(file, line, "document", "-", f"not valid YAML: {getattr(e, 'problem', e)}")]) from None
    except RecursionError:
        raise WatchlistError([Problem(file, None, "document", "-", "nested too deeply")]) from None
    if raw is None:
        raw = _LineDict()
    if not isinstance(raw, dict):
        raise WatchlistError([Problem(file, 1, "document", "-", "must be a mapping with 'enterprises' and/or 'geographical_indications'")])
    problems: list[Problem] = []
    unknown = set(raw) - {"version", "enterprises", "geographical_indications"}
    for k in sorted(unknown):
        problems.append(problem(file, raw.line, "document", k, "extra_forbidden"))
    version = raw.get("version", 1)
    if version != 1:
        problems.append(Problem(file, raw.line, "document", "version", f"unsupported version {version!r} (expected 1)"))
    read = _assemble(file, raw, base_dir, problems, check_files, logo_cache)
    _fatal(read.problems)
    return read


def _split(v: str) -> list[str]:
    return [p.strip() for p in v.replace(",", "|").replace(";", "|").split("|") if p.strip()] if v else []


_SEPARATORS = (",", ";", "|")
_TRUE = ("1", "true", "yes", "y", "是", "TRUE")
_FALSE = ("0", "false", "no", "n", "否", "FALSE", "")
SELLER_SEP = ":"


def _is_list(model, name: str) -> bool:
    return typing.get_origin(model.model_fields[name].annotation) is list


def _is_dict(model, name: str) -> bool:
    return typing.get_origin(model.model_fields[name].annotation) is dict


def _is_bool(model, name: str) -> bool:
    return model.model_fields[name].annotation is bool


def _cell_text(v: Any) -> str:
    """A cell from an XLSX sheet or CSV as text (Excel turns 33 into 33.0 and True into TRUE)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def _out(v: Any, where: str) -> str:
    """A field value as one cell; WatchlistExportError when a list item holds a separator."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, dict):  # reference_prices {2507: 899} -> '2507:899'
        return _out([f"{_out(k, where)}:{_out(x, where)}" for k, x in v.items()], where)
    if isinstance(v, list):
        items = [_out(x, where) for x in v]
        for x in items:
            if any(c in x for c in _SEPARATORS) or not x.strip():
                raise WatchlistExportError(f"{where}: list item {x!r} contains a separator (, ; |) or is empty; "
                                           "a CSV/XLSX cell cannot carry it: export to .yaml")
        return "|".join(items)
    return str(v)


def _sellers_out(sellers: list[AuthorizedSeller], where: str) -> str:
    items = []
    for a in sellers:
        parts = [a.platform or "", a.seller_id or "", a.seller_name or ""]
        if any(SELLER_SEP in x for x in parts[:2]) or any("|" in x for x in parts):
            raise WatchlistExportError(f"{where}: authorised seller {parts} contains ':' or '|'; export to .yaml")
        items.append(SELLER_SEP.join(parts if parts[2] else parts[:2]))
    return "|".join(items)


def _sellers_in(text: str) -> list[dict]:
    """'platform:seller_id:seller_name|...' -> AuthorizedSeller dicts (empty parts omitted)."""
    out = []
    for item in (text or "").split("|"):
        if not item.strip():
            continue
        parts = (item.split(SELLER_SEP, 2) + ["", ""])[:3]
        out.append({k: v.strip() for k, v in zip(("platform", "seller_id", "seller_name"), parts) if v.strip()})
    return out


def _fields_in(model, row: dict[str, str], mapping: dict[str, str]) -> tuple[dict, list[tuple[str, str, dict]]]:
    """Build a model's input dict from text cells. mapping: model field -> column. Returns
    (dict, [(column, message code, params)]) — pydantic then validates the dict."""
    d: dict = {}
    errs: list[tuple[str, str, dict]] = []
    for name, col in mapping.items():
        if col not in row:
            continue
        text = _cell_text(row[col]).strip()
        if _is_bool(model, name):
            if text in _TRUE or text.lower() in _TRUE:
                d[name] = True
            elif text in _FALSE or text.lower() in _FALSE:
                d[name] = False
            else:
                errs.append((col, "bool_parsing", {"value": text}))
        elif _is_list(model, name):
            d[name] = _split(text)
        elif _is_dict(model, name):
            if not text:
                continue
            pairs = [item.split(":", 1) for item in _split(text)]
            bad = [":".join(p) for p in pairs if len(p) != 2]
            if bad:
                errs.append((col, "not_key_value", {"value": bad[0]}))
            else:
                d[name] = {k.strip(): v.strip() for k, v in pairs}
        elif text:
            d[name] = text
    return d, errs


def _mark_columns() -> dict[str, str]:
    """Mark field -> CSV/XLSX column (mark_id for id; every other field under its own name, so
    fields added to the model travel without changing this module)."""
    return {n: ("mark_id" if n == "id" else n) for n in Mark.model_fields}


def _problems_of(e: ValidationError, file: str, line: int, entry: str, columns: dict[str, str],
                 unit: tuple | None = None) -> list[Problem]:
    out = []
    for err in e.errors():
        field = columns.get(str(err["loc"][0]), ".".join(str(p) for p in err["loc"])) if err["loc"] else "-"
        p = _coded(file, line, entry, field or "-", err, unit)
        p.field = columns.get(p.field, p.field)
        out.append(p)
    return out


ENT_COLUMNS = {"id": "enterprise_id", "name": "enterprise_name", "qualifications": "qualifications"}
CSV_FIELDS = ["enterprise_id", "enterprise_name", "qualifications", "authorized_sellers",
              *[c for c in _mark_columns().values()]]


def _rows_to_enterprises(rows, file: str, problems: list[Problem], entry_of,
                         refused: list[RefusedEntry] | None = None) -> list[dict]:
    """Group (line, row) cells into enterprise dicts with their marks; enterprise columns must
    agree between the rows of one enterprise (blank = same as above). A row with a problem is
    left out (its problems have unit ('row', line)) and listed in ``refused``."""
    ents: dict[str, dict] = {}
    ent_line: dict[str, int] = {}
    mcols = _mark_columns()
    for line, row in rows:
        entry = entry_of(line, row)
        unit = ("row", line)
        before = len(problems)
        eid = _cell_text(row.get("enterprise_id")).strip()
        if not eid:
            problems.append(problem(file, line, entry, "enterprise_id", "missing", unit))
            if refused is not None:
                refused.append(RefusedEntry("row", _cell_text(row.get("mark_id")).strip() or "?", line))
            continue
        edict, errs = _fields_in(Enterprise, row, ENT_COLUMNS)
        if "authorized_sellers" in row:
            edict["authorized_sellers"] = _sellers_in(_cell_text(row["authorized_sellers"]))
        for col, code, params in errs:
            problems.append(problem(file, line, entry, col, code, unit, **params))
        ent = ents.get(eid)
        if ent is None:
            edict.setdefault("name", eid)
            ent = ents[eid] = _LineDict({**edict, "marks": []})
            ent.line = line
            ent_line[eid] = line
        else:
            for k, v in edict.items():
                if k != "id" and v not in ("", [], None) and v != ent.get(k):
                    col = ENT_COLUMNS.get(k, k)
                    problems.append(problem(file, line, entry, col, "differs_from_line", unit, line=ent_line[eid],
                                            before=ent.get(k), after=v))
        mdict, errs = _fields_in(Mark, row, mcols)
        for col, code, params in errs:
            problems.append(problem(file, line, entry, col, code, unit, **params))
        if not any(v not in ("", [], None, False) for k, v in mdict.items()):
            if len(problems) > before and refused is not None:
                refused.append(RefusedEntry("row", "?", line))
            continue  # an enterprise-only row (no marks, or sellers only)
        mdict.setdefault("kind", "word")
        try:
            Mark.model_validate(mdict)
        except ValidationError as e:
            problems.extend(_problems_of(e, file, line, entry, mcols, unit))
        if len(problems) > before:
            if refused is not None:
                refused.append(RefusedEntry("row", str(mdict.get("id") or "?"), line))
            continue
        m = _LineDict(mdict)
        m.line = line
        ent["marks"].append(m)
    return list(ents.values())


def parse_watchlist_csv(text: str, file: str = "<watchlist.csv>", base_dir: Path | None = None) -> Watchlist:
    """Enterprises and their marks from CSV, whole: raises WatchlistError with every problem."""
    return _raise_any(read_watchlist_csv(text, file, base_dir, check_files=False))


def read_watchlist_csv(text: str, file: str = "<watchlist.csv>", base_dir: Path | None = None,
                       check_files: bool = False, logo_cache: Path | None | bool = False) -> WatchlistRead:
    """Enterprises and their marks from CSV: one row per mark (word or logo), enterprise columns
    repeated (or left blank) on each row; a row without mark columns is an enterprise alone.
    Lists are separated by | (also , or ;); authorised sellers as platform:seller_id:seller_name.
    Bad rows are refused, the rest kept; a bad header raises WatchlistError."""
    reader = csv.DictReader(io.StringIO(text))
    problems: list[Problem] = []
    refused: list[RefusedEntry] = []
    fields = [f.strip() for f in (reader.fieldnames or [])]
    reader.fieldnames = fields
    missing = [f for f in ("enterprise_id", "mark_id") if f not in fields]
    if missing:
        found = " (found: " + ", ".join(fields[:12]) + ")" if fields else ""
        raise WatchlistError([problem(file, 1, "header", m, "missing_column", found=found) for m in missing])
    unknown = [f for f in fields if f and f not in CSV_FIELDS]
    for f in unknown:
        problems.append(problem(file, 1, "header", f, "unknown_column", known=", ".join(CSV_FIELDS)))

    def rows():
        for row in reader:
            if None in row:
                problems.append(problem(file, reader.line_num, f"row {reader.line_num - 1}", "-", "extra_cells",
                                        ("row", reader.line_num), n=len(row[None])))
                refused.append(RefusedEntry("row", str(row.get("mark_id") or "?"), reader.line_num))
                continue
            yield reader.line_num, row

    try:
        ents = _rows_to_enterprises(rows(), file, problems,
                                    lambda line, row: f"row {line - 1} (mark_id {row.get('mark_id') or '?'})", refused)
    except csv.Error as e:
        raise WatchlistError([Problem(file, reader.line_num, "document", "-", f"not valid CSV: {e}")]) from None
    _fatal(problems)
    read = _assemble(file, {"enterprises": ents}, base_dir, problems, check_files, logo_cache, refused, rows=True)
    _fatal(read.problems)
    return read


GI_COLUMNS = {"id": "id", "name": "name", "aliases": "aliases", "product": "product", "category": "category",
              "nice_classes": "nice_classes"}
SHEETS = ("enterprises", "marks", "geographical_indications")


def parse_watchlist_xlsx(data: bytes, file: str = "<watchlist.xlsx>", base_dir: Path | None = None) -> Watchlist:
    """A watchlist workbook, whole: raises WatchlistError with every problem (read_watchlist_xlsx)."""
    return _raise_any(read_watchlist_xlsx(data, file, base_dir, check_files=False))


def read_watchlist_xlsx(data: bytes, file: str = "<watchlist.xlsx>", base_dir: Path | None = None,
                        check_files: bool = False, logo_cache: Path | None | bool = False) -> WatchlistRead:
    """A watchlist workbook: sheets `enterprises` (enterprise_id, enterprise_name, qualifications,
    authorized_sellers), `marks` (enterprise_id, mark_id, kind, text, ...) and
    `geographical_indications` (id, name, aliases, product, category, admin_codes, places,
    authorized_users, nice_classes). Errors name the sheet row as the line. Bad rows are
    refused, the rest kept; an unreadable workbook or an unknown sheet raises WatchlistError."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # zip/XML errors of a broken or hostile upload
        raise WatchlistError([Problem(file, None, "document", "-", f"not a readable XLSX workbook ({type(e).__name__}: {e})")]) from None
    problems: list[Problem] = []
    refused: list[RefusedEntry] = []

    def sheet(name):
        if name not in wb.sheetnames:
            return []
        it = wb[name].iter_rows(values_only=True)
        head = [_cell_text(c).strip() for c in next(it, ())]
        out = []
        for n, vals in enumerate(it, 2):
            if vals is None or all(v is None or _cell_text(v).strip() == "" for v in vals):
                continue
            out.append((n, {h: v for h, v in zip(head, vals) if h}))
        return out

    for name in wb.sheetnames:
        if name not in SHEETS:
            problems.append(Problem(file, None, f"sheet {name}", "-", "is not a known sheet (" + ", ".join(SHEETS) + ")"))
    ent_rows = [(n, r) for n, r in sheet("enterprises")]
    mark_rows = [(n, r) for n, r in sheet("marks")]
    ents = _rows_to_enterprises(ent_rows, file, problems,
                                lambda n, r: f"sheet enterprises row {n} (id {r.get('enterprise_id') or '?'})", refused)
    by_id = {e["id"]: e for e in ents}
    marks_only = _rows_to_enterprises(mark_rows, file, problems,
                                      lambda n, r: f"sheet marks row {n} (mark_id {r.get('mark_id') or '?'})", refused)
    for e in marks_only:
        if e["id"] not in by_id:
            by_id[e["id"]] = e
            ents.append(e)
        else:
            by_id[e["id"]]["marks"].extend(e["marks"])
    gis = []
    for n, row in sheet("geographical_indications"):
        d, errs = _fields_in(GeographicalIndication, row, GI_COLUMNS)
        for col, code, params in errs:
            problems.append(problem(file, n, f"sheet geographical_indications row {n}", col, code, ("gi", len(gis)),
                                    **params))
        d["region"] = {"admin_codes": _split(_cell_text(row.get("admin_codes"))),
                       "places": _split(_cell_text(row.get("places")))}
        d["authorized_users"] = _sellers_in(_cell_text(row.get("authorized_users")))
        gis.append(_LineDict(d))
        gis[-1].line = n
    wb.close()
    _fatal(problems)
    read = _assemble(file, {"enterprises": ents, "geographical_indications": gis}, base_dir, problems, check_files,
                     logo_cache, refused, rows=True)
    _fatal(read.problems)
    return read


def check_watchlist_files(wl: Watchlist, file: str) -> Watchlist:
    """Raise WatchlistError when a logo file the watchlist names is missing (as loading does);
    for a watchlist read back from a cache (matcher/compiled_cache.py)."""
    problems: list[Problem] = []
    _check_logo_files(file, wl, problems)
    if problems:
        raise WatchlistError(problems)
    return wl


def load_watchlist(path: str | Path, check_files: bool = True, meta: dict | None = None) -> Watchlist:
    """Load a watchlist file (.yaml/.yml, .csv or .xlsx) whole. Raises WatchlistError naming
    file/line/entry/field of every problem. The detected text encoding goes to ``meta["encoding"]``."""
    read = read_watchlist(path, check_files=check_files)
    if meta is not None:
        meta["encoding"] = read.encoding
    return _raise_any(read)


def read_watchlist(path: str | Path, check_files: bool = True, logo_cache: Path | None | bool = False) -> WatchlistRead:
    """Read a watchlist file (.yaml/.yml, .csv or .xlsx), keeping the good entries: returns a
    WatchlistRead (watchlist, problems, refused entries, encoding). Raises WatchlistError only when
    the file itself is unusable (unreadable, too large, not YAML/CSV/XLSX, unknown columns or
    sheets, unsupported version). ``check_files``: a logo whose image file is missing is refused;
    ``logo_cache`` (a cache dir, or None for no cache): logo images are also checked by content
    (watchlist.logos.validate_logo) and an unusable one is refused."""
    from config.textio import EncodingProblem, decode_text

    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise WatchlistError([Problem(str(p), None, "file", "-", f"{size} bytes; a watchlist is at most {MAX_FILE_BYTES}")])
        data = p.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise WatchlistError([Problem(str(p), None, "file", "-", "file not found")]) from None
    base = p.resolve().parent
    if p.suffix.lower() == ".xlsx":
        return read_watchlist_xlsx(data, str(p), base, check_files, logo_cache)
    try:
        text, enc = decode_text(data, str(p))
    except EncodingProblem as e:
        raise WatchlistError([Problem(str(p), e.line, "file", "-", e.message)]) from None
    if p.suffix.lower() == ".csv":
        read = read_watchlist_csv(text, str(p), base, check_files, logo_cache)
    else:
        read = read_watchlist_yaml(text, str(p), base, check_files, logo_cache)
    read.encoding = enc
    return read


def dump_watchlist_yaml(wl: Watchlist) -> str:
    data = wl.model_dump(mode="json", exclude={"base_dir"}, exclude_none=True)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _csv_rows(wl: Watchlist) -> list[dict]:
    rows = []
    mcols = _mark_columns()
    for ent in wl.enterprises:
        where = f"enterprise {ent.id}"
        base = {"enterprise_id": ent.id, "enterprise_name": ent.name,
                "qualifications": _out(list(ent.qualifications), where),
                "authorized_sellers": _sellers_out(ent.authorized_sellers, where)}
        if not ent.marks:
            rows.append(dict(base))
        for m in ent.marks:
            r = dict(base)
            for name, col in mcols.items():
                r[col] = _out(getattr(m, name), f"{where} > mark {m.id} > {name}")
            rows.append(r)
    return rows


def dump_watchlist_csv(wl: Watchlist) -> str:
    """CSV of enterprises and marks. Raises WatchlistExportError when the watchlist has GIs (CSV
    has no place for them) or a cell would read back differently or run as an Excel formula."""
    if wl.geographical_indications:
        ids = ", ".join(g.id for g in wl.geographical_indications[:5])
        raise WatchlistExportError(f"CSV carries enterprises and marks only; this watchlist has "
                                   f"{len(wl.geographical_indications)} GIs ({ids}): export to .yaml or .xlsx")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in _csv_rows(wl):
        for k, v in r.items():
            if isinstance(v, str) and v.startswith(_FORMULA):
                raise WatchlistExportError(f"enterprise {r['enterprise_id']}: {k} {v[:30]!r} starts like a "
                                           "spreadsheet formula; export to .xlsx or .yaml")
        w.writerow(r)
    return buf.getvalue()


def dump_watchlist_xlsx(wl: Watchlist, path: Path) -> None:
    """Workbook with the sheets parse_watchlist_xlsx reads; every cell is written as text (never
    as a formula). Raises WatchlistExportError when a value cannot be carried."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    rows = _csv_rows(wl)
    wb = Workbook()
    es = wb.active
    es.title = "enterprises"
    ecols = ["enterprise_id", "enterprise_name", "qualifications", "authorized_sellers"]
    mcols = ["enterprise_id", *_mark_columns().values()]
    gcols = ["id", "name", "aliases", "product", "category", "admin_codes", "places", "authorized_users", "nice_classes"]
    ms = wb.create_sheet("marks")
    gs = wb.create_sheet("geographical_indications")

    def put(ws, values):
        ws.append([None] * len(values))
        for c, v in zip(ws[ws.max_row], values):
            if isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v):
                raise WatchlistExportError(f"{ws.title} row {ws.max_row}: {v[:30]!r} has control characters XLSX "
                                           "cannot hold; export to .yaml")
            c.value = v
            c.data_type = "s"

    put(es, ecols)
    put(ms, mcols)
    put(gs, gcols)
    seen = set()
    for r in rows:
        if r["enterprise_id"] not in seen:
            seen.add(r["enterprise_id"])
            put(es, [r[c] for c in ecols])
        if r.get("mark_id"):
            put(ms, [r[c] for c in mcols])
    for g in wl.geographical_indications:
        where = f"GI {g.id}"
        put(gs, [g.id, g.name, _out(list(g.aliases), where), g.product, g.category or "",
                 _out(list(g.region.admin_codes), where), _out(list(g.region.places), where),
                 _sellers_out(g.authorized_users, where), _out(list(g.nice_classes), where)])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    wb.save(tmp)
    tmp.replace(path)


def save_watchlist(wl: Watchlist, path: str | Path) -> None:
    """Write .yaml/.yml, .csv or .xlsx by suffix. Raises WatchlistExportError (nothing written)
    when the format cannot carry the watchlist losslessly."""
    p = Path(path)
    suf = p.suffix.lower()
    if suf == ".xlsx":
        dump_watchlist_xlsx(wl, p)
        return
    if suf == ".csv":  # with a BOM: Excel (zh-CN) opens it as UTF-8, and no reader has to guess
        p.write_text(dump_watchlist_csv(wl), encoding="utf-8-sig")
        return
    p.write_text(dump_watchlist_yaml(wl), encoding="utf-8")
