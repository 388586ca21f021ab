"""`markwatch evidence verify|show|capture`: the fixed evidence (证据固定) and its ledger."""
from __future__ import annotations

import json

import typer

from .common import db_engine, fail

app = typer.Typer(help="Fixed evidence of leads: verify the hash-chained ledger, show or capture evidence.",
                  no_args_is_help=True)


@app.command()
def verify(no_files: bool = typer.Option(False, "--no-files", help="Check only the ledger chain, not the files")):
    """Check every evidence artefact (HTML, screenshots, images, WARC files, metadata) against the
    append-only, hash-chained ledger, and every trusted timestamp (RFC 3161) token against the
    ledger head it stamps (signatures too when MARKWATCH_TSA_CA_FILE is set).

    Exit 0 when everything is intact; exit 1 naming each artefact that was altered, is missing,
    whose ledger entry was edited, deleted or re-ordered, and each token that is missing, altered
    or does not match (with MARKWATCH_TSA_URL set, entries not yet covered by a token count too).

    Example: markwatch evidence verify
    """
    from config.settings import get_settings
    from store import ledger
    from store.db import session_scope

    st = get_settings()
    ev = st.resolved_data_dir / "evidence"
    with session_scope(db_engine()) as s:
        n, problems = ledger.verify(s, ev, check_files=not no_files)
        tokens, tproblems = ledger.verify_timestamps(s, ev, ca_file=st.tsa_ca_file, required=bool(st.tsa_url))
    problems += [p for p in tproblems if not any(q.seq == p.seq and q.kind == "missing" for q in problems)]
    for t in tokens:
        typer.echo(f"timestamp #{t['seq']}: ledger head #{t['stamped_seq']} existed at {t['gen_time']} "
                   f"({t['tsa']}; signature {'verified' if t['signature_checked'] else 'not checked: set MARKWATCH_TSA_CA_FILE'})")
    if problems:
        for p in problems:
            typer.echo(f"TAMPERED: {p}", err=True)
        typer.echo(f"evidence ledger: {len(problems)} problem(s) in {n} entries under {ev}", err=True)
        raise typer.Exit(1)
    typer.echo(f"evidence ledger intact: {n} entries, every artefact matches its SHA-256, "
               f"{len(tokens)} timestamp token(s) match ({ev})")


@app.command()
def timestamp():
    """Get a trusted timestamp (RFC 3161) for the ledger head now from MARKWATCH_TSA_URL (after a
    pass whose TSA request failed, or before a hand-over).

    Example: MARKWATCH_TSA_URL=https://tsa.example/tsr markwatch evidence timestamp
    """
    from config.settings import get_settings
    from store import ledger
    from store.db import session_scope
    from store.tsa import TimestampError

    st = get_settings()
    if not st.tsa_url:
        fail("no timestamp authority configured: set MARKWATCH_TSA_URL")
    ev = st.resolved_data_dir / "evidence"
    eng = db_engine()
    try:
        with session_scope(eng) as s:
            rec = ledger.timestamp_head(s, ev, st.tsa_url, timeout=st.tsa_timeout)
            label = f"#{rec.seq} {rec.path} at {rec.captured_at.isoformat()}Z" if rec else None
    except TimestampError as e:
        fail(str(e))
    with session_scope(eng) as s:
        ledger.write_head(s, ev)
    typer.echo(f"ledger head time-stamped: {label}" if label else "the ledger head is already time-stamped")


@app.command()
def show(lead_id: int = typer.Argument(..., help="Lead id (see `markwatch leads list`)"),
         as_json: bool = typer.Option(False, "--json", help="Machine-readable output")):
    """Show the evidence fixed for a lead: folder, status (ok, partial, blocked), artefacts with
    their own capture time (UTC) and SHA-256.

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
                                       "size": r.size, "url": r.url,
                                       "captured_at": r.captured_at.isoformat() + "Z"} for r in recs]})
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
                typer.echo(f"  #{a['seq']:<6} {a['kind']:<10} {a['captured_at'][:19]}  {a['sha256']}  {a['size']:>9}  "
                           f"{a['path']}")


@app.command()
def capture(lead_id: int = typer.Argument(..., help="Lead id"),
            no_screenshot: bool = typer.Option(False, "--no-screenshot", help="Skip the browser screenshot")):
    """Fix evidence for one lead now (HTML as fetched; one isolated visit: screenshot, HTML and
    WARC; images; metadata).

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
