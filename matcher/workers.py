"""Forked worker processes with one supervision loop (matcher/batch.py's `match --workers N`
and pipeline/stages.py's matcher workers in the stored pass).

The parent loads everything once, then forks N children (they share its memory copy-on-write).
Each child runs ``work(k, progress)`` and its return value (picklable) goes back to the parent.
Each child has its own pipe; the parent waits on the pipes and the children's process sentinels
together, so a child that dies without a word (killed, out of memory, a crash in C code) is
reported with its exit code instead of leaving the parent waiting forever. Children ask Linux to
end them with their parent (:func:`matcher.ocr_engine.die_with_parent`).
"""
from __future__ import annotations

from typing import Any, Callable

from .ocr_engine import die_with_parent


class WorkerFailed(RuntimeError):
    """One or more workers raised or died; the message names each (``<name> k: what``)."""


def _child(work, k: int, conn) -> None:
    die_with_parent()
    try:
        res = work(k, lambda v: conn.send(("progress", v)))
        conn.send(("done", res))
    except BaseException as e:  # reported to the parent
        try:
            conn.send(("error", f"{type(e).__name__}: {e}"))
        except Exception:
            pass
    finally:
        conn.close()


def run_forked(work: Callable[[int, Callable[[Any], None]], Any], n: int,
               progress: Callable[[int, Any], None] | None = None, name: str = "worker") -> list[Any]:
    """Fork `n` processes running ``work(k, report)`` (k = 0..n-1; ``report(value)`` sends a
    progress value, passed to ``progress(k, value)`` in the parent). Returns the n results in
    worker order. Raises WorkerFailed naming every worker that raised or ended without a result
    (after the others have finished); on any exit, children still running are terminated."""
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("fork")
    procs, conns = [], {}
    try:
        for k in range(n):
            r, w = ctx.Pipe(duplex=False)
            p = ctx.Process(target=_child, args=(work, k, w), name=f"{name}-{k}")
            p.start()
            w.close()  # the child holds the only write end: EOF when it ends
            procs.append(p)
            conns[r] = k
        results: dict[int, Any] = {}
        errors: dict[int, str] = {}
        while conns:
            for r in wait(list(conns)):
                k = conns[r]
                try:
                    kind, val = r.recv()
                except (EOFError, OSError):
                    del conns[r]
                    r.close()
                    if k not in results and k not in errors:
                        procs[k].join()
                        errors[k] = f"ended without a result (exit code {procs[k].exitcode})"
                    continue
                if kind == "progress":
                    if progress:
                        progress(k, val)
                elif kind == "done":
                    results[k] = val
                else:
                    errors[k] = val
        for p in procs:
            p.join()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join()
    if errors:
        raise WorkerFailed("; ".join(f"{name} {k}: {v}" for k, v in sorted(errors.items())))
    return [results[k] for k in range(n)]
