"""`markwatch sources list|check`: crawl sources (config/sources/*.yaml) and what they extract."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from config.settings import get_settings

from .common import fail

app = typer.Typer(help="Crawl sources: list them, check one against a page.", no_args_is_help=True)


@app.command("list")
def list_():
    """List the configured sources (MARKWATCH_SOURCES_DIR, default config/sources) and any broken
    source file with its error; a broken file is not crawled (config_error in the run record),
    the others are. Exit 1 when a file is broken.

    Example: markwatch sources list
    """
    from crawler.sources import load_sources_checked

    st = get_settings()
    sources, problems = load_sources_checked(st.sources_dir)
    last = {}
    try:  # the last crawl's status, if there is a database already
        from sqlalchemy import select

        from store.db import make_engine, session_scope
        from store.models import Source as Row

        if st.db_url.startswith("sqlite") and not (st.resolved_data_dir / "markwatch.db").exists():
            raise FileNotFoundError
        with session_scope(make_engine(settings=st)) as s:
            last = {r.name: (r.last_status, r.last_run_at) for r in s.scalars(select(Row))}
    except Exception:  # no database yet: configuration only
        last = {}
    for s in sources:
        where = "sandbox" if s.sandbox else s.base_url
        flags = [f for f, on in (("browser", s.browser), ("structured_data", bool(s.structured_data)),
                                 ("session", bool(s.session.cookies_env or s.session.cookies_file
                                                  or s.session.storage_state)),
                                 ("proxy", s.proxy is not None and bool(s.proxy.url or s.proxy.url_env
                                                                        or s.proxy.url_file))) if on]
        st_, at = last.get(s.name, (None, None))
        status = f"last crawl {at:%Y-%m-%d %H:%M} {st_}" if at else "not crawled yet"
        typer.echo(f"{s.name}\t{s.platform}\t{s.kind}\t{'enabled' if s.enabled else 'disabled'}\t{where}\t"
                   f"{','.join(flags) or '-'}\t{status}\t{s.file}")
    for p in problems:
        typer.echo(f"{p.name}\tconfig_error\t{p.message}", err=True)
    if not sources and not problems:
        typer.echo(f"no sources in {st.sources_dir}", err=True)
    if problems:
        raise typer.Exit(1)


def _show(rep, as_json: bool) -> None:
    from crawler.parse import Price

    if as_json:
        def conv(o):
            if isinstance(o, Price):
                return {"value": o.value, "low": o.low, "high": o.high, "currency": o.currency,
                        "warning": o.warning, "label": o.label, "text": o.text, "notes": o.notes}
            return str(o)

        typer.echo(json.dumps(rep.__dict__, ensure_ascii=False, indent=1, default=conv))
        return
    typer.echo(f"page {rep.url}")
    typer.echo(f"results.item_links: {len(rep.links)} links" + "".join(f"\n  {u}" for u in rep.links[:20])
               + (f"\n  ... {len(rep.links) - 20} more" if len(rep.links) > 20 else ""))
    typer.echo(f"results.next_page: {rep.next_page or '-'}")
    if rep.structured:
        sd = {k: (v.text if isinstance(v, Price) else v) for k, v in rep.structured.items()}
        typer.echo("schema.org Product data: " + json.dumps(sd, ensure_ascii=False))
    else:
        typer.echo("schema.org Product data: none")
    if rep.error:
        typer.echo(f"detail: not an item page for this source: {rep.error}")
        return
    if rep.listing is None:
        return
    typer.echo("detail fields (selector -> what it matched -> value stored):")
    for k, v in rep.listing.items():
        t = rep.trace.get(k)
        how = f"{t['from']} -> {json.dumps(t['matches'][:3], ensure_ascii=False)}" if t else "(no selector)"
        typer.echo(f"  {k}: {how} -> {json.dumps(v, ensure_ascii=False)}")
    p = rep.price
    if p is not None:
        rng = f", range {p.low:g}-{p.high:g}" if p.high is not None else ""
        lab = f", label {p.label}" if p.label else ""
        typer.echo(f"price: text {p.text!r} -> {p.value}{rng}{lab}" + (f" ({p.currency})" if p.currency else ""))
        for note in p.notes:
            typer.echo(f"  number {note}")
    for kind, detail in rep.warnings:
        typer.echo(f"warning {kind}: {detail}")


@app.command("check")
def check(file: Path = typer.Argument(..., help="Source YAML file"),
          page: Optional[Path] = typer.Option(None, "--page", help="A saved page (HTML as saved from the browser)"),
          page_url: Optional[str] = typer.Option(None, "--page-url",
                                                 help="URL the saved page came from (listing id from the URL, "
                                                      "relative links); default: base_url"),
          url: Optional[str] = typer.Option(None, "--url", help="Fetch this page now (allowed hosts only)"),
          as_json: bool = typer.Option(False, "--json", help="Print JSON")):
    """Validate a source file and, with --page or --url, show what each selector extracts from
    that page and the listing a crawl would store (price as read, warnings), like `scrapy parse`.
    Exit 0 when the file is valid (and the page is an item page, when one is given), 2 otherwise.

    Example: markwatch sources check config/sources/mall-x.yaml --page saved/item-10023.html --page-url https://www.mall-x.example/item/10023.html
    """
    from crawler.check import CheckError, check_page, fetch_page
    from crawler.session import SessionError, resolve_reach, source_base
    from crawler.sources import SourceError, read_source_file

    if not file.is_file():
        fail(f"{file}: file not found", 2)
    try:
        src = read_source_file(file)
    except SourceError as e:
        fail(str(e), 2)
    d = src.resolved()
    try:
        reach = resolve_reach(d, source_base(d))
    except SessionError as e:
        fail(f"{file}: {e}", 2)
    if not as_json:
        typer.echo(f"{file}: valid ({src.name}, platform {src.platform}, {src.kind}"
                   + (", browser" if src.browser else "") + (", structured data" if src.structured_data else "")
                   + f"); session: {len(reach.cookies)} cookies" + (", storage state" if reach.storage_state else "")
                   + (", proxy" if reach.proxy else ""))
    if page and url:
        fail("give --page or --url, not both", 2)
    if not page and not url:
        return
    if src.kind != "marketplace":
        fail("--page/--url check marketplace sources; a live source is checked with "
             f"`markwatch run --source {src.name}` and `markwatch runs show`", 2)
    if page:
        if not page.is_file():
            fail(f"{page}: file not found", 2)
        body, where, headers = page.read_bytes(), page_url or (d["base_url"] or "http://localhost") + "/", {}
    else:
        try:
            body, where, headers = fetch_page(src, url, get_settings().ensure_dirs())
        except (CheckError, SessionError) as e:
            fail(str(e), 2)
        except Exception as e:  # network errors, browser errors: named, not a traceback
            fail(f"{url}: {type(e).__name__}: {e}", 2)
    rep = check_page(src, body, where, headers)
    if rep.error and "listing id" in rep.error and page and not page_url:
        rep.error += " (give --page-url, the URL the page was saved from, for listing_id_from_url)"
    _show(rep, as_json)
    if rep.error and not rep.links:
        raise typer.Exit(2)
