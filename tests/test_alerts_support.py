"""Shared helpers for the alerts/pipeline tests (no tests here): a small watchlist, listings,
and running the real CLI in-process or as a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MARKWATCH = [sys.executable, "-m", "pipeline.cli"]

WATCHLIST = """\
version: 1
enterprises:
  - id: ent-moutai
    name: 贵州茅台酒股份有限公司
    qualifications: [well_known_mark]
    authorized_sellers: [{platform: demo-mall, seller_id: s-official, seller_name: 茅台官方旗舰店}]
    marks:
      - {id: tm-moutai, kind: word, text: 茅台, aliases: [MOUTAI], nice_classes: [33], well_known: true, reference_price: 1499}
  - id: ent-nike
    name: 耐克公司
    marks:
      - {id: tm-nike, kind: word, text: 耐克, aliases: [NIKE], nice_classes: [25], well_known: false, reference_price: 899}
geographical_indications: []
"""

CATEGORY = {"moutai": "食品饮料/酒类/白酒", "nike": "运动户外/运动鞋"}


def listing(listing_id: str, title: str, *, price: float = 300.0, seller_id: str = "s1", seller_name: str = "好物优选1",
            location: str = "浙江 杭州", kind: str = "moutai", platform: str = "demo-mall", sales: int | None = None,
            images: list[str] | None = None) -> dict:
    d = {"platform": platform, "listing_id": listing_id, "url": f"http://marketplace.test/item/{listing_id}",
         "kind": "listing", "title": title, "description": "", "price": price, "currency": "CNY",
         "seller_id": seller_id, "seller_name": seller_name, "seller_location": location,
         "category": CATEGORY[kind], "images": images or [], "captured_at": "2026-11-20T08:00:00+08:00"}
    if sales is not None:
        d["sales"] = sales
    return d


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_watchlist(dirpath: Path) -> Path:
    p = dirpath / "watchlist.yaml"
    p.write_text(WATCHLIST, encoding="utf-8")
    return p


def cli(*args: str, input: str | None = None):
    """Run `markwatch ARGS` in-process (CliRunner); returns the result (exit_code, output)."""
    from typer.testing import CliRunner

    from config.settings import reset_settings_cache
    from alerts.settings import reset_alert_settings_cache
    from pipeline.cli import app

    reset_settings_cache()
    reset_alert_settings_cache()
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def env_for(data_dir: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKWATCH_")}
    env.update({"MARKWATCH_DATA_DIR": str(data_dir), "MARKWATCH_OCR_ENABLED": "false",
                "MARKWATCH_LOGO_ENABLED": "false", "PYTHONPATH": str(REPO)})
    env.update(extra)
    return env


def run_cli(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(MARKWATCH + list(args), cwd=REPO, env=env_for(data_dir, **extra), capture_output=True,
                          text=True, timeout=600)


def seed(tmp_path: Path, rows: list[dict], name: str = "listings.jsonl") -> None:
    """Import the watchlist (once) and `rows`, then run a pass without crawling (in-process)."""
    wl = write_watchlist(tmp_path)
    r = cli("watchlist", "import", str(wl))
    assert r.exit_code == 0, r.output
    r = cli("listings", "import", str(write_jsonl(tmp_path / name, rows)))
    assert r.exit_code == 0, r.output
    r = cli("run", "--no-crawl", "-q")
    assert r.exit_code == 0, r.output


def leads(session_factory=None) -> list:
    """All leads with their listings, by id."""
    from sqlalchemy import select

    from config.settings import get_settings
    from store.db import make_engine, session_scope
    from store.models import Lead

    eng = make_engine(settings=get_settings())
    with session_scope(eng) as s:
        out = list(s.scalars(select(Lead).order_by(Lead.id)))
        for l in out:
            _ = l.listing, l.events
    eng.dispose()
    return out


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_browser_screenshots(monkeypatch):
    """The pass's evidence capture renders listing URLs in Chromium; these tests' URLs are
    fictitious (marketplace.test), so screenshots are switched off (never the network)."""
    import crawler.evidence as ce
    monkeypatch.setattr(ce, "_screenshots", lambda settings, pages, say: {
        p["out"]: {"ok": False, "error": "screenshots disabled in tests"} for p in pages})
