"""A database run lock so that a scheduled pass and a manual one never overlap.

The lock is a row in ``run_locks``. A holder that died (its pid is gone on this host, or its
heartbeat is older than ``stale_after`` seconds) is taken over, so a pass killed with SIGKILL
never blocks the next one.
"""
from __future__ import annotations

import os
import socket
import time
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from store.db import session_scope
from store.models import RunLock, utcnow


class LockBusy(RuntimeError):
    def __init__(self, holder: RunLock):
        self.holder = holder
        super().__init__(f"another pass is running (run {holder.run_id}, pid {holder.pid} on {holder.host}, "
                         f"since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC)")


def _alive(pid: int | None, host: str | None) -> bool:
    if not pid or host != socket.gethostname():
        return True  # cannot tell for another host: rely on the heartbeat
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLockGuard:
    def __init__(self, engine: Engine, name: str = "pass", stale_after: float = 600.0):
        self.engine, self.name, self.stale_after = engine, name, stale_after
        self.held = False

    def try_acquire(self, run_id: int | None = None, holder: str = "markwatch run") -> None:
        now = utcnow()
        with session_scope(self.engine) as s:
            cur = s.get(RunLock, self.name)
            if cur is not None:
                stale = (now - cur.heartbeat_at) > timedelta(seconds=self.stale_after)
                if _alive(cur.pid, cur.host) and not stale:
                    raise LockBusy(cur)
                s.delete(cur)
                s.flush()
        try:
            with session_scope(self.engine) as s:
                s.add(RunLock(name=self.name, run_id=run_id, holder=holder, pid=os.getpid(),
                              host=socket.gethostname(), acquired_at=now, heartbeat_at=now))
        except IntegrityError:
            with session_scope(self.engine) as s:
                raise LockBusy(s.get(RunLock, self.name)) from None
        self.held = True

    def acquire(self, run_id: int | None = None, wait: float = 0.0, holder: str = "markwatch run") -> None:
        deadline = time.monotonic() + wait
        while True:
            try:
                return self.try_acquire(run_id, holder)
            except LockBusy:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))

    def set_run(self, run_id: int) -> None:
        with session_scope(self.engine) as s:
            row = s.get(RunLock, self.name)
            if row is not None and row.pid == os.getpid():
                row.run_id = run_id

    def heartbeat(self) -> None:
        if not self.held:
            return
        with session_scope(self.engine) as s:
            row = s.get(RunLock, self.name)
            if row is not None and row.pid == os.getpid():
                row.heartbeat_at = utcnow()

    def release(self) -> None:
        if not self.held:
            return
        with session_scope(self.engine) as s:
            s.execute(delete(RunLock).where(RunLock.name == self.name, RunLock.pid == os.getpid()))
        self.held = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
