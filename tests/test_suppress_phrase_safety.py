"""Issue 16 item 11: a one-character phrase (高 inside 高仿) is refused, a phrase that is part of
the mark is refused, and a preview tells how many leads a phrase would hide before it is added."""
from __future__ import annotations

from tests.test_alerts_support import cli, leads, listing, no_browser_screenshots, seed  # noqa: F401


def test_short_or_mark_phrases_refused_and_preview_counts(tmp_path):
    seed(tmp_path, [listing("p1", "高仿 贵州茅台 飞天53度 空瓶 收藏", price=80, seller_id="s1"),
                    listing("p2", "贵州茅台 飞天53度 空瓶 酒瓶 装饰", price=60, seller_id="s2"),
                    listing("p3", "高仿 贵州茅台 飞天 A货 酱香", price=260, seller_id="s3"),
                    listing("p4", "复刻 贵州茅台 飞天 酱香型白酒", price=200, seller_id="s4")])
    by = {l.listing.listing_id: l for l in leads()}
    assert set(by) == {"p1", "p2", "p3", "p4"}
    for phrase, why in (("高", "too short"), (" 仿 ", "too short"), ("茅台", "part of the mark")):
        r = cli("leads", "dismiss", str(by["p1"].id), "--by", "张三", "--reason", "x", "--suppress-phrase", phrase)
        assert r.exit_code == 2 and why in r.output, (phrase, r.output)
        r = cli("suppressions", "preview", phrase, "--target", by["p1"].target_id)
        assert r.exit_code == 2 and why in r.output
    assert {l.status for l in leads()} == {"new"}  # nothing dismissed or suppressed by a refused rule
    r = cli("suppressions", "preview", "空瓶")
    assert r.exit_code == 0 and "would suppress 2 new leads" in r.output, r.output
    assert "#%d" % by["p1"].id in r.output and "#%d" % by["p3"].id not in r.output
    r = cli("suppressions", "preview", "高仿")
    assert "would suppress 2 new leads" in r.output
    assert {l.status for l in leads()} == {"new"}  # a preview changes nothing
    r = cli("leads", "dismiss", str(by["p1"].id), "--by", "张三", "--reason", "空酒瓶", "--suppress-phrase", "空瓶")
    assert r.exit_code == 0 and "1 other new leads suppressed" in r.output
