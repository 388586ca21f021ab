"""The logo matcher on logos and photos generated here (no binary fixtures).

What an officer would notice: a registered logo pasted small / rotated / recoloured / blurred on a
cluttered product photo becomes a lead that says where it is; a logo of the same shape with other
letters, or plain clutter, does not; a broken or bomb-like image is skipped without stopping the run;
goods-class gating works as for word marks.
"""
from __future__ import annotations

import random

import pytest

from matcher.engine import EngineOptions, MatchEngine
from matcher.listing import Listing
from matcher.logo import LogoMatcher
from matcher.logo_synth import make_logo, make_photo
from matcher.types import MatchContext
from watchlist.model import Enterprise, Mark, Watchlist

LOGOS = {
    "logo-star": {"letters": "KM", "shape": "star", "color": (40, 20, 170), "arc": 1},
    "logo-shield": {"letters": "RB", "shape": "shield", "color": (20, 70, 30), "arc": 0},
    "logo-disc": {"letters": "TW", "shape": "disc", "color": (80, 60, 30), "arc": 2},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("logo")
    (d / "logos").mkdir()
    (d / "images").mkdir()
    ents = []
    for mid, spec in LOGOS.items():
        make_logo(**spec).save(d / "logos" / f"{mid}.png")
        ents.append(Enterprise(id=f"ent-{mid}", name=f"{mid} 公司", marks=[
            Mark(id=mid, kind="logo", image=f"logos/{mid}.png", nice_classes=[25],
                 well_known=(mid == "logo-disc"))]))
    wl = Watchlist(enterprises=ents, base_dir=d)
    matcher = LogoMatcher(wl, cache_dir=d / "cache")
    return d, wl, matcher


def _listing(d, name, category="服装/运动服", images=None):
    return Listing(platform="demo-mall", listing_id=name, title="新款 卫衣", category=category,
                   images=images if images is not None else [f"images/{name}.jpg"], base_dir=d)


def _photo(d, name, spec, seed, **kw):
    img, truth = make_photo(make_logo(**spec) if spec else None, random.Random(seed), **kw)
    img.save(d / "images" / f"{name}.jpg", quality=85)
    return truth


def _found(matcher, d, name, classes=frozenset({25})):
    ctx = MatchContext(_listing(d, name), classes, [])
    return {m.target_id: m for m in matcher.match(ctx)}


def _iou(a, b):
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@pytest.mark.parametrize("rel", [0.15, 0.3, 0.45])
def test_logo_found_at_any_scale_with_its_box(world, rel):
    d, _, matcher = world
    truth = _photo(d, f"scale{rel}", LOGOS["logo-star"], seed=11, rel_width=rel, angle=0, recolor=False,
                   blur=0, quality=85)
    found = _found(matcher, d, f"scale{rel}")
    assert set(found) == {"logo-star"}
    m = found["logo-star"]
    assert m.target_kind == "logo" and m.score >= 60
    assert _iou(m.evidence["bbox"], truth["bbox"]) > 0.5
    assert abs(m.evidence["rel_width"] - rel) < 0.08
    # the reason tells the officer where to look
    x, y, w, h = m.evidence["bbox"]
    assert f"x={x}" in m.reasons[0] and "logo-star" in m.reasons[0]
    assert m.evidence["reasons_en"][0].startswith("registered logo")


@pytest.mark.parametrize("angle", [-20, -8, 12, 20])
def test_rotated_logo_found_and_angle_reported(world, angle):
    d, _, matcher = world
    _photo(d, f"rot{angle}", LOGOS["logo-shield"], seed=5, rel_width=0.3, angle=angle, recolor=False, blur=0)
    found = _found(matcher, d, f"rot{angle}")
    assert set(found) == {"logo-shield"}
    assert abs(found["logo-shield"].evidence["angle"] - angle) < 4


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recoloured_blurred_recompressed_logo_found(world, seed):
    d, _, matcher = world
    _photo(d, f"recol{seed}", LOGOS["logo-star"], seed=seed, rel_width=0.25, recolor=True, blur=1.2, quality=60)
    assert set(_found(matcher, d, f"recol{seed}")) == {"logo-star"}


@pytest.mark.parametrize("letters", ["GP", "ZD", "XA"])
def test_same_shape_other_letters_is_not_a_lead(world, letters):
    d, _, matcher = world
    spec = {**LOGOS["logo-star"], "letters": letters}
    _photo(d, f"dis{letters}", spec, seed=7, rel_width=0.3, angle=10, recolor=False, blur=0)
    assert _found(matcher, d, f"dis{letters}") == {}


def test_clutter_only_is_not_a_lead(world):
    d, _, matcher = world
    for seed in range(4):
        _photo(d, f"clutter{seed}", None, seed=seed)
        assert _found(matcher, d, f"clutter{seed}") == {}


def test_two_logos_in_one_photo_both_found(world):
    d, _, matcher = world
    rng = random.Random(3)
    base, _ = make_photo(make_logo(**LOGOS["logo-star"]), rng, rel_width=0.3, angle=0, recolor=False, blur=0)
    other = make_logo(**LOGOS["logo-shield"]).resize((180, 180))
    # put the second logo in whichever half the first is not in
    img = base.copy()
    img.paste(other, (20, 440) if _found_star_top(matcher, d, base) else (20, 20), other)
    img.save(d / "images" / "two.jpg", quality=90)
    assert set(_found(matcher, d, "two")) == {"logo-star", "logo-shield"}


def _found_star_top(matcher, d, img):
    img.save(d / "images" / "probe.jpg", quality=90)
    m = _found(matcher, d, "probe")["logo-star"]
    return m.evidence["bbox"][1] < 320


def test_corrupt_and_bomb_images_are_skipped_with_a_reason(world):
    import io

    from PIL import Image

    d, _, matcher = world
    _photo(d, "good", LOGOS["logo-shield"], seed=9, rel_width=0.3, angle=5, recolor=False, blur=0)
    good = (d / "images" / "good.jpg").read_bytes()
    (d / "images" / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (d / "images" / "notimage.jpg").write_bytes(b"<html>404 not found</html>")
    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")  # tiny file, 400 MP when decoded
    (d / "images" / "bomb.png").write_bytes(buf.getvalue())
    listing = _listing(d, "mixed", images=["images/truncated.jpg", "images/notimage.jpg", "images/bomb.png",
                                           "https://cdn.example.com/x.jpg", "images/missing.jpg",
                                           "images/good.jpg"])
    before = len(matcher.skipped)
    found = {m.target_id for m in matcher.match(MatchContext(listing, frozenset({25}), []))}
    assert found == {"logo-shield"}  # the good image still counts
    skipped = {s.image: s.reason for s in matcher.skipped[before:]}
    assert skipped == {"images/truncated.jpg": "corrupt", "images/notimage.jpg": "corrupt",
                       "images/bomb.png": "too_many_pixels", "https://cdn.example.com/x.jpg": "remote",
                       "images/missing.jpg": "missing"}
    assert all(s.reason_zh for s in matcher.skipped[before:])


def test_goods_class_gating_and_well_known_across_classes(world):
    d, wl, _ = world
    _photo(d, "gate-shield", LOGOS["logo-shield"], seed=4, rel_width=0.3, angle=0, recolor=False, blur=0)
    _photo(d, "gate-disc", LOGOS["logo-disc"], seed=4, rel_width=0.3, angle=0, recolor=False, blur=0)
    eng = MatchEngine(wl, EngineOptions(ocr=False, cache_dir=d / "cache"))

    def leads(name, category):
        return {m.target_id: m for m in eng.match(_listing(d, name, category=category))}

    assert set(leads("gate-shield", "服装/运动服")) == {"logo-shield"}      # class 25: same goods
    assert leads("gate-shield", "食品/零食") == {}                           # other goods, not well-known
    crossed = leads("gate-disc", "食品/零食")                                # well-known: across classes
    assert set(crossed) == {"logo-disc"}
    assert any("驰名" in r for r in crossed["logo-disc"].reasons)


def test_same_photo_analysed_once(world):
    d, _, matcher = world
    _photo(d, "dup", LOGOS["logo-star"], seed=21, rel_width=0.3)
    (d / "images" / "dup-copy.jpg").write_bytes((d / "images" / "dup.jpg").read_bytes())
    n = matcher.images_analysed
    a = _found(matcher, d, "dup")
    ctx = MatchContext(_listing(d, "dup2", images=["images/dup-copy.jpg"]), frozenset({25}), [])
    b = {m.target_id for m in matcher.match(ctx)}
    assert set(a) == b == {"logo-star"}
    assert matcher.images_analysed == n + 1  # identical content: features computed once


def test_logo_features_cached_by_content(world):
    d, wl, _ = world
    again = LogoMatcher(wl, cache_dir=d / "cache")
    assert again.cache.hits == len(LOGOS) and again.cache.misses == 0


def test_unusable_logo_is_reported_not_fatal(tmp_path):
    (tmp_path / "logos").mkdir()
    make_logo(**LOGOS["logo-star"]).save(tmp_path / "logos" / "ok.png")
    (tmp_path / "logos" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    wl = Watchlist(base_dir=tmp_path, enterprises=[Enterprise(id="e", name="E", marks=[
        Mark(id="ok", kind="logo", image="logos/ok.png", nice_classes=[25]),
        Mark(id="broken", kind="logo", image="logos/broken.png", nice_classes=[25])])])
    m = LogoMatcher(wl)
    assert set(m.problems) == {"broken"}
    assert len(m.templates) == 1
