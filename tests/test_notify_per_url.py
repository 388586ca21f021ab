"""Issue 16 item 6: each notification URL is tried on its own; each failure is named in the run
record and the output with its secret parts masked."""
from __future__ import annotations

import socket

from sqlalchemy import select

from tests.test_alerts_digest import four_leads, receiver  # noqa: F401
from tests.test_alerts_support import cli, no_browser_screenshots  # noqa: F401

SECRET = "S3cretPassw0rd"
TOKEN = "0123456789abcdef0123456789abcdef0123"


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_one_bad_url_does_not_stop_the_others_and_failures_are_recorded_masked(
        four_leads, receiver, tmp_path, monkeypatch, settings):  # noqa: F811
    from alerts.notify import mask_url
    from store.db import make_engine, session_scope
    from store.models import Run, RunFailure

    urls = [f"notaplugin://{TOKEN}", f"json://ops:{SECRET}@127.0.0.1:{_closed_port()}/hook",
            f"json://127.0.0.1:{receiver.port}/ops"]
    monkeypatch.setenv("MARKWATCH_NOTIFY_URLS", " ".join(urls))
    r = cli("digest", "--output", str(tmp_path / "d"))
    assert r.exit_code == 1
    with receiver.cond:
        receiver.cond.wait_for(lambda: len(receiver.got) == 1, timeout=30)
    assert [p for p, _ in receiver.got] == ["/ops"]  # the good URL after two bad ones was sent
    assert "2 of 3" in r.output and SECRET not in r.output and TOKEN not in r.output
    with session_scope(make_engine(settings=settings)) as s:
        run = s.scalars(select(Run).where(Run.kind == "digest")).one()
        fails = s.scalars(select(RunFailure).where(RunFailure.run_id == run.id)).all()
        assert run.status == "partial" and run.counts["notify_sent"] == 1 and run.counts["notify_failed"] == 2
        assert sorted(f.kind for f in fails) == ["notify_failed", "notify_failed"]
        stored = " ".join(f"{f.url} {f.detail}" for f in fails)
        assert SECRET not in stored and TOKEN not in stored
        assert {f.url.split("://")[0] for f in fails} == {"notaplugin", "json"}
        assert any("invalid" in f.detail for f in fails)
    assert SECRET not in mask_url(f"mailtos://user:{SECRET}@smtp.example.com?to=ipr@example.gov.cn&pass={SECRET}")
    assert mask_url(f"dingtalk://{TOKEN}/").startswith("dingtalk://01***")
