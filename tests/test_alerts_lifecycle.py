"""Lead lifecycle through the CLI: every change is recorded with who and when, and invalid
transitions are refused with a message that says what to do instead."""
from __future__ import annotations

from tests.test_alerts_support import cli, leads, listing, seed, no_browser_screenshots  # noqa: F401


def _two_leads(tmp_path):
    seed(tmp_path, [listing("a1", "复刻 贵州茅台 飞天53度 酱香型白酒 500ml", price=260, seller_id="s1"),
                    listing("a2", "顶级版 NIKE Air Jordan 1 篮球鞋", price=220, kind="nike", seller_id="s2")])
    ls = leads()
    assert len(ls) == 2 and all(l.status == "new" for l in ls)
    return {l.target_id: l.id for l in ls}


def test_full_lifecycle_is_recorded_with_actor_and_time(tmp_path):
    ids = _two_leads(tmp_path)
    lid = str(ids["tm-moutai"])
    assert cli("leads", "review", lid, "--by", "张三").exit_code == 0
    assert cli("leads", "confirm", lid, "--by", "张三", "--note", "与权利人核实为假冒").exit_code == 0
    r = cli("leads", "refer", lid, "--to", "police", "--by", "李四", "--output", str(tmp_path / "p.zip"))
    assert r.exit_code == 0, r.output
    assert cli("leads", "close", lid, "--by", "王五", "--reason", "已立案查处").exit_code == 0
    lead = next(l for l in leads() if l.id == int(lid))
    assert lead.status == "closed" and lead.verdict == "confirmed" and lead.referred_to == "公安"
    trail = [(e.action, e.from_status, e.to_status, e.actor) for e in lead.events]
    assert trail == [("created", None, "new", "system"), ("review", "new", "in_review", "张三"),
                     ("confirm", "in_review", "confirmed", "张三"), ("refer", "confirmed", "referred", "李四"),
                     ("close", "referred", "closed", "王五")]
    assert all(e.at is not None for e in lead.events)
    assert lead.events[-1].note == "已立案查处"
    shown = cli("leads", "show", lid).output
    assert "李四" in shown and "移送 公安" in shown and "已立案查处" in shown


def test_invalid_transitions_are_refused_and_change_nothing(tmp_path):
    ids = _two_leads(tmp_path)
    a, b = str(ids["tm-moutai"]), str(ids["tm-nike"])
    r = cli("leads", "refer", a, "--to", "公安", "--by", "张三")
    assert r.exit_code == 2 and "confirm it first" in r.output and "nothing changed" in r.output
    r = cli("leads", "dismiss", a, "--by", "张三")
    assert r.exit_code == 2 and "--reason" in r.output
    r = cli("leads", "confirm", a, "--by", "")
    assert r.exit_code == 2 and "--by" in r.output
    # all or nothing: b can be confirmed, a closed lead cannot, so neither changes
    assert cli("leads", "dismiss", a, "--by", "张三", "--reason", "商标本义").exit_code == 0
    assert cli("leads", "close", a, "--by", "张三").exit_code == 0
    r = cli("leads", "confirm", b, a, "--by", "张三")
    assert r.exit_code == 2 and f"lead #{a} is closed" in r.output
    st = {l.id: l.status for l in leads()}
    assert st[int(b)] == "new" and st[int(a)] == "closed"
    assert [e.action for e in next(l for l in leads() if l.id == int(b)).events] == ["created"]
    # a closed lead can be reopened, with a reason
    assert cli("leads", "reopen", a, "--by", "李四").exit_code == 2
    assert cli("leads", "reopen", a, "--by", "李四", "--reason", "权利人提供新证据").exit_code == 0
    lead = next(l for l in leads() if l.id == int(a))
    assert lead.status == "in_review" and lead.verdict is None


def test_dismissal_keeps_reason_and_default_actor_from_env(tmp_path, monkeypatch):
    ids = _two_leads(tmp_path)
    monkeypatch.setenv("MARKWATCH_ACTOR", "赵六")
    r = cli("leads", "dismiss", str(ids["tm-nike"]), "--reason", "指示性使用")
    assert r.exit_code == 0, r.output
    lead = next(l for l in leads() if l.id == ids["tm-nike"])
    assert (lead.status, lead.verdict, lead.status_reason) == ("dismissed", "dismissed", "指示性使用")
    assert (lead.events[-1].actor, lead.events[-1].note) == ("赵六", "指示性使用")
