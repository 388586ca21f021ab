"""Selector specs from source configuration: ``css:...`` or ``xpath:...`` (bare = CSS)."""
from __future__ import annotations

import re

NUM = re.compile(r"\d[\d,]*(?:\.\d+)?")
WAN = re.compile(r"(\d+(?:\.\d+)?)\s*万")


def select(sel, spec: str | None):
    if not spec:
        return None
    if spec.startswith("xpath:"):
        return sel.xpath(spec[6:])
    if spec.startswith("css:"):
        spec = spec[4:]
    if spec.startswith("::attr("):  # an attribute of the node itself
        return sel.xpath("@" + spec[7:-1])
    if spec == "::text":
        return sel.xpath("text()")
    return sel.css(spec)


def first(sel, spec: str | None) -> str:
    r = select(sel, spec)
    if r is None:
        return ""
    for v in r.getall():
        v = " ".join(v.split())
        if v:
            return v
    return ""


def all_text(sel, spec: str | None) -> list[str]:
    r = select(sel, spec)
    if r is None:
        return []
    return [" ".join(v.split()) for v in r.getall() if v and v.strip()]


def number(text: str) -> float | None:
    if not text:
        return None
    w = WAN.search(text)
    if w:
        return float(w.group(1)) * 10000
    m = NUM.search(text)
    return float(m.group(0).replace(",", "")) if m else None
