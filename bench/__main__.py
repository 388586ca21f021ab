"""Run every benchmark module ``bench/bench_*.py`` (each exposes ``main(argv) -> None``) and
print its report. ``make bench BENCH_ARGS=text`` runs only modules whose name contains 'text'."""
from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def main(argv: list[str]) -> int:
    wanted = [a for a in argv if not a.startswith("-")]
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    rc = 0
    for name in names:
        if wanted and not any(w in name for w in wanted):
            continue
        print(f"== {name} ==", flush=True)
        t0 = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").main([])
        except Exception as e:  # one failing benchmark does not hide the others
            print(f"{name} failed: {type(e).__name__}: {e}", flush=True)
            rc = 1
        print(f"({name} took {time.perf_counter() - t0:.1f}s)\n", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
