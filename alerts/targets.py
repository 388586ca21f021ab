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
    out: dict[str, TargetInfo] = {}
    for mk, ent in s.execute(select(Mark, Enterprise).join(Enterprise, Mark.enterprise_id == Enterprise.id)):
        out[mk.id] = TargetInfo(mk.id, mk.kind, mk.text or mk.id, ent.id, ent.name, bool(mk.well_known),
                                mk.reference_price)
    for gi in s.scalars(select(GeographicalIndication)):
        out[gi.id] = TargetInfo(gi.id, "gi", gi.name, gi.id, gi.name)
    return out


def holder_targets(s: Session, holder: str) -> set[str]:
    """Target ids a holder may see: the marks of enterprise `holder`, or the GI `holder`."""
    ids = set(s.scalars(select(Mark.id).where(Mark.enterprise_id == holder)))
    if s.get(GeographicalIndication, holder) is not None:
        ids.add(holder)
    return ids
