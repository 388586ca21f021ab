"""A referral pack from a pass over the demo sandbox (small), with a local TSA, plus an imported
listing: the 电子数据提取笔录 (record.html) names the registered mark, its holder, the method
(网络在线提取 / 导入), the true time of each artefact, the WARC files and the timestamp tokens, shows
the logo photo with its box, and renders in Chromium (PNG kept for a person to look at)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from crawler.browser import find_chromium
from store import models as m
from store.db import session_scope

from .evidence_servers import LocalTSA

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(find_chromium() is None, reason="needs Debian chromium (scripts/system-deps.sh)"),
              pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl (local TSA)")]


@pytest.fixture
def tsa_pass_settings(settings, monkeypatch, tmp_path):
    from config.settings import get_settings, reset_settings_cache
    from crawler.sandbox import DEMO_WATCHLIST

    monkeypatch.setenv("MARKWATCH_OCR_ENABLED", "0")  # logo matching gives the photo with a box
    monkeypatch.setenv("MARKWATCH_WATCHLIST", str(DEMO_WATCHLIST))
    empty = tmp_path / "sources"
    empty.mkdir()
    monkeypatch.setenv("MARKWATCH_SOURCES_DIR", str(empty))
    with LocalTSA() as tsa:
        monkeypatch.setenv("MARKWATCH_TSA_URL", tsa.url)
        monkeypatch.setenv("MARKWATCH_TSA_CA_FILE", str(tsa.ca_file))
        reset_settings_cache()
        yield get_settings(), tsa
    reset_settings_cache()


def render(html_dir, out_png):
    """record.html -> PNG with Debian Chromium (file:// only; no network)."""
    from playwright.sync_api import sync_playwright

    from crawler.browser import launch_options

    with sync_playwright() as p:
        b = p.chromium.launch(**launch_options(html_dir))
        ctx = b.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        ctx.route("http*://**", lambda route: route.abort())  # the record is self-contained
        page = ctx.new_page()
        page.goto((html_dir / "record.html").as_uri(), wait_until="load")
        broken = page.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
                               ".map(i => i.getAttribute('src'))")
        page.screenshot(path=str(out_png), full_page=True)
        b.close()
    return broken


def test_referral_pack_from_the_demo_is_complete(tsa_pass_settings, db, tmp_path):
    from crawler.evidence import capture_for_run
    from pipeline.cli import app
    from pipeline.passes import run_pass

    from .test_evidence_capture import small_sources

    settings, tsa = tsa_pass_settings
    res = run_pass(settings, db, extra_sources=small_sources())
    assert res.status in ("ok", "partial"), res.error
    assert res.counts.get("evidence_timestamped") == 1, res.counts  # ledger head time-stamped after the pass

    # an imported listing (file with a photo beside it) that became a lead
    folder = tmp_path / "import"
    folder.mkdir()
    from PIL import Image
    Image.new("RGB", (120, 90), (240, 240, 240)).save(folder / "p1.jpg")
    with session_scope(db) as s:
        li = m.Listing(platform="imported-shop", listing_id="IMP-1", title="高仿 茅台 飞天 53度", price=199,
                       url="", images=["p1.jpg"], local_dir=str(folder), seller_name="某店", seller_id="x1")
        s.add(li)
        s.flush()
        s.add(m.Lead(listing_pk=li.id, target_id="tm-moutai", target_kind="word", score=95,
                     reasons=["标题含“茅台”（驰名商标）", "含假冒提示词“高仿”"], status="new"))
        imp_pk = li.id
    capture_for_run(settings, db, None, listing_pks=[imp_pk])

    with session_scope(db) as s:
        logo = s.scalar(select(m.Lead).where(m.Lead.target_kind == "logo").order_by(m.Lead.score.desc()).limit(1))
        word = s.scalar(select(m.Lead).join(m.Listing, m.Listing.id == m.Lead.listing_pk)
                        .where(m.Lead.target_kind == "word", m.Listing.kind == "listing",
                               m.Listing.platform != "imported-shop").order_by(m.Lead.score.desc()).limit(1))
        imp = s.scalar(select(m.Lead).where(m.Lead.listing_pk == imp_pk))
        assert logo is not None and word is not None
        ids = [str(logo.id), str(word.id), str(imp.id)]
        holder = s.get(m.Enterprise, s.get(m.Mark, logo.target_id).enterprise_id).name
        s.get(m.Mark, logo.target_id).registration_number = "第 12345678 号"  # as the holder registered it
    cli = CliRunner()
    r = cli.invoke(app, ["evidence", "verify"])
    assert r.exit_code == 0 and "signature verified" in r.output, r.output
    assert cli.invoke(app, ["leads", "confirm", *ids, "--by", "张三"]).exit_code == 0
    out = tmp_path / "case.zip"
    r = cli.invoke(app, ["leads", "refer", *ids, "--to", "公安", "--by", "张三", "--output", str(out)])
    assert r.exit_code == 0, r.output

    z = zipfile.ZipFile(out)
    names = set(z.namelist())
    assert {"record.html", "manifest.json", "manifest.json.tsr", "tsa-ca.pem", "ledger.json"} <= names
    assert any(n.endswith("capture.warc.gz") for n in names)
    assert any(n.startswith("timestamps/") and n.endswith(".tsr") for n in names)
    assert any(n.startswith("marks/logo-") for n in names)
    assert f"marked/lead{logo.id}.jpg" in names
    html = z.read("record.html").decode("utf-8")
    for text in ("电子数据提取笔录", "注册号", "第 12345678 号", "权利人", holder, "网络在线提取", "导入", "capture.warc.gz",
                 "可信时间戳", "取证访问时（与截图同一次访问）", "抓取时", "匹配依据所在图片", "服务器", "IP 127.0.0.1"):
        assert text in html, text
    d = tmp_path / "pack"
    z.extractall(d)
    # the pack's own token and the ledger-head token verify with openssl alone
    ok = subprocess.run(["openssl", "ts", "-verify", "-data", str(d / "manifest.json"), "-in",
                         str(d / "manifest.json.tsr"), "-CAfile", str(d / "tsa-ca.pem")], capture_output=True, text=True)
    assert "Verification: OK" in ok.stdout, ok.stdout + ok.stderr
    tok = next(p for p in (d / "timestamps").glob("*.tsr"))
    ok = subprocess.run(["openssl", "ts", "-verify", "-data", str(tok.with_suffix(".txt")), "-in", str(tok),
                         "-CAfile", str(d / "tsa-ca.pem")], capture_output=True, text=True)
    assert "Verification: OK" in ok.stdout, ok.stdout + ok.stderr

    png = tmp_path / "record.png"
    broken = render(d, png)
    assert broken == [], f"images in record.html that do not load: {broken}"
    assert png.stat().st_size > 50_000
    keep = os.environ.get("MARKWATCH_RECORD_PNG")
    if keep:  # for a person to look at: MARKWATCH_RECORD_PNG=/tmp/record.png pytest ...
        shutil.copyfile(png, keep)
        shutil.copyfile(d / "record.html", keep + ".html")
    man = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    assert man["lead_ids"] == [int(i) for i in ids]
