"""End-to-end: the console in Debian chromium (Playwright) against uvicorn on a free port.

Officer: logs in, triages with the keyboard (j/k/c/d/r/u), opens a lead's evidence, sees the
dashboard, is refused /admin; a POST without the CSRF token is refused. Holder: registers a word
mark and a logo and sees only their own marks' leads. No page may trip the CSP (no inline script).

Screenshots of the queue, a lead detail, the dashboard and the holder's registration page are
written to ``<data dir>/screenshots/`` (and to $MARKWATCH_SCREENSHOTS_DIR when set).
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM as _FOUND

CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else _FOUND
from tests.test_web_console import HOLDER_A, PASSWORDS, copy_world, world_template  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def console(world_template, tmp_path_factory):
    import uvicorn

    from config.settings import Settings
    from store.db import make_engine
    from web.app import create_app

    data = copy_world(world_template, tmp_path_factory.mktemp("web-e2e") / "var")
    st = Settings(data_dir=data, ocr_enabled=False)
    eng = make_engine(settings=st)
    app = create_app(st, eng)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    started = threading.Event()
    while not started.wait(0.05):
        if server.started or not th.is_alive():
            break
    assert server.started, "uvicorn did not start"
    yield {"url": f"http://127.0.0.1:{port}", "data": data, "app": app}
    server.should_exit = True
    th.join(10)
    eng.dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield b
        b.close()


def shot(page, console, name: str) -> Path:
    out = console["data"] / "screenshots"
    out.mkdir(exist_ok=True)
    p = out / f"{name}.png"
    page.screenshot(path=str(p), full_page=not name.startswith("queue"))
    extra = os.environ.get("MARKWATCH_SCREENSHOTS_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(p, Path(extra) / p.name)
    return p


def login(browser, console, user: str):
    ctx = browser.new_context(viewport={"width": 1500, "height": 950}, locale="zh-CN")
    page = ctx.new_page()
    page.csp_errors = []
    page.on("console", lambda m: page.csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(console["url"] + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORDS[user])
    page.click("button.primary")
    page.wait_for_load_state("networkidle")
    return ctx, page


def badge(page, row: int) -> str:
    return page.locator("tr.lead").nth(row).locator(".status .badge").inner_text()


def test_officer_keyboard_triage_evidence_dashboard(browser, console):
    from playwright.sync_api import expect

    ctx, page = login(browser, console, "officer")
    page.goto(console["url"] + "/queue")
    expect(page.locator("#count")).to_contain_text("共")
    expect(page.locator("tr.lead mark").first).to_be_visible()  # matched part highlighted
    shot(page, console, "queue")
    ids = [page.locator("tr.lead").nth(i).get_attribute("data-id") for i in range(3)]

    page.keyboard.press("j")
    expect(page.locator("tr.lead.sel")).to_have_attribute("data-id", ids[0])
    page.keyboard.press("c")  # confirm, moves on
    expect(page.locator("tr.lead").nth(0).locator(".status .badge")).to_have_text("已确认")
    expect(page.locator("tr.lead.sel")).to_have_attribute("data-id", ids[1])
    page.keyboard.press("d")  # dismiss: reason picker
    expect(page.locator("#dismiss-dialog")).to_be_visible()
    page.keyboard.press("1")
    expect(page.locator("tr.lead").nth(1).locator(".status .badge")).to_have_text("已排除")
    page.keyboard.press("u")  # undo the dismissal
    expect(page.locator("tr.lead").nth(1).locator(".status .badge")).to_have_text("新线索")
    page.keyboard.press("k")
    page.keyboard.press("k")
    expect(page.locator("tr.lead.sel")).to_have_attribute("data-id", ids[0])
    page.keyboard.press("r")  # refer the confirmed lead to the police
    expect(page.locator("#refer-dialog")).to_be_visible()
    page.keyboard.press("1")
    expect(page.locator("tr.lead").nth(0).locator(".status .badge")).to_have_text("已移送")
    shot(page, console, "queue-triaged")

    api = page.request.get(console["url"] + f"/api/leads/{ids[0]}").json()
    assert api["status"] == "referred"
    assert page.request.get(console["url"] + f"/api/leads/{ids[1]}").json()["status"] == "new"

    # the lead with fixed evidence: screenshot, sandboxed HTML snapshot, hashes, history
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from store.models import EvidenceRecord, Lead
    with Session(console["app"].state.engine) as s:
        rec = s.scalar(select(EvidenceRecord).where(EvidenceRecord.kind == "html"))
        lead_id = s.scalar(select(Lead.id).where(Lead.listing_pk == rec.listing_pk))
    page.goto(console["url"] + f"/leads/{lead_id}")
    expect(page.locator("iframe.snapshot")).to_have_attribute("sandbox", "")
    frame = page.frame_locator("iframe.snapshot")
    expect(frame.locator("h1")).to_be_visible()
    expect(page.locator("img.shot")).to_be_visible()
    expect(page.get_by_text("账本链校验一致")).to_be_visible()
    page.wait_for_selector("#history-chart canvas")
    shot(page, console, "lead-detail")

    logo_lead = page.request.get(console["url"] + "/api/leads?kind=logo&status=all&per_page=1").json()["items"][0]["id"]
    page.goto(console["url"] + f"/leads/{logo_lead}")
    expect(page.locator(".photos img").first).to_be_visible()
    shot(page, console, "lead-detail-logo")

    page.goto(console["url"] + "/dashboard")
    page.wait_for_selector("#c-per_day canvas")
    page.wait_for_selector("#c-confirmation canvas")
    shot(page, console, "dashboard")

    resp = page.goto(console["url"] + "/admin")
    assert resp.status == 403
    expect(page.get_by_text("无权访问")).to_be_visible()

    r = page.request.post(console["url"] + f"/api/leads/{ids[2]}/confirm")  # cookies, but no token
    assert r.status == 403
    assert page.request.get(console["url"] + f"/api/leads/{ids[2]}").json()["status"] != "confirmed"
    assert page.csp_errors == []
    ctx.close()


def test_holder_registers_word_mark_and_logo_and_sees_only_theirs(browser, console):
    from playwright.sync_api import expect

    from tests.conftest import DEVSET

    ctx, page = login(browser, console, "holder-a")
    assert page.url.endswith("/marks")
    page.fill("#add-word input[name=text]", "飞人乔丹")
    page.fill("#add-word input[name=aliases]", "AIR JORDAN, 乔丹")
    page.fill("#add-word input[name=classes]", "25")
    page.fill("#add-word input[name=reference_price]", "1299")
    page.click("#add-word button.primary")
    page.wait_for_load_state("networkidle")
    expect(page.locator("table.marks").get_by_text("飞人乔丹")).to_be_visible()

    logo = sorted((DEVSET / "logos").glob("*.png"))[0]
    page.set_input_files("#logo-file", str(logo))
    expect(page.locator("#logo-preview")).to_be_visible()  # previewed before upload
    page.fill("#add-logo input[name=classes]", "25,18")
    page.click("#add-logo button.primary")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("可用").first).to_be_visible()  # the registration check's verdict
    expect(page.locator("table.marks img.logo").first).to_be_visible()
    shot(page, console, "holder-registration")

    page.goto(console["url"] + "/queue?status=all")
    rows = page.locator("tr.lead")
    assert rows.count() > 0
    holders = set(page.locator("td.mark small").all_inner_texts())
    assert all("耐克" in h or "NIKE" in h.upper() for h in holders), holders
    assert page.locator("input.pick").count() == 0  # holders cannot triage
    assert page.goto(console["url"] + "/dashboard").status == 403
    assert page.csp_errors == []
    ctx.close()
