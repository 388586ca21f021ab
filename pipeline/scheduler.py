"""`markwatch schedule`: APScheduler 3.x BlockingScheduler in its own process.

Jobs live in a persistent SQLAlchemy job store (table ``apscheduler_jobs`` in the markwatch
database) under explicit ids, added with ``replace_existing=True`` so a restart never doubles them:

- ``crawl:<source>``  one pass over that source every N minutes (per-source interval), or
- ``pass``            one pass over every enabled source (when no per-source interval is set),
- ``digest``          the daily digest at HH:MM (time zone MARKWATCH_TIMEZONE).

Every job runs with ``coalesce=True`` (missed runs collapse into one), ``max_instances=1`` and
``misfire_grace_time``; passes also take the database run lock, so a scheduled pass and a
manual ``markwatch run`` never overlap. Missed and failed jobs are logged (stderr and
``<data dir>/logs/schedule.log``).

Schedule config (YAML, ``MARKWATCH_SCHEDULE_FILE`` or ``<data dir>/schedule.yaml``; every key
optional; environment variables give the defaults)::

    digest_time: "08:30"          # MARKWATCH_DIGEST_TIME
    pass_interval_minutes: 1440   # MARKWATCH_PASS_INTERVAL_MINUTES
    misfire_grace_time: 3600      # MARKWATCH_MISFIRE_GRACE_TIME (seconds)
    crawl: true                   # false: passes only match stored listings
    sources:                      # MARKWATCH_CRAWL_INTERVALS='{"sandbox-live": 60}'
      sandbox-mall: 360           # minutes
      sandbox-live: 60
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

log = logging.getLogger("markwatch.schedule")

JOB_PREFIXES = ("crawl:", "pass", "digest")


class ScheduleConfigError(ValueError):
    pass


@dataclass
class ScheduleConfig:
    digest_time: tuple[int, int]
    pass_interval_minutes: int
    misfire_grace_time: int
    timezone: str
    crawl: bool = True
    sources: dict[str, int] = field(default_factory=dict)


def _hhmm(v: str, where: str) -> tuple[int, int]:
    try:
        h, m = str(v).split(":")
        h, m = int(h), int(m)
        if not (0 <= h < 24 and 0 <= m < 60):
            raise ValueError
        return h, m
    except ValueError:
        raise ScheduleConfigError(f"{where}: digest_time {v!r} is not HH:MM") from None


def enabled_sources(sources_dir: Path) -> list[str]:
    """Names of enabled sources in the sources folder (broken files: config_error at crawl)."""
    from crawler.sources import load_sources_checked

    return [s.name for s in load_sources_checked(sources_dir)[0] if s.enabled]


def load_schedule(settings, ast) -> ScheduleConfig:
    cfg = ScheduleConfig(_hhmm(ast.digest_time, "MARKWATCH_DIGEST_TIME"), ast.pass_interval_minutes,
                         ast.misfire_grace_time, ast.timezone, True, dict(ast.crawl_intervals))
    path = ast.schedule_file or (settings.resolved_data_dir / "schedule.yaml")
    if ast.schedule_file and not Path(path).is_file():
        raise ScheduleConfigError(f"{path}: schedule file not found")
    if Path(path).is_file():
        try:
            d = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise ScheduleConfigError(f"{path}: not valid YAML ({e})") from None
        if not isinstance(d, dict):
            raise ScheduleConfigError(f"{path}: expected a mapping")
        unknown = set(d) - {"digest_time", "pass_interval_minutes", "misfire_grace_time", "crawl", "sources"}
        if unknown:
            raise ScheduleConfigError(f"{path}: unknown keys {', '.join(sorted(unknown))}")
        if "digest_time" in d:
            cfg.digest_time = _hhmm(d["digest_time"], str(path))
        for k in ("pass_interval_minutes", "misfire_grace_time"):
            if k in d:
                if not isinstance(d[k], int) or d[k] < 1:
                    raise ScheduleConfigError(f"{path}: {k} must be a positive integer")
                setattr(cfg, k, d[k])
        if "crawl" in d:
            cfg.crawl = bool(d["crawl"])
        for name, mins in (d.get("sources") or {}).items():
            if not isinstance(mins, int) or mins < 1:
                raise ScheduleConfigError(f"{path}: sources.{name}: interval must be a positive number of minutes")
            cfg.sources[str(name)] = mins
    return cfg


# -- job functions (module-level: the persistent job store refers to them by name) ------------

def job_pass(sources: list[str] | None = None, crawl: bool = True) -> dict:
    """One pass (all sources or some), as the scheduler runs it."""
    from config.settings import get_settings

    from .lock import LockBusy
    from .passes import run_pass

    st = get_settings()
    try:
        res = run_pass(st, trigger="schedule", crawl=crawl, sources=sources)
    except LockBusy as e:
        log.warning("pass %s skipped: %s", ",".join(sources or ["all"]), e)
        return {"skipped": str(e)}
    msg = f"run {res.run_id} {res.status}: " + ", ".join(f"{k} {v}" for k, v in sorted(res.counts.items())
                                                           if k in ("listings_matched", "leads_new", "leads_updated"))
    (log.error if res.status == "failed" else log.info)("%s%s", msg, f"; error: {res.error}" if res.error else "")
    if res.status == "failed":
        raise RuntimeError(f"run {res.run_id} failed: {res.error}")
    return res.counts


def job_digest() -> int:
    from config.settings import get_settings

    from alerts.daily import run_digest
    from store.db import ensure_schema, make_engine

    st = get_settings()
    eng = make_engine(settings=st)
    ensure_schema(eng)
    results = run_digest(st, eng)
    errors = [r.error for r in results if r.error]
    for r in results:
        log.info("digest %s%s: %d new leads -> %s", r.digest.date, f" ({r.digest.holder})" if r.digest.holder else "",
                 r.digest.total, r.files["html"])
    if errors:
        raise RuntimeError("; ".join(errors))
    return len(results)


# -- the scheduler ----------------------------------------------------------------------------

def desired_jobs(cfg: ScheduleConfig, sources: list[str]) -> list[dict]:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    jobs = []
    per_source = [s for s in sources if s in cfg.sources]
    for name in per_source:
        jobs.append(dict(id=f"crawl:{name}", func="pipeline.scheduler:job_pass", name=f"pass over {name}",
                         kwargs={"sources": [name], "crawl": cfg.crawl},
                         trigger=IntervalTrigger(minutes=cfg.sources[name], timezone=cfg.timezone)))
    rest = [s for s in sources if s not in cfg.sources]
    if rest or not per_source:
        jobs.append(dict(id="pass", func="pipeline.scheduler:job_pass", name="pass over " + (", ".join(rest) or "all sources"),
                         kwargs={"sources": rest if per_source else None, "crawl": cfg.crawl},
                         trigger=IntervalTrigger(minutes=cfg.pass_interval_minutes, timezone=cfg.timezone)))
    h, m = cfg.digest_time
    jobs.append(dict(id="digest", func="pipeline.scheduler:job_digest", name=f"daily digest at {h:02d}:{m:02d}",
                     kwargs={}, trigger=CronTrigger(hour=h, minute=m, timezone=cfg.timezone)))
    return jobs


def _listener(event) -> None:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED

    if event.code == EVENT_JOB_MISSED:
        log.warning("job %s missed its run at %s (scheduler down or busy longer than the misfire grace time)",
                    event.job_id, event.scheduled_run_time)
    elif event.code == EVENT_JOB_ERROR:
        log.error("job %s (run at %s) failed: %r", event.job_id, event.scheduled_run_time, event.exception,
                  exc_info=(type(event.exception), event.exception, event.exception.__traceback__)
                  if event.exception else None)
    else:
        log.info("job %s done (run at %s)", event.job_id, event.scheduled_run_time)


def build_scheduler(settings, ast, blocking: bool = True, engine=None):
    """A configured scheduler with the job store, listeners and this config's jobs (not started)."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    from store.db import ensure_schema, make_engine

    cfg = load_schedule(settings, ast)
    engine = engine or make_engine(settings=settings)
    ensure_schema(engine)
    cls = BlockingScheduler if blocking else BackgroundScheduler
    sched = cls(jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
                executors={"default": ThreadPoolExecutor(max_workers=4)},
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": cfg.misfire_grace_time},
                timezone=cfg.timezone)
    sched.add_listener(_listener, EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_EXECUTED)
    sched._markwatch_config = cfg
    sched._markwatch_jobs = desired_jobs(cfg, enabled_sources(settings.sources_dir))
    return sched


def install_jobs(sched) -> list[str]:
    """Add (replace) the configured jobs and drop stored jobs of ours no longer configured.
    Must run after ``sched.start(paused=True)`` so the persistent store is consulted."""
    want = sched._markwatch_jobs
    cfg = sched._markwatch_config
    ids = {j["id"] for j in want}
    for job in sched.get_jobs():
        if job.id.startswith(JOB_PREFIXES) and job.id not in ids:
            log.info("removing job %s: no longer configured", job.id)
            job.remove()
    for j in want:
        old = sched.get_job(j["id"])
        extra = {}
        if old is not None and str(old.trigger) == str(j["trigger"]) and old.next_run_time is not None:
            extra["next_run_time"] = old.next_run_time  # a restart keeps the running schedule
        sched.add_job(j["func"], trigger=j["trigger"], id=j["id"], name=j["name"], kwargs=j["kwargs"],
                      replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=cfg.misfire_grace_time,
                      **extra)
    return sorted(ids)


def describe_jobs(sched) -> list[str]:
    out = []
    for job in sorted(sched.get_jobs(), key=lambda j: j.id):
        nxt = job.next_run_time
        out.append(f"{job.id}\t{job.name}\t{job.trigger}\tnext {nxt:%Y-%m-%d %H:%M %Z}" if nxt else
                   f"{job.id}\t{job.name}\t{job.trigger}\tpaused")
    return out


def setup_logging(data_dir: Path) -> Path:
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / "schedule.log"
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger("markwatch")
    root.setLevel(logging.INFO)
    for h in (logging.FileHandler(path, encoding="utf-8"), logging.StreamHandler()):
        h.setFormatter(fmt)
        root.addHandler(h)
    aps = logging.getLogger("apscheduler")
    aps.setLevel(logging.WARNING)
    return path
