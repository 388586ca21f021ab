"""Evidence (证据固定) for listings that became leads.

For each such listing (once per content version) a folder
``<data dir>/evidence/<platform>/<listing id>/<UTC capture time>/`` receives:

* ``page.html`` - the detail page (or live room) exactly as fetched at crawl time;
* ``screenshot.jpg`` / ``screenshot.png`` - a full-page screenshot: live rooms are shot at crawl
  time (rooms end); marketplace pages are rendered now in Chromium (for sandbox sources the
  sandbox is re-opened at the epoch just crawled);
* ``image-<n>.<ext>`` - the listing's images as stored;
* ``meta.json`` - URL, capture times, the listing as stored, the leads (target, score, reasons)
  and the SHA-256 of every artefact above.

Every file is appended to the hash-chained ledger (``store.ledger``) and the chain head anchored,
so ``markwatch evidence verify`` detects any artefact altered, missing or re-ordered.
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
    """Run crawler.screenshot in a subprocess; returns {out path: result}."""
    from .browser import find_chromium

    if not pages:
        return {}
    if find_chromium() is None:
        return {p["out"]: {"ok": False, "error": "no Chromium installed"} for p in pages}
    work = settings.resolved_data_dir / "crawl"
    work.mkdir(parents=True, exist_ok=True)
    job = work / f"screenshots-{os.getpid()}.json"
    job.write_text(json.dumps({"data_dir": str(settings.resolved_data_dir), "pages": pages, "concurrency": 4},
                              ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    by_url = {p["url"]: p["out"] for p in pages}
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
                out = by_url.get(r["url"])
                if out:
                    results[out] = r
                if len(results) % 50 == 0:
                    say(f"evidence: {len(results)}/{len(pages)} screenshots")
        proc.wait()
    for p in pages:
        results.setdefault(p["out"], {"ok": False, "error": f"screenshot process ended early (exit {proc.returncode})"})
    return results


def _allowed(src, url: str) -> bool:
    h = (urlsplit(url).hostname or "").lower()
    hosts = [x.lower() for x in src.resolved()["allowed_hosts"]]
    return bool(h) and any(h == a or h.endswith("." + a) for a in hosts)


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


def capture_for_run(settings: Settings, engine: Engine, run_id: int | None, say: Callable[[str], None] = lambda m: None,
                    listing_pks: list[int] | None = None, screenshots: bool = True) -> dict:
    """Fix evidence for the listings behind leads created or updated in run `run_id` (or for
    `listing_pks`) that have no evidence for their current content yet."""
    from .runner import sandboxes

    ev = evidence_dir(settings)
    ev.mkdir(parents=True, exist_ok=True)
    data = settings.resolved_data_dir
    counts = {"listings": 0, "artefacts": 0, "screenshots": 0, "partial": 0}
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
    shots: list[dict] = []
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
        url = row.url
        if src is not None and src.sandbox_options is not None:
            need_sandbox.append((src, row, d))
            continue
        if src is None or not _allowed(src, url):  # never fetch from hosts no source allows
            skipped[row.id] = (f"no screenshot: {urlsplit(url).hostname or url} is not an allowed host of a "
                               f"configured source")
            continue
        shots.append({"url": url, "out": str(d / "screenshot.jpg")})
    results: dict[str, dict] = {}
    if need_sandbox:
        used = list({src.name: src for src, _, _ in need_sandbox}.values())
        with sandboxes(settings, used, advance=False) as urls:
            extra = []
            for src, row, d in need_sandbox:
                u = urlsplit(row.url)
                extra.append({"url": urls[src.name] + u.path + (f"?{u.query}" if u.query else ""),
                              "out": str(d / "screenshot.jpg")})
            results.update(_screenshots(settings, shots + extra, say))
    else:
        results.update(_screenshots(settings, shots, say))

    with session_scope(engine) as s:
        for row, cp in plan:
            row = s.get(m.Listing, row.id)
            d = dirs[row.id]
            captured = utcnow()
            artefacts, notes = [], []

            def put(kind: str, f: Path, url: str | None) -> None:
                r = ledger.append_file(s, ev, f, kind=kind, listing_pk=row.id, platform=row.platform,
                                       listing_id=row.listing_id, url=url, captured_at=captured)
                artefacts.append({"kind": kind, "file": f.name, "sha256": r.sha256, "size": r.size, "url": url})

            if cp is not None and cp.raw_path and (data / cp.raw_path).is_file():
                f = d / "page.html"
                shutil.copyfile(data / cp.raw_path, f)
                put("html", f, row.url)
            else:
                notes.append("no HTML kept for this page")
            shot = None
            if cp is not None and cp.screenshot_path and (data / cp.screenshot_path).is_file():
                ext = Path(cp.screenshot_path).suffix or ".png"
                shot = d / f"screenshot{ext}"
                shutil.copyfile(data / cp.screenshot_path, shot)
            else:
                res = results.get(str(d / "screenshot.jpg"))
                if res and res.get("ok") and (d / "screenshot.jpg").is_file():
                    shot = d / "screenshot.jpg"
                elif res:
                    notes.append(f"no screenshot: {res.get('error')}")
                else:
                    notes.append(skipped.get(row.id, "no screenshot taken"))
            if shot is not None:
                put("screenshot", shot, row.url)
                counts["screenshots"] += 1
            imgs = s.execute(select(m.Image.path, m.Image.url).join(m.ListingImage, m.ListingImage.image_id == m.Image.id)
                             .where(m.ListingImage.listing_pk == row.id).order_by(m.ListingImage.position)).all()
            if not imgs:  # listings imported from files: images are paths relative to local_dir
                base = Path(row.local_dir) if row.local_dir else data
                imgs = [(str(base / p) if not Path(p).is_absolute() else p, None) for p in (row.images or [])
                        if "://" not in p]
            for n, (path, url) in enumerate(imgs):
                src = Path(path) if Path(path).is_absolute() else data / path
                if not src.is_file():
                    notes.append(f"image {path} not on disk")
                    continue
                f = d / f"image-{n + 1}{src.suffix or '.jpg'}"
                shutil.copyfile(src, f)
                put("image", f, url)
            leads = s.execute(select(m.Lead.id, m.Lead.target_id, m.Lead.target_kind, m.Lead.score, m.Lead.reasons)
                              .where(m.Lead.listing_pk == row.id)).all()
            meta = {
                "platform": row.platform, "listing_id": row.listing_id, "url": row.url, "kind": row.kind,
                "title": row.title, "price": row.price, "sales": row.sales, "seller_id": row.seller_id,
                "seller_name": row.seller_name, "seller_location": row.seller_location, "origin": row.origin,
                "category": row.category, "caption": row.caption,
                "page_fetched_at": cp.fetched_at.isoformat() + "Z" if cp is not None else None,
                "evidence_captured_at": captured.isoformat() + "Z",
                "leads": [{"lead_id": i, "target_id": t, "target_kind": k, "score": sc, "reasons": rs}
                          for i, t, k, sc, rs in leads],
                "artefacts": artefacts, "notes": notes, "run_id": run_id,
            }
            mf = d / "meta.json"
            mf.write_text(json.dumps(meta, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
            put("meta", mf, row.url)
            s.add(EvidenceCapture(listing_pk=row.id, platform=row.platform, listing_id=row.listing_id,
                                  content_hash=row.content_hash or "", run_id=run_id,
                                  directory=d.relative_to(ev).as_posix(), captured_at=captured,
                                  status="ok" if not notes else "partial", detail="; ".join(notes) or None))
            counts["listings"] += 1
            counts["artefacts"] += len(artefacts)
            counts["partial"] += bool(notes)
    with session_scope(engine) as s:
        ledger.write_head(s, ev)
    say(f"evidence: {counts['listings']} listing(s), {counts['artefacts']} artefacts, "
        f"{counts['screenshots']} screenshots ({counts['partial']} partial)")
    return counts


def captures_for_lead(s, lead_id: int) -> tuple[m.Lead | None, list[EvidenceCapture]]:
    lead = s.get(m.Lead, lead_id)
    if lead is None:
        return None, []
    caps = list(s.scalars(select(EvidenceCapture).where(EvidenceCapture.listing_pk == lead.listing_pk)
                          .order_by(EvidenceCapture.id)))
    return lead, caps
