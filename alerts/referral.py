"""Referral pack (移送材料包): a zip with the lead(s), the evidence artefacts with their hashes and
the ledger proof, and an 电子数据提取笔录-style record (HTML).

Zip layout::

    record.html          电子数据提取笔录: the registered mark (word or logo image, registration number,
                         holder), what was captured, how (网络在线提取 or 导入), when (the true time
                         of each artefact), from where (server IP, TLS certificate), with which hashes,
                         the photo an OCR/logo reason came from with the box drawn, the WARC files
                         and the trusted timestamps
    leads.json           the leads with listing facts, price history and audit trail
    marks/...            the registered logo images
    marked/...           the photos with the OCR/logo box drawn (derived from the evidence photo)
    timestamps/...       RFC 3161 tokens of ledger heads covering these artefacts
    manifest.json.tsr    RFC 3161 token over manifest.json (when a TSA is configured; not in SHA256SUMS)
    tsa-ca.pem           the TSA root given in MARKWATCH_TSA_CA_FILE, to verify tokens offline
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


def _naive(ts: str | None):
    if not ts:
        return None
    try:
        d = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return d.astimezone(timezone.utc).replace(tzinfo=None) if d.tzinfo else d


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


KIND_ZH = {"html": "网页源代码", "screenshot": "网页截图", "image": "商品图片", "warc": "WARC 网络数据包",
           "meta": "提取记录（JSON）", "timestamp": "可信时间戳", "video": "录像"}
TIME_ZH = {"crawl fetch": "抓取时", "evidence visit": "取证访问时（与截图同一次访问）",
           "crawl visit (live room, same visit as the HTML)": "抓取时（直播间，与网页同一次访问）",
           "import": "导入时", "evidence record written": "记录生成时"}


def _capture_meta(s: Session, evidence_dir: Path, listing_pk: int) -> dict[str, dict]:
    """meta.json of each evidence capture of a listing, by capture directory."""
    from crawler.models import EvidenceCapture

    out = {}
    for c in s.scalars(select(EvidenceCapture).where(EvidenceCapture.listing_pk == listing_pk)
                       .order_by(EvidenceCapture.id)):
        f = evidence_dir / c.directory / "meta.json"
        try:
            out[c.directory] = {**json.loads(f.read_text(encoding="utf-8")), "_status": c.status,
                                "_detail": c.detail}
        except (OSError, ValueError):
            out[c.directory] = {"_status": c.status, "_detail": c.detail}
    return out


def _mark_doc(s: Session, target_id: str, data_dir: Path, files: dict) -> dict:
    """The registered mark or GI as the record shows it; a logo image is copied into the pack."""
    from store.models import Enterprise, GeographicalIndication, Mark

    mk = s.get(Mark, target_id)
    if mk is not None:
        ent = s.get(Enterprise, mk.enterprise_id)
        reg = mk.registration_number
        doc = {"kind": "logo" if mk.kind == "logo" else "word", "text": mk.text or "", "holder": ent.name if ent else "",
               "registration_number": reg, "nice_classes": list(mk.nice_classes or []),
               "well_known": bool(mk.well_known), "image": None}
        if mk.image:
            p = Path(mk.image) if Path(mk.image).is_absolute() else data_dir / mk.image
            if p.is_file():
                name = f"marks/{mk.id}{p.suffix or '.png'}"
                files[name] = p
                doc["image"] = name
        return doc
    gi = s.get(GeographicalIndication, target_id)
    if gi is not None:
        return {"kind": "gi", "text": gi.name, "holder": "地理标志", "registration_number": None,
                "nice_classes": list(gi.nice_classes or []), "well_known": False, "image": None,
                "region": "、".join(gi.places or [])}
    return {"kind": "?", "text": target_id, "holder": "", "registration_number": None, "nice_classes": [],
            "well_known": False, "image": None}


def _reason_photo(lead: Lead, doc_files: list[dict], evidence_dir: Path, label: str, files: dict) -> dict | None:
    """Which evidence photo an OCR or logo reason came from, drawn with its box."""
    ev = lead.evidence or {}
    ref = ev.get("image")
    if not ref:
        return None
    sha = ev.get("image_sha256")
    photo = next((f for f in doc_files if f["kind"] == "image" and sha and f["sha256"] == sha), None)
    if photo is None:
        photo = next((f for f in doc_files if f["kind"] == "image" and f["url"] == ref), None)
    out = {"ref": (photo["url"] if photo and photo["url"] else ref), "file": photo["name"] if photo else None,
           "marked": None,
           "what": "图片文字识别（OCR）" if ev.get("field") == "image" and not ev.get("bbox") else "图形商标比对",
           "text": ev.get("matched_text") or ev.get("matched") or ev.get("text") or "",
           "confidence": ev.get("confidence")}
    if photo is None or photo["missing"]:
        return out
    quad = ev.get("quad") or ev.get("box")
    try:
        from matcher.logo_draw import draw_detection

        img = draw_detection(evidence_dir / photo["path"], [{"quad": quad, "bbox": ev.get("bbox"), "label": label}],
                             max_side=640)
    except Exception as e:  # an unreadable photo: the record says so instead of a drawing
        out["error"] = f"{type(e).__name__}: {e}"[:200]
        return out
    import io

    b = io.BytesIO()
    img.save(b, "JPEG", quality=90)
    name = f"marked/lead{lead.id}.jpg"
    files[name] = b.getvalue()
    out["marked"] = name
    return out


def _covering_tokens(s: Session, evidence_dir: Path, seqs: list[int], files: dict) -> list[dict]:
    """The first ledger-head token that covers all `seqs` (its head is at or after the newest),
    copied into the pack."""
    if not seqs:
        return []
    newest = max(seqs)
    for r in s.scalars(select(EvidenceRecord).where(EvidenceRecord.kind == "timestamp").order_by(EvidenceRecord.seq)):
        try:
            stamped = int(r.listing_id.split("#", 1)[1])
        except (IndexError, ValueError):
            continue
        if stamped < newest:
            continue
        head = s.scalar(select(EvidenceRecord).where(EvidenceRecord.seq == stamped))
        f = evidence_dir / r.path
        if head is None or not f.is_file():
            continue
        from store.ledger import head_message

        name = f"timestamps/{Path(r.path).name}"
        msg_name = name[:-4] + ".txt"
        files[name] = f
        files[msg_name] = head_message(head.seq, head.entry_hash)
        return [{"name": name, "message_file": msg_name, "stamped_seq": stamped, "entry_hash": head.entry_hash,
                 "gen_time": r.captured_at, "tsa": r.url, "seq": r.seq}]
    return []


def build_pack(s: Session, leads: list[Lead], output: Path, to: str, actor: str, evidence_dir: Path,
               tz: str = "Asia/Shanghai", tsa_url: str | None = None, tsa_ca_file: Path | None = None) -> dict:
    """Write the zip; returns the manifest (dict) plus ``evidence_problems``, ``chain_ok`` and
    ``timestamp`` (the pack token's genTime) or ``timestamp_error``. Leads must already be loaded
    in `s`. ``tsa_url``/``tsa_ca_file`` default to the settings (MARKWATCH_TSA_URL, _CA_FILE)."""
    if tsa_url is None or tsa_ca_file is None:
        from config.settings import get_settings

        st = get_settings()
        tsa_url = tsa_url if tsa_url is not None else st.tsa_url
        tsa_ca_file = tsa_ca_file if tsa_ca_file is not None else st.tsa_ca_file
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
        metas = _capture_meta(s, evidence_dir, li.id)
        times = {(d, a.get("file")): a.get("time_is") for d, mt in metas.items() for a in mt.get("artefacts", [])}
        latest = metas[list(metas)[-1]] if metas else {}
        if latest.get("method"):
            doc["method"] = latest["method"]
        else:  # no capture yet: a listing no crawl fetched was imported from a file
            from crawler.models import CrawlPage

            crawled = s.scalar(select(CrawlPage.id).where(CrawlPage.platform == li.platform,
                                                          CrawlPage.listing_id == li.listing_id).limit(1))
            doc["method"] = "网络在线提取" if crawled is not None else "导入"
        doc["capture_status"] = latest.get("_status")
        doc["capture_detail"] = latest.get("_detail")
        visit = latest.get("visit") or {}
        doc["visit"] = {"url": visit.get("url"), "final_url": visit.get("final_url"),
                        "redirects": visit.get("redirects") or [],
                        "servers": sorted({(x.get("ip") or "", x.get("tls_cert_sha256") or "")
                                           for x in visit.get("exchanges") or [] if x.get("url") == visit.get("final_url")
                                           or x.get("url") == visit.get("url")}),
                        "refused": [r.get("url") for r in visit.get("refused") or []],
                        "started": local(_naive(visit.get("visit_started")))} if visit else None
        doc["page_fetched_at"] = local(_naive(latest.get("page_fetched_at")))
        doc["mark"] = _mark_doc(s, lead.target_id, evidence_dir.parent, files)
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
                 "prev_hash": r.prev_hash, "ok": actual == r.sha256, "missing": missing, "path": r.path,
                 "kind_zh": KIND_ZH.get(r.kind, r.kind),
                 "time_is": TIME_ZH.get(times.get((str(Path(r.path).parent.as_posix()), Path(r.path).name)) or "",
                                        {"meta": "记录生成时", "timestamp": "时间戳签发时"}.get(r.kind, ""))}
            doc["files"].append(f)
            ledger_entries.append({"seq": r.seq, "listing_pk": r.listing_pk, "platform": r.platform,
                                   "listing_id": r.listing_id, "kind": r.kind, "path": r.path, "url": r.url,
                                   "captured_at": r.captured_at.isoformat(timespec="microseconds"), "sha256": r.sha256, "size": r.size,
                                   "prev_hash": r.prev_hash, "entry_hash": r.entry_hash})
        doc["reason_photo"] = _reason_photo(lead, doc["files"], evidence_dir, doc["mark"]["text"] or lead.target_id, files)
        doc["tokens"] = [{**t, "gen_time": local(t["gen_time"])}
                         for t in _covering_tokens(s, evidence_dir, [f["seq"] for f in doc["files"]], files)]
        lead_docs.append(doc)
    all_files = [f for d in lead_docs for f in d["files"]]
    bad = [f["name"] for f in all_files if not f["ok"]]
    ledger_check = chain_msg + ("" if not bad else f"；{len(bad)} 个文件与账本记录不一致或缺失：" + "、".join(bad))
    html = env().get_template("record.html.j2").render(
        pack_id=pack_id, created_local=created_local.strftime("%Y-%m-%d %H:%M:%S %Z"),
        created_date=created_local.strftime("%Y年%m月%d日"), actor=actor, to=to, leads=lead_docs,
        files=all_files, ledger_check=ledger_check, tsa_url=tsa_url,
        methods=sorted({d["method"] for d in lead_docs}))
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
        man_bytes = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
        z.writestr("manifest.json", man_bytes)
        z.writestr("SHA256SUMS", "\n".join(sums) + "\n")
        stamp_info: dict = {}
        if tsa_url:  # the pack itself gets a trusted time; a TSA failure is reported, the pack still written
            from store.tsa import TimestampError, request_token, verify_token

            try:
                token = request_token(tsa_url, man_bytes)
                info = verify_token(token, man_bytes, ca_file=tsa_ca_file)
                z.writestr("manifest.json.tsr", token)
                if tsa_ca_file and Path(tsa_ca_file).is_file():
                    z.writestr("tsa-ca.pem", Path(tsa_ca_file).read_bytes())
                stamp_info["timestamp"] = {"gen_time": info.gen_time.isoformat() + "Z", "tsa": tsa_url,
                                           "signature_checked": info.signature_checked}
            except TimestampError as e:
                stamp_info["timestamp_error"] = str(e)
    tmp.replace(output)
    manifest.update(stamp_info)
    manifest["evidence_problems"] = bad
    manifest["chain_ok"] = ok_chain
    return manifest
