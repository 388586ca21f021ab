"""Run the crawl stage of a pass: every enabled source, in a subprocess.

``crawl(settings, run_id=...)`` loads the sources (``config/sources/*.yaml`` plus extra ones),
starts the bundled sandbox site for sources marked ``sandbox: true`` (on a free port, for the
duration of the crawl), reads the search terms from the stored watchlist, runs
``python -m crawler.crawl_process`` (the Twisted reactor cannot restart in-process, and a browser
crash cannot take the caller down), streams its progress through ``say`` and returns the counts.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from config.settings import Settings

from .sources import Source, SourceError, SourceProblem, load_sources_checked

REPO = Path(__file__).resolve().parent.parent
TOTAL_KEYS = ("new", "changed", "unchanged", "removed", "failures", "pages", "images_stored", "live_rooms",
              "live_offline", "warnings")


def select_sources_checked(settings: Settings, only: list[str] | None = None,
                           extra_sources: list[dict] | None = None) -> tuple[list[Source], list[SourceProblem]]:
    """The sources to crawl (enabled ones, or `only` these) and the broken source files (each
    file is validated on its own; a broken one never stops the others). Raises SourceError only
    for a name in `only` that no file defines."""
    sources, problems = load_sources_checked(settings.sources_dir, extra_sources)
    if only:
        names = {s.name for s in sources}
        broken = {p.name for p in problems}
        missing = [n for n in only if n not in names and n not in broken]
        if missing:
            raise SourceError(f"unknown source(s): {', '.join(missing)} (configured: {', '.join(sorted(names)) or 'none'})")
        return [s for s in sources if s.name in only], [p for p in problems if p.name in only]
    return [s for s in sources if s.enabled], problems


def select_sources(settings: Settings, only: list[str] | None = None,
                   extra_sources: list[dict] | None = None) -> list[Source]:
    """The sources to crawl; broken source files are left out (see select_sources_checked)."""
    return select_sources_checked(settings, only, extra_sources)[0]


def _record_config_errors(engine, run_id: int | None, problems: list[SourceProblem]) -> dict:
    """Each broken source file becomes a named ``config_error`` failure of the run; returns
    per-source counts for the run record."""
    from store.db import session_scope
    from store.models import RunFailure, Source as SourceRow

    out: dict = {}
    with session_scope(engine) as s:
        for p in problems:
            if run_id:
                s.add(RunFailure(run_id=run_id, source=p.name, kind="config_error", url=p.file,
                                 detail=f"source not crawled: {p.message}"[:4000]))
            row = s.get(SourceRow, p.name)
            if row is not None:
                row.last_status = "config_error"
            out[p.name] = {"failures": 1, "failed_config_error": 1}
    return out


def sandbox_image_cache(data: Path) -> Path:
    """Where the sandbox keeps drawn product photos: shared by every data directory (the images
    depend only on their names), MARKWATCH_SANDBOX_CACHE or ~/.cache/markwatch-sandbox, else
    inside the data directory when the home directory is not writable."""
    from config.settings import get_settings

    env = get_settings().crawl.sandbox_cache
    for d in ([Path(env)] if env else []) + [Path.home() / ".cache" / "markwatch-sandbox"]:
        try:
            d.mkdir(parents=True, exist_ok=True)
            if os.access(d, os.W_OK):
                return d
        except OSError:
            continue
    return data / "sandbox" / "images"


@contextlib.contextmanager
def sandboxes(settings: Settings, sources: list[Source], advance: bool = True) -> Iterator[dict[str, str]]:
    """Start one sandbox site per distinct sandbox configuration; yields {source name: base_url}.

    ``advance=True`` (a crawl) moves the site to its next epoch; the evidence stage re-opens the
    epoch that was just crawled."""
    from .sandbox.server import SandboxServer

    servers: dict[tuple, SandboxServer] = {}
    urls: dict[str, str] = {}
    data = settings.resolved_data_dir
    try:
        for s in sources:
            o = s.sandbox_options
            if o is None:
                continue
            key = (o.seed, o.listings, o.rooms)
            if key not in servers:
                state = data / "sandbox" / f"state-{o.seed}-{o.listings}-{o.rooms}.json"
                srv = SandboxServer(seed=o.seed, n_listings=o.listings, n_rooms=o.rooms, state_file=state,
                                    advance=advance, cache_dir=sandbox_image_cache(data),
                                    slow_seconds=o.slow_seconds)
                srv.start()
                servers[key] = srv
            urls[s.name] = servers[key].base_url
        yield urls
    finally:
        for srv in servers.values():
            srv.stop()


def _fmt_progress(d: dict) -> str:
    parts = []
    for name, c in d.get("sources", {}).items():
        parts.append(f"{name}: {c.get('pages', 0)} pages, {c.get('new', 0)} new, {c.get('changed', 0)} changed, "
                     f"{c.get('unchanged', 0)} unchanged, {c.get('failures', 0)} failures"
                     + (f", {c['warnings']} warnings" if c.get("warnings") else ""))
    return f"[crawl {d.get('elapsed', 0):.0f}s] " + "; ".join(parts)


def totals(per_source: dict) -> dict:
    out = {k: 0 for k in TOTAL_KEYS}
    for c in per_source.values():
        for k in TOTAL_KEYS:
            out[k] += int(c.get(k, 0))
    return out


def _record_sources(engine, sources: list[Source], per_source: dict, run_id: int | None) -> None:
    from store.db import session_scope
    from store.models import Source as SourceRow, utcnow

    with session_scope(engine) as s:
        for src in sources:
            row = s.get(SourceRow, src.name)
            if row is None:
                row = SourceRow(name=src.name, platform=src.platform)
                s.add(row)
            c = per_source.get(src.name, {})
            row.platform, row.kind, row.enabled = src.platform, src.kind, src.enabled
            row.config = src.model_dump(mode="json")
            row.last_run_at = utcnow()
            row.last_status = "ok" if not c.get("failures") else "partial"
            if src.name not in per_source:
                row.last_status = "failed"


def _record_crash(engine, run_id: int | None, detail: str) -> None:
    if not run_id:
        return
    from store.db import session_scope
    from store.models import RunFailure

    with session_scope(engine) as s:
        s.add(RunFailure(run_id=run_id, source=None, kind="crawl_crashed", detail=detail[:4000]))


def crawl(settings: Settings, run_id: int | None = None, only: list[str] | None = None,
          extra_sources: list[dict] | None = None, say: Callable[[str], None] = lambda m: None,
          engine=None, timeout: float | None = None, log_level: str = "WARNING") -> dict:
    """Crawl every enabled source (or `only` these); returns counts (new, changed, unchanged,
    removed, failures, pages, ... and per-source counts under 'sources')."""
    from store.db import make_engine, session_scope
    from store.repo import search_terms

    sources, problems = select_sources_checked(settings, only, extra_sources)
    engine = engine or make_engine(settings=settings)
    broken = _record_config_errors(engine, run_id, problems) if problems else {}
    for p in problems:
        say(f"source {p.name} not crawled (config_error): {p.message}")
    if not sources:
        say("no enabled crawl sources (config/sources/*.yaml)")
        return {**totals(broken), "sources": broken}
    with session_scope(engine) as s:
        terms = search_terms(s)
    if not terms:
        say("the watchlist has no marks or GI names to search for; only known listings and start URLs are crawled")
    data = settings.ensure_dirs()
    work = data / "crawl"
    (data / "logs").mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    tag = f"run{run_id}" if run_id else stamp
    job_file, counts_file = work / f"job-{tag}.json", work / f"counts-{tag}.json"
    log_file = data / "logs" / f"crawl-{tag}.log"
    timeout = timeout or settings.crawl.crawl_timeout
    counts: dict = {}
    with sandboxes(settings, sources, advance=True) as urls:
        resolved = [s.resolved(urls.get(s.name)) for s in sources]
        for name, u in urls.items():
            say(f"sandbox site for {name} on {u}")
        job = {"run_id": run_id, "data_dir": str(data), "db_url": settings.db_url, "terms": terms,
               "sources": resolved, "counts_file": str(counts_file), "log_level": log_level}
        redis_url = settings.crawl.redis_url
        if redis_url:  # shared frontier + dupefilter for crawl processes on several hosts
            from config.redact import mask_url

            job["redis"] = {"url": redis_url,
                            "crawl_id": settings.crawl.crawl_id or datetime.now().strftime("%Y%m%d"),
                            "persist": settings.crawl.redis_persist, "lease": settings.crawl.redis_lease}
            say(f"shared crawl frontier in Redis ({mask_url(redis_url)}, crawl id {job['redis']['crawl_id']})")
        job_file.write_text(json.dumps(job, ensure_ascii=False, indent=1), encoding="utf-8")
        counts_file.unlink(missing_ok=True)
        say(f"crawling {len(sources)} source(s) ({', '.join(s.name for s in sources)}) for {len(terms)} search terms")
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PYTHONUNBUFFERED"] = "1"
        t0 = time.monotonic()
        with open(log_file, "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "crawler.crawl_process", str(job_file)], cwd=str(REPO),
                                    stdout=subprocess.PIPE, stderr=log, env=env, text=True, encoding="utf-8")
            try:
                assert proc.stdout is not None
                for line in proc.stdout:
                    if line.startswith("PROGRESS "):
                        try:
                            say(_fmt_progress(json.loads(line[9:])))
                        except ValueError:
                            pass
                    elif line.startswith("COUNTS "):
                        try:
                            counts = json.loads(line[7:])
                        except ValueError:
                            pass
                    if time.monotonic() - t0 > timeout:
                        proc.kill()
                        break
                rc = proc.wait(timeout=max(1.0, timeout - (time.monotonic() - t0)))
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
            except BaseException:
                proc.kill()
                proc.wait()
                raise
    if not counts and counts_file.exists():
        counts = json.loads(counts_file.read_text(encoding="utf-8"))
    per_source = {**broken, **counts.get("sources", {})}
    out = {**totals(per_source), "sources": per_source, "seconds": round(time.monotonic() - t0, 2),
           "process_seconds": counts.get("elapsed"), "process_cpu_seconds": counts.get("cpu_seconds")}
    if rc != 0 or not counts:
        tail = ""
        try:
            tail = log_file.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            pass
        detail = f"crawl process exited with status {rc}; log {log_file}\n{tail}"
        _record_crash(engine, run_id, detail)
        out["failures"] += 1
        out["crashed"] = 1
        say(f"crawl process failed (exit {rc}); see {log_file}")
    _record_sources(engine, sources, per_source, run_id)
    say(f"crawl done: {out['pages']} pages, {out['new']} new, {out['changed']} changed, {out['unchanged']} unchanged, "
        f"{out['removed']} removed, {out['failures']} failures"
        + (f", {out['warnings']} warnings (stored without a price)" if out.get("warnings") else ""))
    return out
