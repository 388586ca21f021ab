"""The one supervision loop for forked workers (matcher/workers.py)."""
from __future__ import annotations

import os
import signal

import pytest

from matcher.workers import WorkerFailed, run_forked


def test_results_in_worker_order_with_progress():
    seen = []

    def work(k, report):
        report(k * 10)
        return {"k": k, "pid": os.getpid()}

    got = run_forked(work, 3, lambda k, v: seen.append((k, v)))
    assert [r["k"] for r in got] == [0, 1, 2]
    assert len({r["pid"] for r in got} | {os.getpid()}) == 4  # three processes besides this one
    assert sorted(seen) == [(0, 0), (1, 10), (2, 20)]


def test_a_worker_killed_without_a_word_is_reported_not_waited_for():
    def work(k, report):
        if k == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        return k

    with pytest.raises(WorkerFailed, match=r"match worker 1: ended without a result \(exit code -9\)"):
        run_forked(work, 2, name="match worker")


def test_a_raising_worker_is_named_and_the_others_finish():
    def work(k, report):
        if k == 0:
            raise ValueError("bad batch")
        return k

    with pytest.raises(WorkerFailed) as e:
        run_forked(work, 3, name="matcher worker")
    assert str(e.value) == "matcher worker 0: ValueError: bad batch"
