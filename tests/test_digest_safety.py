"""Issue 16 item 9: the digest shows leads first with their status, collapses a long key-market
list, and links only http(s) URLs."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.test_alerts_support import listing, no_browser_screenshots, seed  # noqa: F401

FAKE = "复刻 贵州茅台 飞天53度 酱香型白酒 500ml"


def test_digest_leads_first_with_status_markets_collapsed_no_script_links(tmp_path, settings):
    from openpyxl import load_workbook
    from sqlalchemy import select

    from alerts.digest import build_digest, render_html, save_digest
    from store.db import make_engine, session_scope
    from store.models import KeyMarket, Lead, Listing, utcnow

    rows = [listing("m1", FAKE, seller_id="s1"), listing("m2", "高仿 贵州茅台 飞天 A货", seller_id="s2"),
            listing("m3", "=HYPERLINK(\"http://evil.test\",\"茅台 高仿\") 贵州茅台 飞天 复刻", seller_id="s3")]
    seed(tmp_path, rows)
    eng = make_engine(settings=settings)
    with session_scope(eng) as s:
        (li1, li2, li3) = s.scalars(select(Listing).order_by(Listing.listing_id)).all()
        li1.url = "javascript:alert(document.cookie)"
        li2.url = "data:text/html,<script>alert(1)</script>"
        lead2 = s.scalars(select(Lead).where(Lead.listing_pk == li2.id)).one()
        lead2.status = "dismissed"
        for i in range(144):
            s.add(KeyMarket(scope="shop", platform="demo-mall", shop_id=f"shop{i}", shop_name=f"店铺{i}",
                            entered_at=utcnow(), enter_reason="7 天内 3 条线索"))
    d = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    with session_scope(eng) as s:
        dg = build_digest(s, d)
    html = render_html(dg)
    # leads first: the leads table comes before any key-market text, which is collapsed
    assert html.index("#" + str(dg.rows[0]["lead_id"])) < html.index("重点关注市场")
    assert re.search(r"<details><summary>今日新列入重点关注市场 144 个</summary>", html)
    assert html.count("<li>") == 144  # all still there, inside <details>
    # status shown for every lead, dismissed ones named as such
    assert "已排除" in html or "dismissed" in html
    assert all(r["status_label"] for r in dg.rows)
    # only http(s) links
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs)
    assert "javascript:alert" not in "".join(hrefs) and "<script>" not in html
    # the message body: status per lead and one collapsed key-market line
    body = dg.body()
    assert body.count("店铺") <= 3 and "144" in body
    assert len(body.splitlines()) < 25
    # XLSX: seller-controlled text is a string cell, never a formula
    files = save_digest(dg, tmp_path / "out")
    wb = load_workbook(files["xlsx"])
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert any(isinstance(c.value, str) and c.value.startswith("=HYPERLINK") for c in cells)
