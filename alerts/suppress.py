"""Verdict feedback: a dismissed pattern (a seller or a phrase confirmed legitimate) suppresses
the same false lead next time — visibly (status 'suppressed', the rule and reason on the lead,
a hit count on the rule) and reversibly (removing the rule restores its leads to 'new')."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Lead, Listing, Suppression, utcnow

from .i18n import tr
from .lifecycle import system_event


def _what(sup: Suppression, language: str | None) -> str:
    if sup.kind == "seller":
        return tr("sup_seller", language, name=sup.seller_name or sup.seller_id or "")
    return tr("sup_phrase", language, phrase=sup.phrase or "")


def describe(sup: Suppression, language: str | None = None) -> str:
    return tr("suppressed", language, id=sup.id, what=_what(sup, language), reason=sup.reason or "-")


def matches(sup: Suppression, listing: Listing, target_id: str) -> bool:
    if not sup.active:
        return False
    if sup.target_id and sup.target_id != target_id:
        return False
    if sup.kind == "seller":
        if sup.platform and sup.platform != listing.platform:
            return False
        if sup.seller_id:
            return sup.seller_id == listing.seller_id
        return bool(sup.seller_name) and sup.seller_name == listing.seller_name
    if sup.kind == "phrase":
        text = f"{listing.title}\n{listing.description or ''}".lower()
        return bool(sup.phrase) and sup.phrase.lower() in text
    return False


def active_rules(s: Session) -> list[Suppression]:
    return list(s.scalars(select(Suppression).where(Suppression.active.is_(True)).order_by(Suppression.id)))


def find_rule(rules: list[Suppression], listing: Listing, target_id: str) -> Suppression | None:
    for r in rules:
        if matches(r, listing, target_id):
            return r
    return None


def suppress_lead(s: Session, lead: Lead, sup: Suppression, language: str | None = None) -> None:
    note = describe(sup, language)
    system_event(s, lead, "suppressed", note, to_status="suppressed")
    lead.suppression_id, lead.status_reason = sup.id, note
    sup.hits = (sup.hits or 0) + 1


MIN_PHRASE_CHARS = 2


def check_phrase(s: Session, phrase: str | None, target_id: str | None = None) -> str:
    """The phrase to store, or ValueError: a phrase shorter than MIN_PHRASE_CHARS non-space
    characters (one character like 高 also hides every 高仿 lead), or one that is part of the
    mark or GI itself (it would hide every lead on that target). Returns the stripped phrase."""
    p = (phrase or "").strip()
    if not p:
        raise ValueError("a phrase suppression needs the phrase (--suppress-phrase TEXT)")
    if len("".join(p.split())) < MIN_PHRASE_CHARS:
        raise ValueError(f"the phrase {p!r} is too short: at least {MIN_PHRASE_CHARS} characters "
                         "(a single character would hide unrelated leads, e.g. 高 hides every 高仿)")
    if target_id:
        from store.models import GeographicalIndication, Mark

        t = s.get(Mark, target_id) or s.get(GeographicalIndication, target_id)
        names = [getattr(t, "text", None) or getattr(t, "name", None) or "", *(t.aliases or [])] if t else []
        for n in names:
            if n and p.lower() in n.lower():
                raise ValueError(f"the phrase {p!r} is part of the mark/GI {n!r} ({target_id}): it would hide every "
                                 "lead on it; choose words that mark the legitimate listings")
    return p


def preview_phrase(s: Session, phrase: str, target_id: str | None = None, examples: int = 5) -> dict:
    """How many leads a phrase rule would hide, before it is added: ``{"new": n, "all": m,
    "examples": [(lead id, title), ...]}`` — `new` are leads it would suppress now, `all` every
    stored lead (any status) whose listing contains the phrase. Raises ValueError like
    check_phrase."""
    p = check_phrase(s, phrase, target_id)
    probe = Suppression(kind="phrase", phrase=p, target_id=target_id, active=True)
    n_new, n_all, ex = 0, 0, []
    for lead, li in s.execute(select(Lead, Listing).join(Listing, Lead.listing_pk == Listing.id).order_by(Lead.id)):
        if matches(probe, li, lead.target_id):
            n_all += 1
            if lead.status == "new":
                n_new += 1
                if len(ex) < examples:
                    ex.append((lead.id, li.title))
    return {"phrase": p, "new": n_new, "all": n_all, "examples": ex}


def add_rule(s: Session, lead: Lead, kind: str, actor: str, reason: str, phrase: str | None = None,
             all_targets: bool = False, language: str | None = None) -> tuple[Suppression, int]:
    """A rule from a dismissed lead; also suppresses matching leads still 'new'. Returns (rule, n)."""
    li = lead.listing
    if kind == "seller":
        sup = Suppression(kind="seller", platform=li.platform, seller_id=li.seller_id or None,
                          seller_name=li.seller_name or None)
        if not (li.seller_id or li.seller_name):
            raise ValueError(f"lead #{lead.id}: the listing has no seller id or name to suppress")
    elif kind == "phrase":
        check_phrase(s, phrase, lead.target_id)
        text = f"{li.title}\n{li.description or ''}".lower()
        if phrase.strip().lower() not in text:
            raise ValueError(f"lead #{lead.id}: the phrase {phrase!r} is not in the listing's title or description")
        sup = Suppression(kind="phrase", phrase=phrase.strip())
    else:
        raise ValueError(f"unknown suppression kind {kind!r} (seller or phrase)")
    sup.target_id = None if all_targets else lead.target_id
    sup.reason, sup.created_by, sup.source_lead_id = reason, actor, lead.id
    sup.created_at, sup.active, sup.hits = utcnow(), True, 0
    s.add(sup)
    s.flush()
    n = 0
    for other, oli in s.execute(select(Lead, Listing).join(Listing, Lead.listing_pk == Listing.id)
                                .where(Lead.status == "new", Lead.id != lead.id)):
        if matches(sup, oli, other.target_id):
            suppress_lead(s, other, sup, language)
            n += 1
    return sup, n


def remove_rule(s: Session, rule_id: int, actor: str) -> tuple[Suppression, int]:
    """Deactivate a rule and restore the leads it suppressed to 'new'. Returns (rule, restored)."""
    sup = s.get(Suppression, rule_id)
    if sup is None:
        raise ValueError(f"no suppression rule {rule_id} (see `markwatch suppressions list`)")
    if not sup.active:
        raise ValueError(f"suppression rule {rule_id} was already removed by {sup.removed_by} at {sup.removed_at:%Y-%m-%d %H:%M}")
    sup.active, sup.removed_by, sup.removed_at = False, actor, utcnow()
    n = 0
    for lead in s.scalars(select(Lead).where(Lead.suppression_id == sup.id, Lead.status == "suppressed")):
        system_event(s, lead, "unsuppressed", f"rule #{sup.id} removed by {actor}", to_status="new", actor=actor)
        lead.suppression_id, lead.status_reason = None, None
        n += 1
    s.flush()
    return sup, n
