"""The evidence ledger (证据固定): append-only, hash-chained records of evidence artefacts.

Each ``EvidenceRecord`` names one artefact file under ``<data dir>/evidence/`` (page HTML,
screenshot, image, capture metadata) with its SHA-256 and size, the listing, the URL and the
capture time. ``entry_hash = SHA-256(prev_hash + canonical JSON of the record)`` chains every
record to the one before it, so editing, deleting or re-ordering records breaks the chain, and
altering or removing a file breaks its recorded SHA-256. After each capture the head of the
chain (last seq and hash) is written to ``<evidence>/LEDGER_HEAD``, so dropping the newest
records is detected too.

    rec = append(session, listing_pk=..., kind="html", path="sandbox-mall/m1/2026.../page.html", ...)
    problems = verify(session, evidence_dir)     # [] when everything is intact

Like every repository function these never commit; the caller does.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.files import sha256_file

from .models import EvidenceRecord, utcnow

GENESIS = "0" * 64
HEAD_FILE = "LEDGER_HEAD"


def _ts(dt: datetime) -> str:
    return dt.replace(tzinfo=None).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, listing_pk: int | None, platform: str, listing_id: str, kind: str, path: str,
               url: str | None, captured_at: datetime, sha256: str, size: int) -> str:
    body = json.dumps({"listing_pk": listing_pk, "platform": platform, "listing_id": listing_id, "kind": kind,
                       "path": path, "url": url or "", "captured_at": _ts(captured_at), "sha256": sha256,
                       "size": int(size)}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + "\n" + body).encode("utf-8")).hexdigest()


def record_hash(r: EvidenceRecord) -> str:
    return entry_hash(r.prev_hash, r.listing_pk, r.platform, r.listing_id, r.kind, r.path, r.url, r.captured_at,
                      r.sha256, r.size)


def last_record(s: Session) -> EvidenceRecord | None:
    return s.scalar(select(EvidenceRecord).order_by(EvidenceRecord.seq.desc()).limit(1))


def append(s: Session, *, kind: str, path: str, sha256: str, size: int, listing_pk: int | None = None,
           platform: str = "", listing_id: str = "", url: str | None = None,
           captured_at: datetime | None = None) -> EvidenceRecord:
    """Add one artefact to the chain (``path`` relative to the evidence directory)."""
    captured_at = (captured_at or utcnow()).replace(tzinfo=None)
    last = last_record(s)
    prev = last.entry_hash if last is not None else GENESIS
    r = EvidenceRecord(listing_pk=listing_pk, platform=platform, listing_id=listing_id, kind=kind, path=path, url=url,
                       captured_at=captured_at, sha256=sha256, size=size, prev_hash=prev)
    r.entry_hash = record_hash(r)
    s.add(r)
    s.flush()
    return r


def append_file(s: Session, evidence_dir: Path, file: Path, **kw) -> EvidenceRecord:
    sha, size = sha256_file(file), Path(file).stat().st_size
    rel = file.resolve().relative_to(Path(evidence_dir).resolve()).as_posix()
    return append(s, path=rel, sha256=sha, size=size, **kw)


def write_head(s: Session, evidence_dir: Path) -> None:
    """Anchor the chain's newest record outside the database (call after committing)."""
    last = last_record(s)
    if last is None:
        return
    p = Path(evidence_dir) / HEAD_FILE
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(f"{last.seq} {last.entry_hash}\n", encoding="ascii")
    tmp.replace(p)


@dataclass
class Problem:
    kind: str  # altered | missing | reordered | record_altered | record_missing | truncated
    seq: int | None
    path: str | None
    message: str

    def __str__(self) -> str:
        return self.message


def verify(s: Session, evidence_dir: Path, check_files: bool = True) -> tuple[int, list[Problem]]:
    """Check the chain and every artefact; returns (records checked, problems)."""
    evidence_dir = Path(evidence_dir)
    rows = list(s.scalars(select(EvidenceRecord).order_by(EvidenceRecord.seq)))
    by_hash = {r.entry_hash: r for r in rows}
    problems: list[Problem] = []
    prev = GENESIS
    for r in rows:
        what = f"ledger entry #{r.seq} ({r.kind} {r.path})"
        if record_hash(r) != r.entry_hash:
            problems.append(Problem("record_altered", r.seq, r.path,
                                    f"{what} was edited: its hash no longer matches its contents"))
        elif r.prev_hash != prev:
            before = by_hash.get(r.prev_hash)
            if before is not None:
                problems.append(Problem("reordered", r.seq, r.path,
                                        f"{what} is out of order: it was recorded right after entry "
                                        f"#{before.seq} ({before.path})"))
            elif r.prev_hash == GENESIS:
                problems.append(Problem("reordered", r.seq, r.path, f"{what} is out of order: it was the first entry"))
            else:
                problems.append(Problem("record_missing", r.seq, r.path,
                                        f"the ledger entry recorded before {what} is missing (deleted)"))
        prev = r.entry_hash
        if not check_files:
            continue
        f = evidence_dir / r.path
        if not f.is_file():
            problems.append(Problem("missing", r.seq, r.path, f"artefact missing: {r.path} ({what})"))
            continue
        sha, size = sha256_file(f), Path(f).stat().st_size
        if sha != r.sha256:
            problems.append(Problem("altered", r.seq, r.path,
                                    f"artefact altered: {r.path} (SHA-256 {sha[:16]}…, recorded {r.sha256[:16]}…, {what})"))
    head = evidence_dir / HEAD_FILE
    if head.is_file():
        try:
            seq_s, h = head.read_text(encoding="ascii").split()
            seq = int(seq_s)
        except ValueError:
            problems.append(Problem("truncated", None, HEAD_FILE, f"{HEAD_FILE} is unreadable"))
        else:
            anchored = next((r for r in rows if r.seq == seq), None)
            if anchored is None or anchored.entry_hash != h:
                if not rows or rows[-1].seq < seq:
                    problems.append(Problem("truncated", seq, None,
                                            f"ledger entries up to #{seq} were recorded but the ledger now ends at "
                                            f"#{rows[-1].seq if rows else 0}: the newest entries were deleted"))
                else:
                    problems.append(Problem("record_altered", seq, anchored.path if anchored else None,
                                            f"ledger entry #{seq} does not match the anchored head in {HEAD_FILE}"))
    elif rows:
        problems.append(Problem("truncated", None, HEAD_FILE, f"{HEAD_FILE} is missing (the ledger head is not anchored)"))
    return len(rows), problems
