"""One crawl, in its own process: ``python -m crawler.crawl_process JOB.json``.

The job file (written by ``crawler.runner``) names the run, the data directory, the database, the
search terms and the resolved sources. Every source runs as its own Scrapy crawler (own settings:
politeness, browser) in one Twisted reactor; listings are written through the item pipeline in
small committed batches. Progress lines ``PROGRESS {json}`` go to stdout every few seconds and the
final counts ``COUNTS {json}`` at the end (also written to the job's counts file).
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path


def _counts(recorders: dict) -> dict:
    return {name: dict(r.counts) for name, r in recorders.items()}


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    data_dir = Path(job["data_dir"])
    logging.basicConfig(level=getattr(logging, job.get("log_level", "WARNING")),
                        format="%(asctime)s %(name)s %(levelname)s: %(message)s", stream=sys.stderr)

    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")  # before anything imports it
    from scrapy.crawler import Crawler, CrawlerProcess
    from scrapy.settings import Settings as ScrapySettings

    from config.settings import Settings
    from store.db import make_engine

    from .session import resolve_reach, source_base
    from .settings import scrapy_settings
    from .spiders.live import LiveSpider
    from .spiders.marketplace import MarketplaceSpider
    from .state import ImageStore, Recorder, Writer, load_known

    st = Settings(data_dir=data_dir, database_url=job["db_url"])
    engine = make_engine(job["db_url"], settings=st)
    writer = Writer(engine, batch=int(job.get("batch", 50)), interval=float(job.get("commit_interval", 1.0)))
    images = ImageStore(engine, data_dir)
    proc = CrawlerProcess({"TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
                           "LOG_LEVEL": job.get("log_level", "WARNING"), "REMOTE_CONTROL_ENABLED": False,
                           "TELNETCONSOLE_ENABLED": False}, install_root_handler=False)
    from twisted.internet import task  # after CrawlerProcess installed the asyncio reactor

    recorders: dict[str, Recorder] = {}
    for src in job["sources"]:
        rec = Recorder(writer, job.get("run_id"), src["name"], src["platform"], data_dir)
        recorders[src["name"]] = rec
        known = load_known(engine, src["name"], src["platform"])
        cls = LiveSpider if src["kind"] == "live" else MarketplaceSpider
        try:
            reach = resolve_reach(src, source_base(src))  # secrets from env / mode-600 files, never logged
            crawler = Crawler(cls, ScrapySettings(scrapy_settings(src, data_dir, job.get("log_level", "WARNING"),
                                                                  redis=job.get("redis"))))
            # the shared frontier (crawler.frontier) releases a page's lease only once its listings are committed
            crawler.markwatch_commit_clock = lambda: writer.last_commit
        except Exception as e:  # e.g. no Chromium for a browser source: the other sources still run
            rec.failure("config_error", src.get("file") or src.get("base_url"), f"source not crawled: {e}")
            continue
        proc.crawl(crawler, source=src, terms=job.get("terms", []), known=known, recorder=rec, images=images,
                   reach=reach)

    t0 = time.monotonic()
    parent = os.getppid()

    def progress():
        if os.getppid() != parent:  # the pass that started us is gone: stop, keep what is committed
            logging.getLogger("markwatch.crawler").error("parent process ended; stopping the crawl")
            proc.stop()
        c = _counts(recorders)
        print("PROGRESS " + json.dumps({"elapsed": round(time.monotonic() - t0, 1), "sources": c},
                                       ensure_ascii=False), flush=True)

    def commit_tick():
        try:
            writer.commit()
        except Exception as e:  # pragma: no cover - reported, the next tick retries
            logging.getLogger("markwatch.crawler").error("commit failed: %s", e)

    lc = task.LoopingCall(progress)
    lc.start(float(job.get("progress_every", 2.0)), now=False)
    lc2 = task.LoopingCall(commit_tick)
    lc2.start(1.0, now=False)
    proc.start(stop_after_crawl=True)
    writer.close()
    counts = _counts(recorders)
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    out = {"sources": counts, "elapsed": round(time.monotonic() - t0, 2),
           "cpu_seconds": round(ru.ru_utime + ru.ru_stime, 2)}
    if job.get("counts_file"):
        Path(job["counts_file"]).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    print("COUNTS " + json.dumps(out, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    if os.environ.get("MW_PROFILE"):  # developer aid: MW_PROFILE=/tmp/crawl.prof
        import cProfile

        cProfile.run("main(sys.argv[1:])", os.environ["MW_PROFILE"])
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
