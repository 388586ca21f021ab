"""Reasons as data: every "why it matched" line is a code with parameters, rendered to zh-CN
(default) or English from ONE table at display time.

A reason is a dict ``{"code": "hit", ...params}``; ``render(reason, language)`` gives the text.
Leads keep the codes (``Match.evidence['reason_codes']`` and ``reason_codes`` in the leads
JSONL), so the console and digest can show them in either language later.

The scoring weights of the text matcher live here too (``WEIGHTS``), so the points and the words
that explain them are read in one place.
"""
from __future__ import annotations

from typing import Iterable

# Base score of a hit by how the text relates to the registered mark (before context signals).
BASE_SCORES: dict[str, int] = {
    "exact": 45,        # the mark itself: a lead only with another signal (exact-plain is ambiguous)
    "spaced": 68,       # 耐 克, N-I-K-E: inserted to dodge keyword filters
    "fullwidth": 68,    # ＮＩＫＥ
    "traditional": 66,  # 茅臺
    "accent": 64,       # Nestlé for NESTLE
    "confusable": 72,   # Cyrillic/Greek letters posing as Latin ones
    "pinyin": 64,       # maotai
    "lookalike": 70,    # 水久, 老甘妈, カ士, N1KE, GUCCl
    "homophone": 68,    # 耐客, 依利
    "nearsound": 63,    # 三鑫 for 三星: same sound up to fuzzy pinyin (xin/xing, zh/z, n/l)
    "fuzzy": 64,        # STARBUKS: one letter added, dropped or changed in a long Latin mark
    "similar": 40,      # one character of a 3+ character mark changed to an unrelated one
    "nickname": 45,     # b家风衣: initial + 家 nickname of a mark on its goods (+ keyword abuse)
    "folded": 50,       # equal only after OpenCC folded a character that is itself simplified (乾→干)
}

# --- scoring weights of the text matcher (points on a 0-100 scale; 60 = default queue threshold) --
WEIGHTS: dict[str, float] = {
    "unknown_goods": -5,        # the listing's goods could not be classified
    "similar_goods": -8,        # goods in a 类似群 the 注 notes call similar to the mark's (not the same)
    "brand_use": 20,            # "X牌 / X品牌 / X®" on the mark's goods
    "cross_class": 30,          # well-known mark, identity form, on other goods
    "cross_brand_use": 35,      # ... used as the goods' brand there
    "cue_first": 30,            # a counterfeit cue word (scaled by its weight in cue_words.tsv)
    "cue_more": 5,              # a second cue word
    "style": 25,                # X同款 / X平替 / 仿X right at the mark
    "style_generic": 10,        # 大牌平替 / 同款 elsewhere in the listing
    "keyword_abuse": 25,        # 非X / X同品质 / 不是X / X家 nickname
    "brand_stack": 20,          # three or more different registered marks in one title
    "price_low": 25,            # price <= 40 % of the goods' reference price
    "price_lowish": 10,         # price <= 60 %
    "image_only": 20,           # the mark is only printed on the photos
    "indicative_cap": 30,       # indicative use ("适用于X") caps the score here
    "weak_unknown_cap": 45,     # a short mark's homophone/look-alike on unknown goods: not a lead by itself
    "authorised_name": 10,      # seller name looks like an authorised shop's, but the id differs
}
PRICE_LOW_RATIO = 0.4
PRICE_LOWISH_RATIO = 0.6

FIELD = {
    "zh-CN": {"title": "标题", "description": "描述", "caption": "直播画面文字", "image": "图片文字"},
    "en": {"title": "title", "description": "description", "caption": "live caption", "image": "image text"},
}
KIND = {
    "zh-CN": {
        "exact": "相同", "spaced": "相同（字间插入空格或符号）", "fullwidth": "相同（全角字符）",
        "traditional": "相同（繁体写法）", "accent": "相同（加变音符号）", "confusable": "字形相同（混用外文字母）",
        "pinyin": "读音相同（拼音写法）", "lookalike": "字形相近", "homophone": "读音相同", "nearsound": "读音相近",
        "fuzzy": "拼写相近（相差一个字母）", "similar": "仅一字之差", "folded": "繁简转换后相同（原字不同）",
        "nickname": "为其昵称",
    },
    "en": {
        "exact": "is identical to", "spaced": "is identical (spaces/symbols inserted) to",
        "fullwidth": "is identical (full-width) to", "traditional": "is the traditional form of",
        "accent": "is identical (accents added) to", "confusable": "looks identical (foreign letters) to",
        "pinyin": "is the pinyin of", "lookalike": "looks like", "homophone": "sounds like",
        "nearsound": "sounds almost like", "fuzzy": "is spelled one letter off", "similar": "differs by one character from",
        "folded": "equals after traditional-to-simplified folding (different characters)",
        "nickname": "is a nickname of",
    },
}
SUB_REL = {
    "zh-CN": {"sound": "同音", "look": "形近", "both": "音形皆近", "near": "音近", "glyph": "字形相似",
              "tone": "音同调不同"},
    "en": {"sound": "sounds the same as", "look": "looks like", "both": "sounds and looks like",
           "near": "sounds close to", "glyph": "is drawn like", "tone": "has the same syllable, another tone, as"},
}
ABUSE = {
    "zh-CN": {"non": "以'非{mark}'借用商标", "same_quality": "以'{phrase}'宣称与商标商品同品质",
              "not": "以'{phrase}'借用商标", "nickname": "以昵称'{phrase}'指代商标"},
    "en": {"non": "borrows the mark as 'not {mark}' ('{phrase}')", "same_quality": "claims the mark's quality ('{phrase}')",
           "not": "borrows the mark by denial ('{phrase}')", "nickname": "refers to the mark by the nickname '{phrase}'"},
}


def _q(xs: Iterable[str], lang: str) -> str:
    xs = list(xs)
    return "、".join(f"'{x}'" for x in xs) if lang == "zh-CN" else ", ".join(f"'{x}'" for x in xs)


def _hit(p: dict, lang: str) -> str:
    kind = KIND[lang].get(p["kind"], p["kind"])
    if p["kind"] == "homophone" and any(s[2] == "tone" for s in (p.get("subs") or [])):
        kind = "读音相同（声调不同）" if lang == "zh-CN" else "sounds like (same syllables, another tone)"
    alias = p.get("form")
    subs = [s for s in (p.get("subs") or []) if s[2] != "diff"][:2]
    if lang == "zh-CN":
        detail = ""
        if subs and p["kind"] in ("homophone", "nearsound", "lookalike"):
            detail = "（" + "，".join(f"'{a}'与'{b}'{SUB_REL[lang][k]}" for a, b, k in subs) + "）"
        al = f"（{alias}）" if alias else ""
        if p["field"] == "image":
            conf = f"（置信度{p['confidence']:.2f}）" if p.get("confidence") is not None else ""
            return f"图片文字'{p['matched']}'{conf}与注册商标'{p['mark']}'{al}{kind}{detail}"
        return f"{FIELD[lang].get(p['field'], p['field'])}含'{p['matched']}'，与注册商标'{p['mark']}'{al}{kind}{detail}"
    detail = ""
    if subs and p["kind"] in ("homophone", "nearsound", "lookalike"):
        detail = " (" + "; ".join(f"'{a}' {SUB_REL[lang][k]} '{b}'" for a, b, k in subs) + ")"
    al = f" ({alias})" if alias else ""
    conf = f" (confidence {p['confidence']:.2f})" if p.get("confidence") is not None and p["field"] == "image" else ""
    return (f"{FIELD[lang].get(p['field'], p['field'])} '{p['matched']}'{conf} {kind} the registered mark "
            f"'{p['mark']}'{al}{detail}")


def _price(p: dict, lang: str) -> str:
    cur, ref_cur = p.get("currency", "CNY"), p.get("ref_currency", "CNY")
    goods = p.get("goods")
    if cur == ref_cur:
        if lang == "zh-CN":
            g = f"（{goods}类商品）" if goods else ""
            return f"售价¥{p['price']:g}仅为参考价¥{p['ref']:g}{g}的{p['ratio'] * 100:.0f}%"
        g = f" (goods {goods})" if goods else ""
        return f"price {p['price']:g} is {p['ratio'] * 100:.0f}% of the reference price {p['ref']:g}{g}"
    if lang == "zh-CN":
        return (f"售价{p['price']:g} {cur}（按{p['rate_date']}汇率{p['rate']:g}折合{p['converted']:.0f} {ref_cur}）"
                f"仅为参考价{p['ref']:g} {ref_cur}的{p['ratio'] * 100:.0f}%")
    return (f"price {p['price']:g} {cur} (= {p['converted']:.0f} {ref_cur} at the {p['rate_date']} rate {p['rate']:g}) "
            f"is {p['ratio'] * 100:.0f}% of the reference price {p['ref']:g} {ref_cur}")


# --- GI reasons (matcher/gi.py) ---------------------------------------------------------------------
GI_FORM = {
    "zh-CN": {"traditional": "是地理标志'{name}'的繁体写法", "inserted": "即地理标志'{name}'中间插入'{gap}'",
              "shortened": "即地理标志'{name}'的简写", "homophone": "与地理标志'{name}'同音异字",
              "forbidden": "即地理标志'{name}'的'{gap}'用法（地理标志规则禁止'风味/型/式/类'等用法）"},
    "en": {"traditional": "the traditional form of GI '{name}'", "inserted": "GI '{name}' with '{gap}' inserted",
           "shortened": "a shortened form of GI '{name}'", "homophone": "a homophone of GI '{name}'",
           "forbidden": "GI '{name}' in the forbidden '{gap}' form (风味/型/式/类)"},
}
GI_SOURCE = {"zh-CN": {"origin": "产地", "seller_location": "发货地"}, "en": {"origin": "origin", "seller_location": "seller location"}}


def _gi_hit(p: dict, lang: str) -> str:
    if p["field"] == "image":
        conf = p.get("confidence")
        where = (f"图片文字'{p['text']}'" + (f"（置信度{conf:.2f}）" if conf is not None else "")) if lang == "zh-CN" \
            else f"image text '{p['text']}'" + (f" (confidence {conf:.2f})" if conf is not None else "")
    else:
        where = FIELD[lang].get(p["field"], p["field"])
    if p["form"] == "exact":
        return f"{where}含地理标志'{p['name']}'" if lang == "zh-CN" else f"{where} has GI '{p['name']}'"
    desc = GI_FORM[lang][p["form"]].format(name=p["name"], gap=p.get("gap", ""))
    return f"{where}含'{p['snippet']}'，{desc}" if lang == "zh-CN" else f"{where} has '{p['snippet']}': {desc}"


def _gi_place(p: dict, lang: str) -> str:
    src = GI_SOURCE[lang].get(p.get("source", ""), p.get("source", ""))
    text = p.get("text", "")
    if p.get("foreign"):
        return f"{src}'{text}'（境外）" if lang == "zh-CN" else f"{src} '{text}' (abroad)"
    if p.get("resolved"):
        return f"{src}'{text}'（{p['resolved']}）" if lang == "zh-CN" else f"{src} '{text}' ({p['resolved']})"
    if p.get("why"):
        return f"{src}'{text}'（{p['why']}）" if lang == "zh-CN" else f"{src} '{text}' ({p['why']})"
    return f"{src}'{text}'" if lang == "zh-CN" else f"{src} '{text}'"


def _gi_outside(p: dict, lang: str) -> str:
    if lang == "zh-CN":
        return f"{_gi_place(p, lang)}不在保护区域（{p['region']}）内" + ("，未标注产地" if p.get("no_origin") else "")
    return f"{_gi_place(p, lang)} is outside the protected region ({p['region']})" + \
        ("; no 产地 given" if p.get("no_origin") else "")


def _gi_undetermined(p: dict, lang: str) -> str:
    if lang == "zh-CN":
        return f"{_gi_place(p, lang)}范围大于或跨越保护区域（{p['region']}），无法确认是否来自区域内"
    return f"{_gi_place(p, lang)} is too coarse or ambiguous to tell inside from outside the region ({p['region']})"


def _gi_goods_title(p: dict, lang: str) -> str:
    if lang == "zh-CN":
        why = f"标题写明'{p['term']}'" if p.get("term") else f"标题商品为地理标志产品'{p['product']}'"
        where = f"类目'{p['category']}'" if p.get("category") else "未标注类目"
        return f"{why}（{where}）"
    why = f"the title names '{p['term']}'" if p.get("term") else f"the title's goods are the GI's product ({p['product']})"
    return f"{why} ({'category ' + repr(p['category']) if p.get('category') else 'no category'})"



def _logo_found(p: dict, lang: str) -> str:
    rot, how = p.get("rot") or 0, p.get("transform")
    if lang == "zh-CN":
        extra = (f"，旋转约{rot}°" if rot >= 3 else "") + {"affine": "，斜视变形", "homography": "，透视变形"}.get(how, "")
        ev = "按外形轮廓定位" if how == "shape" else f"{p['inliers']}个特征点几何吻合"
        return (f"图{p['image_n']}中发现图形商标'{p['mark']}'（{p['holder']}）：位置 x={p['x']}, y={p['y']}, "
                f"宽{p['w']}, 高{p['h']}（约占图宽{p['pct']}%{extra}），轮廓与笔画相似度{p['similarity']:.2f}，{ev}")
    extra = (f", rotated about {rot}°" if rot >= 3 else "") + \
        {"affine": ", seen at an angle", "homography": ", in perspective"}.get(how, "")
    ev = "located by its silhouette" if how == "shape" else f"{p['inliers']} keypoints geometrically consistent"
    return (f"registered logo '{p['mark']}' ({p['holder']}) found in image {p['image_n']} at x={p['x']}, "
            f"y={p['y']}, {p['w']}x{p['h']} px (about {p['pct']}% of the width{extra}); edge similarity "
            f"{p['similarity']:.2f}, {ev}")


# ONE table: code -> language -> template (str.format over the params) or a function.
TABLE: dict[str, dict[str, object]] = {
    "hit": {"zh-CN": _hit, "en": _hit},
    "goods_class": {"zh-CN": "类别{category}属第{classes_zh}类", "en": "category {category} is in Nice class {classes_en}"},
    "goods_group": {"zh-CN": lambda p, l: f"商品{_q(p['words'], l)}属类似群{p['group']}，与注册商品同群",
                    "en": lambda p, l: f"goods {_q(p['words'], l)} are in 类似群 {p['group']}, the mark's group"},
    "goods_similar": {"zh-CN": "商品属类似商品（类似群{group}，依《类似商品和服务区分表》）",
                      "en": "similar goods (类似群 {group}, per the CNIPA similar goods table)"},
    "goods_unknown": {"zh-CN": "商品类别未能识别", "en": "goods class unknown"},
    "weak_unknown": {"zh-CN": "商品类别未能识别，短商标的近似写法不单独构成线索",
                     "en": "goods unknown: a look-alike or sound-alike of a short mark is not a lead by itself"},
    "brand_use": {"zh-CN": "以'{phrase}'作为商品品牌标注", "en": "marked as the goods' brand ('{phrase}')"},
    "well_known_cross": {"zh-CN": "'{mark}'为驰名商标，跨类保护（商品属第{classes_zh}类）",
                         "en": "well-known mark, protected across classes (goods in class {classes_en})"},
    "brand_use_cross": {"zh-CN": "以'{phrase}'作为商品品牌使用", "en": "used as the goods' brand ('{phrase}')"},
    "cues": {"zh-CN": lambda p, l: "含" + _q(p["words"], l),
             "en": lambda p, l: "counterfeit cue words: " + _q(p["words"], l)},
    "cue_off": {"zh-CN": "'{word}'在此为{context}的行业用语，不计为仿冒暗语",
                "en": "'{word}' is an ordinary trade term here ({context}), not a counterfeit cue"},
    "style": {"zh-CN": "使用'{phrase}'字样，借商标推销仿品", "en": "look-alike phrasing '{phrase}'"},
    "style_generic": {"zh-CN": "含'{phrase}'", "en": "look-alike phrasing '{phrase}'"},
    "keyword_abuse": {"zh-CN": lambda p, l: ABUSE[l][p["pattern"]].format(**p),
                      "en": lambda p, l: ABUSE[l][p["pattern"]].format(**p)},
    "brand_stack": {"zh-CN": lambda p, l: f"标题堆砌多个品牌（{_q(p['marks'], l)}），滥用商标关键字",
                    "en": lambda p, l: f"title stacks several brands ({_q(p['marks'], l)}): keyword abuse"},
    "price_low": {"zh-CN": _price, "en": _price},
    "price_accessory": {"zh-CN": "'{word}'为配件，售价不与该商标商品的参考价比较",
                        "en": "'{word}' is an accessory: its price is not compared with the mark's reference price"},
    "price_no_rate": {"zh-CN": "售价币种{currency}无{ref_currency}汇率，未比较价格",
                      "en": "no {currency}→{ref_currency} rate in the rate table: price not compared"},
    "image_only": {"zh-CN": "商标仅出现在图片中，标题未写明", "en": "the mark appears only in the images, not in the title"},
    "indicative": {"zh-CN": "'{phrase}'表明为配件说明用途（指示性使用）", "en": "indicative use ('{phrase}')"},
    "logo_found": {"zh-CN": _logo_found, "en": _logo_found},
    "logo_well_known": {"zh-CN": "驰名商标，跨类保护", "en": "well-known mark: protected across classes"},
    "logo_class": {"zh-CN": lambda p, l: "商品属" + "、".join(f"第{c}类" for c in p["classes"]) + "，与该商标核定使用类别相同",
                   "en": lambda p, l: f"goods in Nice class {', '.join(map(str, p['classes']))}, as registered for the mark"},
    "gi_hit": {"zh-CN": _gi_hit, "en": _gi_hit},
    "gi_goods_category": {"zh-CN": "商品类目'{category}'与地理标志产品'{product}'相符",
                          "en": "category '{category}' is the GI's product ({product})"},
    "gi_goods_title": {"zh-CN": _gi_goods_title, "en": _gi_goods_title},
    "gi_goods_title_class": {"zh-CN": "标题写明'{term}'，类目'{category}'为同类商品",
                             "en": "the title names '{term}', category '{category}' in the same Nice class"},
    "gi_goods_class": {"zh-CN": "类目'{category}'与地理标志产品'{product}'同属第{classes_zh}类",
                       "en": "category '{category}' is in the GI product's Nice class {classes_en}"},
    "gi_outside": {"zh-CN": _gi_outside, "en": _gi_outside},
    "gi_undetermined": {"zh-CN": _gi_undetermined, "en": _gi_undetermined},
    "gi_unknown": {"zh-CN": lambda p, l: f"产地/发货地无法确认（{p.get('note') or '未填写'}），不能判断是否来自保护区域（{p['region']}）",
                   "en": lambda p, l: f"origin unknown ({p.get('note') or 'not given'}): cannot tell whether the goods "
                                      f"come from the protected region ({p['region']})"},
    "gi_note": {"zh-CN": "{note}", "en": "note: {note}"},
    "authorised_name": {"zh-CN": "店铺名'{name}'与授权店铺'{authorised}'相似，但卖家ID不同（{seller_id}）",
                        "en": "shop name '{name}' looks like the authorised shop '{authorised}' but the seller id "
                              "differs ({seller_id})"},
}


def lang_of(language: str | None) -> str:
    """'en' for any English tag (en, en-US), else 'zh-CN'."""
    return "en" if (language or "").lower().startswith("en") else "zh-CN"


def render(reason: dict, language: str | None = None) -> str:
    """One reason dict -> text in the language (zh-CN default). Unknown codes render as the code
    with its parameters, so an old or foreign code never breaks a display."""
    lang = lang_of(language)
    entry = TABLE.get(reason.get("code", ""))
    if entry is None:
        return str(reason.get("code")) + " " + ", ".join(f"{k}={v}" for k, v in reason.items() if k != "code")
    t = entry[lang]
    p = dict(reason)
    if "classes" in p:
        p["classes_zh"] = "、".join(map(str, p["classes"]))
        p["classes_en"] = ", ".join(map(str, p["classes"]))
    if callable(t):
        return t(p, lang)
    return t.format(**p)


def render_all(reasons: Iterable[dict], language: str | None = None) -> list[str]:
    return [render(r, language) for r in reasons]


def reason(code: str, **params) -> dict:
    """Build a reason dict, checking the code is in the table (a typo fails loudly in tests)."""
    if code not in TABLE:
        raise KeyError(f"unknown reason code {code!r}")
    return {"code": code, **params}
