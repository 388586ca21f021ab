"""The stored pipeline at scale (issue 17), whole processes as an officer or cron runs them.

For each size it generates (bench/data.py) a watchlist of word marks and a listings JSONL, then
runs, each as its own `markwatch` process with CPU seconds, wall seconds and peak RSS taken from
wait4(): the stateless `markwatch match` (1 and 2 workers), `watchlist import`,
`listings import`, `run --no-crawl` (the stored pass; at 100k also on a copy of the same store
with 2 forked matcher workers), and the officer commands `leads list` and `digest` on the filled
store. It checks the stored pass gives the same leads as `match`.
A naive baseline (rapidfuzz partial_ratio of each title against every mark form) is measured in
the same run on a sample. Growth curves: marks 500 → 5,000 → 20,000 at 10,000 listings, and
listings 10,000 → 100,000 → 1,000,000 for the stateless matcher at 5,000 marks.

    python -m bench store                    # everything (about 10 minutes on 2 quiet cores)
    python -m bench.bench_store --quick      # 10k only, no growth curves, no PostgreSQL

Targets: import + pass of 100k listings at 5,000 marks within 4x the stateless match's CPU;
whole-process match >= 10,000 listings/s and >= 100x the naive baseline; `leads list` and
`digest` < 1 s.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MARKWATCH = [sys.executable, "-m", "pipeline.cli"]
PG = os.environ.get("MARKWATCH_BENCH_PG", "postgresql+psycopg://127.0.0.1:5432")


TIME = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)


def run_cmd(args: list[str], env: dict, stdout=subprocess.DEVNULL) -> dict:
    """Run one whole `markwatch` process; its CPU (user+sys), wall seconds and peak RSS (MiB).

    Through GNU time when present: a child forked straight from this (large) process would
    report this process's RSS as its peak; otherwise wait4()'s figures are used."""
    fmt = "MWTIME %e %U %S %M"
    cmd = ([TIME, "-f", fmt] if TIME else []) + MARKWATCH + args
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=str(REPO), env=env, stdout=stdout, stderr=subprocess.PIPE)
    err = p.stderr.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    cpu, rss = ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024
    if TIME:
        line = [x for x in err.splitlines() if x.startswith("MWTIME ")]
        if line:
            _, _, u, s, m = line[-1].split()
            cpu, rss = float(u) + float(s), int(m) / 1024
            err = "\n".join(x for x in err.splitlines() if not x.startswith("MWTIME "))
    if p.returncode != 0:
        raise RuntimeError(f"markwatch {' '.join(args)} failed ({p.returncode}): {err[-800:]}")
    return {"cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "peak_rss_mib": round(rss),
            "stderr_tail": err.strip()[-300:]}


def _env(data_dir: Path, db_url: str | None = None) -> dict:
    env = dict(os.environ)
    env.update(MARKWATCH_DATA_DIR=str(data_dir), MARKWATCH_OCR_ENABLED="false", MARKWATCH_LOGO_ENABLED="false",
               PYTHONPATH=str(REPO))
    env.pop("MARKWATCH_DATABASE_URL", None)
    if db_url:
        env["MARKWATCH_DATABASE_URL"] = db_url
    return env


def _lead_set_file(path: Path) -> set:
    out = set()
    with path.open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            out.add((d["platform"], d["listing_id"], d["target_id"], d["score"]))
    return out


def _lead_set_db(env: dict) -> set:
    from sqlalchemy import create_engine, text

    url = env.get("MARKWATCH_DATABASE_URL") or f"sqlite:///{env['MARKWATCH_DATA_DIR']}/markwatch.db"
    eng = create_engine(url)
    with eng.connect() as c:
        rows = c.execute(text("select l.platform, l.listing_id, d.target_id, d.score from leads d "
                              "join listings l on l.id = d.listing_pk")).all()
    eng.dispose()
    return {tuple(r) for r in rows}


def naive_rate(wl_path: Path, li_path: Path, sample: int = 60) -> float:
    """Listings/s of the naive baseline: partial_ratio of each title against every mark form."""
    from rapidfuzz import fuzz

    from watchlist import load_watchlist

    wl = load_watchlist(wl_path)
    forms = [f for _, m in wl.word_marks() for f in (m.text, *m.aliases) if f]
    titles = []
    with li_path.open(encoding="utf-8") as f:
        for line in f:
            titles.append(json.loads(line)["title"])
            if len(titles) >= sample:
                break
    t0 = time.process_time()
    for t in titles:
        for form in forms:
            fuzz.partial_ratio(t, form)
    return len(titles) / (time.process_time() - t0)


def stored(size: int, marks: int, data: Path, db_url: str | None = None, workers: int = 1,
           pass_workers: int = 0) -> dict:
    """match vs listings import + run --no-crawl on one store; officer commands on it.

    `pass_workers` > 1 (SQLite only): the store as imported is copied (database and cache) before
    the pass, and the same pass is run on the copy with that many forked matcher workers
    (MARKWATCH_MATCH_WORKERS): `run_no_crawl_workers`, with its own same-leads check."""
    from .data import write_dataset

    wl, li = write_dataset(data, marks, size)
    work = Path(tempfile.mkdtemp(prefix=f"mw-bench-{size}-"))
    env = _env(work, db_url)
    try:
        out = work / "leads.jsonl"
        r: dict = {"listings": size, "marks": marks, "db": "postgresql" if db_url else "sqlite", "workers": workers}
        cmd = ["match", "-w", str(wl), "-l", str(li), "-o", str(out), "--workers", str(workers)]
        r["match_cold"] = run_cmd(cmd, env)  # a fresh data directory: compiles and caches the watchlist
        r["match_warm"] = r["match"] = run_cmd(cmd, env)  # as every later day: the compiled cache is read
        r["watchlist_import"] = run_cmd(["watchlist", "import", str(wl)], env)
        r["listings_import"] = run_cmd(["listings", "import", str(li)], env)
        twin = None
        if pass_workers > 1 and not db_url:  # the same store, for the same pass with forked workers
            twin = work / "twin"
            twin.mkdir()
            with sqlite3.connect(work / "markwatch.db") as src, sqlite3.connect(twin / "markwatch.db") as dst:
                src.backup(dst)
            if (work / "cache").is_dir():
                shutil.copytree(work / "cache", twin / "cache")
        r["run_no_crawl"] = run_cmd(["run", "--no-crawl", "-q"], env)
        r["leads_list"] = run_cmd(["leads", "list"], env)
        r["digest"] = run_cmd(["digest", "--output", str(work / "digest")], env)
        want, got = _lead_set_file(out), _lead_set_db(env)
        r["leads"] = len(want)
        r["same_leads"] = want == got
        if twin is not None:
            env2 = {**_env(twin), "MARKWATCH_MATCH_WORKERS": str(pass_workers)}
            r["run_no_crawl_workers"] = {"workers": pass_workers, **run_cmd(["run", "--no-crawl", "-q"], env2)}
            r["run_no_crawl_workers"]["same_leads"] = _lead_set_db(env2) == want
            r["run_no_crawl_workers"]["wall_speedup"] = round(r["run_no_crawl"]["wall_s"] /
                                                              max(r["run_no_crawl_workers"]["wall_s"], 0.01), 2)
        stored_cpu = r["listings_import"]["cpu_s"] + r["run_no_crawl"]["cpu_s"]
        r["stored_over_match_cpu"] = round(stored_cpu / r["match"]["cpu_s"], 2)
        r["match_listings_per_s_cpu"] = round(size / r["match"]["cpu_s"])
        r["match_listings_per_s_wall"] = round(size / r["match"]["wall_s"])
        r["match_cold_listings_per_s_cpu"] = round(size / r["match_cold"]["cpu_s"])
        return r
    finally:
        shutil.rmtree(work, ignore_errors=True)


def match_only(size: int, marks: int, data: Path, workers: int = 1) -> dict:
    from .data import write_dataset

    wl, li = write_dataset(data, marks, size)
    work = Path(tempfile.mkdtemp(prefix="mw-bench-m-"))
    try:
        cmd = ["match", "-w", str(wl), "-l", str(li), "-o", str(work / "o.jsonl"), "--workers", str(workers)]
        # the compiled watchlist cache filled by a 1-listing run first, so the figure is the daily (warm) one
        one = work / "one.jsonl"
        with li.open(encoding="utf-8") as f:
            one.write_text(f.readline(), encoding="utf-8")
        cold = run_cmd(["match", "-w", str(wl), "-l", str(one), "-o", str(work / "one-o.jsonl")], _env(work))
        m = run_cmd(cmd, _env(work))
        return {"listings": size, "marks": marks, "workers": workers, **m, "cache_fill_cpu_s": cold["cpu_s"],
                "listings_per_s_cpu": round(size / m["cpu_s"]), "listings_per_s_wall": round(size / m["wall_s"])}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _pg_scratch():
    """(url, drop) of a scratch PostgreSQL database, or (None, reason)."""
    try:
        import uuid

        import psycopg

        con = psycopg.connect(PG.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True,
                              connect_timeout=3)
    except Exception as e:
        return None, f"PostgreSQL not reachable at {PG}: {type(e).__name__}"
    name = f"mw_bench_{uuid.uuid4().hex[:8]}"
    con.execute(f'CREATE DATABASE "{name}"')

    def drop():
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.close()
    return f"{PG}/{name}", drop


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="bench_store")
    ap.add_argument("--quick", action="store_true", help="10k listings only; no growth curves, no PostgreSQL")
    ap.add_argument("--marks", type=int, default=5000)
    ap.add_argument("--big", type=int, default=100_000, help="listings of the large stored pass")
    ap.add_argument("--max-listings", type=int, default=1_000_000, help="largest stateless match of the curve")
    ap.add_argument("--data", type=Path, default=REPO / "bench" / "out" / "data")
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds (wall) for the whole module: steps that would not fit are listed as not run")
    a = ap.parse_args(argv)
    t_start = time.perf_counter()
    res: dict = {"load_note": f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
                              "(shared machine: CPU seconds are the comparable figure)", "not_run": {}}
    # wall seconds of the 10k runs measured in this run: a whole process is mostly start-up at 10k,
    # and 10x the listings cost ~2-2.5x the wall (docs/scale.md: 10k -> 100k match 9.6 -> 15.9 CPU-s,
    # import + pass 7.6 -> 31.7), so estimates scale the 10k figure by 1 + f * (n / 10k - 1)
    pace = {"stored_10k": None, "match_10k": None}

    def estimate(listings: int, what: str, marks: int = a.marks) -> float:
        base, f = (pace["stored_10k"] or 120.0, 0.15) if what == "stored" else (pace["match_10k"] or 30.0, 0.2)
        data_s = 0.0
        if not (a.data / f"listings-{marks}-{listings}-s7.jsonl").exists():
            data_s = listings * 1.5e-4 + marks * 1e-3  # generating the synthetic data (bench/data.py)
        return data_s + base * (1 + f * (listings / 10_000 - 1)) * (1 + 0.5 * (marks / a.marks - 1) if marks > a.marks else 1)

    def step(name: str, est_s: float, fn, *args, **kw):
        left = a.budget - (time.perf_counter() - t_start) if a.budget else None
        if left is not None and est_s > left:
            why = f"budget: {left:.0f} s left, needs about {est_s:.0f} s"
            res["not_run"][name] = why
            print(f"  {name}: not run ({why})", flush=True)
            return None
        t0 = time.perf_counter()
        print(f"  {name} ...", flush=True)
        try:
            out = fn(*args, **kw)
        except Exception as e:  # one failing part is reported, the rest still measured
            out = {"error": f"{type(e).__name__}: {e}"}
        out_s = time.perf_counter() - t0
        if isinstance(out, dict):
            out["section_wall_s"] = round(out_s, 1)
        print(f"  {name}: {out_s:.0f}s", flush=True)
        return out

    def keep(name: str, out):
        if out is not None:
            res[name] = out
            if name == "stored_10k_sqlite" and "match" in out:
                pace["stored_10k"] = out["section_wall_s"]
                pace["match_10k"] = out["match_cold"]["wall_s"] + out["match_warm"]["wall_s"]

    from .data import write_dataset

    wl5, li10 = write_dataset(a.data, a.marks, 10_000)
    res["naive_listings_per_s"] = round(naive_rate(wl5, li10), 1)
    keep("stored_10k_sqlite", step("stored_10k_sqlite", 0, stored, 10_000, a.marks, a.data))
    if not a.quick:
        keep("stored_100k_sqlite", step("stored_100k_sqlite", estimate(a.big, "stored") * 1.3, stored, a.big, a.marks,
                                        a.data, pass_workers=2))
        url, drop = _pg_scratch()
        if url is None:
            res["stored_10k_postgresql"] = {"error": drop}
        else:
            try:
                keep("stored_10k_postgresql", step("stored_10k_postgresql", pace["stored_10k"] or 120.0, stored, 10_000,
                                                   a.marks, a.data, db_url=url))
            finally:
                drop()
        # the 1-worker match at 100k is the stored pass's own (same command, same data)
        big = res.get("stored_100k_sqlite") or {}
        if "match" in big:
            m = big["match_warm"]
            res["match_100k_1_worker"] = {"listings": a.big, "marks": a.marks, "workers": 1, **m,
                                          "listings_per_s_cpu": round(a.big / m["cpu_s"]),
                                          "listings_per_s_wall": round(a.big / m["wall_s"]),
                                          "note": "the warm `match` of stored_100k_sqlite"}
        else:
            keep("match_100k_1_worker", step("match_100k_1_worker", estimate(a.big, "match"), match_only, a.big, a.marks,
                                             a.data, 1))
        keep("match_100k_2_workers", step("match_100k_2_workers", estimate(a.big, "match"), match_only, a.big, a.marks,
                                          a.data, 2))
        res["growth_marks"] = []
        for n in (500, 5000, 20000):
            if n == a.marks and "match" in res.get("stored_10k_sqlite", {}):
                m = res["stored_10k_sqlite"]["match_warm"]
                res["growth_marks"].append({"listings": 10_000, "marks": n, "workers": 1, **m,
                                            "listings_per_s_cpu": round(10_000 / m["cpu_s"]),
                                            "listings_per_s_wall": round(10_000 / m["wall_s"])})
                continue
            g = step(f"growth_marks_{n}", estimate(10_000, "match", n), match_only, 10_000, n, a.data)
            if g is not None:
                res["growth_marks"].append(g)
            else:
                res["growth_marks"].append({"listings": 10_000, "marks": n, "error": res["not_run"][f"growth_marks_{n}"]})
        res["growth_listings"] = []
        for n in (10_000, 100_000, a.max_listings):
            if n == 10_000 and res["growth_marks"][1:2] and "cpu_s" in res["growth_marks"][1]:
                res["growth_listings"].append(res["growth_marks"][1])
                continue
            if n == a.big and "match_100k_1_worker" in res and "cpu_s" in res["match_100k_1_worker"]:
                res["growth_listings"].append(res["match_100k_1_worker"])
                continue
            g = step(f"growth_listings_{n}", estimate(n, "match"), match_only, n, a.marks, a.data)
            if g is not None:
                res["growth_listings"].append(g)
            else:
                res["growth_listings"].append({"listings": n, "marks": a.marks,
                                               "error": res["not_run"][f"growth_listings_{n}"]})
    big = res.get("stored_100k_sqlite") or res.get("stored_10k_sqlite") or {}
    if "match" in big:
        rate = big["match_listings_per_s_cpu"]
        res["targets"] = {
            "stored_within_4x_match": big["stored_over_match_cpu"] <= 4 and big["same_leads"],
            "match_10k_per_s": rate >= 10_000,
            "match_100x_naive": rate / res["naive_listings_per_s"] >= 100,
            "officer_commands_under_1s": max(big["leads_list"]["wall_s"], big["digest"]["wall_s"]) < 1,
            "match_over_naive": round(rate / res["naive_listings_per_s"]),
        }
    res["wall_s"] = round(time.perf_counter() - t_start, 1)
    print(json.dumps(res, ensure_ascii=False, indent=1))
    return res


def markdown(res: dict) -> str:
    """The report.md section for this benchmark."""
    L = ["### Stored pipeline (whole `markwatch` processes; CPU s = user+sys from wait4)", "", res.get("load_note", ""), ""]
    L += ["| run | listings | marks | db | step | CPU s | wall s | peak MiB |", "|---|---|---|---|---|---|---|---|"]
    for name, r in res.items():
        if not name.startswith("stored_") or "match" not in r:
            continue
        for stp in ("match_cold", "match", "watchlist_import", "listings_import", "run_no_crawl", "leads_list", "digest"):
            x = r[stp]
            L.append(f"| {name} | {r['listings']:,} | {r['marks']:,} | {r['db']} | {stp} | {x['cpu_s']} | "
                     f"{x['wall_s']} | {x['peak_rss_mib']} |")
        if "run_no_crawl_workers" in r:
            x = r["run_no_crawl_workers"]
            L.append(f"| {name} | {r['listings']:,} | {r['marks']:,} | {r['db']} | run_no_crawl, {x['workers']} "
                     f"workers (same leads: {x['same_leads']}) | {x['cpu_s']} | {x['wall_s']} | {x['peak_rss_mib']} |")
        L.append(f"| {name} | | | | **import+pass / match (CPU)** | **{r['stored_over_match_cpu']}×** | "
                 f"same leads: {r['same_leads']} ({r['leads']}) | |")
    for name, r in res.items():
        if name.startswith("stored_") and "error" in r:
            L.append(f"\n{name}: not measured: {r['error']}")
    L += ["", f"Naive baseline (partial_ratio × every form, same run): {res.get('naive_listings_per_s')} listings/s.", ""]
    rows = [("1 vs 2 workers", res.get(k)) for k in ("match_100k_1_worker", "match_100k_2_workers")]
    rows += [("marks growth", r) for r in res.get("growth_marks", [])]
    rows += [("listings growth", r) for r in res.get("growth_listings", [])]
    if any(r for _, r in rows):
        L += ["| curve | listings | marks | workers | CPU s | wall s | listings/s (CPU) | listings/s (wall) | peak MiB |",
              "|---|---|---|---|---|---|---|---|---|"]
        for what, r in rows:
            if not r:
                continue
            if "error" in r:
                L.append(f"| {what} | error: {r['error']} |")
                continue
            L.append(f"| {what} | {r['listings']:,} | {r['marks']:,} | {r['workers']} | {r['cpu_s']} | {r['wall_s']} | "
                     f"{r['listings_per_s_cpu']:,} | {r['listings_per_s_wall']:,} | {r['peak_rss_mib']} |")
    if "targets" in res:
        L += ["", "Targets: " + ", ".join(f"{k}: {v}" for k, v in res["targets"].items())]
    for name, why in (res.get("not_run") or {}).items():
        L.append(f"\n**not run**: {name}: {why}")
    L += ["", "`match` is the warm run (the compiled watchlist read from the data directory's cache, as on "
              "every day after the first); `match_cold` the first run in a fresh data directory."]
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main(sys.argv[1:])
