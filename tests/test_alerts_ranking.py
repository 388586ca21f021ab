"""Ranking of the daily queue: the order follows the rules officers expect and explains itself."""
from __future__ import annotations

from tests.test_alerts_support import cli, leads, listing, seed, no_browser_screenshots  # noqa: F401

NIKE = "顶级版 NIKE Air Jordan 1 篮球鞋"


def _order():
    out = cli("leads", "list", "--limit", "100").output
    return [int(line.split("\t")[0][1:]) for line in out.splitlines() if line.startswith("#")]


def test_queue_order_and_explanations(tmp_path):
    from config.settings import get_settings
    from store.db import make_engine, session_scope
    from store.repo import mark_removed

    seed(tmp_path, [
        listing("a", "复刻 贵州茅台 飞天53度 酱香型白酒 500ml", price=260, sales=300, seller_id="sa"),
        listing("c", NIKE, price=220, kind="nike", seller_id="sc", seller_name="店C"),
        listing("d", NIKE, price=220, kind="nike", seller_id="sd", seller_name="店D"),
        listing("d0", "公司级 耐克 空军一号 板鞋", price=199, kind="nike", seller_id="sd", seller_name="店D"),
        listing("e", NIKE, price=220, kind="nike", seller_id="se", seller_name="店E"),
    ])
    ids = {l.listing.listing_id: l.id for l in leads()}
    assert set(ids) == {"a", "c", "d", "d0", "e"}
    pr = {l.listing.listing_id: l.priority for l in leads()}
    assert pr["c"] == pr["d"] == pr["e"]  # identical listings rank the same before any verdict
    assert cli("leads", "confirm", str(ids["d0"]), "--by", "张三").exit_code == 0
    eng = make_engine(settings=get_settings())
    with session_scope(eng) as s:
        mark_removed(s, "demo-mall", "e")
    eng.dispose()
    assert cli("run", "--no-crawl", "-q").exit_code == 0  # the pass re-ranks the open queue
    order = _order()
    assert order[0] == ids["a"]
    assert order.index(ids["d"]) < order.index(ids["c"]) < order.index(ids["e"])
    by = {l.listing.listing_id: l for l in leads()}
    a = by["a"].priority_reasons
    assert any("驰名商标" in r for r in a)
    assert any("低于参考价" in r for r in a)
    assert any("违法经营额 78,000 元" in r for r in a) and any("移送公安" in r for r in a)
    assert any("重复侵权卖家（已确认线索 1 条）" in r for r in by["d"].priority_reasons)
    assert not any("重复侵权" in r for r in by["c"].priority_reasons)
    assert any("已下架" in r for r in by["e"].priority_reasons)
    # the parts add up to the priority shown
    import re
    for l in by.values():
        if l.status in ("new", "in_review", "confirmed"):
            pts = [float(m.group(1)) for r in l.priority_reasons for m in [re.search(r"([+-]?\d+(?:\.\d+)?)$", r)] if m]
            assert abs(sum(pts) - l.priority) < 0.01, (l.priority_reasons, l.priority)
    why = cli("leads", "list", "--why", "--limit", "1").output
    assert "· 驰名商标：+10" in why


def test_english_reasons(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKWATCH_LANGUAGE", "en")
    seed(tmp_path, [listing("a", "复刻 贵州茅台 飞天53度 酱香型白酒 500ml", price=260, seller_id="sa")])
    (l,) = leads()
    assert any(r.startswith("well-known mark") for r in l.priority_reasons)
    assert any("below the reference price" in r for r in l.priority_reasons)
