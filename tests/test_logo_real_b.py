"""Logos in real photos of brands the matcher was not tuned on, and logos printed in negative.

* tests/data/flickrlogos27b: 8 other FlickrLogos-27 brands (README there): recall floor, no false
  lead on other brands' photos or unrelated scenes;
* tests/data/flickrlogos27-blind: a reviewer's blind pick of Nike/Adidas photos for the registered
  crops of tests/data/flickrlogos27 (README there);
* a logo registered dark on light is found printed light on dark (matcher/logo_photo.py), and the
  negative descriptors it relies on are what SIFT gives on the inverted image.
"""
from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageOps

from matcher import logo_features as lf
from matcher.logo import LogoMatcher
from matcher.logo_photo import negative_descriptors
from matcher.logo_synth import make_logo, make_photo
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
    assert r["recall"] >= 0.55, r["missed"]  # measured 0.567 (34/60); 0.55 without the negative pass


def test_blind_nike_adidas_photos_recall_without_false_leads():
    r = _real("flickrlogos27-blind")
    assert r["positives"] == 16
    assert r["false_leads"] == []
    assert r["recall"] >= 0.24, r["missed"]  # measured 0.25 (4/16); 0.19 without the negative pass
