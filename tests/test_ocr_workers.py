"""OCR worker processes die with their parent (issue 16 item 7): kill -9 of a match must not leave
~300 MB workers running."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PARENT = r"""
import json, os, sys
from matcher.ocr import ImageTextReader

if __name__ == "__main__":
    r = ImageTextReader(workers=2)
    pool = r._get_pool()
    assert pool is not None
    pids = sorted({f.result() for f in [pool.submit(os.getpid) for _ in range(8)]} | set(pool._processes))
    print(json.dumps(pids), flush=True)
    sys.stdin.read()  # wait to be killed
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie has already ended


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_when_the_parent_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    p = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        pids = json.loads(line)
        assert pids and os.getpid() not in pids and p.pid not in pids
        assert all(_alive(x) for x in pids)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        deadline = time.monotonic() + 30  # bounded poll: the kernel delivers the death signal at once
        while any(_alive(x) for x in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [x for x in pids if _alive(x)], "OCR workers outlived their killed parent"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_die_with_parent_uses_the_kernel_death_signal_on_linux():
    from matcher.ocr_engine import die_with_parent

    if not sys.platform.startswith("linux"):
        pytest.skip("prctl is Linux-only")
    # run in a child so this test process keeps its own settings
    code = "from matcher.ocr_engine import die_with_parent; import os; print(die_with_parent(os.getppid()))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "prctl", out.stderr
    assert callable(die_with_parent)
