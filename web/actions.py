"""Lead actions from the console: the same library functions as `markwatch leads ...`
(alerts.lifecycle.transition, alerts.suppress.add_rule, alerts.referral.build_pack), plus undo.

Undo (u in the queue) reverts the acting user's own last change of a lead if nothing happened to
the lead after it: the status and verdict go back and an 'undo' event is recorded. Never commits.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.lifecycle import TransitionError, canonical_destination, transition
from store.models import Lead, LeadEvent, utcnow

UNDOABLE = ("review", "confirm", "dismiss", "refer", "close", "reopen")


def act(s: Session, lead: Lead, action: str, actor: str, reason: str | None = None, to: str | None = None,
        data_dir: Path | None = None, tz: str = "Asia/Shanghai", suppress_seller: bool = False,
        suppress_phrase: str | None = None, language: str | None = None) -> dict:
    """Apply one action; returns {"id", "from", "to", "pack"?, "suppressions"?}. Raises
    TransitionError (or ValueError for a bad suppression, as `markwatch leads dismiss`)."""
    if action == "undo":
        return undo(s, lead, actor)
    if action == "dismiss" and (suppress_seller or suppress_phrase):
        from alerts.suppress import add_rule

        ev = transition(s, lead, "dismiss", actor, reason=reason)
        rules = []
        if suppress_seller:
            rules.append(add_rule(s, lead, "seller", actor, reason or "", language=language))
        if suppress_phrase:
            if len(suppress_phrase.strip()) < 2:
                raise ValueError("a suppression phrase needs at least two characters")
            rules.append(add_rule(s, lead, "phrase", actor, reason or "", phrase=suppress_phrase, language=language))
        return {"id": lead.id, "from": ev.from_status, "to": ev.to_status,
                "suppressions": [{"rule": r.id, "suppressed": n} for r, n in rules]}
    if action == "refer":
        from alerts.referral import build_pack

        dest = canonical_destination(to or "")
        ev = transition(s, lead, "refer", actor, reason=reason, to=dest)
        out = Path(data_dir or ".") / "referrals" / f"lead-{lead.id}-{utcnow():%Y%m%d-%H%M%S}.zip"
        build_pack(s, [lead], out, dest, actor, Path(data_dir or ".") / "evidence", tz)
        return {"id": lead.id, "from": ev.from_status, "to": ev.to_status, "pack": out.name}
    ev = transition(s, lead, action, actor, reason=reason, to=to)
    return {"id": lead.id, "from": ev.from_status, "to": ev.to_status}


def undo(s: Session, lead: Lead, actor: str) -> dict:
    last = s.scalar(select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id.desc()).limit(1))
    if last is None or last.action not in UNDOABLE or last.actor != actor or last.to_status != lead.status:
        raise TransitionError(f"lead #{lead.id}: nothing of yours to undo (the last change was "
                              f"{last.action if last else 'none'} by {last.actor if last else '-'})")
    prev = s.scalar(select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.id < last.id,
                                            LeadEvent.action.in_(("confirm", "dismiss", "reopen")))
                    .order_by(LeadEvent.id.desc()).limit(1))
    cur = lead.status
    lead.status = last.from_status or "new"
    if last.action in ("confirm", "dismiss", "reopen"):
        lead.verdict = None if prev is None or prev.action == "reopen" else prev.to_status
    if last.action == "refer":
        lead.referred_to = None
    if last.action == "dismiss":
        lead.status_reason = None
    ev = LeadEvent(lead_id=lead.id, at=utcnow(), actor=actor, action="undo", from_status=cur,
                   to_status=lead.status, note=f"undo {last.action} (event #{last.id})")
    s.add(ev)
    s.flush()
    return {"id": lead.id, "from": cur, "to": lead.status}


def latest_pack(data_dir: Path, lead_id: int) -> Path | None:
    packs = sorted((Path(data_dir) / "referrals").glob(f"lead-{lead_id}-*.zip"))
    return packs[-1] if packs else None
