"""Refusals in the console read in the user's language (zh-CN by default): the word-mark form,
the bulk import report, lead actions through the API, and malformed URLs — each case a new-user
review found in English. File/line/field stay in every message.

A small world: one enterprise with one word mark, two listings with a lead each (one in review,
one confirmed), an officer and a holder; built once, copied per test.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest

PASSWORDS = {"officer": "officer-pass-1234", "holder": "holder-pass-1234"}
ENGLISH = ("Input should", "Value error", "is not a number between", "is not your enterprise", "cannot review",
           "--to", "needs a destination", "valid integer")


def _build(data_dir: Path) -> None:
    from config.settings import Settings
    from store.db import make_engine, session_scope, upgrade
    from store.models import Lead, Listing
    from store.repo import upsert_watchlist
    from watchlist import Enterprise, Mark, Watchlist
    from web.auth import add_user

    st = Settings(data_dir=data_dir, ocr_enabled=False, logo_enabled=False)
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(st.db_url)
    eng = make_engine(settings=st)
    wl = Watchlist(enterprises=[Enterprise(id="ent-a", name="甲公司", marks=[
        Mark(id="tm-a", kind="word", text="甲牌", nice_classes=[25])])])
    with session_scope(eng) as s:
        upsert_watchlist(s, wl)
        for n, status, verdict in ((1, "in_review", None), (2, "confirmed", "confirmed")):
            li = Listing(platform="mall", listing_id=f"x{n}", title=f"甲牌 运动鞋 高仿 {n}", price=99.0)
            s.add(li)
            s.flush()
            s.add(Lead(listing_pk=li.id, target_id="tm-a", target_kind="word", score=80, status=status,
                       verdict=verdict))
        add_user(s, "officer", "officer", PASSWORDS["officer"])
        add_user(s, "holder", "holder", PASSWORDS["holder"], "ent-a")
    eng.dispose()
    con = sqlite3.connect(data_dir / "markwatch.db")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("msgs-world") / "var"
    _build(d)
    return d


@pytest.fixture
def app(template, tmp_path):
    from config.settings import Settings
    from store.db import make_engine
    from web.app import create_app

    world = shutil.copytree(template, tmp_path / "var")
    st = Settings(data_dir=world, ocr_enabled=False, logo_enabled=False, language="zh-CN")
    eng = make_engine(settings=st)
    yield create_app(st, eng)
    eng.dispose()


def client(app, user: str):
    from fastapi.testclient import TestClient

    c = TestClient(app, base_url="http://127.0.0.1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": user, "password": PASSWORDS[user], "csrf_token": token},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    c.headers["X-CSRF-Token"] = re.search(r'data-csrf="([^"]+)"', c.get("/marks").text).group(1)
    return c


def lead_id(app, status: str) -> int:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from store.models import Lead

    with Session(app.state.engine) as s:
        return s.scalar(select(Lead.id).where(Lead.status == status))


def no_english(text: str) -> None:
    for phrase in ENGLISH:
        assert phrase not in text, phrase


def test_word_form_bad_class_and_no_text_in_chinese(app):
    r = client(app, "holder").post("/marks/word", data={"text": "", "classes": "99"})
    assert r.status_code == 422
    msg = re.search(r'<p class="err">([^<]*)</p>', r.text).group(1)
    assert msg.startswith("未保存：")
    assert "尼斯分类：“99”不是 1–45 之间的尼斯分类号" in msg and "商标文字：文字商标必须填写商标文字" in msg
    no_english(r.text)


def test_word_form_negative_reference_price_in_chinese(app):
    r = client(app, "holder").post("/marks/word", data={"text": "乙牌", "classes": "25", "reference_price": "-5"})
    assert r.status_code == 422 and "参考价：必须大于 0（填写的是“-5”）" in r.text
    no_english(r.text)


def test_word_form_in_english_for_an_english_user(app):
    c = client(app, "holder")
    c.cookies.set("mw_lang", "en")
    r = c.post("/marks/word", data={"text": "乙牌", "classes": "99", "reference_price": "-5"})
    assert r.status_code == 422
    assert "Not saved: Nice classes: Nice class 99 is not a number between 1 and 45" in r.text
    assert "reference price: must be greater than 0 (got -5)" in r.text and "Input should" not in r.text


def test_bulk_import_report_in_chinese_keeps_line_and_field(app):
    csv_text = ("enterprise_id,mark_id,text,nice_classes,reference_price\n"
                "ent-a,tm-good,好牌,25,100\n"
                "ent-b,tm-other,别家,25,\n"
                "ent-a,tm-int,丙牌,二十五,\n"
                "ent-a,tm-price,丁牌,25,abc\n")
    r = client(app, "holder").post("/marks/import", files={"file": ("marks.csv", csv_text.encode(), "text/csv")})
    assert r.status_code == 200
    rep = r.text[r.text.index('id="import-report"'):r.text.index("</section>", r.text.index('id="import-report"'))]
    assert "<th>行</th><th>字段</th><th>问题</th>" in rep and "line" not in rep and "problem" not in rep
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", rep)
    assert rows == [("3", "enterprise_id（企业编号）", "“ent-b”不是您的企业（ent-a）"),
                    ("4", "nice_classes（尼斯分类）", "“二十五”不是 1–45 之间的尼斯分类号"),
                    ("5", "reference_price（参考价）", "应为数字（填写的是“abc”）")]
    assert "tm-good" in r.text  # the good row was imported
    no_english(rep)


def test_lead_action_not_allowed_says_why_in_chinese(app):
    lid = lead_id(app, "in_review")
    r = client(app, "officer").post(f"/api/leads/{lid}/review", json={})
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "lead_not_allowed"
    assert body["error"] == f"未保存：线索 #{lid} 当前状态为“核查中”，不能核查（此状态可以：确认侵权、排除）"


def test_refer_without_destination_names_the_console_choices_not_a_cli_flag(app):
    lid = lead_id(app, "confirmed")
    r = client(app, "officer").post(f"/api/leads/{lid}/refer", json={})
    assert r.status_code == 409 and r.json()["code"] == "refer_needs_destination"
    assert "移送需要选择去向" in r.json()["error"]
    no_english(r.json()["error"])


def test_undo_with_nothing_to_undo_in_chinese(app):
    lid = lead_id(app, "confirmed")
    r = client(app, "officer").post(f"/api/leads/{lid}/undo")
    assert r.status_code == 409 and r.json()["code"] == "undo_nothing" and "没有可撤销" in r.json()["error"]


def test_malformed_lead_id_is_a_chinese_not_found_page(app):
    c = client(app, "officer")
    r = c.get("/leads/abc")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "未找到：“abc”不是有效的编号" in r.text and '"detail"' not in r.text
    r = c.get("/api/leads/abc")
    assert r.status_code == 404 and r.json() == {"error": "未找到：“abc”不是有效的编号", "code": "bad_path_id",
                                                 "problems": [{"field": None, "code": "bad_path_id",
                                                               "message": "“abc”不是有效的编号"}]}


def test_malformed_id_still_asks_anonymous_users_to_log_in(app):
    from fastapi.testclient import TestClient

    r = TestClient(app, base_url="http://127.0.0.1").get("/leads/abc", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_every_message_renders_in_both_languages():
    from string import Formatter

    from watchlist.messages import MESSAGES, render

    for code, (zh, en) in MESSAGES.items():
        names = {f[1].split("!")[0] for s in (zh, en) for f in Formatter().parse(s) if f[1]}
        params = {n: "X" for n in names}
        out_zh, out_en = render(code, "zh-CN", **params), render(code, "en", **params)
        assert re.search(r"[\u4e00-\u9fff]", out_zh) and out_zh != out_en, code
        assert "{" not in out_zh + out_en, code


def test_admin_user_form_refusal_in_chinese(app):
    from sqlalchemy.orm import Session

    from web.auth import add_user

    with Session(app.state.engine) as s:
        add_user(s, "admin", "admin", "admin-pass-1234")
        s.commit()
    PASSWORDS["admin"] = "admin-pass-1234"
    r = client(app, "admin").post("/admin/users", data={"username": "wang", "role": "holder",
                                                        "password": "a-long-password-1"})
    assert r.status_code == 422 and "未保存：企业编号：商标权利人账户必须绑定一个企业" in r.text
    assert "--enterprise" not in r.text
