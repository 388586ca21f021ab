"""A database run lock so that a scheduled pass and a manual one never overlap.

The lock is a row in ``run_locks``. A holder that died (its pid is gone on this host, or its
heartbeat is older than ``stale_after`` seconds) is taken over, so a pass killed with SIGKILL
never blocks the next one.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
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


log = logging.getLogger("markwatch.lock")


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
    def __init__(self, engine: Engine, name: str = "pass", stale_after: float = 600.0,
                 heartbeat_every: float | None = None):
        self.engine, self.name, self.stale_after = engine, name, stale_after
        self.heartbeat_every = heartbeat_every if heartbeat_every is not None else stale_after / 4
        self.held = False
        self._stop = threading.Event()
        self._beater: threading.Thread | None = None

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_every):
            try:
                self.heartbeat()
            except Exception as e:  # a busy database must not kill the pass
                log.warning("lock heartbeat failed: %s", e)

    def try_acquire(self, run_id: int | None = None, holder: str = "markwatch run") -> None:
        now = utcnow()
        with session_scope(self.engine) as s:
            cur = s.get(RunLock, self.name)
            if cur is not None:
                stale = (now - cur.heartbeat_at) > timedelta(seconds=self.stale_after)
                same_host = cur.host == socket.gethostname() and cur.pid
                # On this host the pid decides (a long crawl is not stale while its process lives);
                # for another host only the heartbeat can tell.
                busy = _alive(cur.pid, cur.host) if same_host else not stale
                if busy:
                    raise LockBusy(cur)
                log.warning("taking over the %s lock from dead holder pid %s on %s (run %s)", self.name, cur.pid,
                            cur.host, cur.run_id)
                s.delete(cur)
                s.flush()
        try:
            with session_scope(self.engine) as s:
                s.add(RunLock(name=self.name, run_id=run_id, holder=holder, pid=os.getpid(),
                              host=socket.gethostname(), acquired_at=now, heartbeat_at=now))
        except IntegrityError:
            with session_scope(self.engine) as s:
                cur = s.get(RunLock, self.name)
            if cur is None:  # released in between: try again on the next round
                cur = RunLock(name=self.name, holder="?", run_id=None, pid=None, host="?", acquired_at=now)
            raise LockBusy(cur) from None
        self.held = True
        self._stop.clear()
        self._beater = threading.Thread(target=self._beat, name=f"lock-heartbeat-{self.name}", daemon=True)
        self._beater.start()

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
        self._stop.set()
        if self._beater is not None and self._beater is not threading.current_thread():
            self._beater.join(timeout=10)
        with session_scope(self.engine) as s:
            s.execute(delete(RunLock).where(RunLock.name == self.name, RunLock.pid == os.getpid()))
        self.held = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
