"""`markwatch demo`: one pass over the bundled sandbox marketplace and live rooms."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from config.settings import get_settings
from config.redact import mask_url

DEMO_WATCHLIST = Path(__file__).resolve().parent.parent / "crawler" / "sandbox" / "demo_watchlist.yaml"
# `--full`: the sandbox at its original size (about 5 minutes on a quiet 2-core machine, most of it
# OCR of ~1,000 photos); the default (config/sources/sandbox-*.yaml: 100 listings, 3 rooms) is a
# twentieth of that.
FULL_SANDBOX = {"listings": 2000, "rooms": 40}


def full_size_sources(settings) -> list[dict]:
    """The configured sandbox sources with the sandbox at FULL_SANDBOX size (same seed)."""
    import yaml

    out = []
    for p in sorted(Path(settings.sources_dir).glob("*.y*ml")):
        d = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        if isinstance(d.get("sandbox"), dict) and d.get("enabled", True):
            d["sandbox"] = {**d["sandbox"], **FULL_SANDBOX}
            out.append(d)
    return out


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(watchlist: Optional[Path] = typer.Option(None, help="Watchlist to use (default: the bundled sample)"),
             top: int = typer.Option(5, help="How many top leads to show"),
             full: bool = typer.Option(False, "--full", help="The sandbox at full size (2,000 listings, 40 live "
                                        "rooms; several minutes) instead of the quick default (100, 3)")):
        """Start the bundled sandbox marketplace and live-commerce site on a free port, import a
        sample watchlist, run one full pass (crawl, store, match, queue, evidence) and print a summary.
        Afterwards `markwatch run` (as cron would call it) works against the same sandbox sources.

        The default sandbox (100 listings, 3 live rooms, every kind of lead: word marks, logos, text
        on photos, GIs, live rooms, authorised sellers) is a twentieth of --full (2,000 listings,
        40 rooms, the original size), sized for about a minute on a quiet 2-core machine. Progress is
        printed for every stage (crawl pages, OCR, matching, evidence).

        Example: MARKWATCH_DATA_DIR=/tmp/mw markwatch demo
        """
        from alerts.export import lead_rows
        from store.db import session_scope
        from store.repo import count_leads, count_listings, upsert_watchlist
        from watchlist import WatchlistError, load_watchlist

        from .common import db_engine, fail
        from .lock import LockBusy
        from .passes import run_pass

        st = get_settings()
        eng = db_engine()
        wl_path = watchlist or DEMO_WATCHLIST
        try:
            wl = load_watchlist(wl_path)
        except WatchlistError as e:
            fail(str(e), 2)
        with session_scope(eng) as s:
            upsert_watchlist(s, wl)
        typer.echo(f"watchlist: {wl_path} ({sum(len(e.marks) for e in wl.enterprises)} marks, "
                   f"{len(wl.geographical_indications)} GIs)")
        try:
            res = run_pass(st, eng, trigger="demo", say=lambda m: typer.echo(f"  {m}", err=True),
                           extra_sources=full_size_sources(st) if full else None)
        except LockBusy as e:
            fail(f"{e}; try again when it has finished", 3)
        c = res.counts
        with session_scope(eng) as s:
            n_listings, n_leads = count_listings(s), count_leads(s)
            rows = list(lead_rows(s, limit=top))
        typer.echo("")
        typer.echo(f"run {res.run_id}: {res.status}" + (f" ({res.error})" if res.error else ""))
        if res.status == "partial":
            from collections import Counter

            from sqlalchemy import select

            from store.models import RunFailure
            with session_scope(eng) as s:
                kinds = Counter(s.scalars(select(RunFailure.kind).where(RunFailure.run_id == res.run_id)))
            typer.echo("  named failures (the sandbox serves some on purpose; one bad page never stops a pass): "
                       + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
        typer.echo(f"listings crawled this pass: {c.get('crawl_new', 0)} new, {c.get('crawl_changed', 0)} changed, "
                   f"{c.get('crawl_unchanged', 0)} unchanged; {n_listings} in the store")
        typer.echo(f"leads queued this pass: {c.get('leads_new', 0)} new, {c.get('leads_updated', 0)} updated; "
                   f"{n_leads} in the queue")
        with session_scope(eng) as s:
            from sqlalchemy import func, select

            from store.models import Lead, Listing
            by = s.execute(select(Listing.kind, Lead.target_kind, func.count()).join(Listing, Lead.listing_pk == Listing.id)
                           .group_by(Listing.kind, Lead.target_kind)).all()
        if by:
            typer.echo("  by listing kind and target: " + ", ".join(f"{k}/{t} {n}" for k, t, n in sorted(by)))
        if rows:
            typer.echo(f"top {len(rows)} leads:")
            for r in rows:
                typer.echo(f"  #{r['lead_id']} [{r['score']}] {r['target_id']} {r['kind']} {r['platform']}/{r['listing_id']} "
                           f"{r['title'][:36]} — {'；'.join(r['reasons'])[:120]}")
        typer.echo(f"data directory: {st.resolved_data_dir}")
        typer.echo(f"database: {mask_url(st.db_url)}")
        typer.echo("next: `markwatch leads list`, `markwatch runs show %d`, `markwatch run`" % res.run_id)
        _console_accounts(eng, wl)
        if res.status == "failed":
            raise typer.Exit(1)


# -- web console (issue 15): demo accounts and where the console is ----------------------------

def _console_accounts(eng, wl) -> None:
    """Create (or reset) a demo officer and a demo holder of the first enterprise with fresh random
    passwords and print how to open the console with them."""
    import secrets

    from store.db import session_scope
    from web.auth import add_user

    ent = wl.enterprises[0].id if wl.enterprises else None
    officer_pw, holder_pw = secrets.token_urlsafe(9), secrets.token_urlsafe(9)
    from store.models import WebUser

    with session_scope(eng) as s:
        existed = s.query(WebUser.id).filter_by(username="demo-officer").first() is not None
        add_user(s, "demo-officer", "officer", officer_pw)
        if ent:
            add_user(s, "demo-holder", "holder", holder_pw, ent)
    typer.echo("console: `markwatch serve --port 8000`, then open http://127.0.0.1:8000/")
    if existed:
        typer.echo("  (new demo passwords: the earlier ones and their open console sessions no longer work)")
    typer.echo(f"  officer: demo-officer / {officer_pw}")
    if ent:
        typer.echo(f"  holder ({ent}): demo-holder / {holder_pw}")
