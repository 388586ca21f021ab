"""Geographical-indication (地理标志) matcher: GI names and variants on the GI's product from
outside the protected region.

A listing is a lead for a GI when
1. its text (title, description, live caption, or text read from its images) carries the GI name
   or a variant: the traditional form (西湖龍井), words inserted between the place part and the
   product part (五常稻花香大米), a shortened product part (胶州白菜 for 胶州大白菜), a homophone of
   the place part (章邱大葱), or a 风味/型/式/类/风格 form (五常风味大米, 西湖龙井型) that GI rules
   forbid on goods not from the region;
2. the goods are the GI's product (category path, else title words; a GI name printed as a
   pattern on a mug is not a lead); and
3. the origin — the 产地 field, else the seller's location — lies outside the region. A location
   that cannot be placed (missing, unreadable, ambiguous) is said so in the reasons, never guessed.

Authorised users of the GI are excluded by the engine (``MatchEngine.is_authorised``).
See docs/matching-gi.md for the rules and scores.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from watchlist.model import GeographicalIndication, Watchlist

from .geo import Resolution, full_name, gazetteer, relation, resolve_location
from .goods import GoodsClassifier, load_goods_classifier
from .normalize import t2s
from .reasons import reason, render_all
from .types import Match, MatchContext, TextSource

_KEEP = re.compile(r"[^0-9a-z\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff]+")
_CAT_SPLIT = re.compile(r"\s*(?:/|>|＞|»|\\|\||,|，)\s*")

# Forms GI rules forbid on goods not from the region (《地理标志产品保护办法》: even with the true
# origin stated, or with words such as 种/型/式/类/风格/仿 …).
FORBIDDEN_WORDS = ("风味", "风格", "口味", "工艺", "仿", "型", "式", "类", "种")
_FORBIDDEN_AFTER = re.compile(r"^(风味|风格|口味|工艺|型(?![号])|式(?![样])|类(?![别型]))")
# The GI name used as a picture or motif, not as the name of the goods.
_PATTERN_AFTER = re.compile(r"^(图案|印花|图样|图形|元素|贴纸|贴画|造型|主题|插画|花纹|刺绣|印字|字样|文字)")
_PATTERN_BEFORE = re.compile(r"(印有|印着|绣有|图案为)$")
MAX_GAP = 5  # characters allowed between the place part and the product part

# Base score per form of the name, before the origin is considered.
FORM_SCORE = {"exact": 80, "traditional": 80, "forbidden": 85, "inserted": 76, "shortened": 74, "homophone": 72}


def _raw_compact(text: str) -> str:
    return _KEEP.sub("", unicodedata.normalize("NFKC", text).casefold())


@lru_cache(maxsize=65536)
def _pinyin(s: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin
    return tuple(lazy_pinyin(s, style=Style.NORMAL, errors="default"))


@dataclass
class _Hit:
    form: str          # exact | traditional | forbidden | inserted | shortened | homophone
    source: TextSource
    start: int         # position in the compact text
    end: int
    snippet: str       # as written (compact, before traditional→simplified)
    gap: str = ""      # inserted or forbidden word

    @property
    def score(self) -> int:
        s = FORM_SCORE[self.form]
        if self.source.field == "description":
            s -= 4
        if self.source.field == "image" and self.source.confidence is not None and self.source.confidence < 0.7:
            s -= 6
        return s


@dataclass
class _GI:
    gi: GeographicalIndication
    names: list[str]                    # compact, simplified
    splits: list[tuple[str, str]]       # (place part, product part) per name
    terms: set[str]                     # goods words of the GI (product, category, product part)
    classes: frozenset[int]
    region_codes: list[str]
    region_texts: list[str]             # region places that are not divisions (compact)
    region_desc: str
    tails: dict[str, list[str]] = field(default_factory=dict)


def _split_name(name: str, gi: GeographicalIndication) -> tuple[str, str] | None:
    """(place part, product part) of a GI name: the longest prefix that is a place name known to
    the gazetteer or the GI's region, else jieba's first word, else the first two characters."""
    if len(name) < 3:
        return None
    gz = gazetteer()
    places = {_raw_compact(t2s(p)) for p in gi.region.places}
    for n in range(len(name) - 2, 1, -1):
        p = name[:n]
        if p in gz.words or any(p + s in gz.words for s in ("市", "县", "区")) or \
                any(p == q or (len(p) >= 2 and q.endswith(p)) for q in places):
            return p, name[n:]
    try:
        import jieba
        jieba.setLogLevel(60)
        words = jieba.lcut(name)
        if len(words) >= 2 and len(words[0]) >= 2 and len(name) - len(words[0]) >= 1:
            return words[0], name[len(words[0]):]
    except Exception:  # pragma: no cover - jieba missing
        pass
    return (name[:2], name[2:]) if len(name) >= 4 else None


def _segments(category: str | None) -> list[str]:
    return [s for s in (x.strip() for x in _CAT_SPLIT.split(t2s(category or ""))) if s]


class GIMatcher:
    def __init__(self, watchlist: Watchlist, goods: GoodsClassifier | None = None, language: str = "zh-CN"):
        self.goods = goods or load_goods_classifier()
        self.language = language
        self.gis = [self._prepare(g) for g in watchlist.geographical_indications]

    # --- preparation ---------------------------------------------------------------------
    def _prepare(self, gi: GeographicalIndication) -> _GI:
        gz = gazetteer()
        names, splits, tails = [], [], {}
        for n in [gi.name, *gi.aliases]:
            c = _raw_compact(t2s(n))
            if len(c) < 2 or c in names:
                continue
            names.append(c)
            sp = _split_name(c, gi)
            if sp:
                splits.append(sp)
                prod = sp[1]
                tails[prod] = [prod[i:] for i in range(len(prod) - 1)] if len(prod) >= 2 else [prod]
        segs = _segments(gi.category)
        terms = {t2s(gi.product)} | set(segs[1:] if len(segs) > 1 else segs)
        for _, prod in splits:
            terms.add(prod)
            terms.update(t for t in tails.get(prod, ()) if len(t) >= 2)
        terms = {t for t in terms if len(t) >= 2}
        classes = frozenset(gi.nice_classes) or (self.goods.from_category(segs[-1]) if segs else frozenset()) \
            or self.goods.from_title(gi.product)
        codes, texts = [], []
        for c in gi.region.admin_codes:
            codes.append(gz.current_code(c))
        for p in gi.region.places:
            r = resolve_location(p)
            if r.ok and r.code not in codes and not any(gz.is_within(r.code, [c]) for c in codes):
                codes.append(r.code)
            elif not r.ok:
                cp = _raw_compact(t2s(p))
                if len(cp) >= 2:
                    texts.append(cp)
        desc = "、".join(full_name(c) for c in codes if gz.get(c)) or "、".join(gi.region.places)
        return _GI(gi, names, splits, terms, classes, codes, texts, desc, tails)

    # --- matching ------------------------------------------------------------------------
    def match(self, ctx: MatchContext) -> list[Match]:
        prepared = []
        for src in ctx.texts:
            raw = _raw_compact(src.text or "")
            simp = t2s(raw)
            if len(simp) != len(raw):  # a phrase conversion changed the length: no aligned snippet
                raw = simp
            prepared.append((src, raw, simp))
        out = []
        for g in self.gis:
            hits = [h for src, raw, simp in prepared for h in self._find(g, src, raw, simp)]
            if not hits:
                continue
            hit = max(hits, key=lambda h: (h.score, -_FIELD_ORDER.get(h.source.field, 9)))
            m = self._judge(g, hit, ctx)
            if m is not None:
                out.append(m)
        return out

    def _find(self, g: _GI, src: TextSource, raw: str, simp: str) -> list[_Hit]:
        cands: list[_Hit] = []

        def add(form, s, e, gap=""):
            if _PATTERN_AFTER.match(simp[e:]) or _PATTERN_BEFORE.search(simp[:s]):
                return  # a picture of the GI, not the goods: not a lead
            cands.append(_Hit(form, src, s, e, raw[s:e], gap))

        for name in g.names:
            for mt in re.finditer(re.escape(name), simp):
                s, e = mt.span()
                f = _FORBIDDEN_AFTER.match(simp[e:])
                if f:
                    add("forbidden", s, e + len(f.group(1)), f.group(1))
                elif raw[s:e] != simp[s:e]:
                    add("traditional", s, e)
                else:
                    add("exact", s, e)
        for place, prod in g.splits:
            for tail in g.tails.get(prod, [prod]):
                if len(tail) < 2 and tail != prod:
                    continue
                for mt in re.finditer(re.escape(tail), simp):
                    p = mt.start()
                    for gap_len in range(0, MAX_GAP + 1):
                        ps = p - gap_len - len(place)
                        if ps < 0:
                            break
                        window = simp[ps:ps + len(place)]
                        gap = simp[ps + len(place):p]
                        if window == place:
                            if any(n in simp[ps:mt.end()] for n in g.names):
                                break  # the name itself (铁观音 ⊃ 观音): found above
                            forb = next((w for w in FORBIDDEN_WORDS if w in gap and
                                         (len(w) > 1 or gap.endswith(w) or gap.startswith(w))), None)
                            if forb:
                                add("forbidden", ps, mt.end(), forb)
                            elif gap_len == 0 or tail == prod:
                                add("inserted" if gap_len else "shortened", ps, mt.end(), gap)
                            else:
                                add("inserted", ps, mt.end(), gap)
                            break
                        if gap_len == 0 and tail == prod and _pinyin(window) == _pinyin(place) \
                                and all("\u3400" <= ch <= "\u9fff" for ch in window):
                            add("homophone", ps, mt.end())
                            break
        # Overlapping candidates: the tightest wins (胶州白菜 rather than 胶州白菜新鲜大白菜).
        hits: list[_Hit] = []
        named = ("exact", "traditional")
        for h in sorted(cands, key=lambda h: (not (h.form in named or (h.form == "forbidden" and h.gap and
                                                                       any(n in simp[h.start:h.end] for n in g.names))),
                                              h.end - h.start, -h.score)):
            if not any(h.start < o.end and o.start < h.end for o in hits):
                hits.append(h)
        return hits

    # --- goods and origin ----------------------------------------------------------------
    def _goods(self, g: _GI, ctx: MatchContext, hit: _Hit) -> tuple[bool, dict | None]:
        """(is the GI's product, the reason code saying why; matcher/reasons.py renders it)."""
        listing = ctx.listing
        segs = _segments(listing.category)
        specific = segs[1:] if len(segs) > 1 else segs
        for s in specific:
            for t in g.terms:
                # Chinese compounds are head-final: 新鲜水果 is 水果, 水果刀 is not
                if t == s or (len(t) >= 2 and s.endswith(t)) or (len(s) >= 2 and t.endswith(s)):
                    return True, reason("gi_goods_category", category=listing.category, product=g.gi.product)
        title = t2s(_raw_compact(listing.title))
        for n in g.names:
            title = title.replace(n, "")
        if hit.source.field == "title":
            title = title.replace(t2s(hit.snippet), "")
        term = next((t for t in sorted(g.terms, key=len, reverse=True) if t in title), None)
        other = self.goods.from_title(title)
        title_says_other = bool(other and g.classes and not (other & g.classes) and not term)
        gi_segs = _segments(g.gi.category)
        if not segs or (len(segs) < len(gi_segs) and gi_segs[:len(segs)] == segs):
            # no category, or only a broader one on the GI's own path (食品饮料 for 食品饮料/水果)
            if title_says_other:
                return False, None
            return True, reason("gi_goods_title", term=term, product=g.gi.product,
                                category=listing.category if segs else None)
        leaf_classes = self.goods.from_category(segs[-1])
        if term and (not leaf_classes or not g.classes or leaf_classes & g.classes):
            return True, reason("gi_goods_title_class", term=term, category=listing.category)
        same_dept = not gi_segs or gi_segs[0] == segs[0]
        if same_dept and leaf_classes and g.classes and leaf_classes & g.classes and not title_says_other:
            cls = sorted(leaf_classes & g.classes)
            return True, reason("gi_goods_class", category=listing.category, product=g.gi.product, classes=cls)
        return False, None

    def _origin(self, g: _GI, listing) -> tuple[str, str, str, Resolution | None, str]:
        """(verdict, source, text, resolution, note): verdict inside/outside/undetermined/unknown."""
        notes = []
        tried: list[tuple[str, str, Resolution]] = []
        if listing.origin and listing.origin.strip():
            tried.append(("产地", listing.origin.strip(), resolve_location(listing.origin)))
        if listing.seller_location and listing.seller_location.strip():
            tried.append(("发货地", listing.seller_location.strip(), resolve_location(listing.seller_location)))
        first_undetermined = None
        for i, (src, text, res) in enumerate(tried):
            if res.status in ("resolved", "ambiguous", "foreign"):
                v = relation(res, g.region_codes) if g.region_codes else "undetermined"
                if v == "undetermined" and self._text_inside(g, text):
                    v = "inside"
                if v == "undetermined":
                    if first_undetermined is None:
                        first_undetermined = (src, text, res)
                    continue
                if v == "outside" and first_undetermined is not None:
                    # the 产地 is coarse (山东 for a county-level region) and the shipping place is
                    # elsewhere: the stated origin still wins, so it stays undetermined
                    return ("undetermined",) + first_undetermined + ("; ".join(notes),)
                return v, src, text, res, "; ".join(notes)
            if self._text_inside(g, text):
                return "inside", src, text, res, "; ".join(notes)
            notes.append(f"{src}'{text}'无法识别（{res.reason}）")
        if first_undetermined is not None:
            return ("undetermined",) + first_undetermined + ("; ".join(notes),)
        return "unknown", "", "", None, "; ".join(notes)

    @staticmethod
    def _text_inside(g: _GI, text: str) -> bool:
        c = _raw_compact(t2s(text))
        return any(t in c for t in g.region_texts)

    def _judge(self, g: _GI, hit: _Hit, ctx: MatchContext) -> Match | None:
        gi, listing = g.gi, ctx.listing
        ok, goods_code = self._goods(g, ctx, hit)
        if not ok:
            return None
        verdict, src, text, res, note = self._origin(g, listing)
        if verdict == "inside":
            return None
        codes: list[dict] = []
        # 1. what was found, where
        codes.append(reason("gi_hit", field=hit.source.field, text=(hit.source.text or "").strip()[:40],
                            confidence=hit.source.confidence, form=hit.form, snippet=hit.snippet,
                            name=gi.name, gap=hit.gap))
        codes.append(goods_code)
        # 2. where it comes from
        score = hit.score
        where = {"source": {"产地": "origin", "发货地": "seller_location"}.get(src, ""), "text": text,
                 "resolved": (res.name if res is not None and res.ok else None),
                 "foreign": bool(res is not None and res.status == "foreign"),
                 "why": (res.reason if res is not None and not res.ok else None), "region": g.region_desc}
        if verdict == "outside":
            codes.append(reason("gi_outside", no_origin=bool(src == "发货地" and not listing.origin), **where))
            score += 10 if src == "产地" else 5
        elif verdict == "undetermined":
            codes.append(reason("gi_undetermined", **where))
            score = min(score, 50)
        else:  # unknown
            codes.append(reason("gi_unknown", note=note or None, region=g.region_desc))
            score = 70 if hit.form == "forbidden" else 60
            note = ""
        if note:
            codes.append(reason("gi_note", note=note))
        en = render_all(codes, "en")
        reasons = render_all(codes, self.language)
        evidence = {"field": hit.source.field, "text": hit.source.text, "matched": hit.snippet, "form": hit.form,
                    "location": {"source": {"产地": "origin", "发货地": "seller_location"}.get(src, ""),
                                 "text": text, "status": res.status if res else "unknown",
                                 "code": res.code if res else None, "name": res.name if res else None,
                                 "verdict": verdict},
                    "region_codes": list(g.region_codes), "reason_codes": codes, "reasons_en": en}
        if hit.source.field == "image":
            evidence.update(image=hit.source.image, box=hit.source.box, confidence=hit.source.confidence)
        return Match(listing.listing_id, listing.platform, gi.id, "gi", max(0, min(100, score)), reasons, evidence)


_FIELD_ORDER = {"title": 0, "caption": 1, "image": 2, "description": 3}
