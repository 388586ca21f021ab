"""Jurisdiction: which bureau a lead belongs to, from the seller's location.

Bureaus are configured per deployment in a YAML file (``MARKWATCH_BUREAUS_FILE`` or
``<data dir>/bureaus.yaml``)::

    bureaus:
      - id: hz                      # short id used on leads and in `leads list --bureau`
        name: 杭州市市场监督管理局
        admin_codes: ['330100']     # GB/T 2260 codes of the area (a city contains its counties)
      - id: hz-xihu
        name: 西湖区市场监督管理局
        admin_codes: ['330106']
        parent: hz
    default: hz                     # unresolved or outside locations (default: the root bureau)

A lead goes to the most specific bureau whose area contains the seller location (the 产地 field
is not used: jurisdiction follows the seller). Unresolved locations go to the parent (default)
bureau; the reason is written on the lead's priority reasons.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .i18n import tr


class BureauConfigError(ValueError):
    pass


@dataclass
class Bureau:
    id: str
    name: str
    admin_codes: list[str]
    parent: str | None = None
    children: list[str] = field(default_factory=list)


@dataclass
class Bureaus:
    bureaus: dict[str, Bureau]
    default: str

    def get(self, bid: str) -> Bureau | None:
        return self.bureaus.get(bid)

    def subtree(self, bid: str) -> list[str]:
        """The bureau and every bureau under it."""
        out, stack = [], [bid]
        while stack:
            b = stack.pop()
            if b in self.bureaus and b not in out:
                out.append(b)
                stack.extend(self.bureaus[b].children)
        return out

    def depth(self, bid: str) -> int:
        d, b = 0, self.bureaus[bid]
        while b.parent:
            d, b = d + 1, self.bureaus[b.parent]
        return d

    def assign(self, location: str, language: str | None = None) -> tuple[str, str]:
        """(bureau id, explanation) for a seller location."""
        from matcher.geo import is_within, resolve_location

        loc = (location or "").strip()
        res = resolve_location(loc)
        codes = [res.code] if res.ok else list(res.candidates)
        best: str | None = None
        if codes:
            hits = []
            for bid, b in self.bureaus.items():
                if b.admin_codes and all(is_within(c, b.admin_codes) for c in codes):
                    hits.append(bid)
            if hits:
                best = max(hits, key=self.depth)
        dflt = self.bureaus[self.default]
        if best is not None:
            return best, tr("jur_code", language, loc=loc, code=res.code or "/".join(codes),
                            bureau=self.bureaus[best].name)
        if res.ok:
            return self.default, tr("jur_outside", language, loc=loc, code=res.code, bureau=dflt.name)
        return self.default, tr("jur_unresolved", language, loc=loc or "-", bureau=dflt.name)


def load_bureaus(path: Path) -> Bureaus:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise BureauConfigError(f"{path}: cannot read bureaus: {e}") from None
    items = data.get("bureaus") if isinstance(data, dict) else None
    if not items or not isinstance(items, list):
        raise BureauConfigError(f"{path}: needs a non-empty 'bureaus:' list")
    out: dict[str, Bureau] = {}
    for i, b in enumerate(items, 1):
        if not isinstance(b, dict) or not b.get("id") or not b.get("name"):
            raise BureauConfigError(f"{path}: bureau {i}: needs 'id' and 'name'")
        bid = str(b["id"])
        if len(bid) > 64:
            raise BureauConfigError(f"{path}: bureau {bid!r}: id longer than 64 characters")
        if bid in out:
            raise BureauConfigError(f"{path}: bureau id {bid!r} appears twice")
        codes = [str(c).strip() for c in (b.get("admin_codes") or ([b["admin_code"]] if b.get("admin_code") else []))]
        for c in codes:
            if not (c.isdigit() and len(c) == 6):
                raise BureauConfigError(f"{path}: bureau {bid!r}: admin code {c!r} is not a 6-digit GB/T 2260 code")
        out[bid] = Bureau(bid, str(b["name"]), codes, str(b["parent"]) if b.get("parent") else None)
    for b in out.values():
        if b.parent:
            if b.parent not in out:
                raise BureauConfigError(f"{path}: bureau {b.id!r}: parent {b.parent!r} is not defined")
            out[b.parent].children.append(b.id)
    for b in out.values():  # no cycles
        seen, p = {b.id}, b.parent
        while p:
            if p in seen:
                raise BureauConfigError(f"{path}: bureau {b.id!r}: parents form a cycle")
            seen.add(p)
            p = out[p].parent
    roots = [b.id for b in out.values() if not b.parent]
    default = str(data.get("default") or roots[0])
    if default not in out:
        raise BureauConfigError(f"{path}: default bureau {default!r} is not defined")
    return Bureaus(out, default)


def configured_bureaus(settings=None, alert_settings=None) -> Bureaus | None:
    """The deployment's bureaus, or None when no bureaus file is configured."""
    from config.settings import get_settings

    from .settings import get_alert_settings

    st = settings or get_settings()
    ast = alert_settings or get_alert_settings()
    p = ast.bureaus_path(st.resolved_data_dir)
    return load_bureaus(p) if p else None
