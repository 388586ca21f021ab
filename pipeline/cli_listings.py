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

    Example: markwatch listings import devset/listings.jsonl
    """
    from .stages import import_listings_file

    if not file.is_file():
        fail(f"{file}: file not found")
    c = import_listings_file(db_engine(), file, source=source, err=lambda m: typer.echo(f"error: {m}", err=True))
    typer.echo(f"{file}: {c['new']} new, {c['changed']} changed, {c['unchanged']} unchanged, "
               f"{c['bad_lines']} bad lines skipped")


# -- list | show | export (crawled and imported listings in the store) --------------------------

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
    with session_scope(db_engine()) as s:
        total = count_listings(s, f)
        rows = find_listings(s, f, page=page, per_page=per_page)
        for r, n in rows:
            price = "-" if r.price is None else f"{r.price:g}"
            gone = " (removed)" if r.status == "removed" else ""
            typer.echo(f"{r.platform}:{r.listing_id}\t{price}\t{n} leads\t{r.last_seen:%Y-%m-%d %H:%M}\t"
                       f"{r.seller_name or r.seller_id or '-'}\t{r.title}{gone}")
    pages = max(1, -(-total // per_page))
    typer.echo(f"page {page}/{pages}, {total} listings", err=True)


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
    typer.echo(f"{rec['platform']}:{rec['listing_id']}  {rec['title']}")
    for k in ("url", "price", "currency", "sales", "seller_id", "seller_name", "seller_location", "origin",
              "category", "description"):
        if rec.get(k) not in (None, ""):
            typer.echo(f"  {k}: {rec[k]}")
    if rec["price"] is None:
        typer.echo("  price: - (none on the page)")
    typer.echo(f"  status: {d['status']}  source: {d['source'] or '-'}  first seen {d['first_seen']}  "
               f"last seen {d['last_seen']}  match: {d['match_state']}")
    for p in d["pages"]:
        rng = f" (range up to {p['price_high']:g})" if p.get("price_high") else ""
        typer.echo(f"  page [{p['source']}] fetched {p['fetched_at']} HTTP {p['status_code']}: "
                   f"price text {p.get('price_text')!r}{rng}; raw {p['raw_path'] or '-'}")
        for w in p.get("warnings") or []:
            typer.echo(f"    warning {w[0]}: {w[1]}")
    for i in rec["images"]:
        typer.echo(f"  image: {i}")
    for h in d["history"]:
        typer.echo(f"  history {h['seen_at']}: price {h['price']} sales {h['sales']}")
    for ld in d["leads"]:
        typer.echo(f"  lead {ld['id']} {ld['target_kind']}:{ld['target_id']} score {ld['score']} [{ld['status']}]: "
                   + "; ".join(ld["reasons"] or []))


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
    typer.echo(f"{n} listings written to {output}", err=True)
