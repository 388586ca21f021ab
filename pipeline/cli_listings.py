"""`markwatch listings ...`: load listings from files."""
from __future__ import annotations

from pathlib import Path

import typer

from .common import db_engine, fail

app = typer.Typer(help="Listings in the store.", no_args_is_help=True)


@app.command("import")
def import_(file: Path = typer.Argument(..., help="Listings JSONL (DESIGN.md format)"),
            source: str = typer.Option("import", help="Source name recorded on the listings")):
    """Store listings from a JSONL file; bad lines are reported and skipped, good lines kept.
    Imported listings are matched by the next `markwatch run` (or `markwatch run --no-crawl`).

    Example: markwatch listings import tests/data/real-titles/listings.jsonl
    """
    from config.textio import label
    from config.listing import listings_encoding

    from .stages import import_listings_file

    if not file.is_file():
        fail(f"{file}: file not found")
    enc = listings_encoding(file)
    if enc != "utf-8":
        typer.echo(f"{file}: encoding {label(enc)} (detected)", err=True)
    c = import_listings_file(db_engine(), file, source=source, err=lambda m: typer.echo(f"error: {m}", err=True))
    typer.echo(f"{file}: {c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged, "
               f"{c['bad_lines']} bad lines skipped")


# -- list | show | export (crawled and imported listings in the store) --------------------------

_L = {  # user-facing labels: zh-CN by default, English with MARKWATCH_LANGUAGE=en
    "zh-CN": {"leads": "线索 {n} 条", "removed": "（已下架）", "pages": "第 {page}/{pages} 页，共 {total} 条",
              "no_price": "价格：-（页面未标价）", "status": "状态：{status}  来源：{source}  首次发现 {first}  最近发现 {last}  "
              "匹配：{match}", "page": "页面 [{source}] 抓取于 {at} HTTP {code}：价格文本 {text}{rng}；原始页面 {raw}",
              "range": "（价格区间至 {high:g}）", "warning": "提示 {kind}（{name}）：{detail}", "image": "图片：{i}",
              "history": "历史 {at}：价格 {price} 销量 {sales}", "lead": "线索 {id} {kind}:{target} 分数 {score} [{status}]：",
              "written": "已导出 {n} 条到 {output}",
              "fields": {"url": "链接", "price": "价格", "currency": "币种", "sales": "销量", "seller_id": "卖家ID",
                         "seller_name": "卖家", "seller_location": "卖家所在地", "origin": "产地", "category": "类目",
                         "description": "描述"},
              "warnings": {"price_on_request": "价格面议", "price_missing": "未找到价格",
                           "price_unreadable": "价格无法识别"},
              "states": {"active": "在售", "removed": "已下架", "pending": "待匹配", "done": "已匹配",
                         "error": "匹配出错"}},
    "en": {"leads": "{n} leads", "removed": " (removed)", "pages": "page {page}/{pages}, {total} listings",
           "no_price": "price: - (none on the page)", "status": "status: {status}  source: {source}  first seen {first}  "
           "last seen {last}  match: {match}", "page": "page [{source}] fetched {at} HTTP {code}: price text {text}{rng}; "
           "raw {raw}", "range": " (range up to {high:g})", "warning": "warning {kind} ({name}): {detail}",
           "image": "image: {i}", "history": "history {at}: price {price} sales {sales}",
           "lead": "lead {id} {kind}:{target} score {score} [{status}]: ", "written": "{n} listings written to {output}",
           "fields": {}, "warnings": {"price_on_request": "price on request", "price_missing": "no price found",
                                      "price_unreadable": "unreadable price"}},
}


def _labels() -> dict:
    from config.settings import get_settings

    lang = (get_settings().language or "zh-CN")
    return _L["en"] if lang.lower().startswith("en") else _L["zh-CN"]


def _filter(platform, seller, since, until, has_leads, status, text):
    from datetime import date

    from store.listing_query import ListingFilter

    def day(v, opt):
        if not v:
            return None
        try:
            return date.fromisoformat(v)
        except ValueError:
            fail(f"{opt} {v!r} is not a date (YYYY-MM-DD)")

    if status and status not in ("active", "removed"):
        fail(f"--status {status!r}: use active or removed")
    return ListingFilter(platform=platform, seller=seller, since=day(since, "--since"), until=day(until, "--until"),
                         has_leads=has_leads, status=status, text=text)


_PLATFORM = typer.Option(None, "--platform", help="Only this platform (as in the source's `platform`)")
_SELLER = typer.Option(None, "--seller", help="Seller id, or part of the seller name")
_SINCE = typer.Option(None, "--since", help="Last seen on or after this date (YYYY-MM-DD)")
_UNTIL = typer.Option(None, "--until", help="Last seen on or before this date (YYYY-MM-DD)")
_LEADS = typer.Option(None, "--has-leads/--no-leads", help="Only listings with / without leads")
_STATUS = typer.Option(None, "--status", help="active or removed")
_TEXT = typer.Option(None, "--title", help="Part of the title")


@app.command("list")
def list_(platform: str = _PLATFORM, seller: str = _SELLER, since: str = _SINCE, until: str = _UNTIL,
          has_leads: bool = _LEADS, status: str = _STATUS, text: str = _TEXT,
          page: int = typer.Option(1, "--page", min=1, help="Page number (1 = most recently seen)"),
          per_page: int = typer.Option(50, "--per-page", min=1, max=1000, help="Listings per page")):
    """List stored listings, most recently seen first, with filters; paged.

    Columns: PLATFORM:LISTING_ID, price (CNY; '-' when the page showed none), leads, last seen,
    seller, title.

    Example: markwatch listings list --platform mall-x --has-leads --since 2026-11-01 --page 2
    """
    from store.db import session_scope
    from store.listing_query import count_listings, find_listings

    f = _filter(platform, seller, since, until, has_leads, status, text)
    L = _labels()
    with session_scope(db_engine()) as s:
        total = count_listings(s, f)
        rows = find_listings(s, f, page=page, per_page=per_page)
        for r, n in rows:
            price = "-" if r.price is None else f"{r.price:g}"
            gone = L["removed"] if r.status == "removed" else ""
            typer.echo(f"{r.platform}:{r.listing_id}\t{price}\t{L['leads'].format(n=n)}\t{r.last_seen:%Y-%m-%d %H:%M}\t"
                       f"{r.seller_name or r.seller_id or '-'}\t{r.title}{gone}")
    pages = max(1, -(-total // per_page))
    typer.echo(L["pages"].format(page=page, pages=pages, total=total), err=True)


@app.command("show")
def show(ref: str = typer.Argument(..., help="PLATFORM:LISTING_ID (or a listing id only one platform has)"),
         as_json: bool = typer.Option(False, "--json", help="Print JSON")):
    """Show one stored listing: fields, price as the page showed it (range, warnings), price and
    sales history, raw page kept for evidence, leads.

    Example: markwatch listings show mall-x:10023
    """
    import json

    from sqlalchemy import select

    from crawler.models import CrawlPage
    from store.db import session_scope
    from store.listing_query import get_listing, listing_detail

    with session_scope(db_engine()) as s:
        try:
            row = get_listing(s, ref)
        except LookupError as e:
            fail(str(e))
        pages = s.scalars(select(CrawlPage).where(CrawlPage.platform == row.platform,
                                                  CrawlPage.listing_id == row.listing_id)).all()
        d = listing_detail(s, row, pages)
    if as_json:
        typer.echo(json.dumps(d, ensure_ascii=False, indent=1))
        return
    rec = d["listing"]
    L = _labels()
    typer.echo(f"{rec['platform']}:{rec['listing_id']}  {rec['title']}")
    for k in ("url", "price", "currency", "sales", "seller_id", "seller_name", "seller_location", "origin",
              "category", "description"):
        if rec.get(k) not in (None, ""):
            typer.echo(f"  {L['fields'].get(k, k)}: {rec[k]}")
    if rec["price"] is None:
        typer.echo("  " + L["no_price"])
    states = L.get("states", {})
    typer.echo("  " + L["status"].format(status=states.get(d["status"], d["status"]), source=d["source"] or "-",
                                         first=d["first_seen"], last=d["last_seen"],
                                         match=states.get(d["match_state"], d["match_state"])))
    for p in d["pages"]:
        rng = L["range"].format(high=p["price_high"]) if p.get("price_high") else ""
        typer.echo("  " + L["page"].format(source=p["source"], at=p["fetched_at"], code=p["status_code"],
                                           text=repr(p.get("price_text")), rng=rng, raw=p["raw_path"] or "-"))
        for w in p.get("warnings") or []:
            typer.echo("    " + L["warning"].format(kind=w[0], name=L["warnings"].get(w[0], w[0]), detail=w[1]))
    for i in rec["images"]:
        typer.echo("  " + L["image"].format(i=i))
    for h in d["history"]:
        typer.echo("  " + L["history"].format(at=h["seen_at"], price=h["price"], sales=h["sales"]))
    for ld in d["leads"]:
        typer.echo("  " + L["lead"].format(id=ld["id"], kind=ld["target_kind"], target=ld["target_id"],
                                           score=ld["score"], status=ld["status"]) + "; ".join(ld["reasons"] or []))


@app.command("export")
def export(output: Path = typer.Option(..., "--output", "-o", help="File to write ('-' for stdout)"),
           fmt: str = typer.Option("jsonl", "--format", help="jsonl (DESIGN.md Listings JSONL) or csv"),
           platform: str = _PLATFORM, seller: str = _SELLER, since: str = _SINCE, until: str = _UNTIL,
           has_leads: bool = _LEADS, status: str = _STATUS, text: str = _TEXT):
    """Export stored listings (same filters as `list`) as Listings JSONL - what `markwatch match`
    and `markwatch listings import` read - or CSV (UTF-8 with BOM, opens in Excel).

    Example: markwatch listings export --platform mall-x --has-leads -o leads-listings.jsonl
    """
    import csv
    import json
    import sys

    from store.db import session_scope
    from store.listing_query import EXPORT_FIELDS, iter_listings, record_dict

    if fmt not in ("jsonl", "csv"):
        fail(f"--format {fmt!r}: use jsonl or csv")
    f = _filter(platform, seller, since, until, has_leads, status, text)
    to_stdout = str(output) == "-"
    out = sys.stdout if to_stdout else output.open("w", encoding="utf-8-sig" if fmt == "csv" else "utf-8",
                                                   newline="")
    n = 0
    try:
        w = csv.DictWriter(out, fieldnames=list(EXPORT_FIELDS)) if fmt == "csv" else None
        if w:
            w.writeheader()
        with session_scope(db_engine()) as s:
            for row in iter_listings(s, f):
                d = record_dict(row)
                if w:
                    w.writerow({**d, "images": " ".join(d["images"])})
                else:
                    out.write(json.dumps(d, ensure_ascii=False) + "\n")
                n += 1
    finally:
        if not to_stdout:
            out.close()
    typer.echo(_labels()["written"].format(n=n, output=output), err=True)
