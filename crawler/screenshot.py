"""Full-page screenshots in a subprocess: ``python -m crawler.screenshot JOB.json``.

The job lists ``{"url", "out"}`` pairs; a few tabs (``concurrency``) each load page after page in
Chromium (Playwright), wait for the load event (and an optional selector), and save a full-page
JPEG. A ``RESULT {json}`` line per page reports ok or the error. Tabs are always closed.
"""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path


async def _run(job: dict) -> None:
    from playwright.async_api import async_playwright

    from .browser import launch_options

    opts = launch_options(Path(job["data_dir"]))
    timeout = int(float(job.get("timeout", 20)) * 1000)
    async with async_playwright() as p:
        browser = await p.chromium.launch(**opts)
        ctx = await browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")

        queue: asyncio.Queue = asyncio.Queue()
        for t in job["pages"]:
            queue.put_nowait(t)

        async def shoot(page, t: dict) -> dict:
            for attempt in range(3):  # a 429/503 with Retry-After: wait as asked, then again
                resp = await page.goto(t["url"], wait_until="load", timeout=timeout)
                if resp is None or resp.status not in (429, 503) or attempt == 2:
                    break
                try:
                    wait = min(float(resp.headers.get("retry-after", "2")), 10.0)
                except ValueError:
                    wait = 2.0
                await asyncio.sleep(wait)
            if t.get("wait_for"):
                await page.wait_for_selector(t["wait_for"], state="attached", timeout=timeout)
            if resp is not None and resp.status >= 400:
                raise RuntimeError(f"HTTP {resp.status} when the screenshot was taken")
            out = Path(t["out"])
            out.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(out), full_page=True, type="jpeg", quality=88)
            return {"url": t["url"], "ok": True, "status": resp.status if resp else None}

        async def worker() -> None:
            """One tab that visits page after page (a fresh tab after any error); always closed."""
            page = None
            try:
                while True:
                    try:
                        t = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    if page is None:
                        page = await ctx.new_page()
                    try:
                        res = await shoot(page, t)
                    except Exception as e:  # one page never stops the others
                        res = {"url": t["url"], "ok": False, "error": f"{type(e).__name__}: {e}"[:300]}
                        await page.close()
                        page = None
                    print("RESULT " + json.dumps(res, ensure_ascii=False), flush=True)
            finally:
                if page is not None:
                    await page.close()

        await asyncio.gather(*(worker() for _ in range(int(job.get("concurrency", 4)))))
        await ctx.close()
        await browser.close()


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    asyncio.run(_run(job))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
