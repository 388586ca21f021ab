"""Trusted timestamps (RFC 3161) of the ledger head against a local TSA (openssl ts), and
`evidence verify` on altered WARC records and altered, missing or mismatched tokens."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from crawler.warc import Exchange, WarcLog, read_warc
from store import ledger
from store.db import session_scope
from store.models import EvidenceRecord

from .evidence_servers import LocalTSA

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command (local TSA)")


@pytest.fixture
def tsa(monkeypatch):
    from config.settings import reset_settings_cache

    with LocalTSA() as t:
        monkeypatch.setenv("MARKWATCH_TSA_URL", t.url)
        monkeypatch.setenv("MARKWATCH_TSA_CA_FILE", str(t.ca_file))
        reset_settings_cache()
        yield t
    reset_settings_cache()


def exchange(body: bytes) -> Exchange:
    return Exchange(url="http://127.0.0.1:9/item/m1", method="GET", request_headers=[("User-Agent", "Mozilla/5.0")],
                    status=200, reason="OK", response_headers=[("Content-Type", "text/html")], body=body,
                    ip="127.0.0.1", started=datetime.now(timezone.utc))


@pytest.fixture
def evidence(settings, db):
    ev = settings.resolved_data_dir / "evidence"
    d = ev / "mall" / "m1" / "t1"
    d.mkdir(parents=True)
    (d / "page.html").write_text("<h1>高仿 茅台</h1>", encoding="utf-8")
    w = WarcLog(d / "capture.warc.gz")
    w.add(exchange("<h1>高仿 茅台</h1>".encode()))
    w.add(exchange(b"PNG..."))
    w.write()
    with session_scope(db) as s:
        for kind, name in (("html", "page.html"), ("warc", "capture.warc.gz")):
            ledger.append_file(s, ev, d / name, kind=kind, listing_pk=1, platform="mall", listing_id="m1",
                               url="http://x/item/m1")
    with session_scope(db) as s:
        ledger.write_head(s, ev)
    return ev, d


def verify():
    from pipeline.cli import app

    return CliRunner().invoke(app, ["evidence", "verify"])


def stamp(db, ev, tsa):
    with session_scope(db) as s:
        rec = ledger.timestamp_head(s, ev, tsa.url)
    with session_scope(db) as s:
        ledger.write_head(s, ev)
    return rec


def test_head_token_verifies_with_the_tsa_root(db, evidence, tsa):
    ev, _ = evidence
    rec = stamp(db, ev, tsa)
    assert rec.kind == "timestamp" and rec.listing_id == "head#2" and tsa.requests == 1
    r = verify()
    assert r.exit_code == 0, r.output
    assert "ledger head #2 existed at" in r.output and "signature verified" in r.output
    # the same token verifies with openssl, independently of markwatch
    import subprocess
    msg = ev / "msg"
    with session_scope(db) as s:
        head = s.scalar(select(EvidenceRecord).where(EvidenceRecord.seq == 2))
        msg.write_bytes(ledger.head_message(head.seq, head.entry_hash))
    out = subprocess.run(["openssl", "ts", "-verify", "-data", str(msg), "-in", str(ev / rec.path), "-CAfile",
                          str(tsa.ca_file)], capture_output=True, text=True)
    assert "Verification: OK" in out.stdout, out.stdout + out.stderr


def test_altered_token_is_detected(db, evidence, tsa):
    ev, _ = evidence
    rec = stamp(db, ev, tsa)
    f = ev / rec.path
    data = bytearray(f.read_bytes())
    data[-20] ^= 0xFF  # inside the signature
    f.write_bytes(bytes(data))
    r = verify()
    assert r.exit_code == 1 and rec.path in r.output


def test_missing_token_is_detected(db, evidence, tsa):
    ev, _ = evidence
    rec = stamp(db, ev, tsa)
    (ev / rec.path).unlink()
    r = verify()
    assert r.exit_code == 1 and f"artefact missing: {rec.path}" in r.output


def test_entries_after_the_last_token_are_flagged_when_a_tsa_is_configured(db, evidence, tsa):
    ev, d = evidence
    stamp(db, ev, tsa)
    (d / "meta.json").write_text("{}", encoding="utf-8")
    with session_scope(db) as s:
        ledger.append_file(s, ev, d / "meta.json", kind="meta", listing_pk=1, platform="mall", listing_id="m1")
    with session_scope(db) as s:
        ledger.write_head(s, ev)
    r = verify()
    assert r.exit_code == 1 and "no trusted timestamp" in r.output


def test_rewritten_chain_no_longer_matches_its_token(db, evidence, tsa):
    """Whoever controls the machine rewrites the whole chain (consistently, head file too): the
    token issued for the old head proves it."""
    ev, d = evidence
    stamp(db, ev, tsa)
    (d / "page.html").write_text("<h1>正品</h1>", encoding="utf-8")
    with session_scope(db) as s:
        rows = list(s.scalars(select(EvidenceRecord).order_by(EvidenceRecord.seq)))
        prev = ledger.GENESIS
        for r in rows:
            if r.path.endswith("page.html"):
                from matcher.images import sha256_file
                r.sha256, r.size = sha256_file(d / "page.html"), (d / "page.html").stat().st_size
            r.prev_hash = prev
            r.entry_hash = ledger.record_hash(r)
            prev = r.entry_hash
    with session_scope(db) as s:
        ledger.write_head(s, ev)
    r = verify()
    assert r.exit_code == 1 and "does not prove ledger head #2" in r.output


def test_altered_warc_record_is_detected(db, evidence):
    ev, d = evidence
    assert [x["status"] for x in read_warc(d / "capture.warc.gz") if x["type"] == "response"] == ["200", "200"]
    w = WarcLog(d / "capture.warc.gz")  # same exchanges, the page's body replaced
    w.add(exchange("<h1>正品 茅台</h1>".encode()))
    w.add(exchange(b"PNG..."))
    w.write()
    r = verify()
    assert r.exit_code == 1 and "mall/m1/t1/capture.warc.gz" in r.output


def test_damaged_warc_is_named_as_unreadable(db, evidence):
    ev, d = evidence
    f = d / "capture.warc.gz"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))
    r = verify()
    assert r.exit_code == 1 and "capture.warc.gz" in r.output and "not a readable WARC" in r.output


def test_tsa_failure_in_a_pass_is_a_named_failure(settings, db, tsa, monkeypatch):
    from config.settings import get_settings
    from crawler.evidence import _timestamp_head
    from store.models import Run, RunFailure

    ev = settings.resolved_data_dir / "evidence"
    ev.mkdir(parents=True)
    (ev / "x.html").write_text("x")
    with session_scope(db) as s:
        ledger.append_file(s, ev, ev / "x.html", kind="html")
        run = Run(kind="pass", trigger="manual", status="running", counts={}, durations={})
        s.add(run)
        s.flush()
        run_id = run.id
    tsa.fail = True
    out = _timestamp_head(get_settings(), db, ev, run_id, lambda m: None)
    assert out == {"timestamp_errors": 1}
    with session_scope(db) as s:
        f = s.scalar(select(RunFailure).where(RunFailure.run_id == run_id))
        assert f.kind == "timestamp_failed" and tsa.url in f.detail
    tsa.fail = False
    assert _timestamp_head(get_settings(), db, ev, run_id, lambda m: None) == {"timestamped": 1}
    r = verify()
    assert r.exit_code == 0, r.output


def test_no_tsa_configured_works_offline(db, evidence):
    r = verify()
    assert r.exit_code == 0 and "0 timestamp token(s)" in r.output
