"""Ids belong to their enterprise: a mark id (or an enterprise or GI id) stored for one owner
cannot be taken over by another enterprise's file. Leads, evidence and suppressions name their
target by id, so a silent take-over would hand one holder's leads to another (issue 16 item 3).

``import_watchlist`` is the one way the CLI and the pass import a watchlist file: it checks
ownership against the store, upserts, and records each id's owner and file.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchlist import Problem, Watchlist, WatchlistError

from . import models as m
from .repo import upsert_watchlist


def _items(wl: Watchlist):
    """(id, kind, owner, where) of every id in the watchlist."""
    for i, e in enumerate(wl.enterprises):
        yield e.id, "enterprise", e.id, f"enterprises[{i}] (id {e.id})"
        for j, mk in enumerate(e.marks):
            yield mk.id, "mark", e.id, f"enterprises[{i}] (id {e.id}) > marks[{j}] (id {mk.id})"
    for i, g in enumerate(wl.geographical_indications):
        yield g.id, "gi", g.id, f"geographical_indications[{i}] (id {g.id})"


def _stored_owners(s: Session) -> dict[str, tuple[str, str]]:
    """id -> (kind, owner) of every id already in the store, from the data itself (not only the
    ledger: stores imported before this table existed are checked too). Three queries, whatever
    the size of the watchlist (a lookup per id made a 5,000-mark import cost ~40 CPU-s)."""
    out: dict[str, tuple[str, str]] = {}
    for gid in s.scalars(select(m.GeographicalIndication.id)):
        out[gid] = ("gi", gid)
    for eid in s.scalars(select(m.Enterprise.id)):
        out[eid] = ("enterprise", eid)
    for mid, owner in s.execute(select(m.Mark.id, m.Mark.enterprise_id)):
        out[mid] = ("mark", owner)  # a mark id wins, as the per-id lookup order did
    return out


def ownership_problems(s: Session, wl: Watchlist, file: str) -> list[Problem]:
    """Problems for ids of `wl` that the store has under another owner or as another kind; each
    names this file and the file the id was imported from."""
    problems = []
    stored = _stored_owners(s)
    files = None
    for ident, kind, owner, where in _items(wl):
        cur = stored.get(ident)
        if cur is None or cur == (kind, owner):
            continue
        if files is None:
            files = dict(s.execute(select(m.WatchlistId.id, m.WatchlistId.file)).all())
        other = files.get(ident) or "an earlier import (file not recorded)"
        ckind, cowner = cur
        what = f"{ckind} of enterprise {cowner}" if ckind == "mark" else f"{ckind} {cowner}"
        problems.append(Problem(file, None, where, "id",
                                f"id {ident!r} already belongs to {what}, imported from {other}; "
                                f"ids cannot move between holders: choose another id, or remove it from {other} first"))
    return problems


def import_watchlist(s: Session, wl: Watchlist, file: str, deactivate_missing: bool = False) -> dict:
    """Check ownership, upsert (store.repo.upsert_watchlist), record owners. Raises
    WatchlistError (nothing written) when an id belongs to another holder. Returns the counts."""
    problems = ownership_problems(s, wl, file)
    if problems:
        raise WatchlistError(problems)
    counts = upsert_watchlist(s, wl, deactivate_missing=deactivate_missing)
    record_owners(s, wl, file)
    return counts


def record_owners(s: Session, wl: Watchlist, file: str) -> None:
    held = {r.id: r for r in s.scalars(select(m.WatchlistId))}  # one query, not one per id
    now = m.utcnow()
    for ident, kind, owner, _ in _items(wl):
        rec = held.get(ident)
        if rec is None:
            held[ident] = rec = m.WatchlistId(id=ident, kind=kind, owner_id=owner, file=file, imported_at=now)
            s.add(rec)
        else:
            rec.kind, rec.owner_id, rec.file, rec.imported_at = kind, owner, file, now
    s.flush()


def owners(s: Session) -> list[m.WatchlistId]:
    return list(s.scalars(select(m.WatchlistId).order_by(m.WatchlistId.id)))


def drop_owned_elsewhere(s, read, file: str) -> None:
    """Take the entries whose id the store holds under another owner out of ``read`` (they are
    refused with store/watchlist_ids.py's problem naming both files); the rest is imported."""
    from watchlist import RefusedEntry, WatchlistError

    wl = read.watchlist
    found = ownership_problems(s, wl, file)
    if not found:
        return
    where: dict[str, tuple] = {}
    for i, e in enumerate(wl.enterprises):
        where[f"enterprises[{i}] (id {e.id})"] = ("enterprise", e.id)
        for j, mk in enumerate(e.marks):
            where[f"enterprises[{i}] (id {e.id}) > marks[{j}] (id {mk.id})"] = ("mark", mk.id)
    for i, g in enumerate(wl.geographical_indications):
        where[f"geographical_indications[{i}] (id {g.id})"] = ("gi", g.id)
    drop: set[tuple] = set()
    for p in found:
        unit = where.get(p.entry)
        if unit is None:  # cannot tell what it refers to: refuse the file, as before
            raise WatchlistError(found)
        drop.add(unit)
        p.line = p.line or read.lines.get(unit[1])
    read.problems.extend(found)
    kept_ents = []
    for e in wl.enterprises:
        if ("enterprise", e.id) in drop:
            read.refused.extend(RefusedEntry("row" if read.rows else "mark", mk.id, read.lines.get(mk.id))
                                for mk in e.marks)
            read.refused.append(RefusedEntry("enterprise", e.id, read.lines.get(e.id)))
            continue
        for mk in [mk for mk in e.marks if ("mark", mk.id) in drop]:
            read.refused.append(RefusedEntry("row" if read.rows else "mark", mk.id, read.lines.get(mk.id)))
        e.marks = [mk for mk in e.marks if ("mark", mk.id) not in drop]
        kept_ents.append(e)
    wl.enterprises = kept_ents
    for g in [g for g in wl.geographical_indications if ("gi", g.id) in drop]:
        read.refused.append(RefusedEntry("gi", g.id, read.lines.get(g.id)))
    wl.geographical_indications = [g for g in wl.geographical_indications if ("gi", g.id) not in drop]


def import_keeping_good(s, read, name: str, deactivate_missing: bool = False) -> dict:
    """Import what ``read`` (watchlist.read_watchlist) kept into session ``s`` (the caller
    commits): entries whose id belongs to another holder are refused too (added to
    ``read.problems``/``read.refused``), the rest upserted (store.watchlist_ids.import_watchlist).
    ``deactivate_missing`` is applied only when nothing was refused (a refused mark is not
    "missing"). Returns the upsert counts. Raises WatchlistError only when an ownership problem
    cannot be traced to an entry (nothing written)."""
    drop_owned_elsewhere(s, read, name)
    return import_watchlist(s, read.watchlist, name, deactivate_missing=deactivate_missing and not read.refused)
