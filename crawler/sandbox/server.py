"""The sandbox web site: a marketplace and live-commerce rooms served on a local port.

    with SandboxServer(seed=7, state_file=data / "sandbox/state.json") as sb:
        print(sb.base_url)          # http://127.0.0.1:<free port>

Each start with a state file advances the site's *epoch* (prices change, some listings vanish),
as a real site would between two daily crawls; ``advance=False`` re-opens the same epoch (used
by the evidence stage to screenshot what was just crawled). ``stats`` records what the crawlers
did to the site, including the most requests it ever had in flight at once.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
import threading
import time
from collections import Counter
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from .catalog import Catalog, Product
from .images import ImageCache

PAGE_SIZE = 20
IMG_NAME = re.compile(r"^[a-z]-[A-Za-z0-9-]{1,40}$")


@lru_cache(maxsize=4)
def get_catalog(seed: int, n_listings: int, n_rooms: int) -> Catalog:
    return Catalog(seed, n_listings, n_rooms)


def _e(s) -> str:
    return html.escape(str(s), quote=True)


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            '<style>body{font-family:"Noto Sans CJK SC",sans-serif;margin:0;background:#f5f5f5}'
            'header{background:#ff5000;color:#fff;padding:10px 20px;font-size:20px}'
            '.wrap{max-width:980px;margin:0 auto;padding:16px;background:#fff}'
            '.item-card{display:inline-block;width:200px;margin:6px;vertical-align:top;border:1px solid #eee;padding:6px}'
            '.item-card img{width:190px;height:190px}.price{color:#ff5000;font-weight:bold}'
            '.gallery img{width:300px;height:300px;margin:4px}.params th{text-align:left;color:#666;padding-right:16px}'
            '.screen{background:#222;color:#fff;height:220px;position:relative}'
            '.caption{position:absolute;bottom:10px;left:10px;font-size:22px;background:rgba(0,0,0,.5);padding:4px 10px}'
            '.product-card{border:1px solid #ddd;margin:6px;padding:6px;display:inline-block;width:210px;vertical-align:top}'
            '.product-card img{width:200px;height:200px}</style></head>'
            f'<body><header>沙盒商城 · 仅供测试</header><div class="wrap">{body}</div></body></html>')


class SandboxStats:
    def __init__(self):
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests = 0
        self.paths: Counter = Counter()
        self.statuses: Counter = Counter()
        self.times: dict[str, list[float]] = {}

    def enter(self, path: str) -> None:
        with self.lock:
            self.in_flight += 1
            self.requests += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.paths[path] += 1
            if len(self.times) < 50000:
                self.times.setdefault(path, []).append(time.monotonic())

    def leave(self, status: int) -> None:
        with self.lock:
            self.in_flight -= 1
            self.statuses[status] += 1

    def reset_max(self) -> None:
        with self.lock:
            self.max_in_flight = self.in_flight


def read_epoch(state_file: Path | None, advance: bool) -> int:
    """The epoch to serve: the stored one, plus one when advancing (written back)."""
    if state_file is None:
        return 0
    state_file = Path(state_file)
    epoch = -1 if advance else 0
    try:
        epoch = int(json.loads(state_file.read_text())["epoch"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        pass
    if advance:
        epoch += 1
        state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"epoch": epoch}))
        os.replace(tmp, state_file)
    return max(epoch, 0)


class SandboxServer:
    def __init__(self, seed: int = 7, n_listings: int = 3000, n_rooms: int = 40, state_file: str | Path | None = None,
                 advance: bool = True, epoch: int | None = None, cache_dir: str | Path | None = None,
                 slow_seconds: float = 2.0, cart_delay: float = 0.05, host: str = "127.0.0.1", port: int = 0):
        self.catalog = get_catalog(seed, n_listings, n_rooms)
        self.epoch = epoch if epoch is not None else read_epoch(Path(state_file) if state_file else None, advance)
        if not cache_dir:
            from config.settings import get_settings

            cache_dir = get_settings().crawl.sandbox_cache or Path.home() / ".cache" / "markwatch-sandbox"
        cache_dir = Path(cache_dir)
        self.images = ImageCache(cache_dir)
        self.slow_seconds, self.cart_delay = slow_seconds, cart_delay
        self.stats = SandboxStats()
        self._once: set[str] = set()
        self._bodies: dict[str, tuple[bytes, str]] = {}
        self._host, self._port = host, port
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> str:
        handler = type("Handler", (_Handler,), {"site": self})
        self.httpd = ThreadingHTTPServer((self._host, self._port), handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 256
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       name="sandbox", daemon=True)
        self.thread.start()
        return self.base_url

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self) -> "SandboxServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- pages ------------------------------------------------------------------------------
    def visible(self, pid: str) -> Product | None:
        p = self.catalog.products.get(pid)
        if p is None or p.removed_at(self.epoch):
            return None
        return p

    def card(self, p: Product) -> str:
        return (f'<div class="item-card" data-id="{p.listing_id}"><a href="/item/{p.listing_id}">'
                f'<img src="/img/{p.images[0]}.jpg" alt=""></a>'
                f'<a class="title" href="/item/{p.listing_id}">{_e(p.title)}</a>'
                f'<div class="price">¥{p.price_at(self.epoch):.2f}</div>'
                f'<div class="sales">{p.sales_at(self.epoch)}人付款</div>'
                f'<a class="shop" href="/shop/{p.seller_id}">{_e(self.catalog.sellers[p.seller_id].name)}</a></div>')

    def pager(self, base: str, page: int, total: int) -> str:
        pages = max(1, -(-total // PAGE_SIZE))
        parts = [f'<div class="pager" data-page="{page}" data-pages="{pages}">第 {page}/{pages} 页']
        if page > 1:
            parts.append(f' <a class="prev" href="{base}page={page - 1}">上一页</a>')
        if page < pages:
            parts.append(f' <a class="next" href="{base}page={page + 1}">下一页</a>')
        return "".join(parts) + "</div>"

    def search_page(self, q: str, page: int) -> str:
        ids = self.catalog.search(q, self.epoch)
        chunk = ids[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        cards = "".join(self.card(self.catalog.products[i]) for i in chunk)
        body = (f'<form action="/search"><input name="q" value="{_e(q)}"><button>搜索</button></form>'
                f'<div class="result-count">共 {len(ids)} 件商品</div><div class="results">{cards or "<p class=empty>没有找到相关商品</p>"}</div>'
                + self.pager(f"/search?q={quote(q)}&", page, len(ids)))
        return _page(f"{q} - 搜索结果", body)

    def shop_page(self, sid: str, page: int) -> str | None:
        s = self.catalog.sellers.get(sid)
        if s is None:
            return None
        ids = [i for i in self.catalog.by_seller.get(sid, []) if self.visible(i)]
        chunk = ids[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        body = (f'<div class="shop-head" data-seller-id="{sid}"><h1 class="shop-name">{_e(s.name)}</h1>'
                f'<span class="shop-location">所在地：{_e(s.location)}</span></div>'
                f'<div class="results">{"".join(self.card(self.catalog.products[i]) for i in chunk)}</div>'
                + self.pager(f"/shop/{sid}?", page, len(ids)))
        return _page(s.name, body)

    def detail_page(self, p: Product) -> str:
        s = self.catalog.sellers[p.seller_id]
        crumbs = " &gt; ".join(f'<a href="/search?q={quote(c)}">{_e(c)}</a>' for c in p.category.split("/"))
        imgs = "".join(f'<img src="/img/{n}.jpg" alt="商品图">' for n in p.images)
        body = (f'<nav class="breadcrumb">首页 &gt; {crumbs}</nav>'
                f'<div class="item" data-item-id="{p.listing_id}"><h1 class="item-title">{_e(p.title)}</h1>'
                f'<div class="gallery">{imgs}</div>'
                f'<div class="buy"><span class="price" data-price="{p.price_at(self.epoch):.2f}">¥{p.price_at(self.epoch):.2f}</span>'
                f' <span class="sales">已售 <b>{p.sales_at(self.epoch)}</b> 件</span></div>'
                f'<div class="seller">店铺：<a class="shop-link" href="/shop/{s.seller_id}" data-seller-id="{s.seller_id}">{_e(s.name)}</a>'
                f' <span class="seller-location">{_e(s.location)}</span></div>'
                f'<table class="params"><tr><th>产地</th><td>{_e(p.origin)}</td></tr>'
                f'<tr><th>类目</th><td>{_e(p.category)}</td></tr><tr><th>商品编号</th><td>{p.listing_id}</td></tr></table>'
                f'<div class="desc">{_e(p.description)}</div></div>')
        return _page(p.title, body)

    def broken_page(self, p: Product) -> str:
        return f'<!DOCTYPE html><html><head><title>{_e(p.title)}</title></head><body><div class="item"><div class="gall'

    def live_index(self) -> str:
        rows = "".join(f'<li><a class="room-link" href="/live/room/{r.room_id}">{_e(r.title)}</a> '
                       f'<span class="host">{_e(r.host_name)}</span>{" <em>已结束</em>" if r.offline else " <b>直播中</b>"}</li>'
                       for r in self.catalog.rooms)
        return _page("直播间", f'<h1>直播广场</h1><ul class="rooms">{rows}</ul>')

    def room_page(self, room) -> str:
        body = (f'<div class="room" data-room-id="{room.room_id}"><h1 class="room-title">{_e(room.title)}</h1>'
                f'<div class="host" data-host-id="{room.host_id}">主播：<span class="host-name">{_e(room.host_name)}</span>'
                f' <span class="host-location">{_e(room.host_location)}</span></div>'
                f'<div class="screen">{"" if room.offline else f"<div class=caption>{_e(room.caption)}</div>"}</div>'
                f'<h2>小黄车</h2><div id="cart" class="cart">商品加载中…</div></div>'
                f'<script>{CART_JS % {"room": room.room_id}}</script>')
        return _page(room.title, body)

    def cart_json(self, room) -> dict:
        if room.offline:
            return {"status": "offline", "items": []}
        return {"status": "live", "items": [
            {"id": p.listing_id, "title": p.title, "price": p.price_at(self.epoch), "sales": p.sales_at(self.epoch),
             "category": p.category, "origin": p.origin, "image": f"/img/{p.images[0]}.jpg"} for p in room.products]}


CART_JS = """
fetch('/api/live/%(room)s/cart').then(function(r){return r.json();}).then(function(d){
  var c=document.getElementById('cart'); c.innerHTML='';
  if(d.status!=='live'){var o=document.createElement('div');o.className='room-offline';o.textContent='直播已结束';c.appendChild(o);return;}
  d.items.forEach(function(it){
    var el=document.createElement('div'); el.className='product-card';
    el.setAttribute('data-id',it.id); el.setAttribute('data-category',it.category); el.setAttribute('data-origin',it.origin);
    var img=document.createElement('img'); img.src=it.image; el.appendChild(img);
    [['card-title',it.title],['card-price','¥'+it.price.toFixed(2)],['card-sales','已售'+it.sales]].forEach(function(x){
      var s=document.createElement('div'); s.className=x[0]; s.textContent=x[1]; el.appendChild(s);});
    c.appendChild(el);});
}).catch(function(e){document.getElementById('cart').innerHTML='<div class="cart-error">加载失败</div>';});
"""


class _Handler(BaseHTTPRequestHandler):
    site: SandboxServer
    protocol_version = "HTTP/1.1"
    server_version = "SandboxMall/1.0"

    def log_message(self, *a) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes | str, ctype: str = "text/html; charset=utf-8",
              headers: dict | None = None) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._status = status

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        site = self.site
        u = urlsplit(self.path)
        path = u.path
        site.stats.enter(path)
        self._status = 0
        try:
            self._route(site, path, parse_qs(u.query))
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            site.stats.leave(self._status)

    def _not_found(self, what: str = "页面不存在") -> None:
        self._send(404, _page("404", f'<div class="not-found"><h1>404</h1><p>{_e(what)}</p></div>'))

    def _route(self, site: SandboxServer, path: str, qs: dict) -> None:
        page = 1
        try:
            page = max(1, int(qs.get("page", ["1"])[0]))
        except ValueError:
            pass
        if path == "/robots.txt":
            return self._send(200, "User-agent: *\nDisallow: /admin/\nDisallow: /cart\n", "text/plain; charset=utf-8")
        if path == "/":
            return self._send(200, _page("沙盒商城", '<form action="/search"><input name="q"><button>搜索</button></form>'
                                                    '<a href="/live">直播间</a>'))
        if path == "/search":
            return self._send(200, site.search_page(qs.get("q", [""])[0], page))
        if path.startswith("/item/"):
            return self._item(site, path[6:])
        if path.startswith("/shop/"):
            body = site.shop_page(path[6:], page)
            return self._send(200, body) if body else self._not_found("店铺不存在")
        if path.startswith("/img/") and path.endswith(".jpg"):
            name = path[5:-4]
            if not IMG_NAME.match(name):
                return self._not_found()
            return self._send(200, site.images.get(name), "image/jpeg",
                              {"Cache-Control": "public, max-age=86400"})
        if path == "/live":
            return self._send(200, site.live_index())
        if path.startswith("/live/room/"):
            room = site.catalog.room_index.get(path[11:])
            return self._send(200, site.room_page(room)) if room else self._not_found("直播间不存在")
        if path.startswith("/api/live/") and path.endswith("/cart"):
            room = site.catalog.room_index.get(path[10:-5])
            if room is None:
                return self._send(404, b'{"error":"no such room"}', "application/json")
            if site.cart_delay:
                time.sleep(site.cart_delay)
            return self._send(200, json.dumps(site.cart_json(room), ensure_ascii=False), "application/json; charset=utf-8")
        if path.startswith("/admin/"):
            return self._send(403, _page("403", "禁止访问"))
        return self._not_found()

    def _item(self, site: SandboxServer, pid: str) -> None:
        p = site.visible(pid)
        if p is None:
            return self._not_found("商品已下架或不存在")
        special = site.catalog.special_of.get(pid)
        if special == "slow":
            time.sleep(site.slow_seconds)
        elif special == "rate_limit_once" and pid not in site._once:
            site._once.add(pid)
            return self._send(429, _page("429", "访问过于频繁，请稍后再试"), headers={"Retry-After": "1"})
        elif special == "rate_limited":
            return self._send(429, _page("429", "访问过于频繁，请稍后再试"), headers={"Retry-After": "1"})
        elif special == "captcha":
            return self._send(200, _page("安全验证", '<div id="captcha" class="captcha">请完成安全验证后继续访问</div>'))
        elif special == "server_error":
            return self._send(500, _page("500", "服务器开小差了"))
        elif special == "broken":
            return self._send(200, site.broken_page(p))
        key = f"{pid}@{site.epoch}"
        cached = site._bodies.get(key)
        if cached is None:
            body = site.detail_page(p).encode("utf-8")
            cached = (body, '"' + hashlib.sha1(body).hexdigest()[:20] + '"')
            site._bodies[key] = cached
        body, etag = cached
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self._status = 304
            return
        self._send(200, body, headers={"ETag": etag})


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description="Serve the markwatch sandbox marketplace and live rooms")
    ap.add_argument("--port", type=int, default=8800)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--listings", type=int, default=3000)
    ap.add_argument("--state", type=Path, default=None, help="state file: each start advances the epoch")
    args = ap.parse_args(argv)
    sb = SandboxServer(seed=args.seed, n_listings=args.listings, state_file=args.state, port=args.port)
    print(f"sandbox (seed {args.seed}, epoch {sb.epoch}) on {sb.start()}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sb.stop()
