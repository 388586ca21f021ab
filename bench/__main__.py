"""Run every benchmark module ``bench/bench_*.py`` and write one report.

Each module exposes ``main(argv) -> dict | None`` (its figures; None for a module that only
prints) and may expose ``markdown(result) -> str`` for its report section. The runner writes
``bench/out/report.json`` (every module's figures, load average, CPU count, timings, failures)
and ``bench/out/report.md``. ``make bench BENCH_ARGS=text`` runs only modules whose name contains
'text'; a module that fails is recorded as failed and the others still run.
"""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import bench

OUT = Path(__file__).resolve().parent / "out"


def run(names: list[str], out: Path = OUT) -> dict:
    """Run the named modules; return and write the report (report.json, report.md in `out`)."""
    report: dict = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "host": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2),
                             "python": platform.python_version()},
                    "modules": {}}
    md_parts: list[str] = []
    for name in names:
        print(f"== {name} ==", flush=True)
        t0, c0 = time.perf_counter(), time.process_time()
        entry: dict = {}
        try:
            mod = importlib.import_module(f"bench.{name}")
            res = mod.main([])
            entry = {"status": "ok", "result": res}
            if res is not None and hasattr(mod, "markdown"):
                md_parts.append(f"## {name}\n\n" + mod.markdown(res))
            elif res is not None:
                md_parts.append(f"## {name}\n\n```json\n{json.dumps(res, ensure_ascii=False, indent=1)}\n```\n")
            else:
                md_parts.append(f"## {name}\n\n(printed only; see the console output)\n")
        except Exception as e:  # one failing benchmark does not hide the others
            entry = {"status": "failed", "error": f"{type(e).__name__}: {e}"}
            md_parts.append(f"## {name}\n\n**failed**: {entry['error']}\n")
            print(f"{name} failed: {entry['error']}", flush=True)
        entry["wall_s"] = round(time.perf_counter() - t0, 1)
        entry["runner_cpu_s"] = round(time.process_time() - c0, 1)
        report["modules"][name] = entry
        print(f"({name} took {entry['wall_s']:.1f}s)\n", flush=True)
    report["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    head = (f"# markwatch benchmark report\n\n{report['started']} → {report['finished']}; "
            f"{report['host']['cpus']} CPUs, load average {report['host']['load_average_1m']} at start "
            "(on a shared machine wall seconds vary; CPU seconds are the comparable figure).\n\n"
            + "| module | status | wall s |\n|---|---|---|\n"
            + "".join(f"| {n} | {e['status']} | {e['wall_s']} |\n" for n, e in report["modules"].items()) + "\n")
    (out / "report.md").write_text(head + "\n".join(md_parts), encoding="utf-8")
    print(f"report: {out / 'report.md'} and report.json", flush=True)
    return report


def main(argv: list[str]) -> int:
    wanted = [a for a in argv if not a.startswith("-")]
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    names = [n for n in names if not wanted or any(w in n for w in wanted)]
    rep = run(names)
    return 0 if all(e["status"] == "ok" for e in rep["modules"].values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
