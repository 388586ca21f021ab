"""Reading a page: selector specs, Chinese shop price texts, schema.org structured data.

* Selector specs from source configuration: ``css:...`` or ``xpath:...`` (bare = CSS).
* :func:`parse_price` reads the selling price out of a shop's price text (pure function). Its
  rules come from the price blocks of Taobao/Tmall/JD/Pinduoduo item pages, live-room carts and
  taobaoke share messages (促销价/到手价/券后价/原价 labels, 满减/分期/件折 promotions); the cases
  are in ``tests/test_crawl_price.py``.
* :func:`structured_product` reads schema.org ``Product`` data (JSON-LD, microdata, RDFa) with
  ``extruct``.
* :func:`extract_detail` applies a source's ``detail`` selectors (and structured data) to a page;
  the marketplace spider and ``markwatch sources check`` both use it, so what ``check`` shows is
  what a crawl stores.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# -- selectors ---------------------------------------------------------------------------------


# Signatures of what a page fetched or saved as HTML sometimes really is (file magic numbers).
_MAGIC = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
          (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
          (b"\x1f\x8b", "gzip-compressed data"), (b"RIFF", "a RIFF file (WebP image or audio)"))


def not_html(body: bytes, content_type: str | None = None) -> str | None:
    """Why ``body`` is not an HTML page ("empty", "a PDF document", "JSON data" …), or None.

    Read from the bytes (magic numbers, JSON, control characters), not only from the
    Content-Type header, which servers and "save as" both get wrong."""
    head = body[:2048]
    if not head.strip():
        return "empty"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head[4:12] in (b"ftypavif", b"ftypheic", b"ftypmif1"):
        return "an AVIF/HEIC image"
    lead = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if lead[:1] in (b"{", b"[") and b"<" not in lead[:200]:
        return "JSON data"
    ctrl = sum(1 for b in head if b < 9 or 13 < b < 32)
    if ctrl > len(head) // 20:
        return "binary data"
    ct = (content_type or "").split(";")[0].strip().lower()
    if ct and ct not in ("text/html", "application/xhtml+xml", "text/plain", "application/octet-stream") \
            and b"<" not in lead[:1]:
        return f"{ct} content"
    return None


def select(sel, spec: str | None):
    if not spec:
        return None
    if spec.startswith("xpath:"):
        return sel.xpath(spec[6:])
    if spec.startswith("css:"):
        spec = spec[4:]
    if spec.startswith("::attr("):  # an attribute of the node itself
        return sel.xpath("@" + spec[7:-1])
    if spec == "::text":
        return sel.xpath("text()")
    return sel.css(spec)


def first(sel, spec: str | None) -> str:
    r = select(sel, spec)
    if r is None:
        return ""
    for v in r.getall():
        v = " ".join(v.split())
        if v:
            return v
    return ""


def all_text(sel, spec: str | None) -> list[str]:
    r = select(sel, spec)
    if r is None:
        return []
    return [" ".join(v.split()) for v in r.getall() if v and v.strip()]


# -- prices ------------------------------------------------------------------------------------

#: How a source may say which number of a price text to take (``detail.price_pick``).
PRICE_PICKS = ("auto", "first", "last", "min", "max")

#: Price texts that mean "ask the seller": the listing is kept with an empty price.
ON_REQUEST = re.compile(r"面议|议价|询价|电议|来电|咨询客服|价格待定|暂无报价|暂无价格|请咨询|price on request", re.I)

_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
# a currency mark right before the number (after optional spaces)
_CUR_BEFORE = re.compile(r"(?:[¥￥£€]|RMB|CNY|人民币|HK\$|US\$|USD|EUR|GBP|\$)\s*$", re.I)
_CUR_AFTER = re.compile(r"^\s*(?:元|块|圆|RMB|CNY|€|EUR)", re.I)
# "1 299" thin/normal-space thousands right after a currency mark
_SPACED_THOUSANDS = re.compile(r"((?:[¥￥]|RMB|CNY)\s*)(\d{1,3}(?:[ \u2009\u202f\u00a0]\d{3})+)(?!\d)(?!\.\d{3})", re.I)
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
# what follows a number that is a count, a discount, instalments or a quantity, not a price
_NOT_PRICE_AFTER = re.compile(r"^\s*(?:件|折|期|个|人|份|盒|瓶|支|只|条|包|套|台|次|天|日|年|月|周|小时|分钟|秒|%|％|"
                              r"g\b|kg|克|千克|斤|公斤|ml|毫升|l\b|升|cm|mm|寸|英寸|GB|TB|mAh|W\b|V\b|号|码|色|款|人付款|"
                              r"人已购|人收货|笔|单|评价|条评论|\+|w\+|万\+|万人)", re.I)
_RANGE_SEP = re.compile(r"^\s*(?:-|~|～|—|–|至|到)\s*(?:[¥￥£€$]|RMB|CNY)?\s*$", re.I)
# labels of the price the buyer pays, strongest first; and labels of a struck-out original price
_FINAL = ("到手价", "到手", "券后价", "券后", "折后价", "折后", "补贴后", "预估到手", "实付")
_PROMO = ("秒杀价", "促销价", "活动价", "优惠价", "折扣价", "拼团价", "团购价", "特价", "抢购价", "直播价", "会员价", "限时价",
          "新人价", "专享价")
_SALE = ("现价", "在售价", "售价", "销售价", "价格", "京东价", "淘宝价", "天猫价", "单价", "价")
_ORIGINAL = ("原价", "市场价", "吊牌价", "划线价", "专柜价", "参考价", "指导价", "建议零售价", "零售价", "官方价", "门店价", "定价")
# words right before a number that make it a threshold, a reduction or a coupon, not a price
_NOT_PRICE_BEFORE = re.compile(r"(?:每期|月供|分期|首付|定金|订金|运费|邮费|满|减|立减|直降|省|优惠|返|券|红包|补贴|送|赠|每满|前|限|第|共|已售|月销|销量|库存|剩|"
                               r"评价|累计|付款|仅剩|起购|买|拍)\s*[¥￥]?\s*$")


@dataclass
class Price:
    """A price read from a shop's price text.

    ``value``: the selling price (CNY unless ``currency`` says otherwise), ``None`` when the text
    has none; ``low``/``high``: a range's ends (``value == low``); ``warning``: why there is no
    value (``price_missing``, ``price_on_request``, ``price_unreadable``), else ``None``;
    ``label``: the label the number carried (到手价, 原价 ...), ``text``: the text as read;
    ``notes``: one line per number in the text saying why it was or was not taken."""
    value: float | None
    low: float | None = None
    high: float | None = None
    currency: str | None = None
    warning: str | None = None
    label: str = ""
    text: str = ""
    notes: list[str] = field(default_factory=list)  # why each number was taken or not (sources check)

    @property
    def range_text(self) -> str | None:
        if self.low is None or self.high is None or self.low == self.high:
            return None
        return f"{self.low:g}-{self.high:g}"


@dataclass
class _Cand:
    value: float
    start: int
    end: int
    rank: int  # 0 final, 1 promotion, 2 sale, 3 currency-marked, 4 bare, 5 original
    label: str = ""
    high: float | None = None
    currency: str | None = None


def _normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text)  # full-width digits, ￥ -> ¥, ， -> ,
    t = t.replace("，", ",").replace("﹐", ",")
    t = _SPACED_THOUSANDS.sub(lambda m: m.group(1) + re.sub(r"\D", "", m.group(2)), t)
    t = re.sub(r"(?<=\d),(?=\d{1,2}(?!\d))", ".", t)  # a decimal comma (22,50 €); thousands groups have 3 digits
    return _SPACES.sub(" ", t).strip()


def _currency(before: str, after: str) -> str | None:
    b = before.rstrip().upper()
    if b.endswith(("HK$",)):
        return "HKD"
    if b.endswith(("US$", "USD")) or (b.endswith("$") and not b.endswith("HK$")):
        return "USD"
    if b.endswith(("£", "GBP")):
        return "GBP"
    if b.endswith(("€", "EUR")) or re.match(r"^\s*(?:€|EUR)", after, re.I):
        return "EUR"
    if b.endswith(("¥", "RMB", "CNY", "人民币")) or _CUR_AFTER.match(after):
        return "CNY"
    return None


def _label(before: str) -> tuple[int | None, str]:
    """The price label right before a number (within a few characters): (rank, label)."""
    near = re.sub(r"[\s:：¥$()（）\[\]【】]|RMB|CNY|HK|US", "", before[-12:], flags=re.I)
    for rank, words in ((5, _ORIGINAL), (0, _FINAL), (1, _PROMO), (2, _SALE)):
        for w in words:
            if near.endswith(w):
                return rank, w
    return None, ""


def parse_price(text: str | None, pick: str = "auto") -> Price:
    """Read the selling price from a Chinese shop price text.

    Understands currency marks (¥ ￥ 元 RMB CNY; $ US$ HK$ give USD/HKD), thousands separators
    (``1,299``, ``1，299``, ``¥ 1 299`` with thin or normal spaces), ``万`` (``1.2万`` → 12000),
    ranges (``1299-1599`` → 1299 with ``low``/``high`` kept) and promotion text: numbers that
    are counts, discounts, instalments or thresholds (``2件8折``, ``3期免息``, ``满300减50``, ``券10``)
    are never the price; a labelled selling price wins over an unlabelled one - the price paid
    (到手价/券后价/折后价) first, then a promotion price (促销价/秒杀价/拼团价…), then a plain
    sale price (现价/售价/价格/京东价…) - and an original price (原价/市场价/吊牌价/划线价) is taken
    only when nothing else is there. ``pick`` (``first|last|min|max``) overrides the choice among the price
    candidates for a source whose layout needs it. 价格面议 and similar give ``value=None`` with
    ``warning='price_on_request'``; no number gives ``price_unreadable``; empty text
    ``price_missing``. Raises ValueError only for an unknown `pick`.
    """
    raw = text or ""
    if pick not in PRICE_PICKS:
        raise ValueError(f"price pick {pick!r} is not one of {', '.join(PRICE_PICKS)}")
    t = _normalise(raw)
    if not t:
        return Price(None, warning="price_missing", text=raw)
    cands: list[_Cand] = []
    notes: list[str] = []
    for m in _NUMBER.finditer(t):
        s, e = m.start(), m.end()
        if s > 0 and (t[s - 1].isdigit() or t[s - 1] == "."):
            continue
        before, after = t[:s], t[e:]
        v = float(m.group(0).replace(",", ""))
        wan = re.match(r"^\s*(?:万|w(?![A-Za-z]))", after)
        if wan and not re.match(r"^\s*(?:万|w)\s*\+", after):
            v *= 10000
            after = after[wan.end():]
            e += wan.end()
        elif re.match(r"^[A-Za-z]", after) and not re.match(r"^(?:RMB|CNY)", after, re.I):
            notes.append(f"{m.group(0)}: a model or size ({re.match(r'[A-Za-z]+', after).group(0)})")  # 128GB, 200W
            continue
        if re.search(r"[A-Za-z]$", before) and not _CUR_BEFORE.search(before):
            notes.append(f"{m.group(0)}: part of a model name")
            continue
        cur = _currency(before, after)
        na = _NOT_PRICE_AFTER.match(after)
        if na and not _CUR_AFTER.match(after):
            notes.append(f"{m.group(0)}: a count, discount or quantity ({na.group(0).strip()})")
            continue
        nb = _NOT_PRICE_BEFORE.search(before)
        if nb:
            notes.append(f"{m.group(0)}: a threshold, reduction or instalment ({nb.group(0).strip()})")
            continue
        rank, lab = _label(before)
        if rank is None:
            rank = 3 if cur else 4
        cands.append(_Cand(v, s, e, rank, lab, currency=cur))
    # ranges: "1299-1599", "¥29.80 - 32.80", "100至200元"
    merged: list[_Cand] = []
    for c in cands:
        prev = merged[-1] if merged else None
        if prev is not None and prev.high is None and not c.label and c.value >= prev.value \
                and _RANGE_SEP.match(t[prev.end:c.start]):
            prev.high, prev.end = c.value, c.end
            prev.currency = prev.currency or c.currency
            continue
        merged.append(c)
    if not merged:
        if ON_REQUEST.search(t):
            return Price(None, warning="price_on_request", text=raw, notes=notes)
        return Price(None, warning="price_unreadable", text=raw, notes=notes)
    if pick == "first":
        best = merged[0]
    elif pick == "last":
        best = merged[-1]
    elif pick == "min":
        best = min(merged, key=lambda c: c.value)
    elif pick == "max":
        best = max(merged, key=lambda c: c.high or c.value)
    else:
        best = min(merged, key=lambda c: (c.rank, c.start))
    rank_names = ("price paid", "promotion price", "sale price", "with currency mark", "bare number",
                  "original price")
    for c in merged:
        what = f"{c.value:g}" + (f"-{c.high:g}" if c.high is not None else "")
        notes.append(f"{what}: {c.label + ' ' if c.label else ''}({rank_names[c.rank]})"
                     + (" <- taken" if c is best else ""))
    return Price(best.value, low=best.value if best.high is not None else None, high=best.high,
                 currency=best.currency, label=best.label, text=raw, notes=notes)


def number(text: str) -> float | None:
    """The first count in a text (sales "月销 2.3万+" → 23000, "1,024" → 1024); for prices use
    :func:`parse_price`."""
    if not text:
        return None
    t = _normalise(text)
    m = re.search(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(万|w)?", t, re.I)
    if not m:
        return None
    v = float(m.group(1).replace(",", "") + ("." + m.group(2) if m.group(2) else ""))
    return v * 10000 if m.group(3) else v


# -- structured data ---------------------------------------------------------------------------

STRUCTURED_FIELDS = ("title", "price", "currency", "brand", "images", "seller_name", "description", "listing_id",
                     "category")


def _types(node: dict) -> list[str]:
    t = node.get("@type") or node.get("type") or []
    t = t if isinstance(t, list) else [t]
    return [str(x).rsplit("/", 1)[-1] for x in t]


def _is_product(node) -> bool:
    """A schema.org Product (or subtype), or any named thing sold with ``offers`` (shops mark up
    books, wine, tickets … as Book, Drug, Vehicle … with offers)."""
    if not isinstance(node, dict):
        return False
    if any(t in ("Product", "IndividualProduct", "ProductModel", "ProductGroup", "Car", "Vehicle")
           for t in _types(node)):
        return True
    return bool(node.get("name") and (node.get("offers") or node.get("offer")) and "Offer" not in _types(node))


def _walk(obj):
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from _walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v)


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return _text(v[0]) if v else ""
    if isinstance(v, dict):
        for k in ("name", "@value", "value", "url", "@id", "contentUrl"):
            if v.get(k):
                return _text(v[k])
        props = v.get("properties")
        return _text(props.get("name")) if isinstance(props, dict) else ""
    return " ".join(str(v).split())


def _flat_microdata(item: dict) -> dict:
    """extruct microdata/RDFa items {type, properties} → JSON-LD-like dicts."""
    if "properties" in item and isinstance(item["properties"], dict):
        d = {"@type": item.get("type")}
        for k, v in item["properties"].items():
            if isinstance(v, list):
                d[k] = [_flat_microdata(x) if isinstance(x, dict) else x for x in v]
            else:
                d[k] = _flat_microdata(v) if isinstance(v, dict) else v
        return d
    return item


def _rdfa_to_dicts(items: list) -> list[dict]:
    out = []
    for it in items or []:
        if not isinstance(it, dict):
            continue
        d = {}
        for k, v in it.items():
            key = k.rsplit("/", 1)[-1].rsplit("#", 1)[-1] if k.startswith("http") else k
            if isinstance(v, list) and v and isinstance(v[0], dict) and "@value" in v[0]:
                d[key] = v[0]["@value"]
            else:
                d[key] = v
        out.append(d)
    return out


def structured_product(html: str | bytes, url: str = "") -> dict:
    """schema.org Product data of a page (JSON-LD, microdata, RDFa, via ``extruct``).

    JSON-LD first, then microdata; RDFa (~100x slower, rdflib) only when the page has ``typeof``
    attributes and neither of the others describes a product.

    Returns ``{}`` when the page has none, else a dict with any of ``title``, ``price`` (a
    :class:`Price`), ``currency``, ``brand``, ``images`` (list of URLs as written), ``seller_name``,
    ``description``, ``listing_id`` (sku / productID), ``category`` and ``syntax`` (which markup
    it came from). Offers: the first ``Offer``'s ``price`` (or an ``AggregateOffer``'s
    ``lowPrice``, with ``highPrice`` kept as the range). Malformed markup is ignored, never raised.
    """
    import extruct

    raw = html.encode("utf-8", "replace") if isinstance(html, str) else html
    low = raw.lower()
    # JSON-LD and microdata are cheap; RDFa (rdflib) costs ~100x more, so it is read only when
    # the page has RDFa attributes and nothing cheaper described a product.
    first_pass = [x for x, mark in (("json-ld", b"ld+json"), ("microdata", b"itemscope")) if mark in low]
    data: dict = {}
    try:
        if first_pass:
            data = extruct.extract(raw, base_url=url or None, syntaxes=first_pass, uniform=False, errors="ignore")
    except Exception:  # extruct raises on some broken documents: the page simply has no such data
        data = {}
    pools = [("json-ld", list(_walk(data.get("json-ld") or []))),
             ("microdata", [_flat_microdata(x) for x in _walk(data.get("microdata") or [])
                            if isinstance(x, dict) and "properties" in x])]
    if b"typeof=" in low and not any(_is_product(n) for _, nodes in pools for n in nodes):
        try:
            rd = extruct.extract(raw, base_url=url or None, syntaxes=["rdfa"], uniform=False, errors="ignore")
        except Exception:  # broken RDFa: no data
            rd = {}
        pools.append(("rdfa", _rdfa_to_dicts(rd.get("rdfa") or [])))
    for syntax, nodes in pools:
        for node in nodes:
            if not _is_product(node):
                continue
            out: dict = {"syntax": syntax}
            if _text(node.get("name")):
                out["title"] = _text(node.get("name"))
            offers = node.get("offers") or node.get("offer")
            offers = offers if isinstance(offers, list) else [offers] if offers else []
            for off in offers:
                if not isinstance(off, dict):
                    continue
                low = off.get("price") if off.get("price") not in (None, "") else off.get("lowPrice")
                spec = off.get("priceSpecification")
                if low in (None, "") and isinstance(spec, dict):
                    low = spec.get("price")
                if low in (None, ""):
                    continue
                p = parse_price(str(_text(low)))
                if p.value is not None:
                    high = off.get("highPrice")
                    if high not in (None, ""):
                        h = parse_price(str(_text(high)))
                        if h.value is not None and h.value > p.value:
                            p.low, p.high = p.value, h.value
                    out["price"] = p
                    cur = _text(off.get("priceCurrency")) or (_text(spec.get("priceCurrency"))
                                                              if isinstance(spec, dict) else "")
                    if cur:
                        out["currency"] = cur.upper()
                    seller = off.get("seller")
                    if seller and _text(seller):
                        out["seller_name"] = _text(seller)
                    break
            if _text(node.get("brand")):
                out["brand"] = _text(node.get("brand"))
            imgs = node.get("image")
            imgs = imgs if isinstance(imgs, list) else [imgs] if imgs else []
            out["images"] = [u for u in (_text(i) for i in imgs) if u]
            if _text(node.get("description")):
                out["description"] = _text(node.get("description"))
            sku = _text(node.get("sku")) or _text(node.get("productID")) or _text(node.get("mpn"))
            if sku:
                out["listing_id"] = sku
            if _text(node.get("category")):
                out["category"] = _text(node.get("category"))
            if "seller_name" not in out and _text(node.get("seller")):
                out["seller_name"] = _text(node.get("seller"))
            return out
    return {}


# -- one detail page ---------------------------------------------------------------------------


@dataclass
class Extracted:
    """What a source's ``detail`` configuration reads from one page.

    ``fields``: the listing fields (title, listing_id, price, currency, sales, seller_*, origin,
    category, images, description, shop_link); ``price``: the :class:`Price` behind ``fields['price']``;
    ``warnings``: (kind, detail) pairs (``price_missing`` ...); ``trace``: per field, where the
    value came from (``css``/``xpath`` selector or ``structured:<syntax>``) and the raw matches."""
    fields: dict
    price: Price
    warnings: list[tuple[str, str]] = field(default_factory=list)
    trace: dict = field(default_factory=dict)


def _wants_structured(source: dict, name: str) -> bool:
    sd = source.get("structured_data")
    if isinstance(sd, list):
        return name in sd
    return bool(sd)


def extract_detail(response, source: dict, listing_id: str | None = None) -> Extracted:
    """Apply a source's detail selectors (and ``structured_data``) to a page.

    ``response``: a Scrapy ``TextResponse`` (``.css``, ``.xpath``, ``.urljoin``, ``.text``, ``.url``).
    A selector that finds something wins; a field it misses (or that has no selector) comes from
    schema.org data when the source allows structured data for it. Raises ``ValueError`` only when
    the listing has no title or no id (then nothing can be stored); a missing or unreadable price
    is a warning and an empty price."""
    d = source.get("detail") or {}
    trace: dict = {}
    sd: dict | None = None

    def structured() -> dict:
        nonlocal sd
        if sd is None:
            sd = structured_product(response.text, response.url) if source.get("structured_data") else {}
        return sd

    def pick(name: str, spec_key: str | None = None, many: bool = False):
        spec = d.get(spec_key or name)
        if spec:
            vals = all_text(response, spec)
            trace[name] = {"from": spec, "matches": vals[:10]}
            if vals:
                return vals if many else vals[0]
        if _wants_structured(source, name):
            v = structured().get(name)
            if v:
                trace[name] = {"from": f"structured:{structured().get('syntax')}",
                               "matches": v if isinstance(v, list) else [v if not isinstance(v, Price) else v.text]}
                return v
        return [] if many else ""

    title = pick("title")
    if not title:
        raise ValueError(f"no title found (selector {d.get('title')!r}"
                         + (", no schema.org Product name" if _wants_structured(source, "title") else "")
                         + "); the page may be broken or its layout changed")
    lid = ""
    if d.get("listing_id"):
        lid = first(response, d["listing_id"])
        trace["listing_id"] = {"from": d["listing_id"], "matches": all_text(response, d["listing_id"])[:10]}
    if not lid and listing_id:  # the platform's id in the URL beats a seller's sku
        lid = listing_id
        trace["listing_id"] = {"from": "url (listing_id_from_url)", "matches": [listing_id]}
    if not lid and _wants_structured(source, "listing_id") and structured().get("listing_id"):
        lid = structured()["listing_id"]
        trace["listing_id"] = {"from": f"structured:{structured().get('syntax')}", "matches": [lid]}
    lid = (lid or "").strip()
    if not lid:
        raise ValueError("no listing id found in the page or the URL")
    pick_rule = d.get("price_pick") or "auto"
    price: Price
    warnings: list[tuple[str, str]] = []
    spec = d.get("price")
    texts = all_text(response, spec) if spec else []
    if spec:
        trace["price"] = {"from": spec, "matches": texts[:10]}
    price = parse_price(" ".join(texts), pick=pick_rule) if texts else Price(None, warning="price_missing")
    if price.value is None and _wants_structured(source, "price"):
        sp = structured().get("price")
        if sp is not None:
            price = sp
            trace["price"] = {"from": f"structured:{structured().get('syntax')}", "matches": [sp.text]}
    if price.value is None:
        what = {"price_on_request": "the price says 价格面议 / ask the seller",
                "price_unreadable": f"no number in the price text {price.text[:80]!r}",
                "price_missing": "no price on the page"
                + (f" (selector {spec!r} matched nothing" + ("; not filled by JavaScript? try browser: true)"
                                                             if not source.get("browser") else ")") if spec else "")}
        warnings.append((price.warning or "price_missing", what.get(price.warning or "price_missing", "")))
    currency = price.currency if price.value is not None else None
    if _wants_structured(source, "currency") and structured().get("currency") and (
            currency is None or trace.get("price", {}).get("from", "").startswith("structured")):
        currency = structured()["currency"]
    cats = pick("category", many=True)
    cats = cats if isinstance(cats, list) else [cats]
    images = pick("images", many=True)
    images = images if isinstance(images, list) else [images]
    sales = number(first(response, d.get("sales")))
    if d.get("sales"):
        trace["sales"] = {"from": d["sales"], "matches": all_text(response, d["sales"])[:10]}
    desc = d.get("description")
    description = " ".join(all_text(response, desc)) if desc else ""
    if desc:
        trace["description"] = {"from": desc, "matches": all_text(response, desc)[:3]}
    if not description and _wants_structured(source, "description"):
        description = structured().get("description", "")
    fields = {
        "title": title, "listing_id": lid, "price": price.value,
        "currency": currency or source.get("currency", "CNY"),
        "sales": int(sales) if sales is not None else None,
        "seller_id": pick("seller_id"), "seller_name": pick("seller_name"),
        "seller_location": pick("seller_location"), "origin": pick("origin") or None,
        "category": "/".join(c for c in cats if c), "images": [response.urljoin(u) for u in images if u],
        "description": description, "shop_link": response.urljoin(shop) if (shop := pick("shop_link")) else "",
        "brand": pick("brand") if (d.get("brand") or _wants_structured(source, "brand")) else "",
    }
    if not fields["seller_id"] and fields["seller_name"]:
        fields["seller_id"] = fields["seller_name"]
        trace.setdefault("seller_id", {"from": "seller_name (no seller_id)", "matches": [fields["seller_name"]]})
    return Extracted(fields, price, warnings, trace)
