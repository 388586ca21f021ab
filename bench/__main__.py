"""Run every benchmark module ``bench/bench_*.py`` within a time budget and write one report.

    make bench                          # everything, within --budget (default 1,140 s = 19 min)
    make bench BENCH_ARGS=text          # only modules whose name contains 'text'
    python -m bench store --budget 600  # one module, its own budget

Each module exposes ``main(argv) -> dict | None`` (its figures; None for a module that only
prints) and may expose ``markdown(result) -> str`` for its report section. Each module runs in
its own process group with a deadline: its share of what is left of the budget (:data:`PLAN`
weights; time a module does not use goes to the ones after it). A module that passes its deadline
is stopped and reported as **timed out** with the deadline it had; a module that fails is
reported as **failed** with its error; the others still run. No module is left out without a
line saying so. Modules that take a budget (bench_store, bench_text) get their deadline and fit
their own steps into it, saying which steps did not fit.

Writes ``bench/out/report.json`` (every module's figures, status, wall and CPU seconds of its
process tree, the arguments it ran with, load average, CPU count) and ``bench/out/report.md``.
"""
from __future__ import annotations

import json
import os
import pkgutil
import platform
import resource
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import bench

OUT = Path(__file__).resolve().parent / "out"
REPO = Path(__file__).resolve().parent.parent
DEFAULT_BUDGET = 1140.0

# module -> (weight of the budget, arguments of the full run, takes --budget). Order = run order.
# Sizes are chosen so the whole run fits 20 minutes on 2 cores; each module's own defaults (run it
# alone: python -m bench.bench_x) are the bigger, slower variants.
PLAN: dict[str, tuple[float, list[str], bool]] = {
    "bench_text": (0.20, [], True),
    "bench_store": (0.42, [], True),
    "bench_goods": (0.02, [], False),
    "bench_ocr": (0.10, ["--quick"], False),
    "bench_logo": (0.10, ["--logos", "100,1000"], False),
    "bench_crawl": (0.08, [], False),
    "bench_web": (0.08, ["--leads", "100000", "--repeat", "10"], False),
}
MIN_SHARE = 30.0  # seconds: every module gets at least this while the budget lasts; none starts with less


def _child(name: str, out: str, argv: list[str]) -> int:
    """In the module's own process: run it and write {"result", "markdown"} as JSON to `out`."""
    import importlib

    mod = importlib.import_module(f"bench.{name}")
    res = mod.main(argv)
    md = mod.markdown(res) if res is not None and hasattr(mod, "markdown") else None
    Path(out).write_text(json.dumps({"result": res, "markdown": md}, ensure_ascii=False, default=str),
                         encoding="utf-8")
    return 0


def _run_module(name: str, argv: list[str], deadline_s: float, out_dir: Path) -> dict:
    """Run one module in a new process group; stop the group at the deadline."""
    res_path = out_dir / f".{name}.json"
    res_path.unlink(missing_ok=True)
    log_path = out_dir / f"{name}.log"
    t0 = time.perf_counter()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with log_path.open("w", encoding="utf-8") as log:
        p = subprocess.Popen([sys.executable, "-m", "bench", "--child", name, str(res_path), "--", *argv],
                             cwd=str(REPO), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        timed_out = False
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        while True:
            left = deadline_s - (time.perf_counter() - t0)
            if left <= 0:
                timed_out = True
                break
            if sel.select(timeout=min(left, 5.0)):
                chunk = os.read(p.stdout.fileno(), 65536)  # never blocks on a line without its newline
                if not chunk:
                    break
                text = chunk.decode("utf-8", errors="replace")
                sys.stdout.write(text)
                sys.stdout.flush()
                log.write(text)
        if timed_out:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        rc = p.wait()
        sel.close()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    entry: dict = {"args": argv, "deadline_s": round(deadline_s),
                   "wall_s": round(time.perf_counter() - t0, 1),
                   "cpu_s": round((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime), 1),
                   "log": str(log_path.relative_to(REPO)) if log_path.is_relative_to(REPO) else str(log_path)}
    if timed_out:
        entry.update(status="timed out", error=f"stopped at its deadline of {deadline_s:.0f} s "
                                                f"(run it alone: python -m bench {name.removeprefix('bench_')})")
    elif rc != 0 or not res_path.exists():
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        entry.update(status="failed", error=f"exit code {rc}: " + " | ".join(tail)[-500:])
    else:
        data = json.loads(res_path.read_text(encoding="utf-8"))
        res_path.unlink()
        entry.update(status="ok", result=data["result"], markdown=data["markdown"])
    return entry


def run(names: list[str], out: Path = OUT, budget: float = DEFAULT_BUDGET, plan: dict | None = None) -> dict:
    """Run the named modules within `budget` seconds (wall); return and write the report
    (report.json, report.md in `out`)."""
    plan = plan if plan is not None else PLAN
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "budget_s": budget,
                    "host": {"cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2),
                             "python": platform.python_version()},
                    "modules": {}}
    t_start = time.perf_counter()
    md_parts: list[str] = []
    for i, name in enumerate(names):
        weight, argv, takes_budget = plan.get(name, (0.05, [], False))
        left = budget - (time.perf_counter() - t_start)
        rest = sum(plan.get(n, (0.05,))[0] for n in names[i:])
        # a small module's share may be tiny: it still gets MIN_SHARE while the budget lasts
        share = min(left, max(left * weight / rest if rest else left, MIN_SHARE))
        print(f"== {name} (deadline {share:.0f} s of {left:.0f} s left) ==", flush=True)
        if share < MIN_SHARE:
            entry = {"status": "not run", "args": argv, "wall_s": 0.0, "cpu_s": 0.0,
                     "error": f"budget spent: {left:.0f} s left for it and {len(names) - i - 1} more modules"}
        else:
            args = argv + (["--budget", str(int(share * 0.92))] if takes_budget else [])
            entry = _run_module(name, args, share, out)
        report["modules"][name] = {k: v for k, v in entry.items() if k != "markdown"}
        if entry["status"] == "ok":
            res = entry.get("result")
            if entry.get("markdown"):
                md_parts.append(f"## {name}\n\n" + entry["markdown"])
            elif res is not None:
                md_parts.append(f"## {name}\n\n```json\n{json.dumps(res, ensure_ascii=False, indent=1)}\n```\n")
            else:
                md_parts.append(f"## {name}\n\n(printed only; see {entry['log']})\n")
        else:
            md_parts.append(f"## {name}\n\n**{entry['status']}**: {entry['error']}\n")
            print(f"{name} {entry['status']}: {entry['error']}", flush=True)
        print(f"({name}: {entry['status']}, {entry['wall_s']:.1f} s wall, {entry['cpu_s']:.1f} CPU-s)\n", flush=True)
    report["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    report["wall_s"] = round(time.perf_counter() - t_start, 1)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    head = (f"# markwatch benchmark report\n\n{report['started']} → {report['finished']} "
            f"({report['wall_s']:.0f} s of a {budget:.0f} s budget); {report['host']['cpus']} CPUs, load average "
            f"{report['host']['load_average_1m']} at start (on a shared machine wall seconds vary; CPU seconds "
            "are the comparable figure).\n\n"
            + "| module | status | wall s | CPU s | deadline s | args |\n|---|---|---|---|---|---|\n"
            + "".join(f"| {n} | {e['status']} | {e['wall_s']} | {e['cpu_s']} | {e.get('deadline_s', '-')} | "
                      f"{' '.join(e.get('args') or []) or '-'} |\n" for n, e in report["modules"].items()) + "\n")
    (out / "report.md").write_text(head + "\n".join(md_parts), encoding="utf-8")
    print(f"report: {out / 'report.md'} and report.json", flush=True)
    return report


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        name, out = argv[1], argv[2]
        return _child(name, out, argv[4:] if argv[3:4] == ["--"] else argv[3:])
    budget = DEFAULT_BUDGET
    if "--budget" in argv:
        i = argv.index("--budget")
        try:
            budget = float(argv[i + 1])
        except (IndexError, ValueError):
            print("error: --budget SECONDS", file=sys.stderr)
            return 2
        argv = argv[:i] + argv[i + 2:]
    wanted = [a for a in argv if not a.startswith("-")]
    found = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    order = [n for n in PLAN if n in found] + [n for n in found if n not in PLAN]
    names = [n for n in order if not wanted or any(w in n for w in wanted)]
    if not names:
        print(f"error: no benchmark module matches {wanted} (have: {', '.join(found)})", file=sys.stderr)
        return 2
    rep = run(names, budget=budget)
    return 0 if all(e["status"] == "ok" for e in rep["modules"].values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
