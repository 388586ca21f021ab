"""Console accounts: argon2id password hashes, server-side sessions, CSRF tokens, login throttling
and the audit log. Repository-style: every function takes a Session and never commits.

Rules (OWASP Session Management / Authentication cheat sheets):
- the session cookie holds 32 random bytes (url-safe); the table keeps only their SHA-256, so a
  leaked database does not hand out live sessions; sessions expire after ``SESSION_HOURS``;
- each session has its own CSRF token (synchroniser-token pattern); writes must echo it in the
  form field ``csrf_token`` or the ``X-CSRF-Token`` header;
- after ``THROTTLE_MAX`` failed logins within ``THROTTLE_MINUTES`` for the same user name or the
  same client address, logins are refused (HTTP 429) until the window has passed.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from store.models import (Enterprise, GeographicalIndication, LoginAttempt, WebAudit, WebSession, WebUser,
                          utcnow)

ROLES = ("admin", "officer", "holder")
SESSION_HOURS = 12
THROTTLE_MAX = 5
THROTTLE_MINUTES = 15
MIN_PASSWORD = 10

_ph = PasswordHasher()  # argon2id, library defaults (RFC 9106 second recommended option)
# A hash to verify against when the user does not exist, so timing does not reveal user names.
_DUMMY = _ph.hash("not a real password")


class AuthError(ValueError):
    """A refused user change. str() is the CLI's English text; ``msg`` the coded message the
    console shows in the admin's language (watchlist/messages.py)."""

    def __init__(self, text: str, code: str, field: str = "", **params):
        from watchlist.messages import Msg

        super().__init__(text)
        self.msg = Msg(code, params, field)


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise AuthError(f"password too short: at least {MIN_PASSWORD} characters", "password_short", "password",
                        n=MIN_PASSWORD)
    return _ph.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _ph.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# letters of any script (Chinese names too), digits, and . _ - @ : one token, safe in logs and CSV
USERNAME_RE = re.compile(r"[^\W][\w.@-]*")


def add_user(s: Session, username: str, role: str, password: str, enterprise_id: str | None = None,
             language: str = "zh-CN") -> WebUser:
    """Create (or reset the password/role of) a user. Raises AuthError naming the bad field.
    Resetting an existing user ends their console sessions: a reset after a suspected leak must
    not leave a stolen session logged in, and a changed role or enterprise applies at once."""
    username = (username or "").strip()
    if not username or len(username) > 128:
        raise AuthError("username: 1-128 characters", "username_length", "username")
    if not USERNAME_RE.fullmatch(username):
        raise AuthError(f"username: {username!r} may hold letters (Chinese too), digits and . _ - @ only "
                        "(no spaces or control characters: it appears in the audit trail and in logs)",
                        "username_chars", "username", value=username)
    if role not in ROLES:
        raise AuthError(f"role: {role!r} is not one of {', '.join(ROLES)}", "role_unknown", "role", value=role,
                        roles=", ".join(ROLES))
    if role == "holder":
        if not enterprise_id:
            raise AuthError("--enterprise: a holder is bound to one enterprise (or GI) id", "holder_needs_enterprise",
                            "enterprise_id")
        if s.get(Enterprise, enterprise_id) is None and s.get(GeographicalIndication, enterprise_id) is None:
            raise AuthError(f"--enterprise: no enterprise or GI {enterprise_id!r} in the watchlist "
                            "(import it first: markwatch watchlist import FILE)", "enterprise_unknown", "enterprise_id",
                            value=enterprise_id)
    elif enterprise_id:
        raise AuthError("--enterprise only applies to holders", "enterprise_only_holders", "enterprise_id")
    h = hash_password(password)
    u = s.scalar(select(WebUser).where(WebUser.username == username))
    if u is None:
        u = WebUser(username=username, created_at=utcnow())
        s.add(u)
    else:
        s.execute(delete(WebSession).where(WebSession.user_id == u.id))
    u.password_hash, u.role, u.enterprise_id, u.active = h, role, enterprise_id, True
    u.language = "en" if (language or "").lower().startswith("en") else "zh-CN"
    s.flush()
    return u


def throttled(s: Session, username: str, ip: str | None, now: datetime | None = None) -> bool:
    now = now or utcnow()
    since = now - timedelta(minutes=THROTTLE_MINUTES)
    n_user = s.scalar(select(func.count()).select_from(LoginAttempt)
                      .where(LoginAttempt.at >= since, LoginAttempt.username == username)) or 0
    n_ip = s.scalar(select(func.count()).select_from(LoginAttempt)
                    .where(LoginAttempt.at >= since, LoginAttempt.ip == ip)) or 0 if ip else 0
    return n_user >= THROTTLE_MAX or n_ip >= THROTTLE_MAX * 4


def authenticate(s: Session, username: str, password: str, ip: str | None) -> WebUser | None:
    """The user if the password is right (and the account active); records failures."""
    username = (username or "").strip()
    u = s.scalar(select(WebUser).where(WebUser.username == username))
    ok = verify_password(u.password_hash if u else _DUMMY, password or "") and u is not None and u.active
    if not ok:
        s.add(LoginAttempt(at=utcnow(), username=username[:128], ip=ip))
        s.flush()
        return None
    if _ph.check_needs_rehash(u.password_hash):
        u.password_hash = _ph.hash(password)
    s.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
    u.last_login_at = utcnow()
    return u


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(s: Session, user: WebUser, ip: str | None) -> tuple[str, WebSession]:
    """(cookie token, row). Also drops this user's expired sessions."""
    now = utcnow()
    s.execute(delete(WebSession).where(WebSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    row = WebSession(token_hash=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                     created_at=now, expires_at=now + timedelta(hours=SESSION_HOURS), ip=ip)
    s.add(row)
    s.flush()
    return token, row


def session_user(s: Session, token: str | None) -> tuple[WebUser, WebSession] | None:
    if not token or len(token) > 200:
        return None
    row = s.get(WebSession, _digest(token))
    if row is None or row.expires_at < utcnow():
        return None
    u = s.get(WebUser, row.user_id)
    if u is None or not u.active:
        return None
    return u, row


def end_session(s: Session, token: str | None) -> None:
    if token:
        s.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


def csrf_ok(sess: WebSession, supplied: str | None) -> bool:
    return bool(supplied) and hmac.compare_digest(sess.csrf_token, supplied)


def audit(s: Session, username: str, action: str, target: str | None = None, outcome: str = "ok",
          detail: str | None = None, ip: str | None = None, role: str | None = None) -> None:
    s.add(WebAudit(at=utcnow(), username=username or "", role=role, action=action[:64],
                   target=(target or None) and str(target)[:256], outcome=outcome, detail=detail, ip=ip))
