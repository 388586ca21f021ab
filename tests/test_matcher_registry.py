"""One registry of matchers: a new matcher kind is a module plus one registration."""
from __future__ import annotations

import pytest

from matcher import registry
from matcher.engine import EngineOptions, MatchEngine
from matcher.listing import Listing
from matcher.registry import MatcherKind, TargetKind
from matcher.types import Match
from watchlist.model import Enterprise, Mark, Watchlist


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def wl():
    return Watchlist(enterprises=[Enterprise(id="e1", name="企业", marks=[
        Mark(id="tm1", kind="word", text="山河行", nice_classes=[25])])])


def test_registered_kind_runs_in_the_engine(clean_registry):
    class Probe:
        def match(self, ctx):
            if "探针" in ctx.listing.title:
                return [Match(ctx.listing.listing_id, ctx.listing.platform, "probe-1", TargetKind.WORD, 90, ["probe"])]
            return []

    registry.register(MatcherKind("probe", (TargetKind.WORD,), lambda w, o, g: Probe()))
    eng = MatchEngine(wl(), EngineOptions(ocr=False, logos=False))
    got = eng.match(Listing(platform="p", listing_id="1", title="探针 外套"))
    assert [(m.target_id, str(m.target_kind)) for m in got] == [("probe-1", "word")]
    with pytest.raises(ValueError, match="probe"):
        registry.register(MatcherKind("probe", (TargetKind.GI,), lambda w, o, g: None))


def test_switched_off_kind_is_not_built():
    names = [k.name for k in registry.registered()]
    assert names[:3] == ["text", "gi", "logo"]
    eng = MatchEngine(wl(), EngineOptions(ocr=False, logos=False))
    assert len(eng.matchers) == 2  # no logo marks, logos off: only text and GI matchers
    assert TargetKind("gi") is TargetKind.GI and TargetKind.GI == "gi"
