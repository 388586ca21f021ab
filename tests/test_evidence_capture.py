"""Evidence fixed for every listing that became a lead in a pass over the sandbox (marketplace
and live rooms): page HTML as fetched, full-page screenshot, images, metadata, in the ledger."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from crawler.browser import find_chromium
from crawler.models import CrawlPage, EvidenceCapture
from crawler.testing import live_source, mall_source
from store import models as m
from store.db import session_scope
from matcher.images import sha256_file

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(find_chromium() is None, reason="needs Debian chromium (scripts/system-deps.sh)")]


@pytest.fixture
def pass_settings(settings, monkeypatch, tmp_path):
    from .conftest import demo_pass_settings

    return demo_pass_settings(monkeypatch, tmp_path)


def small_sources():
    mall, live = mall_source(), live_source()  # sandbox: true, the pass starts the site itself
    sb = {"seed": 5, "listings": 150, "rooms": 6, "slow_seconds": 0.2}
    mall["sandbox"] = live["sandbox"] = sb
    return [mall, live]


def test_pass_fixes_evidence_for_marketplace_and_live_leads(pass_settings, db):
    from pipeline.passes import run_pass

    srcs = small_sources()
    res = run_pass(pass_settings, db, extra_sources=srcs)
    assert res.status in ("ok", "partial"), res.error
    ev = pass_settings.resolved_data_dir / "evidence"
    data = pass_settings.resolved_data_dir
    with session_scope(db) as s:
        lead_listings = set(s.scalars(select(m.Lead.listing_pk)))
        kinds = set(s.scalars(select(m.Listing.kind).where(m.Listing.id.in_(lead_listings))))
        assert kinds == {"listing", "live"}, "leads from both marketplace pages and live rooms"
        caps = {c.listing_pk: c for c in s.scalars(select(EvidenceCapture))}
        assert set(caps) == lead_listings
        for pk in lead_listings:
            row = s.get(m.Listing, pk)
            d = ev / caps[pk].directory
            names = {p.name for p in d.iterdir()}
            assert "page.html" in names and "meta.json" in names
            assert any(n.startswith("screenshot.") for n in names), (row.listing_id, caps[pk].detail)
            assert sum(n.startswith("image-") for n in names) == len(row.images)
            cp = s.scalar(select(CrawlPage).where(CrawlPage.listing_id == row.listing_id))
            assert (d / "page.html").read_bytes() == (data / cp.raw_path).read_bytes()  # as fetched
            meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
            assert meta["url"] == row.url and meta["leads"] and meta["evidence_captured_at"]
            for a in meta["artefacts"]:
                assert sha256_file(d / a["file"]) == a["sha256"]
            recs = s.scalars(select(m.EvidenceRecord).where(m.EvidenceRecord.listing_pk == pk)).all()
            expected = {"html", "screenshot", "image", "meta"} | ({"warc"} if row.kind == "listing" else set())
            assert {r.kind for r in recs} == expected - (set() if row.images else {"image"})
            if row.kind == "listing":  # marketplace pages: screenshot, HTML and WARC from one visit
                visit = meta["visit"]
                assert visit["status"] == "ok" and (d / "visit.html").is_file() and (d / "capture.warc.gz").is_file()
                shot = next(a for a in meta["artefacts"] if a["kind"] == "screenshot")
                assert shot["time_is"] == "evidence visit" and visit["visit_started"] <= shot["captured_at"]
        n_records = s.scalar(select(func.count()).select_from(m.EvidenceRecord))
    from pipeline.cli import app
    r = CliRunner().invoke(app, ["evidence", "verify"])
    assert r.exit_code == 0, r.output

    # a second pass does not fix evidence again for leads whose listing did not change
    res2 = run_pass(pass_settings, db, extra_sources=srcs)
    with session_scope(db) as s:
        again = s.scalars(select(EvidenceCapture).where(EvidenceCapture.run_id == res2.run_id)).all()
        for c in again:  # only listings whose content changed since their last capture
            first = s.scalars(select(EvidenceCapture).where(EvidenceCapture.listing_pk == c.listing_pk)
                              .order_by(EvidenceCapture.id)).all()
            assert len({x.content_hash for x in first}) == len(first)
        assert len(again) < len(caps)
        assert s.scalar(select(func.count()).select_from(m.EvidenceRecord)) >= n_records
    r = CliRunner().invoke(app, ["evidence", "verify"])
    assert r.exit_code == 0, r.output

    # tampering with one fixed screenshot is caught and named
    shot = next(p for p in ev.rglob("screenshot.*"))
    shot.write_bytes(shot.read_bytes()[:-10])
    r = CliRunner().invoke(app, ["evidence", "verify"])
    assert r.exit_code == 1 and shot.relative_to(ev).as_posix() in r.output
