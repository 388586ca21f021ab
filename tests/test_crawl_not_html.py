"""A page that is not HTML (an image, a PDF, JSON, empty, binary) saved or served as an item page
gets a message that says so, not a selector complaint (review 2026-11-30)."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from crawler.check import check_page
from crawler.parse import not_html
from crawler.sources import read_source_file as load_source

SANDBOX = "config/sources/sandbox-mall.yaml"


def _png() -> bytes:
    b = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(b, "PNG")
    return b.getvalue()


@pytest.mark.parametrize("body,what", [
    (_png(), "PNG"), (b"%PDF-1.4\n%\xe2\xe3\n1 0 obj", "PDF"), (b'{"title": "x"}', "JSON"), (b"", "empty"),
    (bytes(range(256)) * 4, "binary"),
])
def test_check_names_what_the_page_is(body, what):
    rep = check_page(load_source(SANDBOX), body, "http://localhost/item/1.html")
    assert rep.listing is None
    assert "not HTML" in rep.error and what in rep.error


def test_html_pages_pass_including_gbk_and_a_wrong_header():
    assert not_html("<html><head><meta charset='gbk'></head><body>耐克</body></html>".encode("gbk")) is None
    assert not_html(b"\xef\xbb\xbf<!DOCTYPE html><html></html>", "application/octet-stream") is None
    assert not_html(b"<html><body>x</body></html>", "image/png") is None
    assert "image/png" in not_html(b"just text, no markup", "image/png")
