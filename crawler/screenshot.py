"""Evidence visits in a subprocess: ``python -m crawler.screenshot JOB.json``.

The job lists pages ``{"url", "dir", "allowed_hosts", "base_url", "wait_for"?}``. Each page gets
one visit in a fresh browser context whose every request goes through the allowed-host rule
(``crawler.browser.guard_context``: fetched by Python, pinned to the checked address, redirects
checked hop by hop). From that one visit it writes into ``dir``:

* ``visit.html`` - the main document exactly as received in this visit (final URL of the chain);
* ``screenshot.jpg`` - full page, taken once the load event fired;
* ``capture.warc.gz`` - WARC 1.1 request/response records of every exchange of the visit
  (page, redirects, images, scripts), with WARC-IP-Address and TLS certificate fingerprints.

A ``RESULT {json}`` line per page reports ``status``: ``ok``, ``blocked`` (the page, or a redirect
of it, goes to a host the rule refuses: nothing is shot, the refused URL is named) or ``error``,
with the visit's start time, the time of the screenshot and the refused requests.
"""
from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timezone
from pathlib import Path


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _session_options(source: dict) -> tuple[dict, list[str]]:
    """Browser-context options that carry a source's session (crawler.session.Reach): its storage
    state, cookies (for the source's base URL) and extra headers. Returns (options, notes). The
    visit's requests are fetched by Python pinned to the checked address (crawler.browser), so a
    source's proxy is not used for evidence visits: that is said in the notes, never silently."""
    from urllib.parse import urlsplit

    from .session import resolve_reach, source_base

    reach = resolve_reach(source, source_base(source))
    opts: dict = {}
    state: dict = {"cookies": [], "origins": []}
    if reach.storage_state:
        state = json.loads(Path(reach.storage_state).read_text(encoding="utf-8"))
        state.setdefault("cookies", [])
        state.setdefault("origins", [])
    host = urlsplit(source.get("base_url") or "").hostname
    have = {c.get("name") for c in state["cookies"] if isinstance(c, dict)}
    for name, value in reach.cookies.items():
        if host and name not in have:
            state["cookies"].append({"name": name, "value": value, "domain": host, "path": "/", "expires": -1,
                                     "httpOnly": False, "secure": False, "sameSite": "Lax"})
    if state["cookies"] or state["origins"]:
        opts["storage_state"] = state
    if reach.headers:
        opts["extra_http_headers"] = dict(reach.headers)
    notes = ["the source's proxy is not used by evidence visits (fetched directly, pinned to the checked "
             "address)"] if reach.proxy else []
    return opts, notes


async def _run(job: dict) -> None:
    from playwright.async_api import async_playwright

    from .browser import goto_guarded, guard_context, launch_options
    from .hosts import HostRule
    from .warc import WarcLog

    opts = launch_options(Path(job["data_dir"]))
    timeout = float(job.get("timeout", 20))
    async with async_playwright() as p:
        browser = await p.chromium.launch(**opts)
        queue: asyncio.Queue = asyncio.Queue()
        for t in job["pages"]:
            queue.put_nowait(t)

        async def visit(t: dict) -> dict:
            d = Path(t["dir"])
            d.mkdir(parents=True, exist_ok=True)
            rule = HostRule(t.get("allowed_hosts") or [], t.get("base_url"))
            res: dict = {"url": t["url"], "dir": str(d), "visit_started": _now(), "ok": False}
            opts, notes = {}, []
            if t.get("source"):  # log in as the crawl did: the source's cookies, headers, storage state
                try:
                    opts, notes = _session_options(t["source"])
                except Exception as e:  # crawler.session.SessionError names field and variable/file
                    res.update(status="error", error=f"source session not usable: {e}")
                    return res
            ctx = await browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN",
                                            service_workers="block", accept_downloads=False, **opts)
            if notes:
                res["notes"] = notes
            warc = WarcLog(d / "capture.warc.gz")
            try:
                g = await guard_context(ctx, rule, timeout)
                page = await ctx.new_page()
                resp, err = None, None
                for attempt in range(3):  # a 429/503 with Retry-After: wait as asked, then again
                    resp, err = await goto_guarded(page, g, t["url"], timeout)
                    if resp is None or resp.status not in (429, 503) or attempt == 2:
                        break
                    try:
                        wait = min(float(resp.headers.get("retry-after", "2")), 10.0)
                    except ValueError:
                        wait = 2.0
                    await asyncio.sleep(wait)
                if not g.main_frame_refused() and err is None and t.get("wait_for"):
                    try:
                        await page.wait_for_selector(t["wait_for"], state="attached", timeout=int(timeout * 1000))
                    except Exception as e:
                        err = f"{type(e).__name__}: {e}"[:300]
                final = page.url
                res["final_url"] = final
                res["refused"] = g.refused
                res["failed"] = g.failed
                res["exchanges"] = [ex.summary() for ex in g.exchanges]
                res["redirects"] = g.redirects
                refused_main = g.main_frame_refused()
                why_final = rule.check(final) if final and not final.startswith("about:") else None
                if refused_main or why_final:
                    res["status"] = "blocked"
                    res["error"] = ("the page went to a host outside the source's allowed hosts: "
                                    + (refused_main[0]["url"] if refused_main else final))
                elif err is not None:
                    res["status"], res["error"] = "error", err
                elif resp is not None and resp.status >= 400:
                    res["status"], res["error"] = "error", f"HTTP {resp.status} when the screenshot was taken"
                else:
                    shot = d / "screenshot.jpg"
                    await page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=88)
                    res["shot_at"] = _now()
                    res["screenshot"] = shot.name
                    res["status"], res["ok"] = "ok", True
                    doc = next((ex for ex in reversed(g.exchanges) if ex.url == final), None)
                    if doc is not None:
                        (d / "visit.html").write_bytes(doc.body)
                        res["visit_html"] = "visit.html"
                        res["visit_html_fetched_at"] = doc.started.isoformat()
                warc.exchanges = g.exchanges
                warc.refused = [{"url": r["url"], "reason": r["reason"]} for r in g.refused]
                if g.exchanges or g.refused:
                    warc.write({"operator-note": "evidence visit for " + t["url"], "isPartOf": d.name})
                    res["warc"] = warc.path.name
                res["visit_ended"] = _now()
            finally:
                await ctx.close()
            return res

        async def worker() -> None:
            while True:
                try:
                    t = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                try:
                    res = await visit(t)
                except Exception as e:  # one page never stops the others
                    res = {"url": t["url"], "dir": t["dir"], "ok": False, "status": "error",
                           "error": f"{type(e).__name__}: {e}"[:300]}
                print("RESULT " + json.dumps(res, ensure_ascii=False), flush=True)

        await asyncio.gather(*(worker() for _ in range(int(job.get("concurrency", 2)))))
        await browser.close()


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    asyncio.run(_run(job))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
