"""The evidence ledger: append-only, hash-chained; verify names what was altered, missing or re-ordered."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from store import ledger
from store.db import session_scope


@pytest.fixture
def evidence(settings, db):
    ev = settings.resolved_data_dir / "evidence"
    d = ev / "mall" / "m1" / "t1"
    d.mkdir(parents=True)
    files = []
    with session_scope(db) as s:
        for i, (kind, name, body) in enumerate([("html", "page.html", "<h1>高仿 茅台</h1>"),
                                                ("screenshot", "screenshot.jpg", "JPEG..."),
                                                ("image", "image-1.jpg", "photo-1"),
                                                ("image", "image-2.jpg", "photo-2"),
                                                ("meta", "meta.json", '{"url": "http://x/item/m1"}')]):
            f = d / name
            f.write_text(body, encoding="utf-8")
            ledger.append_file(s, ev, f, kind=kind, listing_pk=1, platform="mall", listing_id="m1",
                               url="http://x/item/m1")
            files.append(f)
    with session_scope(db) as s:
        ledger.write_head(s, ev)
    return ev, files


def check(db, ev):
    with session_scope(db) as s:
        return ledger.verify(s, ev)


def test_intact_ledger_verifies(db, evidence):
    n, problems = check(db, evidence[0])
    assert n == 5 and problems == []


def test_altered_artefact_is_named(db, evidence):
    ev, files = evidence
    files[2].write_text("photo-1 retouched", encoding="utf-8")
    _, problems = check(db, ev)
    assert [(p.kind, p.path) for p in problems] == [("altered", "mall/m1/t1/image-1.jpg")]


def test_missing_artefact_is_named(db, evidence):
    ev, files = evidence
    files[1].unlink()
    _, problems = check(db, ev)
    assert [(p.kind, p.path) for p in problems] == [("missing", "mall/m1/t1/screenshot.jpg")]


def test_reordered_entries_are_detected(db, evidence):
    ev, _ = evidence
    with db.begin() as c:  # swap entries 2 and 3
        c.execute(text("UPDATE evidence_ledger SET seq = -2 WHERE seq = 2"))
        c.execute(text("UPDATE evidence_ledger SET seq = 2 WHERE seq = 3"))
        c.execute(text("UPDATE evidence_ledger SET seq = 3 WHERE seq = -2"))
    _, problems = check(db, ev)
    assert problems and all(p.kind == "reordered" for p in problems)
    assert {p.path for p in problems} >= {"mall/m1/t1/image-1.jpg"}


def test_edited_or_deleted_entries_are_detected(db, evidence):
    ev, _ = evidence
    with db.begin() as c:
        c.execute(text("UPDATE evidence_ledger SET url = 'http://elsewhere/' WHERE seq = 4"))
    _, problems = check(db, ev)
    assert [(p.kind, p.seq) for p in problems] == [("record_altered", 4)]
    with db.begin() as c:
        c.execute(text("UPDATE evidence_ledger SET url = 'http://x/item/m1' WHERE seq = 4"))
        c.execute(text("DELETE FROM evidence_ledger WHERE seq = 2"))
    _, problems = check(db, ev)
    assert [(p.kind, p.seq) for p in problems] == [("record_missing", 3)]


def test_dropping_the_newest_entries_is_detected(db, evidence):
    ev, _ = evidence
    with db.begin() as c:
        c.execute(text("DELETE FROM evidence_ledger WHERE seq >= 4"))
    _, problems = check(db, ev)
    assert [p.kind for p in problems] == ["truncated"]


def test_new_entries_chain_onto_the_last(db, evidence):
    ev, files = evidence
    with session_scope(db) as s:
        r = ledger.append_file(s, ev, files[0], kind="html", listing_pk=1)
        last = s.get(ledger.EvidenceRecord, r.seq - 1)
        assert r.prev_hash == last.entry_hash
        ledger.write_head(s, ev)
    assert check(db, ev)[1] == []


def test_cli_verify_exit_codes_and_names_the_artefact(db, evidence):
    from pipeline.cli import app

    ev, files = evidence
    r = CliRunner().invoke(app, ["evidence", "verify"])
    assert r.exit_code == 0, r.output
    assert "intact" in r.output and "5 entries" in r.output
    files[4].write_text('{"url": "http://forged"}', encoding="utf-8")
    r = CliRunner().invoke(app, ["evidence", "verify"])
    assert r.exit_code == 1
    assert "mall/m1/t1/meta.json" in r.output and "altered" in r.output


def test_evidence_for_a_listing_from_a_file_never_fetches_its_url(settings, db):
    """Listings imported from JSONL have no configured source: their URL is not visited."""
    from crawler.evidence import capture_for_run
    from crawler.models import EvidenceCapture
    from matcher.listing import listing_from_dict
    from store.repo import upsert_listing

    with session_scope(db) as s:
        row, _ = upsert_listing(s, listing_from_dict({"platform": "demo-mall", "listing_id": "d1", "title": "高仿 茅台",
                                                      "url": "http://marketplace.test/item/d1"}), source="file")
        pk = row.id
    c = capture_for_run(settings, db, None, listing_pks=[pk])
    assert c["listings"] == 1 and c["screenshots"] == 0
    with session_scope(db) as s:
        cap = s.query(EvidenceCapture).one()
        assert cap.status == "ok" and "imported listing (导入): its URL is not visited" == cap.detail
        meta = json.loads((settings.resolved_data_dir / "evidence" / cap.directory / "meta.json").read_text("utf-8"))
        assert meta["method"] == "导入" and meta["visit"] is None
        n, problems = ledger.verify(s, settings.resolved_data_dir / "evidence")
    assert n == 1 and problems == []  # meta.json is still fixed and chained
