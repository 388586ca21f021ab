"""The sandbox's content, generated deterministically from a seed.

A marketplace catalogue (listings, sellers) and live-commerce rooms, mixing infringing goods
(exact marks with counterfeit cue words, homophones and look-alikes, "X同款/平替", logos and text
printed on photos, GI names sold from outside their region) with clean goods and traps (authorised
official stores, "适用于 X" accessories, words that merely contain a mark).

State between runs is an *epoch* (see ``server.SandboxState``): from one epoch to the next some
listings change price or sales, and some disappear (404).
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from functools import cached_property

# -- brands of the demo watchlist (crawler/sandbox/demo_watchlist.yaml) -------------------------
# key: (mark text, aliases, look-alike/homophone variants, product lines (category, noun, base price))
BRANDS = {
    "moutai": ("茅台", ["MOUTAI", "贵州茅台"], ["茅苔", "矛台", "茅 台", "Ｍｏｕｔａｉ"],
               [("酒类/白酒/酱香型", "飞天 53度 酱香型白酒 500ml", 1499.0),
                ("酒类/白酒/酱香型", "王子酒 53度 整箱6瓶", 1200.0)]),
    "nike": ("耐克", ["NIKE"], ["耐客", "奈克", "N1KE", "N I K E", "ＮＩＫＥ"],
             [("运动户外/运动鞋/跑步鞋", "Air Zoom 跑步鞋 男款", 899.0),
              ("运动户外/运动鞋/篮球鞋", "Air Jordan 1 篮球鞋 高帮", 1299.0),
              ("服饰/男装/T恤", "速干运动T恤 短袖", 299.0)]),
    "gree": ("格力", ["GREE"], ["格丽", "格カ", "G R E E"],
             [("家用电器/空调/挂机", "1.5匹 变频冷暖 空调挂机", 3299.0),
              ("家用电器/风扇/落地扇", "落地扇 七叶静音 电风扇", 299.0)]),
    "pechoin": ("百雀羚", ["PECHOIN"], ["百雀玲", "白雀羚", "百鹊羚"],
                [("美妆个护/护肤/面霜", "草本 水嫩倍现 保湿面霜 50g", 168.0),
                 ("美妆个护/护肤/套装", "护肤品套装 补水保湿 礼盒", 398.0)]),
}
CUES = ["高仿", "A货", "原单", "复刻", "1:1", "莆田", "纯原", "公司级", "顶级版本"]
SELLING = ["现货速发", "顺丰包邮", "假一赔十", "爆款", "新款", "限时特价", "工厂直销", "正品保障", "当天发货"]

# Geographical indications of the demo watchlist: key -> (name, product noun, category, places inside,
# base price, variant forms)
GIS = {
    "wuchang": ("五常大米", "稻花香 新米 10斤 真空包装", "食品饮料/粮油/大米", ["黑龙江 五常", "黑龙江省哈尔滨市五常市"], 89.0,
                ["五常风味大米", "五常稻花香型大米"]),
    "longjing": ("西湖龙井", "明前特级 绿茶 250g 礼盒装", "食品饮料/茶叶/绿茶", ["浙江 杭州西湖区", "浙江省杭州市西湖区"], 480.0,
                 ["西湖龙井风味茶", "西湖式龙井"]),
}
OUTSIDE_ORIGINS = ["江苏 宿迁", "安徽 阜阳", "吉林 松原", "福建 安溪", "四川 宜宾", "广东 潮州", "河南 信阳", "湖南 长沙"]

# Logo marks of the demo watchlist: key -> (file name in sandbox/logos, product lines)
LOGOS = {
    "hx": ("logo-hongxiang.png", [("箱包/女包/单肩包", "真皮 单肩包 女 通勤大容量", 699.0),
                                  ("服饰/女装/卫衣", "连帽卫衣 女 宽松 加绒", 259.0)]),
    "lt": ("logo-longteng.png", [("手机数码/耳机/蓝牙耳机", "真无线 蓝牙耳机 降噪 长续航", 399.0),
                                 ("手机数码/充电器/快充头", "65W 氮化镓 快充充电器", 129.0)]),
}

# Clean goods: (category, noun, base price, related brand key for search "related results")
CLEAN = [
    ("运动户外/运动鞋/跑步鞋", "透气 网面 跑步鞋 男女 轻便", 129.0, "nike"),
    ("运动户外/运动鞋/板鞋", "百搭 小白鞋 板鞋 学生", 89.0, "nike"),
    ("服饰/男装/T恤", "纯棉 短袖T恤 男 夏季 圆领", 49.0, "nike"),
    ("酒类/白酒/浓香型", "纯粮酿造 浓香型白酒 52度 500ml", 128.0, "moutai"),
    ("酒类/白酒/酱香型", "酱香型白酒 坤沙 53度 整箱", 398.0, "moutai"),
    ("家用电器/空调/挂机", "变频 空调挂机 一级能效 1匹", 1899.0, "gree"),
    ("家用电器/风扇/台扇", "USB 小风扇 桌面 静音", 39.0, "gree"),
    ("美妆个护/护肤/面霜", "保湿面霜 补水 滋润 学生", 59.0, "pechoin"),
    ("美妆个护/护肤/爽肤水", "玻尿酸 爽肤水 500ml", 69.0, "pechoin"),
    ("食品饮料/粮油/大米", "东北大米 长粒香 10斤 当季新米", 59.0, "wuchang"),
    ("食品饮料/粮油/大米", "南方 籼米 丝苗米 5kg", 45.0, "wuchang"),
    ("食品饮料/茶叶/绿茶", "高山云雾 绿茶 明前 250g", 98.0, "longjing"),
    ("食品饮料/茶叶/红茶", "正山小种 红茶 罐装 200g", 128.0, "longjing"),
    ("箱包/女包/单肩包", "帆布包 女 大容量 通勤 单肩", 69.0, "nike"),
    ("服饰/女装/卫衣", "纯色 卫衣 女 春秋 宽松", 99.0, "nike"),
    ("手机数码/耳机/蓝牙耳机", "运动 蓝牙耳机 挂耳式 跑步", 79.0, "gree"),
    ("手机数码/充电器/快充头", "20W 快充头 PD 充电器", 29.0, "gree"),
]
CLEAN_ORIGINS = ["广东 东莞", "浙江 义乌", "福建 晋江", "江苏 苏州", "黑龙江 哈尔滨", "山东 临沂", "河北 保定",
                 "四川 成都", "湖北 武汉", "上海", "北京", "贵州 遵义", "云南 昆明"]
PROVINCE_CITIES = ["广东 广州", "广东 深圳", "浙江 杭州", "浙江 金华", "福建 莆田", "福建 泉州", "江苏 南京",
                   "上海", "北京", "湖南 长沙", "河南 郑州", "山东 青岛", "四川 成都", "黑龙江 哈尔滨",
                   "黑龙江 五常", "贵州 遵义", "浙江 杭州西湖区", "安徽 合肥"]
SHOP_WORDS = ["品质百货", "好物优选", "潮流前线", "优品生活", "时尚小铺", "源头工厂店", "精选特卖", "家居良品",
              "运动专营", "数码配件城", "美妆小屋", "酒水商行", "特产直供"]

# Accessories that name a mark only to say what they fit (indicative use, not a lead)
ACCESSORIES = {
    "gree": ("家用电器/空调配件/遥控器", "适用于格力空调遥控器 万能通用款", 19.0),
    "nike": ("运动户外/鞋配件/鞋带", "适配耐克 AJ 鞋带 扁平 彩色", 9.9),
}
# Words that merely contain a mark inside another word
TRAPS = [("图书/励志/成功学", "人格力量 成功励志 畅销书籍", 39.0, "gree"),
         ("图书/生活/美食", "一本好书 茅台镇风土人情 游记", 45.0, "moutai")]


def _h(*parts) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


@dataclass
class Seller:
    seller_id: str
    name: str
    location: str
    official_for: str | None = None


@dataclass
class Product:
    """One marketplace listing (or a live-room product card)."""
    listing_id: str
    title: str
    category: str
    base_price: float
    base_sales: int
    seller_id: str
    origin: str
    description: str
    images: list[str]  # image names served under /img/<name>.jpg
    tags: set[str] = field(default_factory=set)  # what the site's search engine associates it with
    case: str = "clean"  # what kind of listing it is (for tests and the demo; not shown on the page)

    def price_at(self, epoch: int) -> float:
        """Price at an epoch: every epoch about one listing in eight gets a new price."""
        p = self.base_price
        for e in range(1, epoch + 1):
            if _h(self.listing_id, "price", e) % 8 == 0:
                p = round(p * (0.8 + (_h(self.listing_id, "pf", e) % 35) / 100), 2)
        return round(p, 2)

    def sales_at(self, epoch: int) -> int:
        return self.base_sales + sum(_h(self.listing_id, "sales", e) % 5 for e in range(1, epoch + 1)
                                     if _h(self.listing_id, "sales", e) % 4 == 0)

    def removed_at(self, epoch: int) -> bool:
        """From epoch 1 on, about one listing in 40 per epoch is taken down (and stays down)."""
        return any(_h(self.listing_id, "rm", e) % 40 == 0 for e in range(1, epoch + 1))


@dataclass
class LiveRoom:
    room_id: str
    title: str
    host_id: str
    host_name: str
    host_location: str
    caption: str
    offline: bool
    products: list[Product]


def image_spec(name: str) -> dict:
    """How to draw image `name` (see images.py): kind, colours, optional logo and printed text.

    Names encode the spec so the image server needs no catalogue lookup:
    ``p-<cat>-<n>`` plain product photo, ``d-<cat>-<n>`` detail shot, ``l-<logo>-<n>`` photo with a
    logo, ``t-<n>`` photo with text printed on it (text from TEXT_ON_PHOTO), ``x-<n>`` a corrupt file.
    """
    return {"name": name, "kind": name.split("-", 1)[0]}


# Text printed on some photos (the title does not say it; OCR does)
TEXT_ON_PHOTO = ["茅台 飞天 53%vol", "正品 耐克 NIKE", "格力 GREE 原装", "百雀羚 草本", "五常大米 稻花香",
                 "西湖龙井 明前", "限时特价 包邮", "工厂直销 品质保证"]


def cat_code(category: str) -> int:
    return _h(category) % 1000


class Catalog:
    """Everything on the sandbox site for one seed."""

    def __init__(self, seed: int = 7, n_listings: int = 3000, n_rooms: int = 40):
        self.seed, self.n_listings, self.n_rooms = seed, n_listings, n_rooms
        rnd = random.Random(seed)
        self.sellers: dict[str, Seller] = {}
        n_sellers = max(20, n_listings // 10)
        for i in range(n_sellers):
            sid = f"s{i:04d}"
            self.sellers[sid] = Seller(sid, f"{rnd.choice(SHOP_WORDS)}{rnd.randint(1, 99)}", rnd.choice(PROVINCE_CITIES))
        self.official = {
            "moutai": Seller("s-moutai-official", "茅台官方旗舰店", "贵州 遵义", "moutai"),
            "nike": Seller("s-nike-official", "NIKE官方旗舰店", "上海", "nike"),
            "gree": Seller("s-gree-official", "格力官方旗舰店", "广东 珠海", "gree"),
        }
        self.sellers.update({s.seller_id: s for s in self.official.values()})
        self.products: dict[str, Product] = {}
        self._seller_ids = [s for s in self.sellers if not s.endswith("official")]
        for i in range(n_listings):
            p = self._make(rnd, f"m{i:06d}")
            self.products[p.listing_id] = p
        self.order = list(self.products)
        self.by_seller: dict[str, list[str]] = {}
        for pid, p in self.products.items():
            self.by_seller.setdefault(p.seller_id, []).append(pid)
        self.rooms = [self._room(rnd, i) for i in range(n_rooms)]
        self.room_index = {r.room_id: r for r in self.rooms}
        self._pick_specials()

    # -- generation -------------------------------------------------------------------------
    def _seller(self, rnd) -> str:
        return rnd.choice(self._seller_ids)

    def _make(self, rnd: random.Random, lid: str) -> Product:
        r = rnd.random()
        seller = self._seller(rnd)
        sales = int(rnd.paretovariate(1.2) * 10)
        deco = rnd.sample(SELLING, 2)
        n = _h(self.seed, lid) % 100000
        if r < 0.50:  # clean goods
            cat, noun, price, rel = rnd.choice(CLEAN)
            title = f"{deco[0]} {noun} {deco[1]}"
            imgs = [f"p-{cat_code(cat)}-{n % 40}", f"d-{cat_code(cat)}-{n % 12}"]
            case = "clean"
            if rnd.random() < 0.08:  # decoration text on the photo, no mark
                imgs.insert(0, f"t-{6 + n % 2}-{n % 30}")
            return Product(lid, title, cat, round(price * rnd.uniform(0.7, 1.3), 2), sales, seller,
                           rnd.choice(CLEAN_ORIGINS), f"{noun}，品质保证，七天无理由退换。", imgs, {rel}, case)
        if r < 0.70:  # word marks: exact with cues, variants, 同款/平替
            key = rnd.choice(list(BRANDS))
            mark, aliases, variants, lines = BRANDS[key]
            cat, noun, ref = rnd.choice(lines)
            k = rnd.random()
            if k < 0.35:
                cue = rnd.choice(CUES)
                title = f"{cue} {mark} {noun} {deco[0]}"
                case, price = "word:cue", ref * rnd.uniform(0.08, 0.3)
            elif k < 0.70:
                v = rnd.choice(variants)
                title = f"{v} {noun} {deco[0]} {deco[1]}"
                case, price = "word:variant", ref * rnd.uniform(0.1, 0.5)
            elif k < 0.85:
                title = f"{mark}同款 {noun} 平替 {deco[0]}"
                case, price = "word:tongkuan", ref * rnd.uniform(0.1, 0.3)
            else:
                title = f"{rnd.choice(aliases)} {noun} {deco[0]}"
                case, price = "word:alias", ref * rnd.uniform(0.15, 0.6)
            imgs = [f"p-{cat_code(cat)}-{n % 40}", f"d-{cat_code(cat)}-{n % 12}"]
            origin = rnd.choice(CLEAN_ORIGINS)
            return Product(lid, title, cat, round(price, 2), sales, seller, origin,
                           f"{noun}，{deco[1]}，支持验货。", imgs, {key}, case)
        if r < 0.74:  # authorised official store, genuine at reference price
            key = rnd.choice(list(self.official))
            mark, _, _, lines = BRANDS[key]
            cat, noun, ref = rnd.choice(lines)
            off = self.official[key]
            return Product(lid, f"{mark} {noun} 官方正品", cat, ref, sales * 10, off.seller_id, off.location,
                           f"{mark}官方旗舰店，正品保障。", [f"p-{cat_code(cat)}-{n % 40}"], {key}, "authorised")
        if r < 0.77:  # accessories ("适用于 X") and words merely containing a mark
            if rnd.random() < 0.5:
                key = rnd.choice(list(ACCESSORIES))
                cat, title, price = ACCESSORIES[key]
                case = "compatible"
            else:
                cat, title, price, key = rnd.choice(TRAPS)
                case = "trap"
            return Product(lid, title, cat, round(price * rnd.uniform(0.8, 1.2), 2), sales, seller,
                           rnd.choice(CLEAN_ORIGINS), title, [f"p-{cat_code(cat)}-{n % 40}"], {key}, case)
        if r < 0.87:  # GI names
            key = rnd.choice(list(GIS))
            name, noun, cat, inside, ref, variants = GIS[key]
            k = rnd.random()
            if k < 0.35:
                origin, case, title = rnd.choice(inside), "gi:inside", f"{name} {noun} 产地直发"
            elif k < 0.75:
                origin, case, title = rnd.choice(OUTSIDE_ORIGINS), "gi:outside", f"正宗 {name} {noun} {deco[0]}"
            else:
                origin, case, title = rnd.choice(OUTSIDE_ORIGINS), "gi:variant", f"{rnd.choice(variants)} {noun}"
            return Product(lid, title, cat, round(ref * rnd.uniform(0.4, 1.1), 2), sales, seller, origin,
                           f"{noun}，产地：{origin}。", [f"p-{cat_code(cat)}-{n % 40}", f"d-{cat_code(cat)}-{n % 12}"],
                           {key}, case)
        if r < 0.95:  # logos in product photos (title does not name the brand)
            key = rnd.choice(list(LOGOS))
            cat, noun, ref = rnd.choice(LOGOS[key][1])
            imgs = [f"l-{key}-{n % 60}", f"d-{cat_code(cat)}-{n % 12}"]
            return Product(lid, f"{deco[0]} {noun} {deco[1]}", cat, round(ref * rnd.uniform(0.1, 0.4), 2), sales,
                           seller, rnd.choice(CLEAN_ORIGINS), f"{noun}，大牌品质。", imgs,
                           {key, "nike" if key == "hx" else "gree"}, "logo")
        # text printed on the photo only (OCR)
        t = n % 6
        key = ["moutai", "nike", "gree", "pechoin", "wuchang", "longjing"][t]
        if key in BRANDS:
            cat, noun, ref = BRANDS[key][3][0]
        else:
            _, noun, cat, _, ref, _ = GIS[key]
        title = f"{deco[0]} {noun.split()[-1]} {deco[1]}"
        return Product(lid, title, cat, round(ref * rnd.uniform(0.1, 0.4), 2), sales, seller,
                       rnd.choice(OUTSIDE_ORIGINS), "详见图片。", [f"t-{t}-{n % 30}", f"d-{cat_code(cat)}-{n % 12}"],
                       {key}, "ocr")

    def _room(self, rnd: random.Random, i: int) -> LiveRoom:
        rid = f"r{i:03d}"
        host_id = f"h{i:03d}"
        host = f"{rnd.choice(['小', '大', '阿', '老'])}{rnd.choice(['美', '强', '丽', '王', '李', '张'])}直播间"
        products = []
        infringing = rnd.random() < 0.5
        caption = rnd.choice(["家人们 三二一 上链接", "今天福利价 拍一发二", "点关注不迷路 主播带你选好物"])
        for j in range(rnd.randint(3, 8)):
            pid = f"{rid}-{j:02d}"
            if infringing and j == 0:
                key = rnd.choice(list(BRANDS))
                mark, _, variants, lines = BRANDS[key]
                cat, noun, ref = rnd.choice(lines)
                title = f"{rnd.choice([mark, *variants])} {noun} 直播专享"
                caption = f"家人们 {mark} {noun.split()[0]} 今天只要{int(ref * 0.2)} 三二一上链接"
                p = Product(pid, title, cat, round(ref * 0.2, 2), rnd.randint(10, 900), host_id,
                            rnd.choice(OUTSIDE_ORIGINS), "", [f"p-{cat_code(cat)}-{j}"], {key}, "live:word")
            elif infringing and j == 1 and rnd.random() < 0.5:
                key = rnd.choice(list(GIS))
                name, noun, cat, _, ref, _ = GIS[key]
                p = Product(pid, f"{name} {noun} 直播间福利", cat, round(ref * 0.5, 2), rnd.randint(10, 900), host_id,
                            rnd.choice(OUTSIDE_ORIGINS), "", [f"p-{cat_code(cat)}-{j}"], {key}, "live:gi")
            else:
                cat, noun, price, rel = rnd.choice(CLEAN)
                p = Product(pid, f"{noun} 直播价", cat, round(price * rnd.uniform(0.6, 1.0), 2), rnd.randint(0, 500),
                            host_id, rnd.choice(CLEAN_ORIGINS), "", [f"p-{cat_code(cat)}-{j + 5}"], {rel}, "live:clean")
            products.append(p)
        return LiveRoom(rid, f"{host} · {rnd.choice(['源头好货', '工厂直播', '年终大促', '品牌清仓'])}", host_id, host,
                        rnd.choice(PROVINCE_CITIES), caption, offline=rnd.random() < 0.15, products=products)

    def _pick_specials(self) -> None:
        """Listings whose page misbehaves: slow, broken HTML, 429 once, always 429, captcha, 500."""
        ids = [pid for pid in self.order if self.products[pid].case.startswith("word:")]
        self.specials = {"slow": ids[0:2], "broken": ids[2:4], "rate_limit_once": ids[4:6],
                         "rate_limited": ids[6:7], "captcha": ids[7:8], "server_error": ids[8:9]}
        for pid in ids[9:11]:  # a corrupt photo among good ones
            self.products[pid].images.append(f"x-{pid}")
        self.specials["bad_image"] = ids[9:11]
        self.special_of = {pid: k for k, v in self.specials.items() for pid in v}

    # -- queries ----------------------------------------------------------------------------
    @cached_property
    def term_index(self) -> dict[str, str]:
        """Search words (marks, aliases, variants, GI names) -> brand/GI key."""
        idx = {}
        for key, (mark, aliases, variants, _) in BRANDS.items():
            for w in [mark, *aliases, *variants]:
                idx[_norm(w)] = key
        for key, (name, *_rest) in GIS.items():
            idx[_norm(name)] = key
            idx[_norm(name[:2])] = key
        return idx

    def search(self, q: str, epoch: int) -> list[str]:
        """Ids a search for `q` returns at `epoch`: title matches first, then related goods."""
        nq = _norm(q)
        if not nq:
            return []
        key = self.term_index.get(nq)
        direct, related = [], []
        for pid in self.order:
            p = self.products[pid]
            if p.removed_at(epoch):
                continue
            if nq in _norm(p.title):
                direct.append(pid)
            elif key and key in p.tags:
                related.append(pid)
        return direct + related

    def live_rooms(self) -> list[LiveRoom]:
        return self.rooms


def _norm(s: str) -> str:
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", s).casefold().split())
