"""The one allowed-host rule (crawler.hosts) and local paths of imported listings' images."""
from __future__ import annotations

import json

import pytest

from crawler.hosts import HostRule, import_image_path


def fake_dns(table: dict[str, list[str]]):
    def resolve(host, port):
        if host not in table:
            raise OSError(f"unknown host {host}")
        return table[host]
    return resolve


DNS = fake_dns({"shop.example.com": ["93.184.216.34"], "img.shop.example.com": ["93.184.216.35"],
                "rebind.shop.example.com": ["10.0.0.7"], "meta.shop.example.com": ["169.254.169.254"],
                "v6.shop.example.com": ["::ffff:127.0.0.1"], "cdn.example.net": ["100.100.100.200"]})


@pytest.mark.parametrize("url", [
    "https://shop.example.com/item/1", "https://img.shop.example.com/a.jpg", "http://shop.example.com:8080/x",
    "data:image/png;base64,AAAA", "blob:https://shop.example.com/1", "about:blank"])
def test_allowed(url):
    assert HostRule(["shop.example.com"], resolver=DNS).check(url) is None


@pytest.mark.parametrize("url,why", [
    ("https://evil.example.org/", "not an allowed host"),
    ("https://shop.example.com.evil.org/", "not an allowed host"),
    ("file:///etc/passwd", "scheme file"),
    ("ftp://shop.example.com/x", "scheme ftp"),
    ("http://rebind.shop.example.com/", "internal address 10.0.0.7"),      # subdomain resolving inside
    ("http://meta.shop.example.com/latest/meta-data", "169.254.169.254"),  # cloud metadata
    ("http://v6.shop.example.com/", "::ffff:127.0.0.1"),                   # IPv4-mapped loopback
    ("http://127.0.0.1:8000/", "not an allowed host"),
    ("http://localhost/", "not an allowed host"),
])
def test_refused(url, why):
    r = HostRule(["shop.example.com"], resolver=DNS).check(url)
    assert r is not None and why in r


def test_sandbox_named_by_base_url_allows_only_its_port():
    rule = HostRule([], "http://127.0.0.1:43210")
    assert rule.check("http://127.0.0.1:43210/item/1") is None
    assert "not an allowed host" in rule.check("http://127.0.0.1:43211/admin")
    assert "not an allowed host" in rule.check("http://localhost:43210/item/1")


def test_named_internal_host_is_allowed_but_its_subdomains_are_not():
    rule = HostRule(["intranet.example.com"], resolver=fake_dns({"intranet.example.com": ["10.1.2.3"],
                                                                 "x.intranet.example.com": ["10.1.2.4"]}))
    assert rule.check("http://intranet.example.com/") is None        # the source names it
    assert "internal address" in rule.check("http://x.intranet.example.com/")


def test_cgnat_metadata_is_refused_even_for_a_listed_cdn_subdomain():
    rule = HostRule(["example.net"], resolver=DNS)
    assert "100.100.100.200" in rule.check("https://cdn.example.net/a.jpg")


def test_middleware_uses_the_rule():
    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest

    from crawler.middlewares import AllowedHostsMiddleware

    mw = AllowedHostsMiddleware([], "http://127.0.0.1:5000")
    assert mw.process_request(Request("http://127.0.0.1:5000/item/1")) is None
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("http://127.0.0.1:5001/admin"))


def test_middleware_drops_a_page_that_ended_outside():
    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest
    from scrapy.http import HtmlResponse

    from crawler.middlewares import AllowedHostsMiddleware

    mw = AllowedHostsMiddleware([], "http://127.0.0.1:5000")
    req = Request("http://127.0.0.1:5000/live/1")
    ok = HtmlResponse("http://127.0.0.1:5000/live/1?x=1", body=b"<html></html>", request=req)
    assert mw.process_response(req, ok) is ok
    with pytest.raises(IgnoreRequest):
        mw.process_response(req, HtmlResponse("http://127.0.0.1:5001/admin", body=b"secret", request=req))


@pytest.mark.parametrize("ref", ["/etc/passwd", "../../x.jpg", "a/../../x.jpg", "C:\\Windows\\win.ini",
                                 "\\\\server\\share\\x.jpg", "~/x.jpg", "file:///etc/passwd", ""])
def test_import_image_paths_outside_the_folder_are_refused(tmp_path, ref):
    with pytest.raises(ValueError):
        import_image_path(tmp_path, ref)


def test_import_image_symlink_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "ok.jpg").write_bytes(b"x")
    (tmp_path / "imgs" / "link.jpg").symlink_to("/etc/passwd")
    assert import_image_path(tmp_path, "imgs/ok.jpg") == (tmp_path / "imgs" / "ok.jpg").resolve()
    with pytest.raises(ValueError, match="outside"):
        import_image_path(tmp_path, "imgs/link.jpg")


def test_imported_listing_evidence_takes_only_images_in_its_folder(settings, db, tmp_path):
    """`markwatch listings import` of a file whose images name /etc/passwd and ../ paths: evidence keeps only
    the photo beside the file and says which references were refused; the record says 导入."""
    from sqlalchemy import select

    from crawler.evidence import capture_for_run
    from crawler.models import EvidenceCapture
    from store import models as m
    from store.db import session_scope

    folder = tmp_path / "import"
    (folder / "pics").mkdir(parents=True)
    (folder / "pics" / "p1.jpg").write_bytes(b"\xff\xd8 real photo")
    (tmp_path / "secret.txt").write_text("top secret")
    from typer.testing import CliRunner

    from pipeline.cli import app

    line = {"platform": "p", "listing_id": "L1", "title": "高仿茅台", "url": "https://shop.example.com/item/L1",
            "images": ["pics/p1.jpg", "/etc/passwd", "../secret.txt", "https://shop.example.com/a.jpg"]}
    (folder / "listings.jsonl").write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["listings", "import", str(folder / "listings.jsonl")])
    assert r.exit_code == 0, r.output
    with session_scope(db) as s:
        li = s.scalar(select(m.Listing).where(m.Listing.listing_id == "L1"))
        s.add(m.Lead(listing_pk=li.id, target_id="tm-x", target_kind="word", score=90, reasons=["高仿"]))
        pk = li.id
    c = capture_for_run(settings, db, None, listing_pks=[pk])
    assert c["listings"] == 1
    ev = settings.resolved_data_dir / "evidence"
    with session_scope(db) as s:
        cap = s.scalar(select(EvidenceCapture))
        d = ev / cap.directory
        assert sorted(p.name for p in d.iterdir()) == ["image-1.jpg", "meta.json"]
        assert (d / "image-1.jpg").read_bytes() == b"\xff\xd8 real photo"
        assert "/etc/passwd" in cap.detail and "../secret.txt" in cap.detail and cap.status == "partial"
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        assert meta["method"] == "导入"
        assert not any("top secret" in p.read_text(errors="ignore") for p in d.iterdir())


def test_matching_never_reads_image_paths_outside_the_listings_folder(tmp_path):
    """The matcher resolves an imported listing's images through the same rule: /etc/passwd and
    ../ references are never opened (the OCR/logo readers skip them as missing)."""
    from matcher.listing import listing_from_dict

    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.jpg").write_bytes(b"x")
    li = listing_from_dict({"platform": "p", "listing_id": "1", "title": "t",
                            "images": ["images/a.jpg", "/etc/passwd", "../x.jpg", "https://cdn.example.com/b.jpg"]},
                           base_dir=tmp_path)
    paths = [li.image_path(r) for r in li.images]
    assert paths[0] == str((tmp_path / "images" / "a.jpg").resolve())
    assert paths[1].startswith("refused-image-path:") and "absolute" in paths[1]
    assert paths[2].startswith("refused-image-path:") and ".." in paths[2]
    assert paths[3] == "https://cdn.example.com/b.jpg"
