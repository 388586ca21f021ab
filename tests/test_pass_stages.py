"""The pass is a list of named stages run by one loop; a stage that cannot run (even one whose
module does not import) is a named failure in the run record, never a silent 'ok'. One Settings
with nested sections, built once."""
from __future__ import annotations

import json
import sys

from sqlalchemy import select

LISTINGS = [{"platform": "demo-mall", "listing_id": f"x{i}", "title": f"复刻 贵州茅台 飞天53度 酱香型白酒 {i}",
             "price": 199, "seller_name": "酒行", "category": "食品饮料/酒类/白酒"} for i in range(3)]
WL = """version: 1
enterprises:
  - id: ent-moutai
    name: 贵州茅台酒股份有限公司
    marks:
      - {id: tm-moutai, kind: word, text: 茅台, nice_classes: [33], well_known: true}
"""


def _setup(tmp_path, monkeypatch):
    from config.settings import get_settings, reset_settings_cache
    from pipeline.stages import import_listings_file
    from store.db import make_engine, upgrade

    monkeypatch.setenv("MARKWATCH_OCR_ENABLED", "false")
    monkeypatch.setenv("MARKWATCH_LOGO_ENABLED", "false")
    (tmp_path / "wl.yaml").write_text(WL, encoding="utf-8")
    monkeypatch.setenv("MARKWATCH_WATCHLIST", str(tmp_path / "wl.yaml"))
    reset_settings_cache()
    st = get_settings()
    upgrade(st.db_url)
    eng = make_engine(settings=st)
    f = tmp_path / "l.jsonl"
    f.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in LISTINGS), encoding="utf-8")
    import_listings_file(eng, f)
    return st, eng


def _failures(eng, run_id):
    from store.db import session_scope
    from store.models import RunFailure

    with session_scope(eng) as s:
        return [(f.kind, f.detail) for f in s.scalars(select(RunFailure).where(RunFailure.run_id == run_id))]


def test_broken_evidence_module_is_a_named_failure_not_ok(tmp_path, monkeypatch):
    from pipeline.passes import run_pass

    st, eng = _setup(tmp_path, monkeypatch)
    monkeypatch.setitem(sys.modules, "crawler.evidence", None)  # `import crawler.evidence` now fails
    said: list[str] = []
    res = run_pass(st, eng, crawl=False, say=said.append)
    assert res.status == "partial"
    assert res.counts["leads_new"] == 3  # the match stage's work is kept
    fails = _failures(eng, res.run_id)
    assert [k for k, _ in fails] == ["stage_failed"] and fails[0][1].startswith("evidence: ModuleNotFoundError")
    assert "evidence" in res.counts["failed_stages"] and "evidence" in (res.error or "")
    assert set(res.durations) == {"watchlist", "match", "evidence", "alerts"}  # every stage timed, crawl off
    assert any("matching" in m for m in said) and any("evidence" in m for m in said)


def test_required_stage_failure_stops_the_pass_and_names_it(tmp_path, monkeypatch):
    from pipeline import passes

    st, eng = _setup(tmp_path, monkeypatch)
    # a file that cannot be read at all (one bad row would only be refused: the pass goes on)
    (tmp_path / "wl.yaml").write_text("enterprises: [{id: e, name: x, marks: [{id: m, kind: word", encoding="utf-8")
    res = passes.run_pass(st, eng, crawl=False)
    assert res.status == "failed" and res.error.startswith("watchlist: WatchlistError")
    assert "match" not in res.durations  # nothing matched against a watchlist that failed to load
    assert _failures(eng, res.run_id)[0][0] == "stage_failed"


def test_one_settings_with_sections_env_and_flat_access(monkeypatch):
    from alerts.settings import get_alert_settings
    from config.settings import Settings, get_settings, reset_settings_cache

    monkeypatch.setenv("MARKWATCH_REDIS_URL", "redis://:pw@127.0.0.1:6379/0")
    monkeypatch.setenv("MARKWATCH_NOTIFY_URLS", "json://127.0.0.1:9/x")
    monkeypatch.setenv("MARKWATCH_TIMEZONE", "UTC")
    monkeypatch.setenv("MARKWATCH_KEY_MARKET_MIN_SHOP", "5")
    reset_settings_cache()
    st = get_settings()
    assert st.crawl.redis_url == "redis://:pw@127.0.0.1:6379/0"
    assert st.notify.notify_urls == st.notify_urls == "json://127.0.0.1:9/x"
    assert st.schedule.timezone == st.timezone == "UTC" and st.alerts.key_market_min_shop == 5
    assert get_alert_settings() is st and get_settings() is st  # built once
    t = Settings(timezone="Asia/Urumqi", notify_urls="", data_dir="/tmp/x")
    assert t.schedule.timezone == "Asia/Urumqi" and t.notify.notify_urls == "" and t.alerts.key_market_min_shop == 5


def test_no_module_reads_markwatch_environment_variables_itself():
    """Settings come from one place: only config/settings.py knows MARKWATCH_* names."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    pat = re.compile(r"""environ(\.get)?\s*[\[(]\s*["']MARKWATCH_""")
    offenders = [str(p.relative_to(root)) for d in ("config", "watchlist", "crawler", "store", "matcher", "alerts",
                                                     "web", "pipeline") for p in (root / d).rglob("*.py")
                 if pat.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
