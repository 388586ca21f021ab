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


def _stored_owner(s: Session, ident: str) -> tuple[str, str] | None:
    """(kind, owner) of an id already in the store, from the data itself (not only the ledger:
    stores imported before this table existed are checked too)."""
    mk = s.get(m.Mark, ident)
    if mk is not None:
        return "mark", mk.enterprise_id
    if s.get(m.Enterprise, ident) is not None:
        return "enterprise", ident
    if s.get(m.GeographicalIndication, ident) is not None:
        return "gi", ident
    return None


def ownership_problems(s: Session, wl: Watchlist, file: str) -> list[Problem]:
    """Problems for ids of `wl` that the store has under another owner or as another kind; each
    names this file and the file the id was imported from."""
    problems = []
    for ident, kind, owner, where in _items(wl):
        cur = _stored_owner(s, ident)
        if cur is None or cur == (kind, owner):
            continue
        rec = s.get(m.WatchlistId, ident)
        other = rec.file if rec is not None else "an earlier import (file not recorded)"
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
    for ident, kind, owner, _ in _items(wl):
        rec = s.get(m.WatchlistId, ident)
        if rec is None:
            s.add(m.WatchlistId(id=ident, kind=kind, owner_id=owner, file=file, imported_at=m.utcnow()))
        else:
            rec.kind, rec.owner_id, rec.file, rec.imported_at = kind, owner, file, m.utcnow()
    s.flush()


def owners(s: Session) -> list[m.WatchlistId]:
    return list(s.scalars(select(m.WatchlistId).order_by(m.WatchlistId.id)))
