"""Text matcher throughput: 5,000 synthetic registered word marks over 100,000 synthetic listings,
side by side with the naive baseline (rapidfuzz partial_ratio of each title against every mark
form, measured on a sample and reported per listing), with peak memory.

    python -m bench text            # or: make bench BENCH_ARGS=text
    python -m bench.bench_text --marks 5000 --listings 100000 --naive-sample 100

First the whole process as an officer runs it (issue 17): `markwatch match` of 100,000 listings
at 5,000 marks (bench/data.py files), CPU seconds (user+sys) and wall of the process, cold (a
fresh data directory: the watchlist is parsed, compiled and cached) and warm (the compiled
watchlist read back, as on every later day), beside the naive baseline measured in the same run.
Then the matcher alone in this process, and leads per 10k listings as the watchlist grows.

Targets: whole process >= 10,000 listings/s (CPU) and >= 100x the naive baseline (issue 17);
matcher alone >= 20,000 listings/s on one core, peak < 1 GiB (issue 3).
"""
from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

FILLER = ["新款", "包邮", "现货", "爆款", "正品", "限时特惠", "顺丰包邮", "七天无理由", "送礼佳品", "大容量",
          "男女", "夏季", "加厚", "家用", "便携", "官方", "旗舰", "升级版", "经典", "礼盒装", "500g", "2024",
          "Pro", "Max", "Ultra", "128G", "XL", "白色", "黑色", "高端", "进口", "国产", "整箱", "特价"]
CATEGORIES = ["运动户外/运动鞋", "服装/女装", "手机数码/手机", "美妆个护/面霜", "食品饮料/酒类/白酒",
              "食品饮料/饮料", "家用电器/空调", "玩具乐器/积木", "箱包/女包", "食品饮料/咖啡", "医药保健/滋补",
              "家居日用/水杯", "宠物/猫粮", "文具/笔", "珠宝配饰/项链", "食品饮料/调味品", "汽车用品/脚垫"]
CUES = ["高仿", "A货", "复刻", "莆田", "1:1"]


def _vocab(rng: random.Random):
    """Common words and characters from jieba's dictionary (offline, shipped with jieba)."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    words = [w for w, f in jieba.dt.FREQ.items() if f >= 2000 and 2 <= len(w) <= 4]
    chars = sorted({c for w in words for c in w if "\u4e00" <= c <= "\u9fff"})
    return words, chars


def synth_watchlist(n: int, rng: random.Random, chars: list[str]):
    from watchlist.model import Enterprise, Mark, Watchlist

    ents = []
    seen = set()
    while len(ents) < n:
        text = "".join(rng.choice(chars) for _ in range(rng.choice((2, 2, 3, 3, 3, 4))))
        if text in seen:
            continue
        seen.add(text)
        i = len(ents)
        aliases = []
        if rng.random() < 0.5:
            aliases.append("".join(rng.choice("ABCDEFGHIJKLMNOPRSTUVWXYZ") for _ in range(rng.randint(4, 9))))
        classes = sorted(rng.sample(range(1, 46), rng.choice((1, 1, 2, 3))))
        ents.append(Enterprise(id=f"e{i}", name=f"企业{i}", marks=[Mark(
            id=f"tm{i}", kind="word", text=text, aliases=aliases, nice_classes=classes,
            well_known=rng.random() < 0.2, reference_price=rng.choice((None, 99.0, 899.0)))]))
    return Watchlist(enterprises=ents)


def _disguise(text: str, rng: random.Random) -> str:
    from matcher.variants import READINGS

    r = rng.random()
    if r < 0.3:
        return text
    if r < 0.5:
        return " ".join(text)
    if r < 0.8:  # swap one character for another with the same reading
        i = rng.randrange(len(text))
        rs = READINGS.get(text[i])
        if rs:
            same = [c for c, v in _HOMO.items() if v == rs[0] and c != text[i]]
            if same:
                return text[:i] + rng.choice(same) + text[i + 1:]
        return text
    return text + rng.choice(("同款", "平替", "风"))


_HOMO: dict[str, str] = {}


def synth_listings(n: int, rng: random.Random, words: list[str], marks: list[tuple[str, list[str]]],
                   hit_rate: float = 0.05):
    from matcher.listing import Listing

    out = []
    for i in range(n):
        parts = rng.sample(FILLER, 3) + rng.sample(words, rng.randint(2, 5))
        rng.shuffle(parts)
        if rng.random() < hit_rate:
            text, aliases = rng.choice(marks)
            form = aliases[0] if aliases and rng.random() < 0.3 else text
            parts.insert(rng.randrange(len(parts) + 1), _disguise(form, rng) if form == text else form)
            if rng.random() < 0.3:
                parts.insert(0, rng.choice(CUES))
        out.append(Listing(platform="bench", listing_id=f"L{i}", title=" ".join(parts),
                           category=rng.choice(CATEGORIES), price=round(rng.uniform(5, 999), 2)))
    return out


def scaling(sizes: list[int], n_listings: int, seed: int = 7, real: str | None = None) -> list[dict]:
    """Leads per 10k listings as the watchlist grows (issue 11): the SAME listings, which name
    (disguised or not) only the first sizes[0] marks, matched with watchlists of each size whose
    first sizes[0] marks are those; every lead for a later mark is a false lead."""
    from matcher.goods import load_goods_classifier
    from matcher.text import TextMatcher
    from matcher.types import MatchContext, TextSource
    from matcher.variants import READINGS
    from watchlist.model import Watchlist

    rng = random.Random(seed)
    words, chars = _vocab(rng)
    for c in chars:
        if READINGS.get(c):
            _HOMO[c] = READINGS[c][0]
    full = synth_watchlist(max(sizes), rng, chars)
    base = [(m.text, list(m.aliases)) for _, m in full.word_marks()[: sizes[0]]]
    listings = synth_listings(n_listings, rng, words, base)
    if real:  # real marketplace titles (tests/data/real-titles): none names a synthetic mark
        from matcher.listing import Listing, read_listings

        listings = [x for x in read_listings(real) if isinstance(x, Listing)][:n_listings]
        base_ids = set()
    goods = load_goods_classifier()
    ctxs = [MatchContext(x, goods.classes(x.category, x.title), [TextSource("title", x.title)]) for x in listings]
    if not real:
        base_ids = {m.id for _, m in full.word_marks()[: sizes[0]]}
    out = []
    for n in sizes:
        tm = TextMatcher(Watchlist(enterprises=full.enterprises[:n]), goods)
        leads = false = 0
        for ctx in ctxs:
            for m in tm.match(ctx):
                if m.score >= 60:
                    leads += 1
                    false += m.target_id not in base_ids
        r = {"marks": n, "leads": leads, "false": false,
             "leads_per_10k": leads * 10_000 / len(ctxs), "false_per_10k": false * 10_000 / len(ctxs)}
        print(f"  {n:>6} marks: {r['leads_per_10k']:.1f} leads per 10k listings "
              f"({r['false_per_10k']:.1f} for marks that never occur)")
        out.append(r)
    return out


def whole_process(marks: int, listings: int, naive_sample: int, seed: int = 7) -> dict:
    """`markwatch match` as whole processes (cold, then warm) and the naive baseline, one run."""
    import shutil
    import tempfile

    from .bench_store import _env, naive_rate, run_cmd
    from .data import write_dataset

    wl, li = write_dataset(Path(__file__).resolve().parent / "out" / "data", marks, listings, seed)
    work = Path(tempfile.mkdtemp(prefix="mw-bench-text-"))
    try:
        cmd = ["match", "-w", str(wl), "-l", str(li), "-o", str(work / "leads.jsonl")]
        cold = run_cmd(cmd, _env(work))
        warm = run_cmd(cmd, _env(work))
        leads = sum(1 for _ in (work / "leads.jsonl").open(encoding="utf-8"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    naive = naive_rate(wl, li, naive_sample)
    out = {"marks": marks, "listings": listings, "leads": leads, "naive_listings_per_s": round(naive, 1)}
    for name, r in (("cold", cold), ("warm", warm)):
        rate = listings / r["cpu_s"]
        out[name] = {"cpu_s": r["cpu_s"], "wall_s": r["wall_s"], "peak_rss_mib": r["peak_rss_mib"],
                     "listings_per_s_cpu": round(rate), "listings_per_s_wall": round(listings / r["wall_s"]),
                     "speedup_over_naive": round(rate / naive)}
    w = out["warm"]
    out["targets_met"] = w["listings_per_s_cpu"] >= 10_000 and w["speedup_over_naive"] >= 100
    print(f"markwatch match, whole process, {listings:,} listings x {marks:,} marks ({leads} leads):")
    for name in ("cold", "warm"):
        r = out[name]
        print(f"  {name}: {r['cpu_s']} CPU-s ({r['wall_s']} s wall), {r['listings_per_s_cpu']:,} listings/s of CPU, "
              f"{r['speedup_over_naive']}x the naive baseline ({out['naive_listings_per_s']} listings/s, same run)")
    print(f"  {'ok' if out['targets_met'] else 'short'}: target >= 10,000 listings/s and >= 100x naive (warm)")
    return out


def main(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="bench_text")
    ap.add_argument("--marks", type=int, default=5000)
    ap.add_argument("--listings", type=int, default=100_000)
    ap.add_argument("--naive-sample", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scale", default="500,5000,20000", help="watchlist sizes for leads per 10k ('' to skip)")
    ap.add_argument("--scale-listings", type=int, default=20_000)
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds (wall) for the module: the growth curves run only if they fit")
    a = ap.parse_args(argv)
    t_start = time.perf_counter()
    rng = random.Random(a.seed)
    process = whole_process(a.marks, a.listings, max(a.naive_sample, 200), a.seed)

    from rapidfuzz import fuzz

    from matcher.goods import load_goods_classifier
    from matcher.text import TextMatcher
    from matcher.types import MatchContext, TextSource
    from matcher.variants import READINGS

    words, chars = _vocab(rng)
    for c in chars:
        if READINGS.get(c):
            _HOMO[c] = READINGS[c][0]
    wl = synth_watchlist(a.marks, rng, chars)
    marks = [(m.text, list(m.aliases)) for _, m in wl.word_marks()]
    listings = synth_listings(a.listings, rng, words, marks)
    goods = load_goods_classifier()

    gc.collect()
    t0 = time.process_time()
    tm = TextMatcher(wl, goods)
    build_s = time.process_time() - t0
    # Python-heap peak of building the matcher (a second build, traced; tracemalloc is slow)
    tracemalloc.start()
    TextMatcher(wl, goods)
    _, build_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.collect()

    # The 100,000 listings are held in memory for the benchmark (a real batch streams them):
    # freeze them so the cyclic GC does not rescan them over and over during the timed pass.
    gc.collect()
    gc.freeze()
    # warm-up (first jieba use, caches), then the timed pass: goods classes + text matching
    for lst in listings[:200]:
        tm.match(MatchContext(lst, goods.classes(lst.category, lst.title), [TextSource("title", lst.title)]))
    t0 = time.process_time()
    w0 = time.perf_counter()
    matches = leads = 0
    for lst in listings:
        ms = tm.match(MatchContext(lst, goods.classes(lst.category, lst.title), [TextSource("title", lst.title)]))
        matches += len(ms)
        leads += sum(1 for m in ms if m.score >= 60)
    cpu = time.process_time() - t0
    wall = time.perf_counter() - w0
    rate = len(listings) / cpu

    # naive baseline: partial_ratio of each title against every mark form, on a sample
    forms = [f for text, aliases in marks for f in (text, *aliases)]
    sample = listings[: a.naive_sample]
    t0 = time.process_time()
    naive_hits = 0
    for lst in sample:
        title = lst.title
        for f in forms:
            if fuzz.partial_ratio(title, f) >= 90:
                naive_hits += 1
    naive_per = (time.process_time() - t0) / len(sample)
    naive_rate = 1.0 / naive_per

    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"text matcher: {a.marks} marks ({len(forms)} registered forms, {tm.n_keys} automaton keys), "
          f"built in {build_s:.1f}s CPU, build peak {build_peak / 2**20:.0f} MiB (tracemalloc)")
    print(f"  matched {len(listings)} listings in {cpu:.2f}s CPU ({wall:.2f}s wall): "
          f"{rate:,.0f} listings/s on one core; {matches} candidates, {leads} at >= 60")
    print(f"  naive baseline (partial_ratio x {len(forms)} forms, {len(sample)}-listing sample): "
          f"{naive_per * 1000:.1f} ms/listing = {naive_rate:,.1f} listings/s")
    print(f"  speed-up {rate / naive_rate:,.0f}x; peak RSS {peak_rss_mib:.0f} MiB")
    ok = rate >= 20_000 and rate / naive_rate >= 100 and peak_rss_mib < 1024
    print(f"  {'ok' if ok else 'short'}: target >= 20,000 listings/s, >= 100x naive, peak < 1024 MiB")
    growth: dict = {}
    used = time.perf_counter() - t_start
    # the curves cost about as much as the in-process part did (2 x 3 watchlist sizes, 20k listings)
    if a.scale and a.budget and used * 2.2 > a.budget:
        growth["not_run"] = f"budget: {a.budget - used:.0f} s left of {a.budget:.0f}, needs about {used * 1.2:.0f} s"
        print(f"leads per 10k listings as the watchlist grows: not run ({growth['not_run']})")
    elif a.scale:
        gc.unfreeze()
        print(f"leads per 10k listings as the watchlist grows ({a.scale_listings} listings naming the first marks):")
        growth["synthetic"] = scaling([int(x) for x in a.scale.split(",")], a.scale_listings, a.seed)
        real = Path(__file__).resolve().parent.parent / "tests" / "data" / "real-titles" / "listings.jsonl"
        if real.is_file():
            print("... and over the real Taobao titles of tests/data/real-titles (every lead is false):")
            growth["real_titles"] = scaling([int(x) for x in a.scale.split(",")], a.scale_listings, a.seed,
                                            real=str(real))
    return {"whole_process": process, "leads_per_10k_by_watchlist_size": growth, "marks": a.marks, "forms": len(forms), "automaton_keys": tm.n_keys, "build_cpu_s": round(build_s, 2),
            "listings": len(listings), "match_cpu_s": round(cpu, 2), "match_wall_s": round(wall, 2),
            "listings_per_s_one_core": round(rate), "naive_listings_per_s": round(naive_rate, 1),
            "speedup_over_naive": round(rate / naive_rate), "peak_rss_mib": round(peak_rss_mib),
            "leads_at_60": leads, "targets_met": ok}


if __name__ == "__main__":
    main(sys.argv[1:])


def markdown(res: dict) -> str:
    """The report.md section: whole process first (the issue-17 targets), then the matcher alone."""
    p = res.get("whole_process") or {}
    L = [f"### `markwatch match`, whole process: {p.get('listings', 0):,} listings x {p.get('marks', 0):,} marks", "",
         "| run | CPU s | wall s | listings/s (CPU) | x naive | peak MiB |", "|---|---|---|---|---|---|"]
    for name in ("cold", "warm"):
        r = p.get(name)
        if r:
            L.append(f"| {name} | {r['cpu_s']} | {r['wall_s']} | {r['listings_per_s_cpu']:,} | "
                     f"{r['speedup_over_naive']} | {r['peak_rss_mib']} |")
    L += ["", f"Naive baseline (partial_ratio x every form, same run): {p.get('naive_listings_per_s')} listings/s; "
              f"{p.get('leads')} leads. Targets (warm: >= 10,000/s and >= 100x): "
              f"{'met' if p.get('targets_met') else 'not met'}. cold = first run in a fresh data directory "
              "(parses, compiles and caches the watchlist); warm = every later run.", "",
          "### Matcher alone (this process)", "",
          f"{res['listings']:,} listings in {res['match_cpu_s']} CPU-s: {res['listings_per_s_one_core']:,} "
          f"listings/s on one core, {res['speedup_over_naive']}x naive; build {res['build_cpu_s']} CPU-s; "
          f"peak RSS {res['peak_rss_mib']} MiB; {res['leads_at_60']} leads at >= 60.", ""]
    g = res.get("leads_per_10k_by_watchlist_size") or {}
    if "not_run" in g:
        L.append(f"Leads per 10k listings by watchlist size: **not run**: {g['not_run']}")
    for kind, rows in g.items():
        if kind == "not_run":
            continue
        L.append(f"Leads per 10k listings ({kind}): " + ", ".join(
            f"{r['marks']:,} marks {r['leads_per_10k']:.1f} ({r['false_per_10k']:.1f} false)" for r in rows))
    return "\n".join(L) + "\n"
