"""Stages of a pass that pipeline wires together; each can be re-run on its own."""
from __future__ import annotations

import time
from typing import Callable

from sqlalchemy.engine import Engine

from config.settings import Settings
from matcher.engine import EngineOptions, MatchEngine
from store import repo
from store.db import session_scope
from store.models import Listing

from .runs import add_failure


def match_pending(engine: Engine, settings: Settings, run_id: int | None = None, batch: int = 100,
                  progress: Callable[[int], None] | None = None) -> dict:
    """Match every listing whose current content was not matched yet; queue leads.

    Commits per batch, so a killed pass keeps what it finished and the next pass does the rest.
    """
    from alerts.queue import QueueContext, record_matches

    with session_scope(engine) as s:
        wl = repo.load_watchlist_from_db(s)
    opts = EngineOptions(threshold=settings.queue_threshold, ocr=settings.ocr_enabled, logos=settings.logo_enabled,
                         cache_dir=settings.resolved_data_dir / "cache", ocr_budget=settings.ocr_budget)
    me = MatchEngine(wl, opts)
    counts = {"listings_matched": 0, "leads_new": 0, "leads_updated": 0, "leads_suppressed": 0,
              "leads_relisted": 0, "match_errors": 0}
    last_id = 0
    while True:
        with session_scope(engine) as s:
            rows = claim_batch(s, batch, after_id=last_id)
            if not rows:
                break
            records = [repo.to_record(r) for r in rows]
            if me.image_text is not None:  # OCR the batch's images in worker processes ahead
                me.image_text.prefetch(iter(records))
            # Match the whole batch before writing anything: on SQLite the write lock is then held
            # only for the short queue step, never during OCR or logo search.
            results: list[tuple[object, list | None, str | None]] = []
            for row, rec in zip(rows, records):
                try:
                    results.append((row, me.match(rec), None))
                except Exception as e:  # one bad listing never stops the pass
                    results.append((row, None, f"{type(e).__name__}: {e}"))
            if s.get_bind().dialect.name == "sqlite":
                # End the read snapshot: a WAL reader cannot upgrade to a writer once another
                # connection (the lock heartbeat) has written meanwhile. PostgreSQL keeps its row
                # locks (FOR UPDATE SKIP LOCKED) until the batch commits.
                s.commit()
            qctx = QueueContext.load(s, settings)
            for row, matches, error in results:
                last_id = row.id
                if error is not None:
                    row.match_state, row.match_error = "error", error
                    counts["match_errors"] += 1
                    if run_id:
                        add_failure(s, run_id, "match_error", error, source=row.source, url=row.url)
                    continue
                c = record_matches(s, row, matches, run_id, ctx=qctx)
                counts["leads_new"] += c["new"]
                counts["leads_updated"] += c["updated"]
                counts["leads_suppressed"] += c["suppressed"]
                counts["leads_relisted"] += c["relisted"]
                row.match_state, row.matched_hash, row.match_error = "done", row.content_hash, None
                counts["listings_matched"] += 1
        if progress:
            progress(counts["listings_matched"])
    img = me.image_stats()
    if "logo_skipped" in img:
        counts["logo_images_skipped"] = img["logo_skipped"]
        counts["logo_skipped_by_reason"] = img["logo_skipped_by_reason"]
    reader = me.image_text
    if reader is not None:
        st = img["ocr"]
        reader.close()
        counts["ocr_images_read"] = st["images_read"]
        counts["ocr_cache_hits"] = st["cache_hits"]
        counts["ocr_seconds"] = round(st["seconds"], 2)
        counts["ocr_skipped"] = st["skipped"]
        counts["ocr_skipped_by_reason"] = st["skipped_by_reason"]
    return counts


def claim_batch(s, limit: int, after_id: int = 0):
    """The next listings to match. On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED``
    until the batch commits, so several matcher workers claim disjoint batches."""
    from sqlalchemy import select

    if s.get_bind().dialect.name != "postgresql":
        return repo.listings_to_match(s, limit, after_id=after_id)
    return s.scalars(select(Listing).where(Listing.match_state == "pending", Listing.id > after_id)
                     .order_by(Listing.id).limit(limit).with_for_update(skip_locked=True)).all()


def import_listings_file(engine: Engine, path, run_id: int | None = None, source: str | None = None,
                         err: Callable[[str], None] | None = None) -> dict:
    """Store listings from a JSONL file (bad lines are reported and counted, good ones kept)."""
    from matcher.listing import ListingError, read_listings

    counts = {"new": 0, "changed": 0, "unchanged": 0, "bad_lines": 0}
    with session_scope(engine) as s:
        for i, item in enumerate(read_listings(path), 1):
            if isinstance(item, ListingError):
                counts["bad_lines"] += 1
                if err:
                    err(str(item))
                if run_id:
                    add_failure(s, run_id, "bad_listing", str(item), source=source)
                continue
            _, outcome = repo.upsert_listing(s, item, run_id=run_id, source=source)
            counts[outcome] += 1
            if i % 1000 == 0:
                s.flush()
    return counts
