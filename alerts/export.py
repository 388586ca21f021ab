"""Lead rows for listing and export: the DESIGN.md lead fields plus listing facts."""
from __future__ import annotations

import csv
import json
from datetime import datetime
from typing import Iterable, Iterator, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Lead, Listing

from .i18n import match_reasons

EXPORT_FIELDS = ["lead_id", "listing_id", "platform", "target_id", "target_kind", "score", "reasons", "kind",
                 "url", "title", "seller_id", "seller_name", "seller_location", "price", "sales", "online",
                 "status", "verdict", "priority", "priority_reasons", "jurisdiction", "related_lead_id",
                 "referred_to", "first_seen", "last_seen"]


def row_of(lead: Lead, li: Listing, language: str | None = None) -> dict:
    """One lead row; 'reasons' rendered from the lead's reason codes in ``language`` (default
    MARKWATCH_LANGUAGE), see alerts.i18n.match_reasons."""
    return {"lead_id": lead.id, "listing_id": li.listing_id, "platform": li.platform, "target_id": lead.target_id,
            "target_kind": lead.target_kind, "score": lead.score,
            "reasons": match_reasons(lead.reasons, lead.evidence, language),
            "kind": li.kind, "url": li.url, "title": li.title, "seller_id": li.seller_id,
            "seller_name": li.seller_name, "seller_location": li.seller_location, "price": li.price,
            "sales": li.sales, "online": li.status == "active", "status": lead.status, "verdict": lead.verdict,
            "priority": round(lead.priority or 0, 1), "priority_reasons": list(lead.priority_reasons or []),
            "jurisdiction": lead.jurisdiction, "related_lead_id": lead.related_lead_id,
            "referred_to": lead.referred_to, "status_reason": lead.status_reason,
            "first_seen": lead.first_seen.isoformat(timespec="seconds"),
            "last_seen": max(lead.last_seen, li.last_seen or lead.last_seen).isoformat(timespec="seconds")}


# the columns row_of reads
_LEAD_COLS = ("id", "target_id", "target_kind", "score", "reasons", "evidence", "status", "verdict", "priority",
              "priority_reasons", "jurisdiction", "related_lead_id", "referred_to", "status_reason", "first_seen",
              "last_seen")
_LISTING_COLS = ("listing_id", "platform", "kind", "url", "title", "seller_id", "seller_name", "seller_location",
                 "price", "sales", "status", "last_seen")


def lead_rows(s: Session, status: str | None = None, limit: int | None = None,
              bureaus: Iterable[str] | None = None, targets: Iterable[str] | None = None,
              since: datetime | None = None, until: datetime | None = None,
              include_suppressed: bool = True, language: str | None = None) -> Iterator[dict]:
    """Lead rows, highest priority first. `bureaus`/`targets` restrict by jurisdiction/target id;
    `since`/`until` by first_seen (naive UTC).

    Read as plain column rows (no ORM objects: a third of a `digest` or `leads list` on a large
    store went into building and tracking them); the rows are the same as ``row_of``'s."""
    from types import SimpleNamespace

    lt, it = Lead.__table__, Listing.__table__
    q = (select(*(c.label(f"d_{c.key}") for c in lt.c if c.key in _LEAD_COLS),
                *(c.label(f"l_{c.key}") for c in it.c if c.key in _LISTING_COLS))
         .select_from(lt.join(it, lt.c.listing_pk == it.c.id)))
    if status:
        q = q.where(Lead.status == status)
    elif not include_suppressed:
        q = q.where(Lead.status != "suppressed")
    if bureaus is not None:
        q = q.where(Lead.jurisdiction.in_(list(bureaus)))
    if targets is not None:
        q = q.where(Lead.target_id.in_(list(targets)))
    if since is not None:
        q = q.where(Lead.first_seen >= since)
    if until is not None:
        q = q.where(Lead.first_seen < until)
    q = q.order_by(Lead.priority.desc(), Lead.score.desc(), Lead.id)
    if limit:
        q = q.limit(limit)
    for r in s.execute(q).mappings():
        lead = SimpleNamespace(**{k: r[f"d_{k}"] for k in _LEAD_COLS})
        li = SimpleNamespace(**{k: r[f"l_{k}"] for k in _LISTING_COLS})
        yield row_of(lead, li, language)


def write_jsonl(rows, out: TextIO) -> int:
    n = 0
    for r in rows:
        out.write(json.dumps(r, ensure_ascii=False) + "\n")
        n += 1
    return n


def write_csv(rows, out: TextIO) -> int:
    w = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    n = 0
    for r in rows:
        w.writerow({**r, "reasons": "；".join(r["reasons"]), "priority_reasons": "；".join(r["priority_reasons"])})
        n += 1
    return n
