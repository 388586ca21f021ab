"""Held-out generated corpus for word-mark matching, built like ../shared/devset but with OTHER
marks (none of the devset's or tests/data/real-titles' brands), so rules tuned to the dev rows do
not carry a score here.

    python -m bench.heldout_text OUTDIR [--seed 7] [--per-mark 24]

writes OUTDIR/watchlist.yaml, listings.jsonl and gold.jsonl in the devset formats (gold: targets,
label pos/neg/ambiguous, why = case kind). Score with
``python ../shared/devset/score.py OUTDIR/gold.jsonl leads.jsonl --groups word``.

Variants are generated from general tables, not written per brand: homophones from pypinyin
readings (a common character of the same toneless reading), look-alikes from
config/data/xingjinzi.txt, traditional forms from OpenCC s2t, leet from a fixed letter map.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import yaml

# (key, text, latin alias, classes, category path, goods words, reference price, well known)
MARKS = [
    ("bosideng", "波司登", "BOSIDENG", [25], "服装/男装", "羽绒服 连帽 加厚", 1299, True),
    ("semir", "森马", "SEMIR", [25], "服装/男装", "牛仔裤 直筒 男", 199, False),
    ("erke", "鸿星尔克", "ERKE", [25], "运动户外/运动鞋", "跑步鞋 减震 男", 299, False),
    ("warrior", "回力", "WARRIOR", [25], "运动户外/运动鞋", "帆布鞋 经典 白色", 129, True),
    ("peacebird", "太平鸟", "PEACEBIRD", [25], "服装/女装", "连衣裙 收腰 通勤", 699, False),
    ("sanzhisongshu", "三只松鼠", "", [29], "食品饮料/坚果", "每日坚果 750g 礼盒", 139, True),
    ("qiaqia", "洽洽", "CHACHEER", [29], "食品饮料/坚果", "瓜子 焦糖味 500g", 39, True),
    ("jinlongyu", "金龙鱼", "ARAWANA", [29], "食品饮料/粮油/食用油", "调和油 5L 桶装", 89, True),
    ("feihe", "飞鹤", "FEIHE", [29], "食品饮料/海鲜", "星飞帆 奶粉 3段", 329, True),
    ("fenjiu", "汾酒", "FENJIU", [33], "食品饮料/酒类/白酒", "青花20 53度 500ml", 499, True),
    ("yanghe", "洋河", "YANGHE", [33], "食品饮料/酒类/白酒", "梦之蓝 M6 52度", 699, True),
    ("luzhou", "泸州老窖", "LUZHOULAOJIAO", [33], "食品饮料/酒类/白酒", "国窖1573 52度", 1099, True),
    ("changyu", "张裕", "CHANGYU", [33], "食品饮料/酒类/白酒", "解百纳 干红 750ml", 168, True),
    ("snow", "雪花", "SNOW", [32], "食品饮料/酒类/啤酒", "勇闯天涯 500ml*12", 69, True),
    ("nongfu", "椰树", "COCONUT PALM", [32], "食品饮料/饮料", "椰汁 245ml*24", 88, True),
    ("yunnanbaiyao", "云南白药", "YUNNANBAIYAO", [3, 5], "美妆个护/面霜", "牙膏 留兰香 210g", 39, True),
    ("liushen", "六神", "LIUSHEN", [3], "美妆个护/香水", "花露水 驱蚊 195ml", 19, True),
    ("libai", "立白", "LIBY", [3], "家居日用/清洁", "洗衣液 2kg 薰衣草", 49, True),
    ("blue moon", "蓝月亮", "BLUEMOON", [3], "家居日用/清洁", "洗衣液 深层洁净 3kg", 69, True),
    ("safeguard", "舒肤佳", "SAFEGUARD", [3], "家居日用/清洁", "香皂 纯白清香 3块", 29, True),
    ("aux", "奥克斯", "AUX", [11], "家用电器/空调", "1.5匹 变频 挂机", 2399, False),
    ("fotile", "方太", "FOTILE", [11], "家用电器/风扇", "油烟机 侧吸 大吸力", 3999, True),
    ("skyworth", "创维", "SKYWORTH", [9], "手机数码/手机", "电视 65英寸 4K", 2999, True),
    ("changhong", "长虹", "CHANGHONG", [9], "手机数码/充电器", "充电器 快充 20W", 59, True),
    ("bull", "公牛", "BULL", [9], "手机数码/充电器", "插线板 USB 1.8米", 49, True),
    ("deli", "得力", "DELI", [16], "文具/笔", "中性笔 0.5mm 12支", 19, False),
    ("chenguang", "晨光", "M&G", [16], "文具/笔", "按动中性笔 黑色 36支", 29, True),
    ("yadea", "雅迪", "YADEA", [12], "运动户外/自行车", "电动车 长续航 48V", 2999, True),
    ("aima", "爱玛", "AIMA", [12], "运动户外/自行车", "电动自行车 新国标", 2599, True),
    ("suning", "九牧", "JOMOO", [11], "家用电器/风扇", "淋浴花洒 恒温 套装", 1299, True),
]
FILLERS = ["包邮", "新款", "现货速发", "顺丰包邮", "七天无理由", "送礼佳品", "爆款", "限时特惠", "【官方直营】", "假一赔十"]
CUES = ["高仿", "超A", "A货", "1:1", "纯原", "原单尾货", "过验", "复刻", "莆田", "同厂", "天花板版本", "原厂皮"]
LEET = {"O": "0", "I": "1", "E": "3", "A": "4", "S": "5", "L": "1"}
UNRELATED = [("汽车用品/脚垫", "汽车 脚垫 全包围 专车专用"), ("家居日用/收纳", "收纳箱 塑料 大号 带盖"),
             ("宠物/猫粮", "猫粮 成猫 10kg 鱼肉味"), ("图书/励志", "励志 畅销书 正版"),
             ("家纺/床品", "四件套 纯棉 1.8m床"), ("运动户外/野营", "帐篷 户外 加厚 防雨")]


def _homophone(text: str, rng: random.Random) -> str | None:
    from pypinyin import Style, lazy_pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    from matcher.variants import _CF

    idx = list(range(len(text)))
    rng.shuffle(idx)
    for i in idx:
        py = lazy_pinyin(text[i], style=Style.NORMAL)[0]
        cands = [chr(cp) for cp, r in pinyin_dict.items() if 0x4E00 <= cp <= 0x9FFF and chr(cp) != text[i]
                 and _CF.get(chr(cp), 0) > 2000 and lazy_pinyin(chr(cp), style=Style.NORMAL)[0] == py]
        if cands:
            return text[:i] + rng.choice(sorted(cands)) + text[i + 1:]
    return None


def _lookalike(text: str, rng: random.Random) -> str | None:
    from config.settings import DATA_TABLES_DIR

    groups = [ln.split("#")[0].split() for ln in (DATA_TABLES_DIR / "xingjinzi.txt").read_text(encoding="utf-8").splitlines()]
    for i in rng.sample(range(len(text)), len(text)):
        for g in groups:
            chars = [c for tok in g for c in tok]
            if text[i] in chars:
                others = [c for c in chars if c != text[i]]
                if others:
                    return text[:i] + rng.choice(others) + text[i + 1:]
    return None


def _traditional(text: str) -> str | None:
    import opencc

    t = opencc.OpenCC("s2t").convert(text)
    return t if t != text else None


def _leet(alias: str, rng: random.Random) -> str | None:
    pos = [i for i, c in enumerate(alias) if c in LEET and 0 < i < len(alias) - 1]
    if not pos or len(alias) < 4:
        return None
    i = rng.choice(pos)
    return alias[:i] + LEET[alias[i]] + alias[i + 1:]


def _trap(text: str, rng: random.Random) -> str | None:
    """Two ordinary words that meet inside the mark (办公|牛仔裤 around 公牛): the mark's
    characters cross a word boundary, as in 人格|力量 around 格力."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    F = jieba.dt.FREQ
    if len(text) != 2:
        return None
    left = [w for w, f in F.items() if f >= 300 and 2 <= len(w) <= 3 and w.endswith(text[0]) and text not in w]
    right = [w for w, f in F.items() if f >= 300 and 2 <= len(w) <= 3 and w.startswith(text[1]) and text not in w]
    if not left or not right:
        return None
    return rng.choice(sorted(left)) + rng.choice(sorted(right))


def _ordinary(word: str | None) -> bool:
    """A generated variant that is an ordinary dictionary word (长江 for 长虹) is not a disguise."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    return bool(word) and (jieba.dt.FREQ.get(word) or 0) >= 50


def build(outdir: Path, seed: int = 7, per_mark: int = 24) -> dict:
    rng = random.Random(seed)
    ents, listings, gold = [], [], []
    n = 0

    def add(title, cat, price, targets, label, why, seller="s%06d", desc=""):
        nonlocal n
        n += 1
        lid = f"h{n:05d}"
        sid = seller % rng.randrange(10 ** 6) if "%" in seller else seller
        listings.append({"platform": "demo-mall", "listing_id": lid, "url": f"http://marketplace.test/item/{lid}",
                         "kind": "listing", "title": title, "description": desc, "price": price, "currency": "CNY",
                         "seller_id": sid, "seller_name": f"好物店{rng.randrange(100)}", "seller_location": "浙江 杭州",
                         "category": cat, "images": [], "captured_at": "2026-11-20T08:00:00+08:00"})
        gold.append({"listing_id": lid, "targets": targets, "label": label, "why": why})

    other_cat = {}
    for key, text, alias, classes, cat, goods, ref, wk in MARKS:
        other_cat[key] = next(c for k2, _, _, cl2, c, _, _, _ in MARKS if not set(cl2) & set(classes))
    for key, text, alias, classes, cat, goods, ref, wk in MARKS:
        mid = f"tm-h-{key.replace(' ', '')}"
        ents.append({"id": f"ent-h-{key.replace(' ', '')}", "name": f"{text}（权利人）",
                     "authorized_sellers": [{"platform": "demo-mall", "seller_id": f"s-{key.replace(' ', '')}-official"}],
                     "marks": [{"id": mid, "kind": "word", "text": text, "aliases": [alias] if alias else [],
                                "nice_classes": classes, "well_known": wk, "reference_price": ref}]})

        def t(core):
            parts = [rng.choice(FILLERS), core, goods, rng.choice(FILLERS)]
            return " ".join(p for p in parts if p)

        normal = round(ref * rng.uniform(0.8, 1.1), 2)
        cheap = round(ref * rng.uniform(0.08, 0.3), 2)
        for _ in range(max(1, per_mark // 12)):
            add(t(text), cat, normal, [mid], "ambiguous", "exact-plain")
            add(t(text), cat, cheap, [mid], "pos", "price")
            cue = rng.choice(CUES)
            add(f"{cue} " + t(text), cat, normal, [mid], "pos", f"cue:{cue}")
            add(t(f"{text}{rng.choice(['同款', '平替'])}"), cat, normal * 0.5, [mid], "pos", "style")
            add(t(text), cat, ref, [], "neg", "authorised seller", seller=f"s-{key.replace(' ', '')}-official")
            add(f"适用于{text} " + goods.split()[0] + " 配件 替换", cat, 25.0, [], "neg", "compatible")
            ucat, ugoods = rng.choice(UNRELATED)
            add(f"{rng.choice(FILLERS)} {ugoods} {rng.choice(FILLERS)}", ucat, 59.0, [], "neg", "unrelated")
            if wk:
                oc = other_cat[key]
                add(f"{rng.choice(FILLERS)} {text}牌 {oc.split('/')[-1]} 新款", oc, 99.0, [mid], "pos", "crossclass")
            h = _homophone(text, rng)
            h = None if _ordinary(h) else h
            if h:
                add(t(h), cat, normal, [mid], "pos", "variant:homophone")
            la = _lookalike(text, rng)
            if la and not _ordinary(la):
                add(t(la), cat, normal, [mid], "pos", "variant:lookalike")
            tr = _traditional(text)
            if tr:
                add(t(tr), cat, normal, [mid], "pos", "variant:traditional")
            add(t(" ".join(text)), cat, normal, [mid], "pos", "variant:spaced")
            tp = _trap(text, rng)
            if tp:
                add(f"{rng.choice(FILLERS)} {tp} {goods} {rng.choice(FILLERS)}", cat, normal, [], "neg", "trap")
            if h and len(text) == 2:  # a short mark's sound-alike on goods nobody can classify
                add(f"{rng.choice(FILLERS)} {h} 礼品 {rng.choice(FILLERS)}", "", normal, [], "neg", "weak-unknown")
            add(t(f"非{text}"), cat, normal * 0.6, [mid], "pos", "abuse:非X")
            add(t(f"{text}同品质"), cat, normal * 0.6, [mid], "pos", "abuse:同品质")
            if alias:
                add(f"{alias} {goods} replica mirror quality", cat, normal, [mid], "pos", "cue:replica")
                add(f"Replacement part compatible with {alias} {goods}", cat, 19.0, [], "neg", "compatible-en")
            if alias:
                lt = _leet(alias, rng)
                if lt:
                    add(t(lt), cat, normal, [mid], "pos", "variant:leet")
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "watchlist.yaml").write_text(yaml.safe_dump({"version": 1, "enterprises": ents}, allow_unicode=True,
                                                          sort_keys=False), encoding="utf-8")
    with open(outdir / "listings.jsonl", "w", encoding="utf-8") as f:
        for x in listings:
            f.write(json.dumps(x, ensure_ascii=False) + "\n")
    with open(outdir / "gold.jsonl", "w", encoding="utf-8") as f:
        for x in gold:
            f.write(json.dumps(x, ensure_ascii=False) + "\n")
    return {"listings": len(listings), "marks": len(ents)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-mark", type=int, default=24)
    a = ap.parse_args()
    print(build(a.outdir, a.seed, a.per_mark))


if __name__ == "__main__":
    main()
