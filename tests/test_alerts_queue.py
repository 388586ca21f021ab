"""The lead queue across runs: one lead per (listing, mark) updated on re-crawl, relistings
linked to the earlier lead, and officers' verdicts suppressing the same false lead next time."""
from __future__ import annotations

import json

from tests.test_alerts_support import cli, leads, listing, seed, write_jsonl, no_browser_screenshots  # noqa: F401

FAKE = "复刻 贵州茅台 飞天53度 酱香型白酒 500ml"


def _import_and_run(tmp_path, rows, name):
    assert cli("listings", "import", str(write_jsonl(tmp_path / name, rows))).exit_code == 0
    r = cli("run", "--no-crawl", "-q")
    assert r.exit_code == 0, r.output


def _export(tmp_path):
    out = tmp_path / "leads.jsonl"
    assert cli("leads", "export", str(out)).exit_code == 0
    return [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]


def _mark_removed(platform, listing_id):
    from config.settings import get_settings
    from store.db import make_engine, session_scope
    from store.repo import mark_removed

    eng = make_engine(settings=get_settings())
    with session_scope(eng) as s:
        assert mark_removed(s, platform, listing_id)
    eng.dispose()


def test_recrawl_updates_the_same_lead(tmp_path):
    seed(tmp_path, [listing("a1", FAKE, price=260, seller_id="s1")])
    (first,) = leads()
    _import_and_run(tmp_path, [listing("a1", FAKE, price=240, seller_id="s1", sales=30)], "l2.jsonl")
    _import_and_run(tmp_path, [listing("a1", FAKE, price=240, seller_id="s1", sales=30)], "l3.jsonl")
    after = leads()
    assert [l.id for l in after] == [first.id]  # no second lead
    lead = after[0]
    assert lead.last_run_id > first.last_run_id and lead.last_seen > first.last_seen
    (row,) = _export(tmp_path)
    assert row["price"] == 240 and row["sales"] == 30 and row["online"] is True
    assert cli("leads", "show", str(lead.id)).output.count("price history") == 1
    _mark_removed("demo-mall", "a1")
    (row,) = _export(tmp_path)
    assert row["online"] is False
    assert [e.action for e in lead.events] == ["created"]  # re-crawls are not lifecycle events


def test_relisting_under_new_id_is_linked(tmp_path):
    seed(tmp_path, [listing("r1", FAKE, price=260, seller_id="s9", seller_name="酒水专营9", images=["http://img.test/p1.jpg"])])
    (old,) = leads()
    assert cli("leads", "confirm", str(old.id), "--by", "张三").exit_code == 0
    _mark_removed("demo-mall", "r1")
    _import_and_run(tmp_path, [
        listing("r2", FAKE + " 现货", price=255, seller_id="s9", seller_name="酒水专营9"),  # similar title
        listing("r3", "贵州茅台 53度 酱香 礼盒装 复刻版", price=250, seller_id="s9", seller_name="酒水专营9",
                images=["http://img.test/p1.jpg"]),  # same image
        listing("r4", FAKE, price=260, seller_id="s7", seller_name="别的店"),  # same title, other seller
    ], "l2.jsonl")
    by_listing = {l.listing.listing_id: l for l in leads()}
    assert by_listing["r2"].related_lead_id == old.id
    assert by_listing["r3"].related_lead_id == old.id
    assert by_listing["r4"].related_lead_id is None
    assert any("relisting of lead" in (e.note or "") for e in by_listing["r2"].events)
    assert any(f"#{old.id}" in r for r in by_listing["r2"].priority_reasons)  # relisting of a confirmed lead ranks up
    assert f"related: lead #{old.id}" in cli("leads", "show", str(by_listing["r2"].id)).output


def test_dismissed_seller_suppresses_next_time_visibly_and_reversibly(tmp_path):
    seed(tmp_path, [listing("d1", "贵州茅台 飞天53度 酱香型白酒 500ml 正品", price=300, seller_id="s-dealer",
                            seller_name="茅台授权专卖店")])
    (lead,) = leads()
    r = cli("leads", "dismiss", str(lead.id), "--by", "张三", "--reason", "授权经销商（权利人确认）", "--suppress-seller")
    assert r.exit_code == 0 and "suppression rule #1" in r.output
    _import_and_run(tmp_path, [listing("d2", "贵州茅台 飞天53度 500ml 礼盒", price=300, seller_id="s-dealer",
                                       seller_name="茅台授权专卖店"),
                               listing("d3", FAKE, price=260, seller_id="s-other")], "l2.jsonl")
    by_listing = {l.listing.listing_id: l for l in leads()}
    sup, other = by_listing["d2"], by_listing["d3"]
    assert sup.status == "suppressed" and other.status == "new"
    assert "授权经销商" in sup.status_reason and "#1" in sup.status_reason
    listed = cli("leads", "list")
    assert f"#{other.id}\t" in listed.output and f"#{sup.id}\t" not in listed.output
    assert "1 suppressed leads hidden" in listed.output
    assert f"#{sup.id}\t" in cli("leads", "list", "--status", "suppressed").output
    assert "1 suppressed" in cli("suppressions", "list").output
    r = cli("suppressions", "remove", "1", "--by", "李四")
    assert r.exit_code == 0 and "1 leads back to new" in r.output
    restored = next(l for l in leads() if l.id == sup.id)
    assert restored.status == "new" and [e.action for e in restored.events][-2:] == ["suppressed", "unsuppressed"]
    assert cli("suppressions", "remove", "1", "--by", "李四").exit_code == 2
    # once removed, the seller's next listing is a normal lead again
    _import_and_run(tmp_path, [listing("d4", "贵州茅台 飞天 53度 酱香 500ml", price=300, seller_id="s-dealer",
                                       seller_name="茅台授权专卖店")], "l3.jsonl")
    assert next(l for l in leads() if l.listing.listing_id == "d4").status == "new"


def test_dismissed_phrase_suppresses_only_listings_with_it(tmp_path):
    seed(tmp_path, [listing("p1", "贵州茅台 飞天53度 空瓶 收藏 摆件", price=80, seller_id="s1"),
                    listing("p2", "贵州茅台 飞天53度 空瓶 酒瓶 装饰", price=60, seller_id="s2"),
                    listing("p3", FAKE, price=260, seller_id="s3")])
    by_listing = {l.listing.listing_id: l for l in leads()}
    assert set(by_listing) == {"p1", "p2", "p3"}
    r = cli("leads", "dismiss", str(by_listing["p1"].id), "--by", "张三", "--reason", "空酒瓶，非酒类商品",
            "--suppress-phrase", "空瓶")
    assert r.exit_code == 0 and "1 other new leads suppressed" in r.output, r.output
    st = {l.listing.listing_id: l.status for l in leads()}
    assert st == {"p1": "dismissed", "p2": "suppressed", "p3": "new"}
    r = cli("leads", "dismiss", str(by_listing["p3"].id), "--by", "张三", "--reason", "x", "--suppress-phrase", "不存在的词")
    assert r.exit_code == 2 and "not in the listing" in r.output
    assert next(l for l in leads() if l.listing.listing_id == "p3").status == "new"
