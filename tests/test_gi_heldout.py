"""A held-out GI corpus: other real GIs than the dev corpus, built the same way (outside, origin
outside, variants, foreign origin; inside, origin inside, other goods) and scored like
``devset/score.py``. Locations are drawn from the gazetteer with a fixed seed, so every run
judges the same few hundred listings; the figures are printed (``pytest -s``)."""
from __future__ import annotations

import random

import pytest

from matcher.engine import EngineOptions, MatchEngine
from matcher.geo import gazetteer
from matcher.listing import Listing
from watchlist.model import GeographicalIndication, Region, Watchlist

# Real 地理标志 (names, products, protected regions by GB/T 2260 code) not in ../shared/devset.
GIS = [
    ("gi-xinyang-maojian", "信阳毛尖", "绿茶", "茶/绿茶", ["411500"], "信阳 河南"),
    ("gi-ningxia-gouqi", "宁夏枸杞", "枸杞", "滋补保健/枸杞", ["640000"], "宁夏 中宁"),
    ("gi-luochuan-apple", "洛川苹果", "苹果", "生鲜/水果/苹果", ["610629"], "陕西 延安 洛川"),
    ("gi-fuling-zhacai", "涪陵榨菜", "榨菜", "食品饮料/酱菜/榨菜", ["500102"], "重庆 涪陵"),
    ("gi-zhenjiang-cu", "镇江香醋", "醋", "食品饮料/调味品/醋", ["321100"], "江苏 镇江"),
    ("gi-wenshan-sanqi", "文山三七", "三七", "滋补保健/三七", ["532600"], "云南 文山"),
    ("gi-enshi-yulu", "恩施玉露", "绿茶", "茶/绿茶", ["422801"], "湖北 恩施"),
    ("gi-donge-ejiao", "东阿阿胶", "阿胶", "滋补保健/阿胶", ["371524"], "山东 聊城 东阿"),
    ("gi-huangyan-miju", "黄岩蜜橘", "柑橘", "生鲜/水果/柑橘", ["331003"], "浙江 台州 黄岩"),
    ("gi-dangshan-suli", "砀山酥梨", "梨", "生鲜/水果/梨", ["341321"], "安徽 宿州 砀山"),
]
FILLERS = ["新鲜现货", "产地直发", "顺丰包邮", "送礼佳品", "限时特惠", "官方直营", "正宗", "2026新货", "家庭装"]
OTHER_GOODS = [("手机壳 {n}图案 卡通 硅胶软壳", "手机配件/手机壳"), ("T恤 印{n}字样 纯棉 短袖", "服装/男装/T恤"),
               ("冰箱贴 {n} 旅游纪念品 磁贴", "家居/装饰/冰箱贴"), ("{n}主题 帆布包 手提袋", "箱包/帆布包")]
FOREIGN = ["产地：日本", "泰国", "产地：韩国进口", "原产国：意大利", "美国"]


def to_traditional(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(text)


def _counties(rng, exclude_prefixes, n):
    gz = gazetteer()
    pool = [d for d in gz.by_code.values() if d.level == 3 and d.code[:2] not in ("71", "81", "82")
            and not any(d.code.startswith(p) for p in exclude_prefixes) and "直辖" not in gz.full_name(d.code)]
    return [gz.full_name(d.code) for d in rng.sample(pool, n)]


def _prefixes(codes):
    out = []
    for c in codes:
        out.append(c[:2] if c.endswith("0000") else c[:4] if c.endswith("00") else c)
    return out


def build_corpus(seed=20261130):
    rng = random.Random(seed)
    gis, listings, gold = [], [], []
    n = 0

    def add(title, category, loc, origin, gi_id, label, why):
        nonlocal n
        n += 1
        lid = f"h{n:04d}"
        listings.append(Listing(platform="heldout", listing_id=lid, title=title, category=category,
                                seller_location=loc, origin=origin))
        gold.append((lid, gi_id, label, why))

    for gid, name, product, cat, codes, home in GIS:
        gis.append(GeographicalIndication(id=gid, name=name, product=product, category=cat,
                                          region=Region(admin_codes=codes)))
        away = _counties(rng, _prefixes(codes), 8)
        inside = [home, gazetteer().full_name(codes[0])]
        f = lambda: " ".join(rng.sample(FILLERS, 2))  # noqa: E731
        place, prod = name[:2], name[2:]
        for loc in away[:3]:
            add(f"{f()} {name} {product} 500g", cat, loc, None, gid, "pos", "gi-outside")
        for loc in away[3:5]:
            add(f"{name} {f()}", cat, inside[0], f"产地：{loc}", gid, "pos", "gi-origin-outside")
        add(f"{place}特级{prod} {f()}", cat, away[5], None, gid, "pos", "gi-variant")          # inserted word
        add(f"{name}风味 {product} {f()}", cat, away[6], None, gid, "pos", "gi-variant")       # 风味 form
        add(f"{to_traditional(name)} {f()}", cat, away[1], None, gid, "pos", "gi-variant")      # traditional
        add(f"{' '.join(name)} {product} {f()}", cat, away[2], None, gid, "pos", "gi-variant")  # spaced
        add(f"{f()} {name} {product}", cat, inside[0], rng.choice(FOREIGN), gid, "pos", "gi-foreign-origin")
        for loc in inside:
            add(f"{f()} {name} {product}", cat, loc, None, gid, "neg", "gi-inside")
        add(f"{name} {f()}", cat, f"{inside[1]}城关镇", None, gid, "neg", "gi-inside")  # a town inside
        add(f"{name} {f()}", cat, away[7], f"产地：{inside[1]}", gid, "neg", "gi-origin-inside")
        for tpl, ocat in rng.sample(OTHER_GOODS, 2):
            add(tpl.format(n=name), ocat, away[rng.randrange(8)], None, gid, "neg", "gi-othergoods")
    return Watchlist(geographical_indications=gis), listings, gold


@pytest.fixture(scope="module")
def scored():
    wl, listings, gold = build_corpus()
    engine = MatchEngine(wl, EngineOptions(threshold=60, ocr=False, logos=False))
    leads = {(m.listing_id, m.target_id) for lst in listings for m in engine.match(lst)}
    tp = sum(1 for lid, t, lab, _ in gold if lab == "pos" and (lid, t) in leads)
    fn = [(lid, why) for lid, t, lab, why in gold if lab == "pos" and (lid, t) not in leads]
    gold_pos = {(lid, t) for lid, t, lab, _ in gold if lab == "pos"}
    fp = [x for x in leads if x not in gold_pos]
    return tp, fn, fp, listings


def test_heldout_gi_corpus_f1_and_precision(scored):
    tp, fn, fp, listings = scored
    precision = tp / (tp + len(fp)) if tp + len(fp) else 0.0
    recall = tp / (tp + len(fn)) if tp + len(fn) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"held-out GI: {len(listings)} listings, precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}; "
          f"misses {fn[:5]}, false {fp[:5]}")
    assert precision >= 0.97 and f1 >= 0.97, (precision, recall, fn, fp)
