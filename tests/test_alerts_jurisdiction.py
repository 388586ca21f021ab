"""Jurisdiction: each lead goes to the bureau whose area contains the seller's location; an
officer's queue shows their jurisdiction by default; unresolved locations go to the parent."""
from __future__ import annotations

import pytest

from tests.test_alerts_support import cli, leads, listing, seed, no_browser_screenshots  # noqa: F401

BUREAUS = """\
bureaus:
  - {id: hz, name: 杭州市市场监督管理局, admin_codes: ['330100']}
  - {id: hz-xihu, name: 西湖区市场监督管理局, admin_codes: ['330106'], parent: hz}
  - {id: hz-yuhang, name: 余杭区市场监督管理局, admin_codes: ['330110'], parent: hz}
"""
FAKE = "复刻 贵州茅台 飞天53度 酱香型白酒 500ml"


@pytest.fixture
def bureaus(isolated_settings):
    isolated_settings.mkdir(parents=True, exist_ok=True)
    (isolated_settings / "bureaus.yaml").write_text(BUREAUS, encoding="utf-8")


def test_leads_are_assigned_by_seller_location(tmp_path, bureaus, monkeypatch):
    seed(tmp_path, [listing("x1", FAKE, seller_id="s1", location="浙江省杭州市西湖区"),
                    listing("x2", FAKE, seller_id="s2", location="浙江 杭州 余杭"),
                    listing("x3", FAKE, seller_id="s3", location="杭州"),
                    listing("x4", FAKE, seller_id="s4", location="火星基地"),
                    listing("x5", FAKE, seller_id="s5", location="福建 莆田")])
    by = {l.listing.listing_id: l for l in leads()}
    assert {k: v.jurisdiction for k, v in by.items()} == {"x1": "hz-xihu", "x2": "hz-yuhang", "x3": "hz",
                                                          "x4": "hz", "x5": "hz"}
    assert any("无法定位" in r and "杭州市市场监督管理局" in r for r in by["x4"].priority_reasons)
    assert any("西湖区市场监督管理局" in r for r in by["x1"].priority_reasons)
    # an officer of the Xihu bureau sees their leads by default; the city bureau sees all of them
    monkeypatch.setenv("MARKWATCH_BUREAU", "hz-xihu")
    out = cli("leads", "list").output
    assert f"#{by['x1'].id}\t" in out and f"#{by['x2'].id}\t" not in out and "西湖区市场监督管理局" in out
    out = cli("leads", "list", "--bureau", "hz").output
    assert all(f"#{l.id}\t" in out for l in by.values())
    out = cli("leads", "list", "--bureau", "all").output
    assert all(f"#{l.id}\t" in out for l in by.values())
    r = cli("leads", "list", "--bureau", "nowhere")
    assert r.exit_code == 2 and "unknown bureau 'nowhere'" in r.output


def test_bad_bureaus_file_is_reported(tmp_path, isolated_settings):
    from alerts.jurisdiction import BureauConfigError, load_bureaus

    p = tmp_path / "b.yaml"
    p.write_text("bureaus:\n  - {id: a, name: A, admin_codes: ['3301']}\n", encoding="utf-8")
    with pytest.raises(BureauConfigError, match="not a 6-digit"):
        load_bureaus(p)
    p.write_text("bureaus:\n  - {id: a, name: A, admin_codes: ['330100'], parent: zz}\n", encoding="utf-8")
    with pytest.raises(BureauConfigError, match="parent 'zz' is not defined"):
        load_bureaus(p)
