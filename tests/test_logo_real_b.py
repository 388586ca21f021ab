"""Logos in real photos of brands the matcher was not tuned on, and logos printed in negative.

* tests/data/flickrlogos27b: 8 other FlickrLogos-27 brands (README there): recall floor, no false
  lead on other brands' photos or unrelated scenes;
* tests/data/flickrlogos27-blind: a reviewer's blind pick of Nike/Adidas photos for the registered
  crops of tests/data/flickrlogos27 (README there);
* a logo registered dark on light is found printed light on dark (matcher/logo_photo.py), and the
  negative descriptors it relies on are what SIFT gives on the inverted image;
* a logo drawn in thin pieces (a double chevron over thin letters) is found, not scored 0 for
  having no grid cell wide enough to compare (matcher.logo_photo.thin_design_cells);
* a placement that many keypoints agree on but whose fine edges are drowned by texture (thread,
  weave, grain) is accepted on a coarse-scale reading; a logo with another letter under the same
  texture is not (matcher.logo_photo.coarse_rescue).
"""
from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageOps

from matcher import logo_features as lf
from matcher import logo_photo
from matcher.logo import LogoMatcher
from matcher.logo_photo import negative_descriptors
from matcher.logo_synth import _font, make_logo, make_photo
from watchlist.model import Enterprise, Mark, Watchlist

DATA = Path(__file__).parent / "data"


def test_negative_descriptors_equal_sift_on_the_inverted_image():
    rng = np.random.default_rng(5)
    img = Image.new("L", (320, 240), 200)
    d = ImageDraw.Draw(img)
    for _ in range(25):
        x, y = rng.integers(0, 300, 2)
        d.polygon([tuple(map(int, rng.integers(-30, 30, 2) + (x, y))) for _ in range(4)],
                  fill=int(rng.integers(0, 120)))
    g = np.asarray(img)
    sift = lf._sift()
    k1, d1 = sift.detectAndCompute(g, None)
    k2, d2 = sift.detectAndCompute(255 - g, None)
    assert len(k1) >= 30
    p2 = np.array([k.pt for k in k2])
    neg = negative_descriptors(d1)
    same = 0
    for i, k in enumerate(k1):
        near = np.nonzero(np.hypot(*(p2 - k.pt).T) < 0.5)[0]
        if len(near):
            same += min(np.linalg.norm(d2[j] - neg[i]) for j in near) < 1.0
    assert same >= 0.9 * len(k1)  # the inverted image's descriptors are the negatives, not new ones
    assert np.linalg.norm(d1 - neg, axis=1).mean() > 100  # and they differ from the originals


def _photo_crop_logo() -> Image.Image:
    """A dark logo as a holder crops it from a photo: opaque, on its light background."""
    logo = make_logo("RQ", "shield", (20, 20, 20)).convert("RGBA")
    bg = Image.new("RGBA", logo.size, (235, 235, 230, 255))
    return Image.alpha_composite(bg, logo).convert("RGB")


def test_logo_printed_in_negative_is_found(tmp_path):
    logo = _photo_crop_logo()
    logo.save(tmp_path / "rq.png")
    wl = Watchlist(enterprises=[Enterprise(id="e", name="企业", marks=[
        Mark(id="rq", kind="logo", image="rq.png", nice_classes=[25], well_known=True)])], base_dir=tmp_path)
    m = LogoMatcher(wl, cache_dir=tmp_path / "cache")
    assert not m.problems
    rng = random.Random(7)
    found = 0
    for j in range(4):
        photo, _ = make_photo(logo.convert("RGBA"), rng, rel_width=0.35, angle=rng.uniform(-10, 10),
                              recolor=False, blur=0, quality=90)
        ImageOps.invert(photo.convert("RGB")).save(tmp_path / f"neg{j}.jpg", quality=90)
        dets, _ = m.detect_file(str(tmp_path / f"neg{j}.jpg"))
        found += any(d.template == 0 for d in dets)
    assert found >= 3, f"negative prints found {found}/4"


def _real(folder: str) -> dict:
    from bench.bench_logo import run_real

    return run_real(str(DATA / folder))


def test_heldout_real_brands_recall_without_false_leads():
    r = _real("flickrlogos27b")
    assert not r["refused"], r["refused"]
    assert r["positives"] == 60
    assert r["false_leads"] == []
    assert r["recall"] >= 0.60, r["missed"]  # measured 0.617 (37/60); 0.567 before the thin-design cells
    # and the coarse reading, 0.55 without the negative pass


def test_blind_nike_adidas_photos_recall_without_false_leads():
    r = _real("flickrlogos27-blind")
    assert r["positives"] == 16
    assert r["false_leads"] == []
    assert r["recall"] >= 0.30, r["missed"]  # measured 0.312 (5/16); 0.19 without the negative pass


def test_first_real_set_recall_with_coarse_reading():
    r = _real("flickrlogos27")
    assert r["false_leads"] == []
    assert r["recall"] >= 0.78, r["missed"]  # measured 0.816 (31/38); 0.711 without the coarse reading


def _chevrons(letters: str, rise: int = 90) -> Image.Image:
    """A Citroen-like design: two wide chevrons (a darker line along each, as shading gives) over
    thin lettering; the logo's eroded interior covers ~6 % of its box. ``rise=0``: two flat bars."""
    im = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    for y in (60, 150):
        pts = [(40, y + 90), (200, y + 90 - rise), (360, y + 90)]
        d.line(pts, fill=(150, 20, 30, 255), width=30, joint="curve")
        d.line(pts, fill=(60, 10, 10, 255), width=5, joint="curve")
    d.text((60, 300), letters, fill=(150, 20, 30, 255), font=_font(40))
    return im


def _logo_wl(tmp_path, logo: Image.Image) -> LogoMatcher:
    logo.save(tmp_path / "logo.png")
    wl = Watchlist(enterprises=[Enterprise(id="e", name="企业", marks=[
        Mark(id="mk", kind="logo", image="logo.png", nice_classes=[25], well_known=True)])], base_dir=tmp_path)
    m = LogoMatcher(wl, cache_dir=tmp_path / "cache")
    assert not m.problems
    return m


def _found(m: LogoMatcher, photos: list[Image.Image], tmp_path) -> int:
    n = 0
    for j, ph in enumerate(photos):
        p = tmp_path / f"p{j}.jpg"
        ph.save(p, quality=90)
        dets, _ = m.detect_file(str(p))
        n += any(d.template == 0 for d in dets)
    return n


def test_logo_of_thin_pieces_has_cells_and_is_found(tmp_path):
    t = lf.prepare_logo(_chevrons("KTRV"))
    _region, _interior, cells = lf._regions(t)
    assert len(cells) >= 3  # before: none, so every placement scored 0
    m = _logo_wl(tmp_path, _chevrons("KTRV"))
    rng = random.Random(3)
    photos = [make_photo(_chevrons("KTRV"), rng, rel_width=0.4, recolor=False, blur=0, quality=90)[0]
              for _ in range(4)]
    assert _found(m, photos, tmp_path) >= 3
    # the same lettering under two flat bars is not this logo
    others = [make_photo(_chevrons("KTRV", rise=0), rng, rel_width=0.4, recolor=False, blur=0, quality=90)[0]
              for _ in range(4)]
    assert _found(m, others, tmp_path) == 0


def _photo_crop(letters: str) -> Image.Image:
    """A logo as a holder crops it from a photo: opaque, unevenly lit, with sensor noise."""
    logo = make_logo(letters, "shield", (30, 60, 140)).convert("RGBA")
    bg = Image.new("RGBA", logo.size, (235, 235, 230, 255))
    im = np.asarray(Image.alpha_composite(bg, logo).convert("RGB")).astype(np.float32)
    h, w = im.shape[:2]
    light = np.linspace(0.75, 1.1, w)[None, :, None] * np.linspace(1.05, 0.85, h)[:, None, None]
    noise = np.random.default_rng(0).normal(0, 6, im.shape)
    return Image.fromarray((im * light + noise).clip(0, 255).astype(np.uint8))


def _textured(img: Image.Image, seed: int) -> Image.Image:
    """The photo as a coarse fabric shows it: soft edges and strong grain about a thread wide."""
    a = cv2.GaussianBlur(np.asarray(img).astype(np.float32), (0, 0), 2.0)
    grain = cv2.GaussianBlur(np.random.default_rng(seed).normal(0, 1, a.shape[:2]).astype(np.float32), (0, 0), 1.0)
    return Image.fromarray((a + 32 * grain[..., None] / grain.std()).clip(0, 255).astype(np.uint8))


def _textured_photos(logo: Image.Image, rng: random.Random, n: int, seed: int) -> list[Image.Image]:
    return [_textured(make_photo(logo.convert("RGBA"), rng, rel_width=0.4, recolor=False, blur=0, quality=90)[0],
                      seed + j) for j in range(n)]


def test_textured_logo_found_on_coarse_reading_not_other_letters(tmp_path, monkeypatch):
    logo = _photo_crop("RQ")
    m = _logo_wl(tmp_path, logo)
    assert not m.templates[0].meta["artwork"]  # a photo crop: no fine local check
    rng = random.Random(5)
    photos = _textured_photos(logo, rng, 6, 0)
    assert _found(m, photos, tmp_path) >= 5
    monkeypatch.setattr(logo_photo, "COARSE_PASS", False)
    m._results.clear()
    assert _found(m, photos, tmp_path) == 0  # the fine check alone finds none of them
    monkeypatch.setattr(logo_photo, "COARSE_PASS", True)
    # the same shield and colour with other letters, under the same texture: not this logo (the
    # coarse grid cells and windows see the letters; a one-letter twin of a photo-crop registration
    # under such texture is not reliably refused: see docs/matching-logo.md)
    for k, letters in enumerate(("KX", "HM", "ZW")):
        assert _found(m, _textured_photos(_photo_crop(letters), rng, 3, 100 * (k + 1)), tmp_path) == 0, letters
