"""Lead actions from the console: the same library functions as `markwatch leads ...`
(alerts.lifecycle.transition, alerts.suppress.add_rule, alerts.referral.build_pack), plus undo.

Undo (u in the queue) reverts the acting user's own last change of a lead if nothing happened to
the lead after it: the status and verdict go back and an 'undo' event is recorded. Never commits.

A refused action raises ActionRefused with a message code (watchlist/messages.py) so the console
says why in the officer's language: the checks the lifecycle makes (allowed transitions,
reasons, destination) are made here first, from the same tables (alerts.lifecycle.ALLOWED).
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.i18n import status_name
from alerts.lifecycle import TransitionError, allowed_actions, canonical_destination, transition
from store.models import Lead, LeadEvent, utcnow
from watchlist.messages import Msg

from .i18n import t

UNDOABLE = ("review", "confirm", "dismiss", "refer", "close", "reopen")


class ActionRefused(TransitionError):
    """A lead action that cannot be done, as a coded message (``msg``); str() is the English."""

    def __init__(self, code: str, field: str = "", **params):
        self.msg = Msg(code, params, field)
        super().__init__(self.msg.text("en"))


def _both(fn, key: str) -> dict[str, str]:
    return {"zh-CN": fn(key, "zh-CN"), "en": fn(key, "en")}


def _action_name(action: str, lang: str) -> str:
    return t(action, lang) if lang != "en" else action


def check_action(lead: Lead, action: str, reason: str | None, to: str | None,
                 suppress_phrase: str | None = None) -> None:
    """Raise ActionRefused when ``action`` cannot be applied to ``lead`` as asked."""
    if action == "undo":
        return
    cur = lead.status
    allowed = allowed_actions(cur)
    if action not in allowed:
        if action == "refer" and cur in ("new", "in_review", "suppressed"):
            raise ActionRefused("refer_confirm_first", id=lead.id, status=_both(status_name, cur))
        names = {lang: ("、" if lang == "zh-CN" else ", ").join(_action_name(a, lang) for a in allowed)
                 or ("无" if lang == "zh-CN" else "nothing") for lang in ("zh-CN", "en")}
        raise ActionRefused("lead_not_allowed", id=lead.id, status=_both(status_name, cur),
                            action={"zh-CN": _action_name(action, "zh-CN"), "en": action}, allowed=names)
    if action == "refer" and not (to or "").strip():
        raise ActionRefused("refer_needs_destination")
    if action == "dismiss" and not (reason or "").strip():
        raise ActionRefused("dismiss_needs_reason", id=lead.id)
    if action == "reopen" and not (reason or "").strip():
        raise ActionRefused("reopen_needs_reason", id=lead.id)
    if action == "dismiss" and suppress_phrase is not None and len(suppress_phrase.strip()) < 2:
        raise ActionRefused("phrase_short", "suppress_phrase")


def act(s: Session, lead: Lead, action: str, actor: str, reason: str | None = None, to: str | None = None,
        data_dir: Path | None = None, tz: str = "Asia/Shanghai", suppress_seller: bool = False,
        suppress_phrase: str | None = None, language: str | None = None) -> dict:
    """Apply one action; returns {"id", "from", "to", "pack"?, "suppressions"?}. Raises
    ActionRefused (coded) for what check_action finds, else TransitionError (or ValueError for a
    bad suppression, as `markwatch leads dismiss`)."""
    if action == "undo":
        return undo(s, lead, actor)
    check_action(lead, action, reason, to, suppress_phrase)
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
        from .i18n import event_action, event_actor

        act_ = last.action if last else ""
        raise ActionRefused("undo_nothing", id=lead.id,
                            last={"zh-CN": event_action(act_, "zh-CN") if last else "无",
                                  "en": act_ or "none"},
                            who={"zh-CN": event_actor(last.actor, "zh-CN") if last else "-",
                                 "en": event_actor(last.actor, "en") if last else "-"})
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
