"""What a crawl writes to the store, in small committed batches.

One :class:`Recorder` per source and run. Listings go through ``store.repo.upsert_listing``;
named failures become ``RunFailure`` rows; page state (ETag, body hash, raw HTML path) goes to
``crawl_pages``. Everything is committed every ``batch`` operations or ``interval`` seconds, so a
killed crawl loses at most the current batch.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.listing import Listing as ListingRecord
from store import models as m
from store.models import utcnow
from store.repo import mark_removed, upsert_listing

from .models import CrawlPage

log = logging.getLogger("markwatch.crawler")
SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


_DIRS: set[Path] = set()


_UPSERT: dict[str, object] = {}
PAGE_KEYS = ("source", "platform", "listing_id", "url", "etag", "last_modified", "body_sha256", "status_code",
             "fetched_at", "changed_at", "raw_path", "screenshot_path", "price_text", "price_high", "warnings")


def upsert_page_stmt(s: Session):
    """INSERT ... ON CONFLICT (source, listing_id) DO UPDATE for crawl_pages (SQLite, PostgreSQL),
    built once and executed with parameters."""
    name = s.get_bind().dialect.name
    st = _UPSERT.get(name)
    if st is None:
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        ins = dialect_insert(CrawlPage)
        ex = ins.excluded
        upd = {k: ex[k] for k in ("platform", "url", "etag", "last_modified", "body_sha256", "status_code", "fetched_at",
                                  "price_text", "price_high", "warnings")}
        upd["raw_path"] = func.coalesce(ex.raw_path, CrawlPage.raw_path)
        upd["screenshot_path"] = func.coalesce(ex.screenshot_path, CrawlPage.screenshot_path)
        upd["changed_at"] = case((CrawlPage.body_sha256 == ex.body_sha256, CrawlPage.changed_at), else_=ex.changed_at)
        st = _UPSERT[name] = ins.on_conflict_do_update(index_elements=["source", "listing_id"], set_=upd)
    return st


def safe_name(s: str) -> str:
    return SAFE.sub("_", s)[:120] or "_"


@dataclass
class Known:
    listing_id: str
    url: str
    etag: str | None
    last_modified: str | None
    body_sha256: str | None
    active: bool


def load_known(engine: Engine, source: str, platform: str) -> dict[str, Known]:
    """Listings this source stored before, with their page state (for revisits and 304s)."""
    with Session(engine) as s:
        status = dict(s.execute(select(m.Listing.listing_id, m.Listing.status)
                                .where(m.Listing.platform == platform)).all())
        urls = dict(s.execute(select(m.Listing.listing_id, m.Listing.url).where(m.Listing.platform == platform,
                                                                               m.Listing.source == source)).all())
        out: dict[str, Known] = {}
        for cp in s.scalars(select(CrawlPage).where(CrawlPage.source == source)):
            if cp.listing_id in status:
                out[cp.listing_id] = Known(cp.listing_id, cp.url, cp.etag, cp.last_modified, cp.body_sha256,
                                           status[cp.listing_id] == "active")
        for lid, url in urls.items():
            if lid not in out and url:
                out[lid] = Known(lid, url, None, None, None, status.get(lid) == "active")
    return out


class Writer:
    """The crawl process's single database session, shared by every source's recorder (SQLite
    has one writer at a time; two open write transactions in one thread would deadlock)."""

    def __init__(self, engine: Engine, batch: int = 50, interval: float = 1.0):
        self.engine, self.batch, self.interval = engine, batch, interval
        self.s: Session = sessionmaker(bind=engine, expire_on_commit=False)()
        self._pending = 0
        self._last_commit = time.monotonic()
        self._touch: dict[tuple[str, str], list[str]] = {}
        self.commits = 0

    def op(self) -> None:
        self._pending += 1
        if self._pending >= self.batch or time.monotonic() - self._last_commit >= self.interval:
            self.commit()

    @property
    def last_commit(self) -> float:
        """``time.monotonic()`` at the end of the last successful commit."""
        return self._last_commit

    def touch(self, source: str, platform: str, listing_id: str) -> None:
        self._touch.setdefault((source, platform), []).append(listing_id)

    def commit(self) -> None:
        if self._touch:
            now = utcnow()
            touch, self._touch = self._touch, {}
            for (source, platform), ids in touch.items():
                for i in range(0, len(ids), 500):
                    part = ids[i:i + 500]
                    self.s.execute(update(m.Listing).where(m.Listing.platform == platform,
                                                           m.Listing.listing_id.in_(part))
                                   .values(last_seen=now, status="active", removed_at=None))
                    self.s.execute(update(CrawlPage).where(CrawlPage.source == source, CrawlPage.listing_id.in_(part))
                                   .values(fetched_at=now))
        try:
            self.s.commit()
        except Exception:
            self.s.rollback()
            raise
        self.s.expunge_all()
        self.commits += 1
        self._pending = 0
        self._last_commit = time.monotonic()

    def close(self) -> None:
        try:
            self.commit()
        finally:
            self.s.close()


class Recorder:
    """One source's view of a run: counts, failures, listings, page state."""

    def __init__(self, writer: Writer, run_id: int | None, source: str, platform: str, data_dir: Path):
        self.writer, self.run_id, self.source, self.platform = writer, run_id, source, platform
        self.data_dir = Path(data_dir)
        self.counts: Counter = Counter()

    @property
    def s(self) -> Session:
        return self.writer.s

    def _op(self) -> None:
        self.writer.op()

    # -- events -----------------------------------------------------------------------------
    def failure(self, kind: str, url: str | None, detail: str) -> None:
        self.counts["failures"] += 1
        self.counts[f"failed_{kind}"] += 1
        log.info("[%s] %s: %s %s", self.source, kind, url or "", detail)
        if self.run_id:
            self.s.add(m.RunFailure(run_id=self.run_id, source=self.source, kind=kind, url=url,
                                    detail=(detail or "")[:4000]))
        self._op()

    def page(self) -> None:
        self.counts["pages"] += 1

    def warning(self, kind: str, url: str | None, detail: str) -> None:
        """A named warning about a listing that was still stored (e.g. price_on_request): a
        run_failures row of that kind, counted under ``warnings``, not ``failures``."""
        self.counts["warnings"] += 1
        self.counts[f"warned_{kind}"] += 1
        log.info("[%s] warning %s: %s %s", self.source, kind, url or "", detail)
        if self.run_id:
            self.s.add(m.RunFailure(run_id=self.run_id, source=self.source, kind=kind, url=url,
                                    detail=(detail or "")[:4000]))
        self._op()

    def unchanged(self, listing_id: str, how: str) -> None:
        """A known listing whose page did not change: only last_seen moves."""
        self.counts["unchanged"] += 1
        self.counts[f"unchanged_{how}"] += 1
        self.writer.touch(self.source, self.platform, listing_id)
        self._op()

    def removed(self, listing_id: str, url: str, detail: str) -> None:
        if mark_removed(self.s, self.platform, listing_id):
            self.counts["removed"] += 1
        if self.run_id:
            self.s.add(m.RunFailure(run_id=self.run_id, source=self.source, kind="removed", url=url, detail=detail))
        self.counts["failed_removed"] += 1
        self._op()

    def raw_path(self, listing_id: str, ext: str = "html") -> Path:
        return Path("raw") / safe_name(self.source) / f"{safe_name(listing_id)}.{ext}"

    def write_raw(self, rel: Path, data: bytes) -> None:
        p = self.data_dir / rel
        d = p.parent
        if d not in _DIRS:
            d.mkdir(parents=True, exist_ok=True)
            _DIRS.add(d)
        with open(p, "wb") as fh:
            fh.write(data)

    def store(self, rec: ListingRecord, url: str, raw: bytes | None, etag: str | None = None,
              last_modified: str | None = None, status_code: int = 200, image_ids: list[int] | None = None,
              raw_rel: Path | None = None, screenshot_rel: str | None = None, page_extra: dict | None = None) -> str:
        """Upsert one listing and its page state; returns 'new' | 'changed' | 'unchanged'."""
        now = utcnow()
        body_sha = hashlib.sha256(raw).hexdigest() if raw is not None else None
        if raw is not None and raw_rel is None:  # callers on the reactor write it in a thread first
            raw_rel = self.raw_path(rec.listing_id)
            self.write_raw(raw_rel, raw)
        row, outcome = upsert_listing(self.s, rec, run_id=self.run_id, source=self.source, now=now)
        self.counts[outcome] += 1
        if image_ids is not None and outcome != "unchanged":
            if outcome != "new":
                self.s.execute(delete(m.ListingImage).where(m.ListingImage.listing_pk == row.id))
            rows, seen = [], set()
            for pos, iid in enumerate(image_ids):
                if iid not in seen:
                    seen.add(iid)
                    rows.append({"listing_pk": row.id, "image_id": iid, "position": pos})
            if rows:
                self.s.execute(insert(m.ListingImage), rows)
        vals = dict(source=self.source, platform=self.platform, listing_id=rec.listing_id, url=url, etag=etag,
                    last_modified=last_modified, body_sha256=body_sha, status_code=status_code, fetched_at=now,
                    changed_at=now, raw_path=str(raw_rel) if raw_rel else None, screenshot_path=screenshot_rel,
                    price_text=None, price_high=None, warnings=None)
        vals.update(page_extra or {})
        self.s.execute(upsert_page_stmt(self.s), [vals])
        self._op()
        return outcome

    def listings_at_url(self, url: str) -> list[str]:
        """Listing ids of this source last seen on page `url` (a live room's products)."""
        return list(self.s.scalars(select(CrawlPage.listing_id).where(CrawlPage.source == self.source,
                                                                      CrawlPage.url == url)))


class ImageStore:
    """Listing images by content SHA-256 under ``<data dir>/images/`` (stored once)."""

    def __init__(self, engine: Engine, data_dir: Path):
        self.engine = engine
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "images"
        self.by_url: dict[str, tuple[int, str, str]] = {}  # url -> (image id, rel path, status)
        self.by_local_path: dict[str, tuple[int, str, str]] = {}  # sandbox (any port): path -> same
        with Session(engine) as s:
            for iid, url, path, status in s.execute(select(m.Image.id, m.Image.url, m.Image.path, m.Image.status)
                                                    .where(m.Image.url.is_not(None))):
                if status != "ok" or (self.data_dir / path).exists():
                    self.by_url[url] = (iid, path, status)
                    self._local(url, (iid, path, status))

    def _local(self, url: str, entry) -> None:
        u = urlsplit(url)
        if u.hostname in ("127.0.0.1", "localhost"):
            self.by_local_path[u.path + "?" + u.query] = entry

    def known(self, url: str, sandbox: bool = False) -> tuple[int, str, str] | None:
        k = self.by_url.get(url)
        if k is None and sandbox:
            u = urlsplit(url)
            k = self.by_local_path.get(u.path + "?" + u.query)
        return k

    def prepare(self, url: str, data: bytes) -> dict:
        """Validate (matcher.images) and write image bytes by content hash; thread-safe, no database."""
        from matcher.images import ImageRejected, decode_image

        sha = hashlib.sha256(data).hexdigest()
        err = None
        width = height = None
        try:
            img = decode_image(data, url, mode=None)
            width, height = img.size
            fmt = (img.format or "jpg").lower()
            ext = {"jpeg": "jpg", "mpo": "jpg"}.get(fmt, fmt)
        except ImageRejected as e:
            err = f"{e.reason}: {e.message}"
            ext = "bad"
        rel = f"images/{sha[:2]}/{sha}.{ext}"
        if err is None:
            p = self.data_dir / rel
            if not p.exists():
                p.parent.mkdir(parents=True, exist_ok=True)
                tmp = p.with_name(p.name + f".{threading.get_ident()}.tmp")
                tmp.write_bytes(data)
                os.replace(tmp, p)
        return {"sha": sha, "rel": rel, "err": err, "width": width, "height": height, "size": len(data)}

    def add(self, s: Session, url: str, data: bytes, prepared: dict | None = None) -> tuple[int, str, str, str | None]:
        """Validate and store image bytes; returns (image id, rel path, status, error)."""
        pr = prepared or self.prepare(url, data)
        sha, rel, err, width, height = pr["sha"], pr["rel"], pr["err"], pr["width"], pr["height"]
        row = s.scalar(select(m.Image).where(m.Image.sha256 == sha))
        if row is None:
            row = m.Image(sha256=sha, path=rel if err is None else "", url=url, width=width, height=height,
                          size=len(data), status="ok" if err is None else "rejected", error=err)
            s.add(row)
            s.flush()
        status = row.status
        self.by_url[url] = (row.id, row.path, status)
        self._local(url, self.by_url[url])
        return row.id, row.path, status, row.error
