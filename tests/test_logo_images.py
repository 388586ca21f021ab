"""Safe image loading, logo registration, box drawing and `markwatch logos` (images generated here)."""
from __future__ import annotations

import hashlib
import io
import random

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from matcher.images import ImageRejected, open_image, open_image_array, probe_image, sha256_file
from matcher.logo_synth import make_logo, make_photo


def _png(img) -> bytes:
    b = io.BytesIO()
    img.save(b, "PNG")
    return b.getvalue()


def test_good_image_opens_with_hash(tmp_path):
    p = tmp_path / "a.png"
    p.write_bytes(_png(Image.new("RGBA", (64, 40), (10, 20, 30, 0))))
    img = open_image(p)
    assert img.mode == "RGB" and img.size == (64, 40)
    assert img.getpixel((0, 0)) == (255, 255, 255)  # transparency flattened on white
    info = probe_image(p)
    assert (info.format, info.width, info.height) == ("PNG", 64, 40)
    assert info.sha256 == sha256_file(p) == hashlib.sha256(p.read_bytes()).hexdigest()
    assert open_image_array(p, "L", max_side=32).shape == (20, 32)


@pytest.mark.parametrize("name,data,reason", [
    ("html.jpg", b"<html>blocked</html>", "corrupt"),
    ("empty.jpg", b"", "corrupt"),
    ("truncated.png", _png(Image.effect_noise((200, 200), 60))[:500], "corrupt"),
    ("bomb.png", _png(Image.new("1", (12000, 12000))), "too_many_pixels"),
    ("tiny.png", _png(Image.new("RGB", (3, 3))), "too_small"),
])
def test_bad_images_rejected_with_reason(tmp_path, name, data, reason):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(ImageRejected) as e:
        open_image(p)
    assert e.value.reason == reason
    assert e.value.reason_zh  # shown to officers


def test_size_limits_and_unsupported_format(tmp_path):
    p = tmp_path / "big.png"
    p.write_bytes(_png(Image.effect_noise((300, 300), 80)))
    with pytest.raises(ImageRejected) as e:
        open_image(p, max_bytes=1000)
    assert e.value.reason == "too_large"
    ico = tmp_path / "x.ico"
    Image.new("RGB", (32, 32)).save(ico, "ICO")
    with pytest.raises(ImageRejected) as e:
        open_image(ico)
    assert e.value.reason == "unsupported_format"
    with pytest.raises(ImageRejected) as e:
        open_image("https://example.com/a.jpg")
    assert e.value.reason == "remote"


def test_register_logo_stores_by_hash_and_caches_features(tmp_path):
    from matcher.logo_cache import FeatureCache, LogoProblem
    from watchlist.logos import register_logo

    src = tmp_path / "acme.png"
    make_logo("AC", "hexagon", (150, 30, 30)).save(src)
    info = register_logo(src, data_dir=tmp_path / "var")
    assert info.stored.read_bytes() == src.read_bytes()
    assert info.stored.name == f"{info.sha256}.png"
    assert info.features > 30
    cache = FeatureCache(tmp_path / "var" / "cache")
    assert cache.get(info.sha256) is not None  # precomputed once, reused by the matcher
    plain = tmp_path / "plain.png"
    Image.new("RGB", (200, 200), (200, 30, 30)).save(plain)
    with pytest.raises(LogoProblem):
        register_logo(plain)


def test_draw_box_on_thumbnail(tmp_path):
    from matcher.logo_draw import draw_detection

    img = Image.new("RGB", (800, 600), (255, 255, 255))
    thumb = draw_detection(img, [{"bbox": [400, 300, 200, 100], "label": "logo-x"}], max_side=400)
    assert thumb.size == (400, 300)
    a = np.asarray(thumb)
    red = (a[:, :, 0] > 200) & (a[:, :, 1] < 60) & (a[:, :, 2] < 60)
    ys, xs = np.nonzero(red)
    assert abs(xs.max() - 300) <= 3 and abs(ys.max() - 200) <= 3  # box corner at (600,400)/2
    assert red[:140, :].sum() > 0  # the label above the box


def test_cli_logos_check_find_draw(tmp_path, monkeypatch):
    import yaml

    from pipeline.cli import app

    monkeypatch.setenv("MARKWATCH_DATA_DIR", str(tmp_path / "var"))
    from config.settings import reset_settings_cache
    reset_settings_cache()
    (tmp_path / "logos").mkdir()
    logo = make_logo("HV", "diamond", (30, 90, 160))
    logo.save(tmp_path / "logos" / "hv.png")
    (tmp_path / "logos" / "bad.png").write_bytes(b"not a png")
    wl = {"version": 1, "enterprises": [{"id": "e1", "name": "E1", "marks": [
        {"id": "logo-hv", "kind": "logo", "image": "logos/hv.png", "nice_classes": [25]}]}]}
    (tmp_path / "wl.yaml").write_text(yaml.safe_dump(wl), encoding="utf-8")
    r = CliRunner().invoke(app, ["logos", "check", str(tmp_path / "wl.yaml")])
    assert r.exit_code == 0, r.output
    assert "logo-hv" in r.output and "features" in r.output

    photo, truth = make_photo(logo, random.Random(4), rel_width=0.3, angle=10, recolor=False, blur=0)
    photo.save(tmp_path / "p.jpg")
    r = CliRunner().invoke(app, ["logos", "find", str(tmp_path / "p.jpg"), "-w", str(tmp_path / "wl.yaml")])
    assert r.exit_code == 0 and r.output.startswith("logo-hv:"), r.output
    r = CliRunner().invoke(app, ["logos", "draw", str(tmp_path / "p.jpg"), "-w", str(tmp_path / "wl.yaml"),
                                 "-o", str(tmp_path / "boxed.png")])
    assert r.exit_code == 0 and Image.open(tmp_path / "boxed.png").size == (480, 480)

    wl["enterprises"][0]["marks"].append({"id": "logo-bad", "kind": "logo", "image": "logos/bad.png",
                                          "nice_classes": [25]})
    (tmp_path / "wl.yaml").write_text(yaml.safe_dump(wl), encoding="utf-8")
    r = CliRunner().invoke(app, ["logos", "check", str(tmp_path / "wl.yaml")])
    assert r.exit_code == 1 and "FAIL  logo-bad" in r.output
    reset_settings_cache()
