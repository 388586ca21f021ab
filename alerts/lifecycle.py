"""Lead lifecycle: new → in_review → confirmed | dismissed → referred → closed.

Every change is a LeadEvent (who, when, from, to, why). Invalid transitions raise
TransitionError with a message that says what is allowed instead. Never commits.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from store.models import Lead, LeadEvent, utcnow

STATUSES = ("new", "in_review", "confirmed", "dismissed", "referred", "closed", "suppressed")

# action -> target status
ACTIONS = {"review": "in_review", "confirm": "confirmed", "dismiss": "dismissed", "refer": "referred",
           "close": "closed", "reopen": "in_review"}

# status -> actions allowed from it
ALLOWED: dict[str, tuple[str, ...]] = {
    "new": ("review", "confirm", "dismiss"),
    "in_review": ("confirm", "dismiss"),
    "confirmed": ("refer", "close", "reopen"),
    "dismissed": ("close", "reopen"),
    "referred": ("close",),
    "closed": ("reopen",),
    "suppressed": ("review", "confirm", "dismiss"),
}

# Where a lead can be referred to; aliases map to the canonical (Chinese) name.
DESTINATIONS = {"公安": "公安", "police": "公安", "海关": "海关", "customs": "海关", "平台": "平台",
                "platform": "平台", "其他局": "其他局", "bureau": "其他局", "other": "其他局"}


class TransitionError(ValueError):
    pass


def canonical_destination(to: str) -> str:
    """'police' → '公安'; 'bureau:杭州市局' or any other name is kept (another bureau)."""
    t = (to or "").strip()
    if not t:
        raise TransitionError("refer needs a destination: --to 公安 | 海关 | 平台 | 其他局 | the bureau's name")
    return DESTINATIONS.get(t.lower(), DESTINATIONS.get(t, t))


def allowed_actions(status: str) -> tuple[str, ...]:
    return ALLOWED.get(status, ())


def transition(s: Session, lead: Lead, action: str, actor: str, reason: str | None = None,
               to: str | None = None) -> LeadEvent:
    """Apply `action` to `lead` as `actor`; record the event. Raises TransitionError."""
    if action not in ACTIONS:
        raise TransitionError(f"unknown action {action!r} (known: {', '.join(ACTIONS)})")
    if not (actor or "").strip():
        raise TransitionError("who is acting? give --by NAME (or set MARKWATCH_ACTOR)")
    cur = lead.status
    if action not in ALLOWED.get(cur, ()):
        allowed = ", ".join(ALLOWED.get(cur, ())) or "nothing"
        hint = ""
        if action == "refer" and cur in ("new", "in_review", "suppressed"):
            hint = "; confirm it first"
        raise TransitionError(f"lead #{lead.id} is {cur}: cannot {action} it{hint} (allowed from {cur}: {allowed})")
    reason = (reason or "").strip() or None
    if action == "dismiss" and not reason:
        raise TransitionError(f"dismissing lead #{lead.id} needs a reason (--reason, e.g. '授权经销商' or '指示性使用')")
    if action == "reopen" and not reason:
        raise TransitionError(f"reopening lead #{lead.id} needs a reason (--reason)")
    new = ACTIONS[action]
    note = reason
    if action == "refer":
        dest = canonical_destination(to or "")
        lead.referred_to = dest
        note = f"移送 {dest}" + (f"：{reason}" if reason else "")
    if action in ("confirm", "dismiss"):
        lead.verdict = new
    if action == "reopen":
        lead.verdict = None
    if reason or action == "reopen":
        lead.status_reason = reason  # a close without a reason keeps the dismissal's reason
    if cur == "suppressed":
        lead.suppression_id = None
    lead.status = new
    ev = LeadEvent(lead_id=lead.id, at=utcnow(), actor=actor.strip(), action=action, from_status=cur,
                   to_status=new, note=note)
    s.add(ev)
    s.flush()
    return ev


def system_event(s: Session, lead: Lead, action: str, note: str, to_status: str | None = None,
                 actor: str = "system") -> LeadEvent:
    """Record a change made by the pipeline (suppression, relisting link, restore)."""
    cur = lead.status
    if to_status:
        lead.status = to_status
    ev = LeadEvent(at=utcnow(), actor=actor, action=action, from_status=cur, to_status=to_status or cur, note=note)
    lead.events.append(ev)
    return ev
