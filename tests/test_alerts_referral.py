"""Referral pack: a zip with the leads, the evidence artefacts with their hashes and the ledger
proof, and an 电子数据提取笔录-style record."""
from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime

from tests.test_alerts_support import cli, leads, listing, seed, no_browser_screenshots  # noqa: F401

FAKE = "复刻 贵州茅台 飞天53度 酱香型白酒 500ml"


def _capture(data_dir, lead, files: dict[str, bytes]):
    """Store artefacts for a lead's listing the way the crawler does (files + ledger records)."""
    from config.settings import get_settings
    from store import ledger
    from store.db import make_engine, session_scope

    ev = data_dir / "evidence"
    li = lead.listing
    eng = make_engine(settings=get_settings())
    with session_scope(eng) as s:
        for name, data in files.items():
            p = ev / li.platform / li.listing_id / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            ledger.append_file(s, ev, p, listing_pk=li.id, platform=li.platform, listing_id=li.listing_id,
                               kind="html" if name.endswith(".html") else "screenshot", url=li.url)
    with session_scope(eng) as s:
        ledger.write_head(s, ev)
    eng.dispose()


def _records_for(*pks) -> int:
    from sqlalchemy import func, select

    from config.settings import get_settings
    from store.db import make_engine, session_scope
    from store.models import EvidenceRecord

    eng = make_engine(settings=get_settings())
    with session_scope(eng) as s:
        n = s.scalar(select(func.count()).select_from(EvidenceRecord).where(EvidenceRecord.listing_pk.in_(pks)))
    eng.dispose()
    return n


def test_pack_contents_and_hashes(tmp_path, isolated_settings):
    from store.ledger import GENESIS, entry_hash

    seed(tmp_path, [listing("a1", FAKE, price=260, sales=300, seller_id="s1"),
                    listing("b1", "顶级版 NIKE Air Jordan 1 篮球鞋", price=220, kind="nike", seller_id="s2"),
                    listing("c1", FAKE, price=250, seller_id="s3")])
    by = {l.listing.listing_id: l for l in leads()}
    page, shot = "<html><body>复刻 贵州茅台</body></html>".encode(), b"\x89PNG fake screenshot"
    _capture(isolated_settings, by["a1"], {"page.html": page, "shot.png": shot})
    _capture(isolated_settings, by["c1"], {"page.html": b"<html>other</html>"})  # not in the pack
    _capture(isolated_settings, by["b1"], {"page.html": b"<html>nike</html>"})
    a, b = str(by["a1"].id), str(by["b1"].id)
    assert cli("leads", "confirm", a, b, "--by", "张三").exit_code == 0
    out = tmp_path / "case.zip"
    r = cli("leads", "refer", a, b, "--to", "公安", "--by", "张三", "--output", str(out))
    assert r.exit_code == 0, r.output
    n_rec = _records_for(by["a1"].listing_pk, by["b1"].listing_pk)
    assert n_rec >= 3  # ours, plus whatever the pass's evidence capture stored
    assert f"2 leads, {n_rec} evidence files, ledger chain ok" in r.output
    assert {l.status for l in leads() if l.listing.listing_id in ("a1", "b1")} == {"referred"}
    z = zipfile.ZipFile(out)
    names = set(z.namelist())
    assert {"record.html", "leads.json", "ledger.json", "manifest.json", "SHA256SUMS"} <= names
    ev_names = sorted(n for n in names if n.startswith("evidence/"))
    assert len(ev_names) == n_rec and not any("/demo-mall_c1/" in n for n in ev_names)
    assert z.read(next(n for n in ev_names if n.endswith("page.html") and "a1" in n)) == page
    assert z.read(next(n for n in ev_names if n.endswith("shot.png"))) == shot
    # manifest and SHA256SUMS hash every file as stored in the zip
    man = json.loads(z.read("manifest.json"))
    assert man["lead_ids"] == [int(a), int(b)] and man["referred_to"] == "公安"
    for f in man["files"]:
        assert hashlib.sha256(z.read(f["name"])).hexdigest() == f["sha256"]
    assert {f["name"] for f in man["files"]} == names - {"manifest.json", "SHA256SUMS"}
    sums = dict(line.split("  ", 1)[::-1] for line in z.read("SHA256SUMS").decode().splitlines())
    assert sums["record.html"] == hashlib.sha256(z.read("record.html")).hexdigest()
    # ledger proof: entries recompute to their entry_hash and link up to the chain head
    led = json.loads(z.read("ledger.json"))
    assert led["chain_ok"] is True and len(led["entries"]) == n_rec
    for e in led["entries"]:
        assert entry_hash(e["prev_hash"], e["listing_pk"], e["platform"], e["listing_id"], e["kind"], e["path"],
                          e["url"], datetime.fromisoformat(e["captured_at"]), e["sha256"], e["size"]) == e["entry_hash"]
    chain = led["chain_to_head"]
    assert all(chain[i + 1][1] == chain[i][2] for i in range(len(chain) - 1))
    assert chain[-1][2] == led["head"]["entry_hash"] and led["ledger_head_file"].endswith(led["head"]["entry_hash"])
    assert chain[0][1] == GENESIS
    # the record lists what was captured, when, from where, with which hashes
    html = z.read("record.html").decode("utf-8")
    assert "电子数据提取笔录" in html and "张三" in html and "公安" in html
    assert hashlib.sha256(page).hexdigest() in html and hashlib.sha256(shot).hexdigest() in html
    assert by["a1"].listing.url in html and "78,000.00 元" in html
    assert "不一致" not in html and "一致" in html
    lj = json.loads(z.read("leads.json"))
    assert [l["lead_id"] for l in lj["leads"]] == [int(a), int(b)]
    assert [e["action"] for e in lj["leads"][0]["events"]] == ["created", "confirm", "refer"]


def test_tampered_artefact_is_flagged(tmp_path, isolated_settings):
    seed(tmp_path, [listing("a1", FAKE, price=260, seller_id="s1")])
    (lead,) = leads()
    _capture(isolated_settings, lead, {"page.html": b"<html>original</html>"})
    (isolated_settings / "evidence" / "demo-mall" / "a1" / "page.html").write_bytes(b"<html>edited</html>")
    assert cli("leads", "confirm", str(lead.id), "--by", "张三").exit_code == 0
    r = cli("leads", "refer", str(lead.id), "--to", "海关", "--by", "张三", "--output", str(tmp_path / "p.zip"))
    assert r.exit_code == 0 and "not matching the ledger" in r.output
    html = zipfile.ZipFile(tmp_path / "p.zip").read("record.html").decode()
    assert "不一致" in html


def test_refer_needs_confirmed_leads_and_writes_nothing_otherwise(tmp_path):
    seed(tmp_path, [listing("a1", FAKE, price=260, seller_id="s1")])
    (lead,) = leads()
    r = cli("leads", "refer", str(lead.id), "--to", "公安", "--by", "张三", "--output", str(tmp_path / "p.zip"))
    assert r.exit_code == 2 and "confirm it first" in r.output
    assert not (tmp_path / "p.zip").exists()
    assert leads()[0].status == "new"


def test_registration_number_from_the_watchlist_reaches_the_store(tmp_path, db):
    """A mark's 注册号 given in the watchlist YAML is stored (for the referral record) and kept
    when the stored watchlist is read back."""
    from store.db import session_scope
    from store.models import Mark
    from store.repo import load_watchlist_from_db, upsert_watchlist
    from watchlist import load_watchlist

    wl = tmp_path / "wl.yaml"
    wl.write_text("""version: 1
enterprises:
  - id: ent-a
    name: 甲公司
    marks:
      - {id: tm-a, kind: word, text: 甲牌, nice_classes: [33], registration_number: "1234567"}
""", encoding="utf-8")
    with session_scope(db) as s:
        upsert_watchlist(s, load_watchlist(wl))
    with session_scope(db) as s:
        assert s.get(Mark, "tm-a").registration_number == "1234567"
        assert load_watchlist_from_db(s).enterprises[0].marks[0].registration_number == "1234567"
