"""Evidence (证据固定) for listings that became leads (docs/evidence.md).

For each such listing (once per content version) a folder
``<data dir>/evidence/<platform>/<listing id>/<UTC capture time>/`` receives:

* ``page.html`` - the detail page (or live room) exactly as fetched at crawl time;
* ``visit.html``, ``screenshot.jpg``, ``capture.warc.gz`` - one isolated evidence visit of a
  marketplace page (crawler.screenshot): every request checked by the one allowed-host rule
  (crawler.hosts), the screenshot, the document and the WARC 1.1 records of that same visit (for
  sandbox sources the sandbox is re-opened at the epoch just crawled); a visit that leads outside
  the allowed hosts makes the capture ``blocked`` and keeps no screenshot;
* ``screenshot.png`` - live rooms: shot at crawl time in the visit that rendered the room;
* ``image-<n>.<ext>`` - the listing's images as stored; for imported listings only files in the
  listing file's own folder (crawler.hosts.import_image_path);
* ``meta.json`` - URL, method (网络在线提取 / 导入), the listing, the leads, the visit (redirects,
  refused requests, servers, TLS fingerprints) and each artefact with its SHA-256 and its own
  capture time (``time_is`` says which event that time is).

Every file is appended to the hash-chained ledger (``store.ledger``) with its own capture time,
the chain head anchored and, with ``tsa_url``, time-stamped (RFC 3161), so ``markwatch evidence
verify`` detects any artefact altered, missing or re-ordered and a chain rewritten after its token.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

from config.settings import Settings
from store import ledger
from store import models as m
from store.db import session_scope
from store.models import utcnow

from .models import CrawlPage, EvidenceCapture
from .state import safe_name

REPO = Path(__file__).resolve().parent.parent


def evidence_dir(settings: Settings) -> Path:
    return settings.resolved_data_dir / "evidence"


def _listings_needing_evidence(s, run_id: int | None, listing_pks: list[int] | None) -> list[m.Listing]:
    if listing_pks is not None:
        pks = set(listing_pks)
    else:
        q = select(m.Lead.listing_pk).where(or_(m.Lead.last_run_id == run_id, m.Lead.first_run_id == run_id))
        pks = set(s.scalars(q))
    out = []
    for row in s.scalars(select(m.Listing).where(m.Listing.id.in_(pks)).order_by(m.Listing.id)):
        done = s.scalar(select(EvidenceCapture.id).where(EvidenceCapture.listing_pk == row.id,
                                                         EvidenceCapture.content_hash == (row.content_hash or ""))
                        .limit(1))
        if done is None:
            out.append(row)
    return out


def _screenshots(settings: Settings, pages: list[dict], say: Callable[[str], None]) -> dict[str, dict]:
    """Run crawler.screenshot (evidence visits) in a subprocess; returns {dir: result}."""
    from .browser import find_chromium

    if not pages:
        return {}
    if find_chromium() is None:
        return {p["dir"]: {"ok": False, "status": "error", "error": "no Chromium installed"} for p in pages}
    work = settings.resolved_data_dir / "crawl"
    work.mkdir(parents=True, exist_ok=True)
    job = work / f"evidence-visits-{os.getpid()}.json"
    job.write_text(json.dumps({"data_dir": str(settings.resolved_data_dir), "pages": pages, "concurrency": 2},
                              ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    results: dict[str, dict] = {}
    log = settings.resolved_data_dir / "logs" / "screenshots.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as lf:
        proc = subprocess.Popen([sys.executable, "-m", "crawler.screenshot", str(job)], cwd=str(REPO), env=env,
                                stdout=subprocess.PIPE, stderr=lf, text=True, encoding="utf-8")
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("RESULT "):
                r = json.loads(line[7:])
                results[r["dir"]] = r
                if len(results) % 50 == 0:
                    say(f"evidence: {len(results)}/{len(pages)} pages visited")
        proc.wait()
    for p in pages:
        results.setdefault(p["dir"], {"ok": False, "status": "error",
                                      "error": f"evidence visit process ended early (exit {proc.returncode})"})
    return results


def _known_sources(settings: Settings, engine: Engine) -> dict:
    """Sources as configured now, else as recorded by the last crawl (extra sources of a pass)."""
    from .sources import SourceError, load_sources, parse_source

    out = {}
    with session_scope(engine) as s:
        for row in s.scalars(select(m.Source)):
            try:
                out[row.name] = parse_source({k: v for k, v in (row.config or {}).items() if k != "file"}, row.name)
            except SourceError:
                pass
    try:
        out.update({x.name: x for x in load_sources(settings.sources_dir)})
    except Exception:  # a broken source file does not stop evidence for the others
        pass
    return out


def _session_part(resolved: dict) -> dict | None:
    """What the evidence visit needs to log in as the crawl did: the source's ``session`` and
    ``proxy`` settings (names of variables and mode-600 files, never values; the visit process
    resolves them with crawler.session.resolve_reach)."""
    if not resolved.get("session") and not resolved.get("proxy"):
        return None
    return {k: resolved.get(k) for k in ("name", "base_url", "session", "proxy", "browser", "file")}


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()


def _parse(ts: str | None) -> datetime | None:
    if not ts:
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(timezone.utc).replace(tzinfo=None)
    except ValueError:
        return None


def capture_for_run(settings: Settings, engine: Engine, run_id: int | None, say: Callable[[str], None] = lambda m: None,
                    listing_pks: list[int] | None = None, screenshots: bool = True) -> dict:
    """Fix evidence for the listings behind leads created or updated in run `run_id` (or for
    `listing_pks`) that have no evidence for their current content yet.

    Returns counts {listings, artefacts, screenshots, partial, blocked, timestamped}. A capture is
    ``blocked`` when its page (or a redirect of it) leads outside the source's allowed hosts
    (crawler.hosts): nothing from that visit is kept but the WARC of what was fetched before.
    After the captures the ledger head is anchored (LEDGER_HEAD) and, when ``tsa_url`` is set,
    time-stamped by the TSA (store.ledger.timestamp_head); a TSA failure is counted in
    ``timestamp_errors`` and recorded as the named run failure ``timestamp_failed``.
    """
    from .hosts import import_image_path
    from .runner import sandboxes

    ev = evidence_dir(settings)
    ev.mkdir(parents=True, exist_ok=True)
    data = settings.resolved_data_dir
    counts = {"listings": 0, "artefacts": 0, "screenshots": 0, "partial": 0, "blocked": 0}
    with session_scope(engine) as s:
        rows = _listings_needing_evidence(s, run_id, listing_pks)
        plan = []
        for row in rows:
            cp = s.scalar(select(CrawlPage).where(CrawlPage.platform == row.platform,
                                                  CrawlPage.listing_id == row.listing_id)
                          .order_by(CrawlPage.fetched_at.desc()).limit(1))
            plan.append((row, cp))
    if not plan:
        return counts
    say(f"evidence: fixing {len(plan)} listing(s)")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    srcs = _known_sources(settings, engine)
    dirs: dict[int, Path] = {}
    skipped: dict[int, str] = {}
    visits: list[dict] = []
    need_sandbox = []
    for row, cp in plan:
        d = ev / safe_name(row.platform) / safe_name(row.listing_id) / stamp
        d.mkdir(parents=True, exist_ok=True)
        dirs[row.id] = d
        if cp is not None and cp.screenshot_path and (data / cp.screenshot_path).is_file():
            continue  # shot at crawl time
        if not screenshots or not row.url:
            continue
        src = srcs.get(row.source or "")
        if cp is None and src is None:
            skipped[row.id] = "imported listing (导入): its URL is not visited"
            continue
        if src is not None and src.sandbox_options is not None:
            need_sandbox.append((src, row, d))
            continue
        if src is None:
            skipped[row.id] = f"no screenshot: no configured source names {urlsplit(row.url).hostname or row.url}"
            continue
        r = src.resolved()
        visits.append({"url": row.url, "dir": str(d), "out": str(d / "screenshot.jpg"), "allowed_hosts": r["allowed_hosts"],
                       "base_url": r["base_url"], "source": _session_part(r)})
    results: dict[str, dict] = {}
    if need_sandbox:
        used = list({src.name: src for src, _, _ in need_sandbox}.values())
        with sandboxes(settings, used, advance=False) as urls:
            extra = []
            for src, row, d in need_sandbox:
                u = urlsplit(row.url)
                r = src.resolved(urls[src.name])
                extra.append({"url": urls[src.name] + u.path + (f"?{u.query}" if u.query else ""), "dir": str(d),
                              "out": str(d / "screenshot.jpg"),
                              "allowed_hosts": r["allowed_hosts"], "base_url": r["base_url"], "source": _session_part(r)})
            results.update(_screenshots(settings, visits + extra, say))
    else:
        results.update(_screenshots(settings, visits, say))

    with session_scope(engine) as s:
        for row, cp in plan:
            row = s.get(m.Listing, row.id)
            d = dirs[row.id]
            imported = cp is None
            artefacts, notes = [], []
            status = "ok"

            def put(kind: str, f: Path, url: str | None, at: datetime | None, what: str) -> None:
                at = at or utcnow()
                r = ledger.append_file(s, ev, f, kind=kind, listing_pk=row.id, platform=row.platform,
                                       listing_id=row.listing_id, url=url, captured_at=at)
                artefacts.append({"kind": kind, "file": f.name, "sha256": r.sha256, "size": r.size, "url": url,
                                  "captured_at": _iso(at), "time_is": what})

            if cp is not None and cp.raw_path and (data / cp.raw_path).is_file():
                f = d / "page.html"
                shutil.copyfile(data / cp.raw_path, f)
                put("html", f, row.url, cp.fetched_at, "crawl fetch")
            elif not imported:
                notes.append("no HTML kept for this page")
            visit = results.get(str(d)) or results.get(str(d / "screenshot.jpg"))
            if cp is not None and cp.screenshot_path and (data / cp.screenshot_path).is_file():
                ext = Path(cp.screenshot_path).suffix or ".png"
                shot = d / f"screenshot{ext}"
                shutil.copyfile(data / cp.screenshot_path, shot)
                put("screenshot", shot, row.url, cp.fetched_at, "crawl visit (live room, same visit as the HTML)")
                counts["screenshots"] += 1
            elif visit is not None:
                notes.extend(visit.get("notes") or [])  # e.g. the source's proxy was not used
                if visit.get("status") == "blocked":
                    status = "blocked"
                    notes.append(f"blocked: {visit.get('error')}")
                    for junk in ("screenshot.jpg", "visit.html"):
                        (d / junk).unlink(missing_ok=True)
                elif visit.get("ok"):
                    if visit.get("visit_html") and (d / "visit.html").is_file():
                        put("html", d / "visit.html", visit.get("final_url"), _parse(visit.get("visit_html_fetched_at")),
                            "evidence visit")
                    put("screenshot", d / "screenshot.jpg", visit.get("final_url"), _parse(visit.get("shot_at")),
                        "evidence visit")
                    counts["screenshots"] += 1
                    if visit.get("refused"):
                        notes.append(f"{len(visit['refused'])} request(s) outside the allowed hosts not loaded: "
                                     + ", ".join(r["url"] for r in visit["refused"][:3]))
                else:
                    notes.append(f"no screenshot: {visit.get('error')}")
                if visit.get("warc") and (d / visit["warc"]).is_file():
                    put("warc", d / visit["warc"], visit.get("url"), _parse(visit.get("visit_ended")), "evidence visit")
            elif not imported:
                notes.append(skipped.get(row.id, "no screenshot taken"))
            imgs = s.execute(select(m.Image.path, m.Image.url, m.Image.created_at)
                             .join(m.ListingImage, m.ListingImage.image_id == m.Image.id)
                             .where(m.ListingImage.listing_pk == row.id).order_by(m.ListingImage.position)).all()
            files: list[tuple[Path, str | None, datetime | None, str]] = []
            for path, url, at in imgs:
                files.append((Path(path) if Path(path).is_absolute() else data / path, url, at, "crawl fetch"))
            if not imgs:  # imported listings: only files in the listing file's own folder
                for ref in row.images or []:
                    if "://" in ref:
                        notes.append(f"image {ref} is a URL of an imported listing: not fetched")
                        continue
                    try:
                        files.append((import_image_path(row.local_dir, ref), ref, row.first_seen, "import"))
                    except ValueError as e:
                        notes.append(f"refused {e}")
            for n, (src_file, url, at, what) in enumerate(files):
                if not src_file.is_file():
                    notes.append(f"image {src_file.name} not on disk")
                    continue
                f = d / f"image-{n + 1}{src_file.suffix or '.jpg'}"
                shutil.copyfile(src_file, f)
                put("image", f, url, at, what)
            leads = s.execute(select(m.Lead.id, m.Lead.target_id, m.Lead.target_kind, m.Lead.score, m.Lead.reasons)
                              .where(m.Lead.listing_pk == row.id)).all()
            captured = utcnow()
            meta = {
                "platform": row.platform, "listing_id": row.listing_id, "url": row.url, "kind": row.kind,
                "title": row.title, "price": row.price, "sales": row.sales, "seller_id": row.seller_id,
                "seller_name": row.seller_name, "seller_location": row.seller_location, "origin": row.origin,
                "category": row.category, "caption": row.caption,
                "method": "导入" if imported else "网络在线提取",
                "page_fetched_at": _iso(cp.fetched_at) if cp is not None else None,
                "evidence_captured_at": _iso(captured),
                "status": status,
                "visit": ({k: visit.get(k) for k in ("url", "final_url", "status", "error", "visit_started",
                                                     "shot_at", "visit_ended", "redirects", "refused", "failed",
                                                     "exchanges", "warc")} if visit else None),
                "leads": [{"lead_id": i, "target_id": t, "target_kind": k, "score": sc, "reasons": rs}
                          for i, t, k, sc, rs in leads],
                "artefacts": artefacts, "notes": notes, "run_id": run_id,
            }
            mf = d / "meta.json"
            mf.write_text(json.dumps(meta, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
            put("meta", mf, row.url, captured, "evidence record written")
            if status == "ok" and notes:
                status = "partial"
            s.add(EvidenceCapture(listing_pk=row.id, platform=row.platform, listing_id=row.listing_id,
                                  content_hash=row.content_hash or "", run_id=run_id,
                                  directory=d.relative_to(ev).as_posix(), captured_at=captured,
                                  status=status,
                                  detail="; ".join(notes)[:4000] or (skipped.get(row.id) if imported else None)))
            counts["listings"] += 1
            counts["artefacts"] += len(artefacts)
            counts["partial"] += status == "partial"
            counts["blocked"] += status == "blocked"
    with session_scope(engine) as s:
        ledger.write_head(s, ev)
    counts.update(_timestamp_head(settings, engine, ev, run_id, say))
    say(f"evidence: {counts['listings']} listing(s), {counts['artefacts']} artefacts, "
        f"{counts['screenshots']} screenshots ({counts['partial']} partial, {counts['blocked']} blocked)")
    return counts


def _timestamp_head(settings: Settings, engine: Engine, ev: Path, run_id: int | None,
                    say: Callable[[str], None]) -> dict:
    """RFC 3161 token for the ledger head when a TSA is configured; a failure is a named run failure."""
    url = getattr(settings, "tsa_url", None)
    if not url:
        return {}
    try:
        with session_scope(engine) as s:
            rec = ledger.timestamp_head(s, ev, url, timeout=getattr(settings, "tsa_timeout", 20.0))
        with session_scope(engine) as s:
            ledger.write_head(s, ev)
        if rec is not None:
            say(f"evidence: ledger head time-stamped by {url}")
        return {"timestamped": 1 if rec is not None else 0}
    except Exception as e:  # the TSA being down must not lose the captures; it is recorded
        say(f"evidence: time-stamping the ledger head failed: {e}")
        if run_id:
            from store.models import RunFailure

            with session_scope(engine) as s:
                s.add(RunFailure(run_id=run_id, source=None, kind="timestamp_failed",
                                 detail=f"TSA {url}: {type(e).__name__}: {e}"[:4000]))
        return {"timestamp_errors": 1}


def captures_for_lead(s, lead_id: int) -> tuple[m.Lead | None, list[EvidenceCapture]]:
    lead = s.get(m.Lead, lead_id)
    if lead is None:
        return None, []
    caps = list(s.scalars(select(EvidenceCapture).where(EvidenceCapture.listing_pk == lead.listing_pk)
                          .order_by(EvidenceCapture.id)))
    return lead, caps
