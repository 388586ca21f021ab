"""Text in images, end to end: text rendered onto generated photos is read (with box and confidence),
matched like title text through MatchEngine, cached per image, selected and budgeted; bad images
are skipped with a reason."""
from __future__ import annotations

import glob
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from matcher.engine import EngineOptions, MatchEngine
from matcher.listing import listing_from_dict
from matcher.ocr import ImageTextReader, OcrPolicy

pytest.importorskip("rapidocr_onnxruntime")


def _cjk_font_path() -> str | None:
    cands = sorted(glob.glob("/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc"))
    cands += sorted(glob.glob("/usr/share/fonts/**/*CJK*.tt[cf]", recursive=True))
    if not cands and shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout
        cands = [ln.split(":")[0].strip() for ln in out.splitlines() if ln.strip()]
    return cands[0] if cands else None


CJK_PATH = _cjk_font_path()
needs_cjk = pytest.mark.skipif(CJK_PATH is None, reason="no CJK font installed (fc-list :lang=zh is empty); "
                                                      "install fonts-noto-cjk to run the Chinese OCR cases")


def font(size: int, latin: bool = False):
    if latin:
        for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
            if Path(p).exists():
                return ImageFont.truetype(p, size)
    if CJK_PATH is None:
        pytest.skip("no font available to render text")
    if CJK_PATH.endswith(".ttc"):  # pick the Simplified Chinese face of a CJK collection
        for i in range(10):
            try:
                f = ImageFont.truetype(CJK_PATH, size, index=i)
            except OSError:
                break
            if "SC" in f.getname()[0]:
                return f
    return ImageFont.truetype(CJK_PATH, size)


def photo(path: Path, items, seed=1, bg=(205, 225, 240), clutter=True) -> Path:
    """A 640x640 'product photo': random shapes, then text items
    (text, (x, y), size, dict(angle=, band=colour, colour=, latin=))."""
    rnd = random.Random(seed)
    img = Image.new("RGB", (640, 640), bg)
    d = ImageDraw.Draw(img)
    if clutter:
        for _ in range(4):
            x, y = rnd.randint(0, 560), rnd.randint(0, 560)
            w, h = rnd.randint(60, 200), rnd.randint(60, 200)
            col = tuple(rnd.randint(0, 255) for _ in range(3))
            (d.ellipse if rnd.random() < 0.5 else d.rectangle)([x, y, x + w, y + h], fill=col)
    for text, (x, y), size, opt in items:
        f = font(size, latin=opt.get("latin", False))
        colour = opt.get("colour", (30, 20, 20))
        l, t, r, b = d.textbbox((0, 0), text, font=f)
        layer = Image.new("RGBA", (r - l + 24, b - t + 24), (0, 0, 0, 0))
        ld = ImageDraw.Draw(layer)
        if opt.get("band"):
            ld.rectangle([0, 0, layer.size[0], layer.size[1]], fill=opt["band"] + (255,))
        ld.text((12 - l, 12 - t), text, font=f, fill=colour + (255,))
        if opt.get("angle"):
            layer = layer.rotate(opt["angle"], expand=True, resample=Image.BICUBIC)
        img.paste(layer, (x, y), layer)
    img.save(path, quality=92)
    return path


WATCHLIST = """
version: 1
enterprises:
  - id: ent-jfy
    name: 金丰源食品有限公司
    marks:
      - {id: tm-jfy, kind: word, text: 金丰源, aliases: [JINFENGYUAN], nice_classes: [30], well_known: false}
  - id: ent-velora
    name: Velora Cosmetics
    marks:
      - {id: tm-velora, kind: word, text: 薇洛拉, aliases: [VELORA], nice_classes: [3], well_known: false}
geographical_indications:
  - id: gi-wuchang-rice
    name: 五常大米
    product: 大米
    category: 食品饮料/粮油/大米
    region: {admin_codes: ['230184'], places: [五常, 黑龙江省哈尔滨市五常市]}
"""


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("ocr")


@pytest.fixture(scope="module")
def reader(work):
    r = ImageTextReader(cache_dir=work / "cache", workers=0)
    yield r
    r.close()


@pytest.fixture(scope="module")
def engine(work):
    from watchlist import load_watchlist

    wl = work / "watchlist.yaml"
    wl.write_text(WATCHLIST, encoding="utf-8")
    return MatchEngine(load_watchlist(wl, check_files=False),
                       EngineOptions(ocr=True, logos=False, cache_dir=work / "engine-cache"))


def listing(base: Path, images, **kw):
    d = {"platform": "demo-mall", "listing_id": kw.pop("listing_id", "L1"), "title": "新款 现货 包邮",
         "category": "食品饮料/调味品", "price": 39.0, "seller_id": "s1", "seller_name": "某某小店",
         "seller_location": "江苏 苏州", "images": images}
    d.update(kw)
    return listing_from_dict(d, base_dir=base)


def read(reader, base, name):
    return reader.texts(listing(base, [name]))


def centre(box):
    return sum(p[0] for p in box) / 4, sum(p[1] for p in box) / 4


# ------------------------------------------------------------------ reading

@needs_cjk
def test_reads_chinese_text_with_its_box_and_confidence(reader, work):
    photo(work / "cn.jpg", [("金丰源", (60, 80), 56, {}), ("新品上市", (380, 520), 30, {})])
    got = read(reader, work, "cn.jpg")
    hit = next(t for t in got if t.text == "金丰源")
    assert hit.field == "image" and hit.image == "cn.jpg"
    assert hit.confidence >= 0.8
    cx, cy = centre(hit.box)
    assert 60 < cx < 300 and 80 < cy < 180  # where the words were printed
    assert "新品上市" in [t.text for t in got]


def test_reads_latin_word(reader, work):
    photo(work / "latin.jpg", [("VELORA", (150, 300), 60, {"latin": True})], seed=2)
    got = [t.text for t in read(reader, work, "latin.jpg")]
    assert "VELORA" in got


@needs_cjk
def test_reads_rotated_text(reader, work):
    photo(work / "rot.jpg", [("金丰源", (200, 250), 56, {"angle": 20})], seed=3)
    assert "金丰源" in [t.text for t in read(reader, work, "rot.jpg")]


@needs_cjk
def test_reads_text_on_a_colour_band_over_clutter(reader, work):
    photo(work / "band.jpg", [("五常大米", (100, 400), 48, {"band": (200, 30, 40), "colour": (255, 240, 200)})],
          seed=4)
    assert "五常大米" in [t.text for t in read(reader, work, "band.jpg")]


@needs_cjk
def test_reads_small_text(reader, work):
    photo(work / "small.jpg", [("金丰源", (420, 590), 18, {})], seed=5, clutter=False)
    assert "金丰源" in [t.text for t in read(reader, work, "small.jpg")]


def test_box_of_a_large_photo_is_in_its_own_pixels(reader, work):
    img = Image.new("RGB", (2400, 1600), (240, 240, 230))
    d = ImageDraw.Draw(img)
    f = font(150, latin=True)
    d.text((1500, 1100), "VELORA", font=f, fill=(20, 20, 20))
    l, t, r, b = d.textbbox((1500, 1100), "VELORA", font=f)
    img.save(work / "large.jpg", quality=90)
    hit = next(t for t in read(reader, work, "large.jpg") if t.text == "VELORA")
    xs, ys = [p[0] for p in hit.box], [p[1] for p in hit.box]
    # in the photo's own pixels (it is OCR'd reduced to 1280 px), within a few pixels of the ink
    assert abs(min(xs) - l) < 40 and abs(max(xs) - r) < 40
    assert abs(min(ys) - t) < 40 and abs(max(ys) - b) < 40


# ------------------------------------------------------------------ matching end to end

@needs_cjk
def test_mark_printed_only_on_the_photo_becomes_a_lead_that_says_so(engine, work):
    photo(work / "lead.jpg", [("金丰源", (300, 120), 56, {}), ("限时特惠", (40, 500), 32, {})], seed=6)
    lst = listing(work, ["lead.jpg"])
    assert "金丰源" not in lst.title
    matches = engine.match(lst)
    m = next(m for m in matches if m.target_id == "tm-jfy")
    assert m.evidence.get("field") == "image"
    assert m.evidence.get("image") == "lead.jpg"
    assert len(m.evidence.get("box") or []) == 4 and m.evidence.get("confidence", 0) >= 0.8
    assert any("图片" in r for r in m.reasons)


def test_latin_alias_on_the_photo_is_matched(engine, work):
    photo(work / "alias.jpg", [("VELORA", (80, 200), 64, {"latin": True})], seed=7)
    lst = listing(work, ["alias.jpg"], category="美妆个护/面霜", title="新款 面霜 现货")
    assert "tm-velora" in [m.target_id for m in engine.match(lst)]


@needs_cjk
def test_gi_printed_on_the_photo_of_rice_from_elsewhere_is_a_lead(engine, work):
    photo(work / "gi.jpg", [("五常大米", (120, 160), 60, {})], seed=8)
    lst = listing(work, ["gi.jpg"], category="食品饮料/粮油/大米", title="新米 大米 产地直发",
                  seller_location="江苏 苏州")
    assert "gi-wuchang-rice" in [m.target_id for m in engine.match(lst)]


@needs_cjk
def test_promotional_text_only_raises_nothing(engine, work):
    photo(work / "promo.jpg", [("包邮", (40, 60), 40, {"band": (250, 220, 230)}), ("限时特惠", (300, 200), 40, {}),
                               ("买一送一", (100, 450), 40, {}), ("正品保障", (380, 560), 32, {})], seed=9)
    lst = listing(work, ["promo.jpg"])
    read_back = [t.text for t in engine.texts(lst) if t.field == "image"]
    assert "限时特惠" in read_back and "买一送一" in read_back  # read, yet nothing to match
    assert engine.match(lst) == []


# ------------------------------------------------------------------ bad images

def test_corrupt_missing_and_remote_images_are_skipped_with_a_reason(engine, work):
    (work / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10)
    good = photo(work / "trunc_src.jpg", [("VELORA", (100, 100), 60, {"latin": True})], seed=10)
    (work / "truncated.jpg").write_bytes(good.read_bytes()[:300])
    r = ImageTextReader(cache_dir=None, workers=0)
    lst = listing(work, ["corrupt.jpg", "truncated.jpg", "missing.jpg", "https://img.example.com/a.jpg"],
                  kind="live", listing_id="bad1")
    assert r.texts(lst) == []
    reasons = {s["image"]: s["reason"] for s in r.skipped}
    assert reasons == {"corrupt.jpg": "corrupt", "truncated.jpg": "corrupt", "missing.jpg": "missing",
                       "https://img.example.com/a.jpg": "remote"}
    assert all(s["listing_id"] == "bad1" and s["message"] and s["reason_zh"] for s in r.skipped)
    assert r.stats()["skipped_by_reason"] == {"corrupt": 2, "missing": 1, "remote": 1}
    # the listing is still matched on its title
    bad_title = listing(work, ["corrupt.jpg"], title="金丰源 调味品 现货", listing_id="bad2")
    assert "tm-jfy" in [m.target_id for m in engine.candidates(bad_title)]
    assert [s["reason"] for s in engine.image_text.skipped if s["listing_id"] == "bad2"] == ["corrupt"]


# ------------------------------------------------------------------ cost control

def test_each_distinct_image_is_read_once_and_cached_across_runs(work):
    src = photo(work / "dup_a.jpg", [("VELORA", (100, 300), 60, {"latin": True})], seed=11)
    (work / "dup_b.jpg").write_bytes(src.read_bytes())  # same picture under another name
    cache = work / "dupcache"
    first = ImageTextReader(cache_dir=cache, workers=0)
    a = first.texts(listing(work, ["dup_a.jpg", "dup_b.jpg"], kind="live"))
    assert (first.images_read, first.cache_hits) == (1, 1)
    assert [t.image for t in a if t.text == "VELORA"] == ["dup_a.jpg", "dup_b.jpg"]
    assert len(list((cache / "ocr").rglob("*.json"))) == 1
    second = ImageTextReader(cache_dir=cache, workers=0)  # a later run
    b = second.texts(listing(work, ["dup_b.jpg"]))
    assert (second.images_read, second.cache_hits) == (0, 1)
    assert [(t.text, t.box, t.confidence) for t in b] == [(t.text, t.box, t.confidence) for t in a if t.image == "dup_b.jpg"]


def test_budget_caps_images_read_per_run(work):
    photo(work / "b1.jpg", [("VELORA", (100, 300), 60, {"latin": True})], seed=12)
    photo(work / "b2.jpg", [("VELORA", (100, 100), 60, {"latin": True})], seed=13)
    r = ImageTextReader(cache_dir=None, budget=1, workers=0)
    got = r.texts(listing(work, ["b1.jpg", "b2.jpg"], kind="live"))
    assert r.images_read == 1
    assert [s["reason"] for s in r.skipped] == ["budget"] and r.skipped[0]["image"] == "b2.jpg"
    assert {t.image for t in got} == {"b1.jpg"}


def test_policy_reads_first_image_unless_live_or_in_a_watched_class(work):
    names = ["p1.jpg", "p2.jpg", "p3.jpg"]
    for i, n in enumerate(names):
        photo(work / n, [("VELORA", (100, 100 + 150 * i), 56, {"latin": True})], seed=20 + i, clutter=False)
    r = ImageTextReader(cache_dir=work / "polcache", workers=0, watched_classes={3},
                        policy=OcrPolicy(max_images_per_listing=2))
    plain = listing(work, names, category="食品饮料/调味品")          # class 30, not watched
    watched = listing(work, names, category="美妆个护/面霜")           # class 3, watched
    live = listing(work, names, kind="live", category="食品饮料/调味品")
    assert {t.image for t in r.texts(plain)} == {"p1.jpg"}
    assert {t.image for t in r.texts(watched)} == {"p1.jpg", "p2.jpg"}
    assert {t.image for t in r.texts(live)} == {"p1.jpg", "p2.jpg"}
    assert r.images_read == 2 and r.not_selected == 2 + 1 + 1


def test_watched_classes_come_from_marks_and_gis_well_known_marks_by_their_classes(work):
    from watchlist import load_watchlist

    from matcher.ocr import watched_classes_of

    p = work / "wl_classes.yaml"
    p.write_text(WATCHLIST, encoding="utf-8")
    wl = load_watchlist(p, check_files=False)
    # the word marks' classes (3, 30) and the GI's goods (rice: 30); phones, shoes... are not watched
    assert watched_classes_of(wl) == frozenset({3, 30})
    wl.geographical_indications[0].nice_classes = [31]
    assert watched_classes_of(wl) == frozenset({3, 30, 31})
    # a well-known mark is watched in its registered classes (cross-class use is caught from the
    # first image of every listing), not in every class
    p.write_text(WATCHLIST.replace("nice_classes: [3], well_known: false", "nice_classes: [3], well_known: true"),
                 encoding="utf-8")
    assert watched_classes_of(load_watchlist(p, check_files=False)) == frozenset({3, 30})


def test_prefetch_reads_in_worker_processes_with_the_same_result(work):
    names = []
    for i in range(4):
        names.append(f"pf{i}.jpg")
        photo(work / names[-1], [("VELORA", (60 + 40 * i, 120 + 90 * i), 54, {"latin": True})], seed=30 + i)
    listings = [listing(work, [n], listing_id=f"pf{i}") for i, n in enumerate(names)]
    inline = ImageTextReader(cache_dir=None, workers=0)
    expected = [[(t.text, t.box) for t in inline.texts(x)] for x in listings]
    with ImageTextReader(cache_dir=work / "pfcache", workers=2) as pooled:
        pooled.prefetch(iter(listings))
        got = [[(t.text, t.box) for t in pooled.texts(x)] for x in listings]
        assert pooled.stats()["workers"] == 2
        assert pooled.images_read == 4
    assert got == expected
    assert all(("VELORA" in [t for t, _ in g]) for g in got)
