"""What a lead's target_id refers to: a word/logo mark (with its holder) or a GI."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Enterprise, GeographicalIndication, Mark


@dataclass(frozen=True)
class TargetInfo:
    id: str
    kind: str  # word | logo | gi
    label: str  # mark text, logo id, or GI name
    holder_id: str  # enterprise id, or the GI id for GIs
    holder_name: str
    well_known: bool = False
    reference_price: float | None = None


def load_targets(s: Session) -> dict[str, TargetInfo]:
    """Every mark (with its holder) and GI by id, read as plain rows (no ORM objects)."""
    out: dict[str, TargetInfo] = {}
    K, E = Mark.__table__, Enterprise.__table__
    for r in s.execute(select(K.c.id, K.c.kind, K.c.text, K.c.well_known, K.c.reference_price, E.c.id.label("eid"),
                              E.c.name).join(E, K.c.enterprise_id == E.c.id)):
        out[r.id] = TargetInfo(r.id, r.kind, r.text or r.id, r.eid, r.name, bool(r.well_known), r.reference_price)
    G = GeographicalIndication.__table__
    for r in s.execute(select(G.c.id, G.c.name)):
        out[r.id] = TargetInfo(r.id, "gi", r.name, r.id, r.name)
    return out


def holder_targets(s: Session, holder: str) -> set[str]:
    """Target ids a holder may see: the marks of enterprise `holder`, or the GI `holder`."""
    ids = set(s.scalars(select(Mark.id).where(Mark.enterprise_id == holder)))
    if s.get(GeographicalIndication, holder) is not None:
        ids.add(holder)
    return ids
