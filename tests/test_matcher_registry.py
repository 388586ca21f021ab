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
    # no logo marks, logos off, no GIs: only the text matcher is built
    assert [type(m).__name__ for m in eng.matchers] == ["TextMatcher"]
    assert TargetKind("gi") is TargetKind.GI and TargetKind.GI == "gi"


def test_gi_matcher_is_built_only_for_a_watchlist_with_gis():
    from watchlist.model import GeographicalIndication

    gi = GeographicalIndication(id="gi-wuchang-rice", name="五常大米", product="大米", category="食品饮料/粮油/大米",
                                region={"admin_codes": ["230184"], "places": ["五常"]})
    w = Watchlist(enterprises=wl().enterprises, geographical_indications=[gi])
    eng = MatchEngine(w, EngineOptions(ocr=False, logos=False))
    assert [type(m).__name__ for m in eng.matchers] == ["TextMatcher", "GIMatcher"]
    got = eng.match(Listing(platform="p", listing_id="1", title="五常大米 新米 10斤", category="食品饮料/粮油/大米",
                            seller_location="江苏省南京市"))
    assert [m.target_id for m in got] == ["gi-wuchang-rice"]
