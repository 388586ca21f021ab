"""Stages of a pass that pipeline wires together; each can be re-run on its own."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from sqlalchemy.engine import Engine

from config.listing import Listing as ListingRecord
from config.settings import Settings
from matcher.engine import EngineOptions, MatchEngine
from store import repo
from store.db import session_scope
from store.models import Listing, utcnow

from .runs import add_failure


# The listing columns a match needs, read as plain rows (never ORM objects) for every batch.
_MATCH_COLS = ("id", "platform", "listing_id", "title", "url", "kind", "description", "price", "currency",
               "seller_id", "seller_name", "seller_location", "category", "images", "captured_at", "origin",
               "sales", "caption", "local_dir", "content_hash", "source")


def _record_of(r) -> ListingRecord:
    """The matcher's listing record of a stored row (a row of :data:`_MATCH_COLS`, whose columns
    1..17 are the record's fields in order: passed by position, ~3x cheaper than by keyword)."""
    return ListingRecord(r[1], r[2], r[3], r[4], r[5], r[6] or "", r[7], r[8], r[9], r[10], r[11], r[12],
                         list(r[13] or ()), r[14], r[15], r[16], r[17] or "",
                         _base_dir(r[18]) if r[18] else None)


def _check_match_cols() -> None:
    from dataclasses import fields

    names = tuple(f.name for f in fields(ListingRecord))
    if not (names[:17] == _MATCH_COLS[1:18] and names[17] == "base_dir" and _MATCH_COLS[18] == "local_dir"):
        raise RuntimeError("pipeline.stages._MATCH_COLS must list the listing record's fields in order")


_check_match_cols()


_BASE_DIRS: dict[str, Path] = {}


def _base_dir(local_dir: str) -> Path:
    """Path of a stored ``local_dir``, one shared (immutable) Path per distinct directory: a
    batch's listings come from a few import or crawl directories, and building a Path per row
    cost more than reading the row."""
    p = _BASE_DIRS.get(local_dir)
    if p is None:
        if len(_BASE_DIRS) > 4096:
            _BASE_DIRS.clear()
        p = _BASE_DIRS[local_dir] = Path(local_dir)
    return p


def match_pending(engine: Engine, settings: Settings, run_id: int | None = None, batch: int | None = None,
                  progress: Callable[[int], None] | None = None, workers: int | None = None) -> dict:
    """Match every listing whose current content was not matched yet; queue leads.

    The watchlist, the matchers and the queue's ranking context are loaded once per pass; each
    batch of `batch` listings is read as plain rows, matched, and written with a few bulk
    statements (listings without a match cost one row in an executemany UPDATE). Commits per
    batch, so a killed pass keeps what it finished and the next pass does the rest.

    `workers` (default: ``settings.match_workers``, MARKWATCH_MATCH_WORKERS) > 1 forks that
    many matcher processes after the loading (they share it
    copy-on-write); worker k takes listings with ``id % workers == k``, and on PostgreSQL rows
    are also claimed ``FOR UPDATE SKIP LOCKED`` so matcher processes on other hosts never
    take the same batch. Returns counts {listings_matched, leads_new, leads_updated,
    leads_suppressed, leads_relisted, match_errors, ...image counters}.
    """
    from alerts.queue import QueueContext
    from config.memory import long_lived

    with long_lived(), session_scope(engine) as s:  # no cyclic GC passes while loading (issue 17)
        wl = repo.load_watchlist_from_db(s)
        qctx = QueueContext.load(s, settings)
    opts = _engine_options(settings)
    # new or changed marks / GIs first: matched against the listings matched before (issue 16.5)
    rc = rematch(engine, settings, run_id, wl=wl, qctx=qctx, batch=batch or 1000, progress=progress)
    with long_lived():
        me = _engine_for(wl, opts, settings)
    # image work (OCR, logos) makes a listing ~100x slower: smaller batches keep progress visible
    batch = batch or (100 if (opts.ocr or opts.logos) else 1000)
    workers = workers or getattr(settings, "match_workers", 1) or 1
    # The loaded watchlist and matchers (millions of objects) go to the GC's permanent generation
    # while matching: the collections that batches trigger no longer walk them (measured at 100k
    # listings x 5,000 marks: 1.5 of 9.9 CPU-s were GC passes), and forked workers do not copy
    # their pages by touching them. Unfrozen after, so a long-lived scheduler process can still
    # collect what this pass leaves behind.
    import gc

    gc.collect()
    gc.freeze()
    try:
        if workers <= 1:
            try:
                return merge_counts(rc, _match_loop(engine, me, qctx, run_id, batch, progress))
            finally:
                if me.image_text is not None:
                    me.image_text.close()
        return merge_counts(rc, _forked(engine, me, qctx, run_id, batch, progress, workers))
    finally:
        gc.unfreeze()


def _engine_for(wl, opts: EngineOptions, settings: Settings) -> MatchEngine:
    """The MatchEngine of the stored watchlist, its compiled text matcher read from the data
    directory's cache when the same watchlist was compiled before by this code
    (matcher.compiled_cache.text_compiled_for: every daily pass after the first)."""
    from matcher.compiled_cache import text_compiled_for
    from matcher.goods import load_goods_classifier

    if opts.language is None:
        opts.language = settings.language
    goods = load_goods_classifier()
    tm = text_compiled_for(wl, opts.cache_dir, goods, opts.language)
    return MatchEngine(wl, opts, goods, prebuilt={"text": tm})


def _engine_options(settings: Settings) -> EngineOptions:
    return EngineOptions(threshold=settings.queue_threshold, ocr=settings.ocr_enabled, logos=settings.logo_enabled,
                         cache_dir=settings.resolved_data_dir / "cache", ocr_budget=settings.ocr_budget)


def rematch(engine: Engine, settings: Settings, run_id: int | None = None, targets: list[str] | None = None,
            wl=None, qctx=None, batch: int = 1000, progress: Callable[[int], None] | None = None) -> dict:
    """Match the listings already matched (match_state 'done') against the marks and GIs that
    are new or changed since (content hash, :func:`store.repo.target_hashes`, compared with
    ``target_match_state``), or against `targets` when given (``markwatch rematch``).

    Only those targets are compiled, so each stored listing is read once for all of them and
    no unchanged (listing, target) pair is matched again. Progress is committed per batch (the
    cursor), so a killed re-match resumes where it stopped. Returns counts {rematch_targets,
    rematch_listings, rematch_leads_new, rematch_leads_updated, ...}; {} when nothing changed.
    Raises KeyError for an unknown id in `targets`.
    """
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":  # SQLite: passes are serialised by the run lock
        return _rematch(engine, settings, run_id, targets, wl, qctx, batch, progress)
    # PostgreSQL: matcher workers on several hosts; one of them re-matches, the others go on
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": REMATCH_LOCK_KEY}):
            return {}
        try:
            return _rematch(engine, settings, run_id, targets, wl, qctx, batch, progress)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": REMATCH_LOCK_KEY})
            conn.commit()


REMATCH_LOCK_KEY = 0x6D77_7265  # PostgreSQL advisory lock id of the re-match ('mwre')


def _rematch(engine, settings, run_id, targets, wl, qctx, batch, progress) -> dict:
    from sqlalchemy import select

    from alerts.queue import QueueContext
    from store.models import TargetMatchState

    with session_scope(engine) as s:
        wl = wl if wl is not None else repo.load_watchlist_from_db(s)
        qctx = qctx if qctx is not None else QueueContext.load(s, settings)
        hashes = repo.target_hashes(wl)
        if targets:
            unknown = [t for t in targets if t not in hashes]
            if unknown:
                raise KeyError(f"no active mark or GI with id {', '.join(unknown)}")
        if s.scalar(select(Listing.id).where(Listing.match_state == "done").limit(1)) is None:
            # nothing stored was matched before (a first pass): only record the hashes, in a few
            # bulk statements (not 5,000 ORM rows inserted, then updated twice)
            _record_target_hashes(s, hashes)
            return {}
        state = {r.target_id: r for r in s.scalars(select(TargetMatchState))}
        if targets:
            for t in targets:
                if t in state:
                    state[t].matched_hash = None
        todo: dict[str, int] = {}  # target id -> cursor (last listing id done)
        missing = [{"target_id": tid, "kind": kind, "updated_at": utcnow()}
                   for tid, (kind, _) in hashes.items() if tid not in state]
        if missing:  # ON CONFLICT DO NOTHING: another process may add the same rows meanwhile
            if s.get_bind().dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as dinsert
            else:
                from sqlalchemy.dialects.sqlite import insert as dinsert
            s.execute(dinsert(TargetMatchState.__table__).on_conflict_do_nothing(index_elements=["target_id"]), missing)
            state = {r.target_id: r for r in s.scalars(select(TargetMatchState))}
        for tid, st in state.items():  # deactivated: listings stored meanwhile are not matched
            if tid not in hashes and (st.matched_hash or st.pending_hash):  # against it, so a later
                st.matched_hash, st.pending_hash, st.cursor = None, None, None  # reactivation re-matches
        for tid, (kind, h) in hashes.items():
            st = state[tid]
            if st.matched_hash == h:
                continue
            if st.pending_hash != h:
                st.pending_hash, st.cursor = h, 0
            st.kind = kind
            todo[tid] = st.cursor or 0
        if not todo:
            return {}
    from sqlalchemy import update

    me = MatchEngine(repo.subset_watchlist(wl, set(todo)), _engine_options(settings))
    counts = {"rematch_targets": len(todo), "rematch_listings": 0, "rematch_leads_new": 0,
              "rematch_leads_updated": 0, "rematch_leads_suppressed": 0, "rematch_leads_relisted": 0,
              "rematch_errors": 0}
    from alerts.queue import record_batch

    t = Listing.__table__
    T = TargetMatchState.__table__
    last_id = min(todo.values())
    try:
        while True:
            with session_scope(engine) as s:
                rows = s.execute(select(*(t.c[c] for c in _MATCH_COLS))
                                 .where(t.c.match_state == "done", t.c.id > last_id)
                                 .order_by(t.c.id).limit(batch)).all()
                if not rows:
                    break
                last_id = rows[-1].id
                hits = []
                for r in rows:
                    try:
                        ms = [m for m in me.match(_record_of(r)) if todo[m.target_id] < r.id]
                    except Exception as e:  # one bad listing never stops the re-match
                        counts["rematch_errors"] += 1
                        if run_id:
                            add_failure(s, run_id, "match_error", f"re-match: {type(e).__name__}: {e}",
                                        source=r.source, url=r.url)
                        continue
                    if ms:
                        hits.append((r, ms))
                counts["rematch_listings"] += len(rows)
                if s.get_bind().dialect.name == "sqlite":
                    s.commit()
                if hits:
                    orm = {li.id: li for li in s.scalars(select(Listing).where(Listing.id.in_([r.id for r, _ in hits])))}
                    c = record_batch(s, [(orm[r.id], ms) for r, ms in hits if r.id in orm], run_id, qctx.refresh(s))
                    for k in ("new", "updated", "suppressed", "relisted"):
                        counts[f"rematch_leads_{k}"] += c[k]
                s.execute(update(T).where(T.c.target_id.in_(list(todo)), T.c.cursor < last_id).values(cursor=last_id))
            if progress:
                progress(counts["rematch_listings"])
        with session_scope(engine) as s:
            for tid in todo:
                row = s.get(TargetMatchState, tid)
                if row.pending_hash == hashes[tid][1]:
                    row.matched_hash, row.pending_hash, row.cursor = row.pending_hash, None, None
    finally:
        if me.image_text is not None:
            me.image_text.close()
    return counts


def _record_target_hashes(s, hashes: dict[str, tuple[str, str]]) -> None:
    """Every target of `hashes` recorded as matched at its current hash; targets no longer
    active forget theirs (a later reactivation is then re-matched). Never commits."""
    from sqlalchemy import bindparam, select, update

    from store.bulk import executemany
    from store.models import TargetMatchState

    T = TargetMatchState.__table__
    now = utcnow()
    have = set(s.scalars(select(T.c.target_id)))
    conn = s.connection()
    new = [dict(target_id=tid, kind=kind, matched_hash=h, pending_hash=None, cursor=None, updated_at=now)
           for tid, (kind, h) in hashes.items() if tid not in have]
    if new:  # ON CONFLICT DO NOTHING: another process may add the same rows meanwhile
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dinsert
        else:
            from sqlalchemy.dialects.sqlite import insert as dinsert
        executemany(conn, dinsert(T).on_conflict_do_nothing(index_elements=["target_id"]), new)
    old = [dict(_t=tid, _k=kind, _h=h, _now=now) for tid, (kind, h) in hashes.items() if tid in have]
    if old:
        executemany(conn, update(T).where(T.c.target_id == bindparam("_t")).values(
            kind=bindparam("_k"), matched_hash=bindparam("_h"), pending_hash=None, cursor=None,
            updated_at=bindparam("_now")), old)
    gone = sorted(have - hashes.keys())
    for i in range(0, len(gone), 500):
        s.execute(update(T).where(T.c.target_id.in_(gone[i:i + 500]))
                  .values(matched_hash=None, pending_hash=None, cursor=None, updated_at=now))


PROGRESS_EVERY = 3.0  # seconds between progress reports inside a batch


def _match_loop(engine: Engine, me: MatchEngine, qctx, run_id: int | None, batch: int,
                progress: Callable[[int], None] | None, part: tuple[int, int] | None = None) -> dict:
    from sqlalchemy import bindparam, case, select, update

    from alerts.queue import record_batch
    from store.bulk import executemany

    t = Listing.__table__
    counts = {"listings_matched": 0, "leads_new": 0, "leads_updated": 0, "leads_suppressed": 0,
              "leads_relisted": 0, "match_errors": 0}
    done_stmt = (update(t).where(t.c.id == bindparam("_pk"))
                 # a crawl that changed the listing meanwhile leaves it pending for the next batch
                 .values(matched_hash=bindparam("_hash"), match_error=None,
                         match_state=case((t.c.content_hash == bindparam("_hash"), "done"), else_=t.c.match_state)))
    err_stmt = update(t).where(t.c.id == bindparam("_pk")).values(match_state="error", match_error=bindparam("_err"))
    last_id = 0
    said = time.monotonic()
    while True:
        with session_scope(engine) as s:
            rows = claim_batch(s, batch, after_id=last_id, part=part)
            if not rows:
                break
            last_id = rows[-1].id
            records = [_record_of(r) for r in rows]
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
                if progress and time.monotonic() - said >= PROGRESS_EVERY:
                    # a batch with photos takes minutes to OCR on a busy machine: say so meanwhile
                    said = time.monotonic()
                    progress(counts["listings_matched"] + len(results))
            if s.get_bind().dialect.name == "sqlite":
                # End the read snapshot: a WAL reader cannot upgrade to a writer once another
                # connection (the lock heartbeat) has written meanwhile. PostgreSQL keeps its row
                # locks (FOR UPDATE SKIP LOCKED) until the batch commits.
                s.commit()
            hits = [(row, ms) for row, ms, e in results if e is None and ms]
            if hits:
                orm = {li.id: li for li in s.scalars(select(Listing).where(Listing.id.in_([r.id for r, _ in hits])))}
                c = record_batch(s, [(orm[r.id], ms) for r, ms in hits if r.id in orm], run_id, qctx.refresh(s))
                for k in ("new", "updated", "suppressed", "relisted"):
                    counts[f"leads_{k}"] += c[k]
            errs = [(row, e) for row, _, e in results if e is not None]
            for row, e in errs:
                counts["match_errors"] += 1
                if run_id:
                    add_failure(s, run_id, "match_error", e, source=row.source, url=row.url)
            if errs:
                executemany(s.connection(), err_stmt, [{"_pk": row.id, "_err": e} for row, e in errs])
            ok = [{"_pk": row.id, "_hash": row.content_hash} for row, _, e in results if e is None]
            if ok:  # one driver executemany: no per-row statement work in SQLAlchemy
                executemany(s.connection(), done_stmt, ok)
            counts["listings_matched"] += len(ok)
        if progress:
            said = time.monotonic()
            progress(counts["listings_matched"])
    counts.update(_image_counts(me))
    return counts


def _image_counts(me: MatchEngine) -> dict:
    counts: dict = {}
    img = me.image_stats()
    if "logo_skipped" in img:
        counts["logo_images_skipped"] = img["logo_skipped"]
        counts["logo_skipped_by_reason"] = img["logo_skipped_by_reason"]
    if me.image_text is not None:
        st = img["ocr"]
        counts["ocr_images_read"] = st["images_read"]
        counts["ocr_cache_hits"] = st["cache_hits"]
        counts["ocr_seconds"] = round(st["seconds"], 2)
        counts["ocr_skipped"] = st["skipped"]
        counts["ocr_skipped_by_reason"] = st["skipped_by_reason"]
    return counts


def merge_counts(a: dict, b: dict) -> dict:
    """Sum two count dicts (numbers added, nested dicts merged the same way)."""
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict):
            out[k] = merge_counts(out.get(k) or {}, v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = round(out.get(k, 0) + v, 2) if isinstance(v, float) else out.get(k, 0) + v
        else:
            out[k] = v
    return out


def _worker_main(engine, me, qctx, run_id, batch, k, n, report) -> dict:
    """Worker k of n: match the pending listings with ``id % n == k``; returns its counts."""
    engine.dispose(close=False)  # never share the parent's connections
    counts = _match_loop(engine, me, qctx, run_id, batch, report, part=(k, n))
    if me.image_text is not None:
        me.image_text.close()
    return counts


def _forked(engine, me, qctx, run_id, batch, progress, n: int) -> dict:
    from matcher.workers import run_forked

    engine.dispose()  # children open their own connections
    done: dict[int, int] = {}

    def on_progress(k, val):
        done[k] = val
        if progress:
            progress(sum(done.values()))

    total: dict = {}
    for counts in run_forked(lambda k, report: _worker_main(engine, me, qctx, run_id, batch, k, n, report), n,
                             on_progress, name="matcher worker"):
        total = merge_counts(total, counts)
    return total


def claim_batch(s, limit: int, after_id: int = 0, part: tuple[int, int] | None = None):
    """The next listings to match, as plain rows of the columns matching needs.

    `part` = (k, n) restricts to ids with ``id % n == k`` (one forked worker's share). On
    PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED`` until the batch commits, so
    matcher workers on several hosts claim disjoint batches."""
    from sqlalchemy import select

    t = Listing.__table__
    q = (select(*(t.c[c] for c in _MATCH_COLS)).where(t.c.match_state == "pending", t.c.id > after_id)
         .order_by(t.c.id).limit(limit))
    if part is not None and part[1] > 1:
        q = q.where(t.c.id % part[1] == part[0])
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return s.execute(q).all()


IMPORT_CHUNK = 2000  # listings per transaction: a long import never holds the SQLite write lock for long


def import_listings_file(engine: Engine, path, run_id: int | None = None, source: str | None = None,
                         err: Callable[[str], None] | None = None, chunk: int = IMPORT_CHUNK,
                         progress: Callable[[int], None] | None = None) -> dict:
    """Store listings from a JSONL file (bad lines are reported and counted, good ones kept).

    Bulk: `chunk` listings per transaction through :func:`store.repo.upsert_listings`, committed
    one after another, so a killed import keeps every finished chunk and a re-import of the same
    file only moves ``last_seen``. Returns counts {new, changed, unchanged, bad_lines}.
    """
    from config.listing import ListingError, read_listings

    counts = {"new": 0, "changed": 0, "unchanged": 0, "bad_lines": 0}
    recs: list = []
    bad: list[str] = []

    def flush() -> None:
        with session_scope(engine) as s:
            for msg in bad:
                if run_id:
                    add_failure(s, run_id, "bad_listing", msg, source=source)
            for o in repo.upsert_listings(s, recs, run_id=run_id, source=source):
                counts[o] += 1
        recs.clear()
        bad.clear()
        if progress:
            progress(counts["new"] + counts["changed"] + counts["unchanged"])

    for item in read_listings(path):
        if isinstance(item, ListingError):
            counts["bad_lines"] += 1
            if err:
                err(str(item))
            bad.append(str(item))
            continue
        recs.append(item)
        if len(recs) >= chunk:
            flush()
    if recs or bad:
        flush()
    return counts
