"""Daily digest: HTML and XLSX content (opened and checked), holders' digests, and delivery
through apprise to a local webhook receiver."""
from __future__ import annotations

import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from zoneinfo import ZoneInfo

import pytest

from tests.test_alerts_support import cli, leads, listing, seed, no_browser_screenshots  # noqa: F401

FAKE = "复刻 贵州茅台 飞天53度 酱香型白酒 500ml"


def _today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


@pytest.fixture
def four_leads(tmp_path):
    seed(tmp_path, [listing("m1", FAKE, price=260, sales=300, seller_id="s1"),
                    listing("m2", "贵州茅台 飞天53度 空瓶 收藏 摆件", price=80, seller_id="s2"),
                    listing("v1", "【直播间】捡漏 贵州茅台 飞天 A货 酱香", platform="demo-live", price=199, seller_id="L1"),
                    listing("n1", "顶级版 NIKE Air Jordan 1 篮球鞋", price=220, kind="nike", seller_id="s3")])
    ls = leads()
    assert len(ls) == 4
    return ls


class _Receiver:
    def __init__(self):
        self.got: list[tuple[str, dict]] = []
        self.cond = threading.Condition()
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.cond:
                    outer.got.append((self.path, json.loads(body)))
                    outer.cond.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = _Receiver()
    yield r
    r.close()


def test_digest_html_and_xlsx(four_leads, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "digest"
    r = cli("digest", "--date", _today(), "--output", str(out), "--no-send")
    assert r.exit_code == 0, r.output
    html = (out / f"digest-{_today()}.html").read_text(encoding="utf-8")
    assert "侵权假冒线索日报" in html and "新增线索 4 条" in html
    for h in ("按优先级", "按商标和地理标志", "按平台"):
        assert h in html
    for l in four_leads:
        assert l.listing.title in html
    wb = load_workbook(out / f"digest-{_today()}.xlsx")
    assert wb.sheetnames == ["概览", "按优先级", "按商标和地理标志", "按平台"]
    rows = list(wb["按优先级"].iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "优先级", "匹配分")
    body = rows[1:]
    assert sorted(r[0] for r in body) == sorted(l.id for l in four_leads)
    prios = [r[1] for r in body]
    assert prios == sorted(prios, reverse=True)
    assert body[0][0] == next(l.id for l in four_leads if l.listing.listing_id == "m1")  # high turnover first
    marks = {r[0]: r[2] for r in list(wb["按商标和地理标志"].iter_rows(values_only=True))[1:]}
    assert marks == {"茅台（tm-moutai）": 3, "耐克（tm-nike）": 1}
    plats = {r[0]: r[1] for r in list(wb["按平台"].iter_rows(values_only=True))[1:]}
    assert plats == {"demo-mall": 3, "demo-live": 1}
    # another day has no new leads
    r = cli("digest", "--date", "2020-01-01", "--output", str(out), "--no-send")
    assert "0 new leads" in r.output
    assert "当日无新增线索" in (out / "digest-2020-01-01.html").read_text(encoding="utf-8")


def test_default_location_is_the_data_dir(four_leads, isolated_settings):
    r = cli("digest", "--no-send")
    assert r.exit_code == 0
    files = sorted(p.name for p in (isolated_settings / "digests").rglob("digest-*"))
    assert files == [f"digest-{_today()}.html", f"digest-{_today()}.xlsx"]


def test_holder_digest_has_only_their_marks(four_leads, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "d"
    r = cli("digest", "--holder", "ent-nike", "--output", str(out), "--no-send")
    assert r.exit_code == 0, r.output
    html = (out / f"digest-{_today()}-ent-nike.html").read_text(encoding="utf-8")
    assert "耐克公司" in html and "NIKE Air Jordan" in html and "茅台" not in html
    rows = list(load_workbook(out / f"digest-{_today()}-ent-nike.xlsx")["按优先级"].iter_rows(values_only=True))[1:]
    assert [r[3] for r in rows] == ["耐克"]
    assert cli("digest", "--holder", "ent-nobody", "--no-send").exit_code == 2


def test_digest_is_sent_to_webhook_and_holder(four_leads, receiver, monkeypatch, tmp_path):
    monkeypatch.setenv("MARKWATCH_NOTIFY_URLS", f"json://127.0.0.1:{receiver.port}/ops")
    monkeypatch.setenv("MARKWATCH_HOLDER_NOTIFY_URLS", json.dumps({"ent-nike": f"json://127.0.0.1:{receiver.port}/nike"}))
    r = cli("digest", "--output", str(tmp_path / "d"))
    assert r.exit_code == 0, r.output
    assert r.output.count("sent to 1 URL(s)") == 2
    with receiver.cond:
        receiver.cond.wait_for(lambda: len(receiver.got) == 2, timeout=30)
    got = dict(receiver.got)
    ops, nike = got["/ops"], got["/nike"]
    assert "侵权线索日报" in ops["title"] and "新增 4 条" in ops["title"]
    assert "新增线索 4 条" in ops["message"] and "茅台（tm-moutai） 3" in ops["message"]
    assert "茅台" in ops["message"] and "耐克" in ops["message"]
    assert "新增 1 条" in nike["title"] and "茅台" not in nike["message"] and "耐克" in nike["message"]


def test_failed_delivery_is_reported(four_leads, monkeypatch, tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    monkeypatch.setenv("MARKWATCH_NOTIFY_URLS", f"json://127.0.0.1:{port}/x")
    r = cli("digest", "--output", str(tmp_path / "d"))
    assert r.exit_code == 1 and "failed" in r.output
    assert (tmp_path / "d" / f"digest-{_today()}.html").is_file()  # still saved


def test_english_digest(four_leads, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    monkeypatch.setenv("MARKWATCH_LANGUAGE", "en")
    r = cli("digest", "--output", str(tmp_path / "en"), "--no-send")
    assert r.exit_code == 0
    html = next((tmp_path / "en").glob("*.html")).read_text(encoding="utf-8")
    assert "Infringement leads daily digest" in html and "4 new leads" in html
    assert load_workbook(next((tmp_path / "en").glob("*.xlsx"))).sheetnames == ["Overview", "By priority", "By mark or GI", "By platform"]
