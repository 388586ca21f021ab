"""Referral pack (移送材料包): a zip with the lead(s), the evidence artefacts with their hashes and
the ledger proof, and an 电子数据提取笔录-style record (HTML).

Zip layout::

    record.html          电子数据提取笔录: what was captured, when, from where, with which hashes
    leads.json           the leads with listing facts, price history and audit trail
    ledger.json          the evidence-ledger entries of these listings (seq, sha256, prev_hash,
                         entry_hash), the chain head and the result of checking the chain
    evidence/...         the artefacts, copied from <data dir>/evidence
    manifest.json        every file in the pack with its SHA-256 and size
    SHA256SUMS           the same, in `sha256sum -c` format
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.images import sha256_file
from store.models import EvidenceRecord, Lead, ListingSnapshot, utcnow

from .export import row_of
from .targets import load_targets

TEMPLATES = Path(__file__).resolve().parent / "templates"


def env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))


def check_chain(s: Session, evidence_dir: Path) -> tuple[bool, str, EvidenceRecord | None]:
    """Verify the whole evidence ledger's chain (store.ledger.verify, records only; the pack's own
    files are checked one by one against their recorded SHA-256)."""
    head = s.scalar(select(EvidenceRecord).order_by(EvidenceRecord.seq.desc()).limit(1))
    if head is None:
        return True, "账本为空", None
    from store.ledger import verify

    n, problems = verify(s, evidence_dir, check_files=False)
    if problems:
        return False, "账本校验失败：" + "；".join(str(p) for p in problems[:5]), head
    return True, f"账本共 {n} 条，逐条哈希与前后链接校验一致，链头 #{head.seq} {head.entry_hash}", head


def chain_segment(s: Session, first_seq: int) -> list[list]:
    """[seq, prev_hash, entry_hash] from `first_seq` to the head: links the pack's entries to the head."""
    return [[r.seq, r.prev_hash, r.entry_hash] for r in
            s.scalars(select(EvidenceRecord).where(EvidenceRecord.seq >= first_seq).order_by(EvidenceRecord.seq))]


HASH_RULE = ("entry_hash = SHA-256(prev_hash + '\\n' + JSON of {listing_pk, platform, listing_id, kind, path, url, "
             "captured_at (ISO, microseconds), sha256, size} with sorted keys, no spaces, UTF-8); the first entry's "
             "prev_hash is 64 zeros (store/ledger.py)")


def build_pack(s: Session, leads: list[Lead], output: Path, to: str, actor: str, evidence_dir: Path,
               tz: str = "Asia/Shanghai") -> dict:
    """Write the zip; returns the manifest (dict). Leads must already be loaded in `s`."""
    zone = ZoneInfo(tz)
    created = utcnow()
    created_local = created.replace(tzinfo=timezone.utc).astimezone(zone)
    pack_id = f"MW-{created_local:%Y%m%d%H%M%S}-" + "-".join(str(l.id) for l in leads[:5])
    targets = load_targets(s)
    ok_chain, chain_msg, head = check_chain(s, evidence_dir)
    files: dict[str, bytes | Path] = {}
    lead_docs, ledger_entries = [], []

    def local(dt):
        return dt.replace(tzinfo=timezone.utc).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if dt else "-"

    for lead in leads:
        li = lead.listing
        row = row_of(lead, li)
        t = targets.get(lead.target_id)
        doc = {**row, "target_label": t.label if t else lead.target_id, "holder_name": t.holder_name if t else "",
               "turnover": f"{li.price * li.sales:,.2f} 元" if li.price and li.sales else "-",
               "events": [{"at": local(e.at), "actor": e.actor, "action": e.action, "from_status": e.from_status,
                           "to_status": e.to_status, "note": e.note} for e in lead.events],
               "snapshots": [{"seen_at": local(sn.seen_at), "price": sn.price, "sales": sn.sales, "title": sn.title}
                             for sn in s.scalars(select(ListingSnapshot).where(ListingSnapshot.listing_pk == li.id)
                                                 .order_by(ListingSnapshot.id))],
               "first_seen": local(lead.first_seen), "last_seen": local(max(lead.last_seen, li.last_seen)),
               "files": []}
        recs = s.scalars(select(EvidenceRecord).where(EvidenceRecord.listing_pk == li.id).order_by(EvidenceRecord.seq))
        for r in recs:
            src = evidence_dir / r.path
            name = f"evidence/{li.platform}_{li.listing_id}/{r.seq:06d}_{Path(r.path).name}"
            missing = not src.is_file()
            actual = None if missing else sha256_file(src)
            if not missing:
                files[name] = src
            f = {"name": name, "kind": r.kind, "url": r.url, "captured_at": local(r.captured_at), "size": r.size,
                 "sha256": r.sha256, "actual_sha256": actual, "seq": r.seq, "entry_hash": r.entry_hash,
                 "prev_hash": r.prev_hash, "ok": actual == r.sha256, "missing": missing}
            doc["files"].append(f)
            ledger_entries.append({"seq": r.seq, "listing_pk": r.listing_pk, "platform": r.platform,
                                   "listing_id": r.listing_id, "kind": r.kind, "path": r.path, "url": r.url,
                                   "captured_at": r.captured_at.isoformat(timespec="microseconds"), "sha256": r.sha256, "size": r.size,
                                   "prev_hash": r.prev_hash, "entry_hash": r.entry_hash})
        lead_docs.append(doc)
    all_files = [f for d in lead_docs for f in d["files"]]
    bad = [f["name"] for f in all_files if not f["ok"]]
    ledger_check = chain_msg + ("" if not bad else f"；{len(bad)} 个文件与账本记录不一致或缺失：" + "、".join(bad))
    html = env().get_template("record.html.j2").render(
        pack_id=pack_id, created_local=created_local.strftime("%Y-%m-%d %H:%M:%S %Z"),
        created_date=created_local.strftime("%Y年%m月%d日"), actor=actor, to=to, leads=lead_docs,
        files=all_files, ledger_check=ledger_check)
    files["record.html"] = html.encode("utf-8")
    files["leads.json"] = json.dumps({"pack_id": pack_id, "referred_to": to, "by": actor,
                                      "created_at": created.isoformat() + "Z", "leads": lead_docs},
                                     ensure_ascii=False, indent=2, default=str).encode("utf-8")
    head_file = evidence_dir / "LEDGER_HEAD"
    first = min((e["seq"] for e in ledger_entries), default=None)
    files["ledger.json"] = json.dumps({
        "hash_rule": HASH_RULE, "chain_ok": ok_chain, "check": chain_msg,
        "head": {"seq": head.seq, "entry_hash": head.entry_hash} if head else None,
        "ledger_head_file": head_file.read_text(encoding="ascii").strip() if head_file.is_file() else None,
        "entries": ledger_entries,
        "chain_to_head": chain_segment(s, first) if first is not None else []},
        ensure_ascii=False, indent=2).encode("utf-8")
    manifest = {"pack_id": pack_id, "created_at": created.isoformat() + "Z", "referred_to": to, "by": actor,
                "lead_ids": [l.id for l in leads], "files": []}
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    sums = []
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            data = content.read_bytes() if isinstance(content, Path) else content
            z.writestr(name, data)
            digest = hashlib.sha256(data).hexdigest()
            manifest["files"].append({"name": name, "sha256": digest, "size": len(data)})
            sums.append(f"{digest}  {name}")
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        z.writestr("SHA256SUMS", "\n".join(sums) + "\n")
    tmp.replace(output)
    manifest["evidence_problems"] = bad
    manifest["chain_ok"] = ok_chain
    return manifest
