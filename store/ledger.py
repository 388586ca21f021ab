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
    # the record this session appended last in the same transaction is the chain's head (on
    # SQLite the transaction holds the write lock from its first append): no query per artefact
    txn = s.get_transaction()
    held = s.info.get(_LAST)
    last = held[1] if held is not None and held[0] is txn and txn is not None else last_record(s)
    prev = last.entry_hash if last is not None else GENESIS
    r = EvidenceRecord(listing_pk=listing_pk, platform=platform, listing_id=listing_id, kind=kind, path=path, url=url,
                       captured_at=captured_at, sha256=sha256, size=size, prev_hash=prev)
    r.entry_hash = record_hash(r)
    s.add(r)
    s.flush()
    s.info[_LAST] = (s.get_transaction(), r)
    return r


_LAST = "markwatch.ledger.last"  # Session.info key: (transaction, record it appended last)


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
    kind: str  # altered | missing | reordered | record_altered | record_missing | truncated | timestamp
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
            extra = ""
            if r.kind == "warc":  # name the damaged WARC record when the file still parses that far
                try:
                    from crawler.warc import read_warc

                    read_warc(f)
                    extra = "; the WARC still parses: a record's content was replaced"
                except ValueError as e:
                    extra = f"; {e}"
            problems.append(Problem("altered", r.seq, r.path,
                                    f"artefact altered: {r.path} (SHA-256 {sha[:16]}…, recorded {r.sha256[:16]}…, "
                                    f"{what}){extra}"))
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


# --- Trusted timestamps of the ledger head (RFC 3161, store.tsa) -------------------------------
TIMESTAMP_DIR = "timestamps"


def head_message(seq: int, entry_hash: str) -> bytes:
    """The bytes a ledger-head token stamps: ``markwatch-ledger-head <seq> <entry_hash>\n``."""
    return f"markwatch-ledger-head {seq} {entry_hash}\n".encode("ascii")


def timestamp_head(s: Session, evidence_dir: Path, tsa_url: str, timeout: float = 20.0) -> EvidenceRecord | None:
    """Get an RFC 3161 token for the current head from `tsa_url`, store it as
    ``timestamps/head-<seq>.tsr`` and append it to the chain as a ``timestamp`` entry (captured_at =
    the token's genTime, url = the TSA). Returns that entry, or None when the head is already a
    timestamp. Raises store.tsa.TimestampError when the TSA fails."""
    from .tsa import request_token, verify_token

    last = last_record(s)
    if last is None or last.kind == "timestamp":
        return None
    msg = head_message(last.seq, last.entry_hash)
    token = request_token(tsa_url, msg, timeout=timeout)
    info = verify_token(token, msg)
    d = Path(evidence_dir) / TIMESTAMP_DIR
    d.mkdir(parents=True, exist_ok=True)
    f = d / f"head-{last.seq:08d}.tsr"
    f.write_bytes(token)
    return append_file(s, evidence_dir, f, kind="timestamp", platform="", listing_id=f"head#{last.seq}",
                       url=tsa_url, captured_at=info.gen_time)


def verify_timestamps(s: Session, evidence_dir: Path, ca_file: str | Path | None = None,
                      required: bool = False) -> tuple[list[dict], list[Problem]]:
    """Check every ``timestamp`` entry: the token file parses, stamps exactly the head it names
    (``head_message`` of that entry's seq and entry_hash as recorded now), and, with `ca_file`, is
    signed by the TSA. With `required` (a TSA is configured) entries after the newest token are a
    problem: evidence not yet covered by a trusted time. Returns (tokens [{seq, stamped_seq,
    gen_time, signature_checked}], problems)."""
    from .tsa import TimestampError, verify_token

    evidence_dir = Path(evidence_dir)
    rows = list(s.scalars(select(EvidenceRecord).order_by(EvidenceRecord.seq)))
    by_seq = {r.seq: r for r in rows}
    tokens, problems = [], []
    for r in rows:
        if r.kind != "timestamp":
            continue
        f = evidence_dir / r.path
        try:
            stamped = int(r.listing_id.split("#", 1)[1])
        except (IndexError, ValueError):
            problems.append(Problem("timestamp", r.seq, r.path, f"timestamp entry #{r.seq} names no ledger head"))
            continue
        if not f.is_file():
            problems.append(Problem("timestamp", r.seq, r.path,
                                    f"timestamp token missing: {r.path} (trusted time of ledger head #{stamped})"))
            continue
        head = by_seq.get(stamped)
        if head is None:
            problems.append(Problem("timestamp", r.seq, r.path,
                                    f"timestamp token {r.path} stamps ledger entry #{stamped}, which is gone"))
            continue
        try:
            info = verify_token(f.read_bytes(), head_message(head.seq, head.entry_hash), ca_file=ca_file)
        except TimestampError as e:
            problems.append(Problem("timestamp", r.seq, r.path,
                                    f"timestamp token {r.path} does not prove ledger head #{stamped} as recorded "
                                    f"now: {e}"))
            continue
        tokens.append({"seq": r.seq, "stamped_seq": stamped, "gen_time": info.gen_time.isoformat() + "Z",
                       "signature_checked": info.signature_checked, "tsa": r.url})
    if required and rows:
        last_ts = max((r.seq for r in rows if r.kind == "timestamp"), default=0)
        uncovered = [r for r in rows if r.seq > last_ts and r.kind != "timestamp"]
        if uncovered and not (len(uncovered) == len(rows)):
            problems.append(Problem("timestamp", uncovered[0].seq, None,
                                    f"ledger entries #{uncovered[0].seq}–#{uncovered[-1].seq} have no trusted "
                                    f"timestamp after them (token missing, or the TSA failed in the last pass)"))
        elif uncovered:
            problems.append(Problem("timestamp", None, None,
                                    "a TSA is configured but the ledger has no timestamp token at all"))
    return tokens, problems
