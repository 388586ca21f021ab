"""Lead rows for listing and export: the DESIGN.md lead fields plus listing facts."""
from __future__ import annotations

import csv
import json
from typing import Iterator, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Lead, Listing

EXPORT_FIELDS = ["lead_id", "listing_id", "platform", "target_id", "target_kind", "score", "reasons", "kind",
                 "url", "title", "seller_id", "seller_name", "seller_location", "price", "status", "priority",
                 "first_seen", "last_seen"]


def lead_rows(s: Session, status: str | None = None, limit: int | None = None) -> Iterator[dict]:
    q = select(Lead, Listing).join(Listing, Lead.listing_pk == Listing.id)
    if status:
        q = q.where(Lead.status == status)
    q = q.order_by(Lead.priority.desc(), Lead.score.desc(), Lead.id)
    if limit:
        q = q.limit(limit)
    for lead, li in s.execute(q):
        yield {"lead_id": lead.id, "listing_id": li.listing_id, "platform": li.platform, "target_id": lead.target_id,
               "target_kind": lead.target_kind, "score": lead.score, "reasons": list(lead.reasons or []),
               "kind": li.kind, "url": li.url, "title": li.title, "seller_id": li.seller_id,
               "seller_name": li.seller_name, "seller_location": li.seller_location, "price": li.price,
               "status": lead.status, "priority": round(lead.priority or 0, 1),
               "first_seen": lead.first_seen.isoformat(timespec="seconds"),
               "last_seen": lead.last_seen.isoformat(timespec="seconds")}


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
        w.writerow({**r, "reasons": "；".join(r["reasons"])})
        n += 1
    return n
