"""`markwatch evidence verify|show|capture`: the fixed evidence (证据固定) and its ledger."""
from __future__ import annotations

import json

import typer

from .common import db_engine, fail

app = typer.Typer(help="Fixed evidence of leads: verify the hash-chained ledger, show or capture evidence.",
                  no_args_is_help=True)


@app.command()
def verify(no_files: bool = typer.Option(False, "--no-files", help="Check only the ledger chain, not the files")):
    """Check every evidence artefact against the append-only, hash-chained ledger.

    Exit 0 when everything is intact; exit 1 naming each artefact that was altered, is missing,
    or whose ledger entry was edited, deleted or re-ordered.

    Example: markwatch evidence verify
    """
    from config.settings import get_settings
    from store import ledger
    from store.db import session_scope

    ev = get_settings().resolved_data_dir / "evidence"
    with session_scope(db_engine()) as s:
        n, problems = ledger.verify(s, ev, check_files=not no_files)
    if problems:
        for p in problems:
            typer.echo(f"TAMPERED: {p}", err=True)
        typer.echo(f"evidence ledger: {len(problems)} problem(s) in {n} entries under {ev}", err=True)
        raise typer.Exit(1)
    typer.echo(f"evidence ledger intact: {n} entries, every artefact matches its SHA-256 ({ev})")


@app.command()
def show(lead_id: int = typer.Argument(..., help="Lead id (see `markwatch leads list`)"),
         as_json: bool = typer.Option(False, "--json", help="Machine-readable output")):
    """Show the evidence fixed for a lead: folder, capture time, artefacts with SHA-256.

    Example: markwatch evidence show 42
    """
    from sqlalchemy import select

    from config.settings import get_settings
    from crawler.evidence import captures_for_lead
    from store.db import session_scope
    from store.models import EvidenceRecord

    ev = get_settings().resolved_data_dir / "evidence"
    with session_scope(db_engine()) as s:
        lead, caps = captures_for_lead(s, lead_id)
        if lead is None:
            fail(f"no lead {lead_id}")
        out = []
        for c in caps:
            recs = s.scalars(select(EvidenceRecord).where(EvidenceRecord.listing_pk == c.listing_pk,
                                                          EvidenceRecord.path.like(c.directory + "/%"))
                             .order_by(EvidenceRecord.seq)).all()
            out.append({"directory": str(ev / c.directory), "captured_at": c.captured_at.isoformat() + "Z",
                        "status": c.status, "detail": c.detail,
                        "artefacts": [{"seq": r.seq, "kind": r.kind, "path": r.path, "sha256": r.sha256,
                                       "size": r.size, "url": r.url} for r in recs]})
        if as_json:
            typer.echo(json.dumps({"lead_id": lead_id, "captures": out}, ensure_ascii=False, indent=1))
            return
        if not out:
            typer.echo(f"lead {lead_id}: no evidence fixed yet (markwatch evidence capture {lead_id})")
            return
        for c in out:
            typer.echo(f"lead {lead_id}: {c['directory']}  captured {c['captured_at']}  {c['status']}"
                       + (f" ({c['detail']})" if c["detail"] else ""))
            for a in c["artefacts"]:
                typer.echo(f"  #{a['seq']:<6} {a['kind']:<10} {a['sha256']}  {a['size']:>9}  {a['path']}")


@app.command()
def capture(lead_id: int = typer.Argument(..., help="Lead id"),
            no_screenshot: bool = typer.Option(False, "--no-screenshot", help="Skip the browser screenshot")):
    """Fix evidence for one lead now (HTML as fetched, screenshot, images, metadata).

    Example: markwatch evidence capture 42
    """
    from config.settings import get_settings
    from crawler.evidence import capture_for_run
    from store.db import session_scope
    from store.models import Lead

    eng = db_engine()
    with session_scope(eng) as s:
        lead = s.get(Lead, lead_id)
        if lead is None:
            fail(f"no lead {lead_id}")
        pk = lead.listing_pk
    c = capture_for_run(get_settings(), eng, None, say=lambda m: typer.echo(m, err=True), listing_pks=[pk],
                        screenshots=not no_screenshot)
    if not c["listings"]:
        typer.echo(f"lead {lead_id}: evidence for the listing's current content already exists")
    else:
        typer.echo(f"lead {lead_id}: {c['artefacts']} artefacts fixed")
