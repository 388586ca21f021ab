"""`markwatch schedule`: jobs from config in a persistent job store under explicit ids, the
APScheduler options, logging of missed and failed jobs, and the scheduler as a process."""
from __future__ import annotations

import logging
import signal
import sqlite3
import subprocess
import threading
import time
from datetime import datetime, timedelta

import pytest

from tests.test_alerts_support import MARKWATCH, REPO, cli, env_for, listing, seed, no_browser_screenshots  # noqa: F401


def _sched(settings):
    from alerts.settings import AlertSettings
    from pipeline.scheduler import build_scheduler

    s = build_scheduler(settings, AlertSettings(), blocking=False)
    s.start(paused=True)
    return s


def _stored(settings):
    con = sqlite3.connect(settings.resolved_data_dir / "markwatch.db")
    try:
        return sorted(r[0] for r in con.execute("SELECT id FROM apscheduler_jobs"))
    finally:
        con.close()


def test_jobs_are_persistent_with_explicit_ids(settings):
    from pipeline.scheduler import install_jobs

    settings.ensure_dirs()
    (settings.resolved_data_dir / "schedule.yaml").write_text(
        "digest_time: '07:45'\nmisfire_grace_time: 900\nsources: {sandbox-live: 60}\n", encoding="utf-8")
    s = _sched(settings)
    assert install_jobs(s) == ["crawl:sandbox-live", "digest", "pass"]
    jobs = {j.id: j for j in s.get_jobs()}
    assert jobs["crawl:sandbox-live"].kwargs == {"sources": ["sandbox-live"], "crawl": True}
    assert jobs["pass"].kwargs["sources"] == ["sandbox-mall"]
    assert str(jobs["digest"].trigger) == "cron[hour='7', minute='45']"
    for j in jobs.values():
        assert (j.coalesce, j.max_instances, j.misfire_grace_time) == (True, 1, 900)
    nxt = jobs["pass"].next_run_time
    s.shutdown(wait=False)
    assert _stored(settings) == ["crawl:sandbox-live", "digest", "pass"]
    # a restart replaces, never doubles, and keeps the running schedule
    s = _sched(settings)
    install_jobs(s)
    assert s.get_job("pass").next_run_time == nxt
    s.shutdown(wait=False)
    assert _stored(settings) == ["crawl:sandbox-live", "digest", "pass"]
    # a source taken out of the per-source list loses its job
    (settings.resolved_data_dir / "schedule.yaml").write_text("digest_time: '07:45'\n", encoding="utf-8")
    s = _sched(settings)
    install_jobs(s)
    s.shutdown(wait=False)
    assert _stored(settings) == ["digest", "pass"]


def boom():
    raise RuntimeError("source site changed its layout")


def test_missed_and_failed_jobs_are_logged(settings, caplog):
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED

    settings.ensure_dirs()
    s = _sched(settings)
    seen = threading.Event()
    got = []

    def on(ev):
        got.append(ev.code)
        if EVENT_JOB_MISSED in got and EVENT_JOB_ERROR in got:
            seen.set()

    s.add_listener(on, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    caplog.set_level(logging.INFO, logger="markwatch.schedule")
    past = datetime.now(s.timezone) - timedelta(hours=2)
    s.add_job("pipeline.scheduler:job_digest", "date", run_date=past, id="digest-late", misfire_grace_time=60)
    s.add_job("tests.test_schedule_jobs:boom", "date", run_date=datetime.now(s.timezone), id="crawl:broken")
    s.resume()
    assert seen.wait(60)
    s.shutdown(wait=True)
    text = caplog.text
    assert "job digest-late missed its run" in text
    assert "job crawl:broken" in text and "failed" in text and "source site changed its layout" in text


def test_scheduled_pass_runs_and_skips_when_locked(tmp_path, settings, caplog):
    from sqlalchemy import select

    from pipeline.lock import RunLockGuard
    from pipeline.scheduler import job_pass
    from store.db import make_engine, session_scope
    from store.models import Run

    seed(tmp_path, [listing("a1", "复刻 贵州茅台 飞天53度 酱香型白酒 500ml", price=260)])
    counts = job_pass(crawl=False)
    assert counts["listings_matched"] == 0
    eng = make_engine(settings=settings)
    with session_scope(eng) as s:
        assert [r.trigger for r in s.scalars(select(Run).order_by(Run.id))] == ["manual", "schedule"]
    caplog.set_level(logging.INFO, logger="markwatch.schedule")
    with RunLockGuard(eng) as lock:
        lock.acquire()
        assert "skipped" in job_pass(crawl=False)
    assert "skipped: another pass is running" in caplog.text
    with session_scope(eng) as s:
        assert len(list(s.scalars(select(Run)))) == 2
    eng.dispose()


def test_bad_schedule_file_is_refused(settings):
    settings.ensure_dirs()
    (settings.resolved_data_dir / "schedule.yaml").write_text("digest_time: '25:00'\n", encoding="utf-8")
    r = cli("schedule", "--list")
    assert r.exit_code == 2 and "digest_time '25:00' is not HH:MM" in r.output


def test_schedule_process_runs_a_pass_and_stops_on_sigterm(tmp_path):
    data = tmp_path / "var"
    data.mkdir()
    (data / "schedule.yaml").write_text("crawl: false\n", encoding="utf-8")
    p = subprocess.Popen(MARKWATCH + ["schedule", "--run-now"], cwd=REPO, env=env_for(data),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:  # wait for the scheduled pass's run record
            try:
                con = sqlite3.connect(data / "markwatch.db", timeout=30)
                rows = con.execute("SELECT status, trigger FROM runs").fetchall()
                con.close()
            except sqlite3.OperationalError:
                rows = []
            logf = data / "logs" / "schedule.log"
            if rows == [("ok", "schedule")] and logf.is_file() and "job pass-now done" in logf.read_text(encoding="utf-8"):
                break
            assert p.poll() is None, p.stderr.read()
            assert time.monotonic() < deadline, "no scheduled pass"
            time.sleep(0.1)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0
    assert "scheduler started: jobs digest, pass" in err and "scheduler stopped" in err
    log = (data / "logs" / "schedule.log").read_text(encoding="utf-8")
    assert "run 1 ok" in log
