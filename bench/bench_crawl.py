"""Crawl throughput against the sandbox: our pipeline beside bare Scrapy on the same pages.

    python -m bench crawl
    python -m bench.bench_crawl --listings 3000 --rooms 60 --concurrency 16

1. **pipeline**: the sandbox-mall source (politeness off: no delay, no AutoThrottle, Retry-After
   not waited for, 16 per host - still enforced)
   crawled by ``crawler.runner.crawl`` exactly as a pass does: search the demo watchlist's terms,
   paginate, parse detail pages, fetch and validate images (stored once by SHA-256), write
   listings in committed batches, keep raw HTML. Reported as detail pages stored per second.
2. **re-crawl**: the same again at the next epoch (conditional requests, 304s, price history).
3. **bare Scrapy**: a spider with the same Scrapy settings fetching the same detail pages with no
   processing (no parsing, no images, no store) - the ceiling our pipeline's overhead is measured
   against.
4. **live rooms**: the sandbox-live source rendered in Chromium (scrapy-playwright), waiting for
   the JavaScript-loaded product cards and taking a full-page screenshot of every room.

The sandbox runs in this process (one thread per connection); generated product photos are cached
under ``~/.cache/markwatch-sandbox`` so only the first run pays for drawing them (warm-up below).
Targets (2 cores): >= 100 detail pages/s stored, >= 5 live rooms/s rendered.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _settings(data: Path):
    from config.settings import Settings
    from store.db import make_engine, upgrade

    empty = data / "no-sources"
    empty.mkdir(parents=True, exist_ok=True)
    st = Settings(data_dir=data, sources_dir=empty)
    st.ensure_dirs()
    os.environ["MARKWATCH_DATA_DIR"] = str(data)
    from config.settings import reset_settings_cache
    reset_settings_cache()
    upgrade(st.db_url)
    return st, make_engine(settings=st)


def warm_images(sb, workers: int = 2) -> float:
    """Draw every product photo the catalogue uses once (cached on disk for later runs)."""
    from concurrent.futures import ProcessPoolExecutor

    names = sorted({n for p in sb.catalog.products.values() for n in p.images} |
                   {n for r in sb.catalog.rooms for p in r.products for n in p.images})
    todo = [n for n in names if not (sb.images.dir / f"{n}.jpg").exists()]
    t0 = time.perf_counter()
    if todo:
        with ProcessPoolExecutor(workers) as ex:
            list(ex.map(_draw, [(str(sb.images.dir), n) for n in todo], chunksize=32))
    return time.perf_counter() - t0


def _draw(arg) -> None:
    from crawler.sandbox.images import ImageCache

    d, name = arg
    ImageCache(d).get(name)


def bare_worker(job_path: str) -> None:
    """Bare Scrapy: same settings, same detail URLs, no processing."""
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    import scrapy
    from scrapy.crawler import Crawler, CrawlerProcess
    from scrapy.settings import Settings as ScrapySettings

    from crawler.settings import scrapy_settings

    job = json.loads(Path(job_path).read_text())
    got = {"n": 0}

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            for u in job["urls"]:
                yield scrapy.Request(u, callback=self.parse, dont_filter=True)

        def parse(self, response):
            got["n"] += 1

    st = scrapy_settings(job["source"], Path(job["data_dir"]))
    st["ITEM_PIPELINES"] = {}
    proc = CrawlerProcess({"LOG_LEVEL": "WARNING"}, install_root_handler=False)
    proc.crawl(Crawler(Bare, ScrapySettings(st)))
    t0 = time.perf_counter()
    proc.start()
    print(json.dumps({"pages": got["n"], "seconds": time.perf_counter() - t0}))


def run(listings: int, rooms: int, concurrency: int, out=print) -> dict:
    from crawler.runner import crawl
    from crawler.sandbox import SandboxServer
    from crawler.sources import parse_source
    from crawler.testing import import_demo_watchlist, live_source, mall_source

    res: dict = {}
    with tempfile.TemporaryDirectory(prefix="mw-bench-crawl-") as tmp:
        data = Path(tmp) / "var"
        st, eng = _settings(data)
        import_demo_watchlist(eng)
        state = data / "sandbox-state.json"
        with SandboxServer(seed=7, n_listings=listings, n_rooms=rooms, state_file=state, slow_seconds=0.5,
                           cart_delay=0.05) as sb:
            w = warm_images(sb)
            out(f"sandbox: {listings} listings, {rooms} live rooms on {sb.base_url} (image warm-up {w:.1f}s)")
            # politeness off for our own sandbox: no delay, no AutoThrottle, Retry-After not waited for
            src = mall_source(sb.base_url, name="bench-mall", concurrency=concurrency,
                              total_concurrency=concurrency * 2, delay=0.0, autothrottle=False, max_retry_after=0.0)
            t0 = time.perf_counter()
            c = crawl(st, run_id=None, only=["bench-mall"], extra_sources=[src], engine=eng)
            wall = time.perf_counter() - t0
            per = c["sources"]["bench-mall"]
            stored = c["new"] + c["changed"]
            cpu = c.get("process_cpu_seconds") or 0.0
            inproc = c.get("process_seconds") or wall
            res["pipeline"] = {"crawl_seconds": inproc, "crawl_rate": stored / inproc, "stored": stored, "pages": c["pages"], "images": c["images_stored"], "seconds": wall,
                               "rate": stored / wall, "cpu_seconds": cpu,
                               "cpu_ms_per_page": 1000 * cpu / max(stored, 1)}
            out(f"pipeline:  {stored} detail pages stored ({c['pages']} pages incl. search/shop, "
                f"{c['images_stored']} images) in {wall:.1f}s = {stored / wall:.0f} detail pages/s "
                f"stored ({stored / inproc:.0f}/s over the crawl itself, {inproc:.1f}s, without Python start-up); "
                f"{c['pages'] / wall:.0f} pages/s; crawl process CPU {cpu:.1f}s = "
                f"{1000 * cpu / max(stored, 1):.1f} ms per stored page (ceiling {stored / max(cpu, 1e-9):.0f}/s on one core)")
            port = sb.port
            with __import__("sqlite3").connect(str(data / "markwatch.db")) as con:
                urls = [u.replace(f":{port}/", f":{port}/") for (u,) in con.execute(
                    "SELECT url FROM crawl_pages WHERE source='bench-mall'")]
        with SandboxServer(seed=7, n_listings=listings, n_rooms=rooms, state_file=state, port=port,
                           slow_seconds=0.5, cart_delay=0.05) as sb:
            t0 = time.perf_counter()
            c2 = crawl(st, run_id=None, only=["bench-mall"], extra_sources=[src], engine=eng)
            wall2 = time.perf_counter() - t0
            res["recrawl"] = {"seconds": wall2, "unchanged": c2["unchanged"], "changed": c2["changed"],
                              "removed": c2["removed"]}
            out(f"re-crawl:  {c2['unchanged']} unchanged (304 or same content), {c2['changed']} changed, "
                f"{c2['removed']} removed in {wall2:.1f}s = {(c2['unchanged'] + c2['changed']) / wall2:.0f} detail pages/s")
            job = {"urls": urls, "data_dir": str(data),
                   "source": parse_source(src, "bench").resolved()}
            jp = Path(tmp) / "bare.json"
            jp.write_text(json.dumps(job))
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "bench.bench_crawl", "--bare-worker", str(jp)], cwd=str(ROOT),
                               capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            wall3 = time.perf_counter() - t0
            try:
                b = json.loads(r.stdout.strip().splitlines()[-1])
            except (IndexError, ValueError):
                raise RuntimeError(f"bare Scrapy worker failed: {r.stderr[-800:]}") from None
            res["bare"] = {"pages": b["pages"], "seconds": b["seconds"], "rate": b["pages"] / b["seconds"],
                           "wall": wall3}
            out(f"bare:      {b['pages']} detail pages fetched, no processing, in {b['seconds']:.1f}s = "
                f"{b['pages'] / b['seconds']:.0f} pages/s (same settings; {wall3:.1f}s with process start)")
            lsrc = live_source(sb.base_url, name="bench-live", concurrency=8, total_concurrency=16)
            t0 = time.perf_counter()
            c3 = crawl(st, run_id=None, only=["bench-live"], extra_sources=[lsrc], engine=eng)
            wall4 = time.perf_counter() - t0
            n = c3["live_rooms"]
            inproc = c3.get("process_seconds") or wall4
            res["live"] = {"rooms": n, "offline": c3["live_offline"], "products": c3["new"] + c3["changed"],
                           "seconds": wall4, "rate": n / wall4, "crawl_seconds": inproc, "crawl_rate": n / inproc}
            out(f"live:      {n} rooms rendered in Chromium ({c3['live_offline']} offline, "
                f"{c3['new'] + c3['changed']} product cards, a full-page screenshot each) in {wall4:.1f}s = "
                f"{n / wall4:.1f} rooms/s incl. Python and browser start; {n / inproc:.1f} rooms/s over the crawl "
                f"({inproc:.1f}s)")
    try:
        load = os.getloadavg()[0]
        out(f"load average during the run: {load:.1f} on {os.cpu_count()} cores"
            + (" - other work competes for the CPU, rates above are lower than on an idle machine" if load > (os.cpu_count() or 1) else ""))
    except OSError:
        pass
    ok1, ok2 = res["pipeline"]["crawl_rate"] >= 100, res["live"]["crawl_rate"] >= 5
    out(f"targets (over the crawl): >= 100 detail pages/s stored: {'met' if ok1 else 'NOT met'} "
        f"({res['pipeline']['crawl_rate']:.0f}); >= 5 live rooms/s: {'met' if ok2 else 'NOT met'} "
        f"({res['live']['crawl_rate']:.1f}); "
        f"pipeline at {100 * res['pipeline']['rate'] / max(res['bare']['rate'], 1e-9):.0f}% of bare Scrapy")
    return res


def main(argv: list[str]) -> dict | None:
    if argv[:1] == ["--bare-worker"]:
        bare_worker(argv[1])
        return None
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listings", type=int, default=3000)
    ap.add_argument("--rooms", type=int, default=60)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    res = run(a.listings, a.rooms, a.concurrency)
    if a.json:
        print(json.dumps(res, indent=1))
    return res  # the figures for bench/out/report.json


if __name__ == "__main__":
    main(sys.argv[1:])
