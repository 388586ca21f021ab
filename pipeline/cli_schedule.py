"""`markwatch schedule`: the long-running scheduler (APScheduler 3.x, persistent job store)."""
from __future__ import annotations

import typer

from config.settings import get_settings


def register(app: typer.Typer) -> None:
    @app.command()
    def schedule(list_only: bool = typer.Option(False, "--list", help="Install/update the jobs, print them and exit"),
                 run_now: bool = typer.Option(False, "--run-now", help="Also run a full pass immediately after starting")):
        """Run passes and the daily digest on schedule until stopped (SIGTERM/Ctrl-C). Jobs are kept
        in the database (explicit ids, replaced on start): per-source crawl intervals, daily digest
        time, coalesced misfires, one instance at a time, misfire grace; missed and failed jobs are
        logged to stderr and <data dir>/logs/schedule.log. See docs/operations.md.

        Example: MARKWATCH_DIGEST_TIME=08:30 markwatch schedule
        """
        import signal
        from datetime import datetime

        from alerts.settings import get_alert_settings

        from .common import fail
        from .scheduler import ScheduleConfigError, build_scheduler, describe_jobs, install_jobs, setup_logging

        st = get_settings()
        st.ensure_dirs()
        try:
            sched = build_scheduler(st, get_alert_settings(), blocking=not list_only)
        except ScheduleConfigError as e:
            fail(str(e), 2)
        if list_only:
            sched.start(paused=True)
            install_jobs(sched)
            for line in describe_jobs(sched):
                typer.echo(line)
            sched.shutdown(wait=False)
            return
        logfile = setup_logging(st.resolved_data_dir)

        def _stop(signum, frame):
            typer.echo("stopping the scheduler ...", err=True)
            sched.shutdown(wait=False)

        signal.signal(signal.SIGTERM, _stop)
        # jobs are installed when the scheduler has started (the persistent store is live) and
        # before its main loop runs
        from apscheduler.events import EVENT_SCHEDULER_STARTED

        def _on_start(event):
            ids = install_jobs(sched)
            typer.echo(f"scheduler started: jobs {', '.join(ids)}; log {logfile}", err=True)
            for line in describe_jobs(sched):
                typer.echo("  " + line, err=True)
            if run_now:
                sched.add_job("pipeline.scheduler:job_pass", id="pass-now", replace_existing=True,
                              kwargs={"crawl": sched._markwatch_config.crawl}, next_run_time=datetime.now(sched.timezone))

        sched.add_listener(_on_start, EVENT_SCHEDULER_STARTED)
        try:
            sched.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        typer.echo("scheduler stopped", err=True)
