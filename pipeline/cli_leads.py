"""`markwatch leads ...`: the lead queue — list, show, review, confirm, dismiss, refer, close."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .common import db_engine, fail

app = typer.Typer(help="The lead queue: list, show, review, confirm, dismiss, refer, close, export.",
                  no_args_is_help=True)

BY_HELP = "Who acts (recorded in the audit trail; default MARKWATCH_ACTOR)"


def _actor(by: Optional[str]) -> str:
    from alerts.settings import get_alert_settings

    a = (by or get_alert_settings().actor or "").strip()
    if not a:
        fail("who is acting? give --by NAME (or set MARKWATCH_ACTOR)", 2)
    return a


def _bureau_filter(bureau: Optional[str]) -> tuple[list[str] | None, str]:
    """Bureau ids to show (the bureau and those under it) and a label; None = everything."""
    from alerts.jurisdiction import BureauConfigError, configured_bureaus
    from alerts.settings import get_alert_settings

    want = bureau if bureau is not None else get_alert_settings().bureau
    if not want or want == "all":
        return None, "all bureaus"
    try:
        b = configured_bureaus()
    except BureauConfigError as e:
        fail(str(e), 2)
    if b is None:
        fail(f"--bureau {want}: no bureaus configured (MARKWATCH_BUREAUS_FILE or <data dir>/bureaus.yaml)", 2)
    if b.get(want) is None:
        fail(f"unknown bureau {want!r} (configured: {', '.join(b.bureaus)})", 2)
    return b.subtree(want), f"{b.get(want).name} ({want})"


@app.command("list")
def list_(status: Optional[str] = typer.Option(None, help="Only this status: new, in_review, confirmed, dismissed, referred, closed, suppressed"),
          bureau: Optional[str] = typer.Option(None, help="Only this bureau's jurisdiction (and bureaus under it); "
                                               "default MARKWATCH_BUREAU; 'all' for every lead"),
          limit: int = typer.Option(50, help="At most N leads"),
          why: bool = typer.Option(False, "--why", help="Show the ranking explanation under each lead")):
    """List leads, highest priority first (suppressed leads only with --status suppressed).

    Example: markwatch leads list --status new --bureau hz-xihu --why
    """
    from sqlalchemy import func, select

    from alerts.export import lead_rows
    from alerts.lifecycle import STATUSES
    from store.db import session_scope
    from store.models import Lead

    if status and status not in STATUSES:
        fail(f"unknown status {status!r} (one of {', '.join(STATUSES)})", 2)
    ids, label = _bureau_filter(bureau)
    with session_scope(db_engine()) as s:
        n = 0
        for r in lead_rows(s, status=status, limit=limit, bureaus=ids, include_suppressed=False):
            n += 1
            rel = f"\t↺#{r['related_lead_id']}" if r["related_lead_id"] else ""
            typer.echo(f"#{r['lead_id']}\t{r['priority']}\t{r['score']}\t{r['status']}\t{r['target_id']}\t"
                       f"{r['platform']}/{r['listing_id']}\t{r['jurisdiction'] or '-'}\t{r['title'][:40]}\t"
                       f"{'；'.join(r['reasons'])}{rel}")
            if why:
                for pr in r["priority_reasons"]:
                    typer.echo(f"\t· {pr}")
        if ids is not None:
            typer.echo(f"({n} leads shown for {label}; --bureau all for every bureau)", err=True)
        if n == 0:
            typer.echo("no leads", err=True)
        sup = s.scalar(select(func.count()).select_from(Lead).where(Lead.status == "suppressed"))
        if sup and status is None:
            typer.echo(f"({sup} suppressed leads hidden: `markwatch leads list --status suppressed`, "
                       f"`markwatch suppressions list`)", err=True)


@app.command()
def show(lead_id: int = typer.Argument(..., help="Lead id")):
    """Show one lead: listing, why it matched, why it ranks where it does, jurisdiction, related
    lead, price history and the full audit trail.

    Example: markwatch leads show 12
    """
    from sqlalchemy import select

    from alerts.export import row_of
    from alerts.i18n import status_name
    from alerts.lifecycle import allowed_actions
    from store.db import session_scope
    from store.models import Lead, ListingSnapshot

    with session_scope(db_engine()) as s:
        lead = s.get(Lead, lead_id)
        if lead is None:
            fail(f"no lead {lead_id}")
        li = lead.listing
        r = row_of(lead, li)
        typer.echo(f"lead #{lead.id}: {lead.status} ({status_name(lead.status)})  target {lead.target_id} ({lead.target_kind})  "
                   f"score {lead.score}  priority {r['priority']}")
        typer.echo(f"listing {li.platform}/{li.listing_id} [{'online' if li.status == 'active' else 'removed'}] {li.title}")
        typer.echo(f"  url {li.url or '-'}\n  seller {li.seller_name} ({li.seller_id}) at {li.seller_location or '-'}"
                   f"\n  price {li.price if li.price is not None else '-'} {li.currency}  sales {li.sales if li.sales is not None else '-'}"
                   f"\n  first seen {r['first_seen']}  last seen {r['last_seen']}")
        typer.echo("why it matched: " + "；".join(r["reasons"]))
        typer.echo("priority:")
        for pr in lead.priority_reasons or []:
            typer.echo(f"  · {pr}")
        typer.echo(f"jurisdiction: {lead.jurisdiction or '-'}")
        if lead.verdict:
            typer.echo(f"verdict: {lead.verdict}")
        if lead.status_reason:
            typer.echo(f"reason: {lead.status_reason}")
        if lead.referred_to:
            typer.echo(f"referred to: {lead.referred_to}")
        if lead.related_lead_id:
            rel = s.get(Lead, lead.related_lead_id)
            if rel is not None:
                typer.echo(f"related: lead #{rel.id} ({rel.status}) listing {rel.listing.platform}/{rel.listing.listing_id} "
                           f"[{rel.listing.status}] — looks like the same item relisted")
        for later in s.scalars(select(Lead).where(Lead.related_lead_id == lead.id)):
            typer.echo(f"relisted as: lead #{later.id} ({later.status}) listing {later.listing.platform}/{later.listing.listing_id}")
        snaps = list(s.scalars(select(ListingSnapshot).where(ListingSnapshot.listing_pk == li.id).order_by(ListingSnapshot.id)))
        if len(snaps) > 1:
            typer.echo("price history: " + ", ".join(f"{sn.seen_at:%Y-%m-%d} {sn.price}" + (f" ({sn.sales} sold)" if sn.sales is not None else "")
                                                     for sn in snaps))
        typer.echo("audit trail:")
        for e in lead.events:
            typer.echo(f"  {e.at:%Y-%m-%d %H:%M:%S}\t{e.actor}\t{e.action}\t{e.from_status or '-'} → {e.to_status or '-'}"
                       + (f"\t{e.note}" if e.note else ""))
        typer.echo("next: " + (", ".join(allowed_actions(lead.status)) or "nothing (closed)"))


def _act(ids: list[int], action: str, by: Optional[str], reason: Optional[str] = None, to: Optional[str] = None):
    """Apply an action to leads in one transaction: all or none."""
    from alerts.lifecycle import TransitionError, transition
    from store.db import session_scope
    from store.models import Lead

    actor = _actor(by)
    eng = db_engine()
    out = []
    try:
        with session_scope(eng) as s:
            for i in ids:
                lead = s.get(Lead, i)
                if lead is None:
                    raise TransitionError(f"no lead {i}")
                ev = transition(s, lead, action, actor, reason=reason, to=to)
                out.append((lead.id, ev.from_status, ev.to_status))
    except TransitionError as e:
        fail(f"{e}; nothing changed", 2)
    for i, a, b in out:
        typer.echo(f"lead #{i}: {a} → {b} by {actor}")
    return out


@app.command()
def review(ids: List[int] = typer.Argument(..., help="Lead id(s)"), by: Optional[str] = typer.Option(None, "--by", help=BY_HELP),
           note: Optional[str] = typer.Option(None, help="Optional note")):
    """Take leads into review (new → in_review).

    Example: markwatch leads review 12 13 --by 张三
    """
    _act(ids, "review", by, note)


@app.command()
def confirm(ids: List[int] = typer.Argument(..., help="Lead id(s)"), by: Optional[str] = typer.Option(None, "--by", help=BY_HELP),
            note: Optional[str] = typer.Option(None, help="Optional note (what was checked)")):
    """Confirm leads as infringement (new | in_review → confirmed).

    Example: markwatch leads confirm 12 --by 张三 --note "与权利人核实为假冒"
    """
    _act(ids, "confirm", by, note)


@app.command()
def dismiss(ids: List[int] = typer.Argument(..., help="Lead id(s)"), by: Optional[str] = typer.Option(None, "--by", help=BY_HELP),
            reason: Optional[str] = typer.Option(None, "--reason", "-r", help="Why it is not infringement (required)"),
            suppress_seller: bool = typer.Option(False, "--suppress-seller", help="The seller is legitimate: suppress its future leads on this mark"),
            suppress_phrase: Optional[str] = typer.Option(None, "--suppress-phrase", help="This phrase marks a legitimate listing: suppress future leads containing it"),
            all_targets: bool = typer.Option(False, "--all-targets", help="Suppress for every mark/GI, not only this lead's")):
    """Dismiss leads (a reason is required). With --suppress-seller/--suppress-phrase the verdict
    becomes a rule that suppresses the same false lead next time (see `markwatch suppressions`).

    Example: markwatch leads dismiss 14 --by 张三 --reason "授权经销商" --suppress-seller
    """
    from alerts.lifecycle import TransitionError, transition
    from alerts.suppress import add_rule
    from store.db import session_scope
    from store.models import Lead

    actor = _actor(by)
    if not (reason or "").strip():
        fail("dismiss needs --reason (e.g. '授权经销商', '指示性使用', '商标本义')", 2)
    msgs = []
    try:
        with session_scope(db_engine()) as s:
            for i in ids:
                lead = s.get(Lead, i)
                if lead is None:
                    raise TransitionError(f"no lead {i}")
                ev = transition(s, lead, "dismiss", actor, reason=reason)
                msgs.append(f"lead #{i}: {ev.from_status} → dismissed by {actor}")
                for kind, phrase in (("seller", None),) * suppress_seller + ((("phrase", suppress_phrase),) if suppress_phrase else ()):
                    sup, n = add_rule(s, lead, kind, actor, reason, phrase=phrase, all_targets=all_targets)
                    msgs.append(f"  suppression rule #{sup.id} ({kind}{': ' + phrase if phrase else ''}) added; "
                                f"{n} other new leads suppressed")
    except (TransitionError, ValueError) as e:
        fail(f"{e}; nothing changed", 2)
    for m in msgs:
        typer.echo(m)


@app.command()
def refer(ids: List[int] = typer.Argument(..., help="Lead id(s) (confirmed)"),
          to: str = typer.Option(..., "--to", help="公安 (police), 海关 (customs), 平台 (platform), 其他局 or a bureau's name"),
          by: Optional[str] = typer.Option(None, "--by", help=BY_HELP),
          output: Optional[Path] = typer.Option(None, "--output", "-o", help="Referral pack zip (default: <data dir>/referrals/...)"),
          note: Optional[str] = typer.Option(None, help="Optional note")):
    """Refer confirmed leads and write the referral pack: a zip with the leads, evidence artefacts
    with their SHA-256, the ledger proof and an 电子数据提取笔录 (record.html).

    Example: markwatch leads refer 12 13 --to 公安 --by 张三 --output case-12.zip
    """
    from config.settings import get_settings

    from alerts.lifecycle import TransitionError, canonical_destination, transition
    from alerts.referral import build_pack
    from alerts.settings import get_alert_settings
    from store.db import session_scope
    from store.models import Lead, utcnow

    actor = _actor(by)
    st = get_settings()
    try:
        dest = canonical_destination(to)
    except TransitionError as e:
        fail(str(e), 2)
    out = output or st.resolved_data_dir / "referrals" / f"referral-{utcnow():%Y%m%d-%H%M%S}-{'-'.join(map(str, ids[:5]))}.zip"
    try:
        with session_scope(db_engine()) as s:
            leads = []
            for i in ids:
                lead = s.get(Lead, i)
                if lead is None:
                    raise TransitionError(f"no lead {i}")
                transition(s, lead, "refer", actor, reason=note, to=dest)
                leads.append(lead)
            man = build_pack(s, leads, out, dest, actor, st.resolved_data_dir / "evidence", get_alert_settings().timezone)
    except TransitionError as e:
        fail(f"{e}; nothing changed", 2)
    for l in leads:
        typer.echo(f"lead #{l.id}: confirmed → referred to {dest} by {actor}")
    nfiles = sum(1 for f in man["files"] if f["name"].startswith("evidence/"))
    typer.echo(f"referral pack {out}: {len(leads)} leads, {nfiles} evidence files, ledger chain "
               f"{'ok' if man['chain_ok'] else 'BROKEN'}")
    if man["evidence_problems"]:
        typer.echo(f"warning: {len(man['evidence_problems'])} evidence files missing or not matching the ledger: "
                   + ", ".join(man["evidence_problems"]), err=True)
    if man.get("timestamp"):
        typer.echo(f"trusted timestamp of the pack (manifest.json.tsr): {man['timestamp']['gen_time']}")
    elif man.get("timestamp_error"):
        typer.echo(f"warning: the pack has no trusted timestamp: {man['timestamp_error']}", err=True)


@app.command()
def close(ids: List[int] = typer.Argument(..., help="Lead id(s)"), by: Optional[str] = typer.Option(None, "--by", help=BY_HELP),
          reason: Optional[str] = typer.Option(None, "--reason", "-r", help="Outcome (e.g. 已立案, 平台已下架)")):
    """Close leads (confirmed | dismissed | referred → closed).

    Example: markwatch leads close 12 --by 张三 --reason "已立案查处"
    """
    _act(ids, "close", by, reason)


@app.command()
def reopen(ids: List[int] = typer.Argument(..., help="Lead id(s)"), by: Optional[str] = typer.Option(None, "--by", help=BY_HELP),
           reason: Optional[str] = typer.Option(None, "--reason", "-r", help="Why (required)")):
    """Reopen a confirmed, dismissed or closed lead for review (→ in_review).

    Example: markwatch leads reopen 14 --by 李四 --reason "权利人提供新证据"
    """
    _act(ids, "reopen", by, reason)


@app.command()
def export(file: Path = typer.Argument(..., help="Output file ('-' for stdout)"),
           format: str = typer.Option("jsonl", "--format", "-f", help="jsonl or csv"),
           status: Optional[str] = typer.Option(None, help="Only leads with this status"),
           bureau: Optional[str] = typer.Option("all", help="Only this bureau's jurisdiction (default all)")):
    """Export leads, one row per lead: the DESIGN.md lead fields plus listing kind, url, title,
    seller, price, sales, online, status, verdict, priority and its reasons, jurisdiction,
    related lead, first/last seen.

    Example: markwatch leads export --format csv leads.csv
    """
    import sys

    from alerts.export import lead_rows, write_csv, write_jsonl
    from store.db import session_scope

    if format not in ("jsonl", "csv"):
        fail(f"--format must be jsonl or csv, not {format!r}", 2)
    ids, _ = _bureau_filter(bureau)
    out = sys.stdout if str(file) == "-" else file.open("w", encoding="utf-8", newline="")
    try:
        with session_scope(db_engine()) as s:
            n = (write_jsonl if format == "jsonl" else write_csv)(lead_rows(s, status=status, bureaus=ids), out)
    finally:
        if out is not sys.stdout:
            out.close()
    typer.echo(f"exported {n} leads to {file}", err=True)
