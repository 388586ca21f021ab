"""`markwatch sellers ...` (profiles, key-market list) and `markwatch suppressions ...`."""
from __future__ import annotations

from typing import Optional

import typer

from .common import db_engine, fail

app = typer.Typer(help="Seller profiles, repeat infringers and the key-market list (重点关注市场名录).",
                  no_args_is_help=True)
suppressions_app = typer.Typer(help="Rules from dismissed leads that suppress the same false lead next time.",
                               no_args_is_help=True)


@app.command("list")
def list_(limit: int = typer.Option(20, help="At most N sellers")):
    """Sellers by confirmed and total leads, with the repeat-infringer flag.

    Example: markwatch sellers list --limit 10
    """
    from alerts.sellers import top_sellers
    from alerts.settings import get_alert_settings
    from store.db import session_scope

    with session_scope(db_engine()) as s:
        rows = top_sellers(s, limit, get_alert_settings().repeat_infringer_min)
    for a in rows:
        typer.echo(f"{a['platform']}\t{a['seller_id'] or '-'}\t{a['seller_name'] or '-'}\tleads {a['leads']}\t"
                   f"confirmed {a['confirmed']}\topen {a['open']}" + ("\tREPEAT INFRINGER" if a["repeat_infringer"] else ""))
    if not rows:
        typer.echo("no sellers with leads", err=True)


@app.command()
def show(seller: str = typer.Argument(..., help="Seller id or shop name"),
         platform: Optional[str] = typer.Option(None, help="Platform of the seller id")):
    """A seller's profile across platforms and shop names (linked by shop name and images).

    Example: markwatch sellers show s918726 --platform demo-mall
    """
    from alerts.sellers import seller_profile
    from alerts.settings import get_alert_settings
    from store.db import session_scope

    with session_scope(db_engine()) as s:
        p = seller_profile(s, platform, seller, get_alert_settings().repeat_infringer_min)
    if p is None:
        fail(f"no leads for seller {seller!r}" + (f" on {platform}" if platform else ""))
    typer.echo(f"seller {seller}: {len(p.accounts)} accounts on {', '.join(p.platforms)}; names: {', '.join(p.names) or '-'}")
    typer.echo(f"leads {len(p.leads)} ({', '.join(f'{k} {v}' for k, v in sorted(p.status_counts.items()))}); "
               f"confirmed {p.confirmed}" + ("; REPEAT INFRINGER" if p.repeat_infringer else ""))
    for a in p.accounts:
        typer.echo(f"  account {a[0]}/{a[1] or '-'} {a[2]}")
    for why in p.links:
        typer.echo(f"  linked: {why}")
    for l in p.leads:
        typer.echo(f"  #{l['lead_id']}\t{l['status']}\t{l['target_id']}\t{l['platform']}/{l['listing_id']}\t"
                   f"{'online' if l['online'] else 'removed'}\t{l['title'][:40]}")


@app.command()
def markets(all_: bool = typer.Option(False, "--all", help="Also markets that left the list")):
    """The key-market list (重点关注市场名录): platforms and shops that entered by rule, and why.

    Example: markwatch sellers markets --all
    """
    from sqlalchemy import select

    from store.db import session_scope
    from store.models import KeyMarket

    with session_scope(db_engine()) as s:
        q = select(KeyMarket).order_by(KeyMarket.active.desc(), KeyMarket.entered_at.desc())
        if not all_:
            q = q.where(KeyMarket.active.is_(True))
        rows = list(s.scalars(q))
    for k in rows:
        name = k.platform + (f"/{k.shop_name or k.shop_id}" if k.scope == "shop" else "")
        state = "on list" if k.active else f"left {k.left_at:%Y-%m-%d}: {k.leave_reason}"
        typer.echo(f"{k.scope}\t{name}\tentered {k.entered_at:%Y-%m-%d}: {k.enter_reason}\t{state}")
    if not rows:
        typer.echo("the key-market list is empty", err=True)


@suppressions_app.command("list")
def sup_list(all_: bool = typer.Option(False, "--all", help="Also removed rules")):
    """Suppression rules with how many leads each suppressed.

    Example: markwatch suppressions list
    """
    from sqlalchemy import select

    from store.db import session_scope
    from store.models import Suppression

    with session_scope(db_engine()) as s:
        q = select(Suppression).order_by(Suppression.id)
        if not all_:
            q = q.where(Suppression.active.is_(True))
        rows = list(s.scalars(q))
    for r in rows:
        what = (f"seller {r.platform or '*'}/{r.seller_id or r.seller_name}" if r.kind == "seller" else f"phrase '{r.phrase}'")
        state = "active" if r.active else f"removed by {r.removed_by} {r.removed_at:%Y-%m-%d}"
        typer.echo(f"#{r.id}\t{what}\ttarget {r.target_id or 'all'}\t{r.hits} suppressed\t"
                   f"by {r.created_by} {r.created_at:%Y-%m-%d} from lead #{r.source_lead_id}: {r.reason}\t{state}")
    if not rows:
        typer.echo("no suppression rules", err=True)


@suppressions_app.command("remove")
def sup_remove(rule_id: int = typer.Argument(..., help="Rule id (see `markwatch suppressions list`)"),
               by: Optional[str] = typer.Option(None, "--by", help="Who removes it (default MARKWATCH_ACTOR)")):
    """Remove a rule: its suppressed leads go back to 'new' (recorded in their audit trail).

    Example: markwatch suppressions remove 3 --by 张三
    """
    from alerts.suppress import remove_rule
    from store.db import session_scope

    from .cli_leads import _actor

    actor = _actor(by)
    try:
        with session_scope(db_engine()) as s:
            sup, n = remove_rule(s, rule_id, actor)
    except ValueError as e:
        fail(str(e), 2)
    typer.echo(f"suppression rule #{rule_id} removed by {actor}; {n} leads back to new")


@suppressions_app.command("preview")
def sup_preview(phrase: str = typer.Argument(..., help="The phrase a rule would match in titles/descriptions"),
                target: Optional[str] = typer.Option(None, "--target", help="Only leads on this mark/GI id")):
    """Show how many leads a phrase rule would hide, before adding it with
    `leads dismiss ID --suppress-phrase PHRASE`. Exit 2 when the phrase would be refused.

    Example: markwatch suppressions preview 正品授权 --target tm-moutai
    """
    from alerts.suppress import preview_phrase
    from store.db import session_scope

    try:
        with session_scope(db_engine()) as s:
            p = preview_phrase(s, phrase, target)
    except ValueError as e:
        fail(str(e), 2)
    typer.echo(f"phrase {p['phrase']!r}: would suppress {p['new']} new leads now "
               f"({p['all']} stored leads of any status contain it)")
    for lid, title in p["examples"]:
        typer.echo(f"  #{lid} {title[:60]}")
