"""The review console (FastAPI + Jinja2, htmx, ECharts): officers' daily queue, lead detail with
evidence, dashboard, suppressions; holders' registration of marks, logos, authorised sellers and
GIs; admin pages. A thin layer over alerts/, store/ and watchlist/ library functions.

    app = create_app()                      # settings from MARKWATCH_* (config/settings.py)
    uvicorn.run(app, host="127.0.0.1", port=8000)

Access: every page but /login and /static refuses anonymous users (pages: 303 to /login; /api/:
401). Roles: admin (everything, /admin), officer (queue, actions, dashboard, suppressions, all
marks read-only), holder (only the marks, GIs and leads of the enterprise they are bound to;
read-only on leads). A lead or mark a user may not see answers 404, like one that does not exist.
Writes (every non-GET) need the session's CSRF token (form field ``csrf_token`` or header
``X-CSRF-Token``); refused writes answer 403 and are audited.
"""
from __future__ import annotations

import io
import json
import logging
import mimetypes
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts.i18n import match_reasons
from config.settings import Settings, get_settings
from store.models import (Enterprise, EvidenceRecord, GeographicalIndication, Image, KeyMarket, Lead, Listing,
                          ListingImage, ListingSnapshot, Mark, Run, RunFailure, Source, Suppression, WebAudit,
                          WebSession, WebUser, utcnow)

from . import auth
from .i18n import event_action, event_actor, lang_of, status_name, t
from .queries import QueueFilter, filter_options, queue_page, visible_targets
from watchlist.messages import Msg

log = logging.getLogger("markwatch.web")
HERE = Path(__file__).resolve().parent
COOKIE = "mw_session"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Evidence HTML snapshots: shown in a sandboxed frame, no scripts, nothing loaded from outside.
# img-src without 'self': a saved page's relative photo URLs would otherwise be requested from
# the console itself (e.g. /leads/N/pack); the snapshot shows only images inlined as data: URLs.
SNAPSHOT_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def snapshot_charset(body: bytes) -> str:
    """The encoding to declare for a kept HTML page (bytes exactly as fetched): its BOM, then its
    ``<meta charset>``, then UTF-8 if it decodes, else the best guess (w3lib, as Scrapy decodes
    pages). A GBK page served as UTF-8 would show mojibake; the bytes are served unchanged."""
    from w3lib.encoding import html_to_unicode

    return html_to_unicode(None, body)[0]
LEAD_ACTIONS = ("review", "confirm", "dismiss", "refer", "close", "reopen", "undo")
MAX_UPLOAD = 5 * 1024 * 1024


class Ctx:
    """Per request: DB session, user, server-side session row, language."""

    def __init__(self, request: Request, s: Session, user: WebUser | None, sess: WebSession | None):
        self.request, self.s, self.user, self.sess = request, s, user, sess
        self.lang = lang_of(request.cookies.get("mw_lang") or (user.language if user else None)
                            or request.app.state.settings.language)
        self.ip = request.client.host if request.client else None
        self._targets: Any = ...

    @property
    def targets(self) -> set[str] | None:
        if self._targets is ...:
            self._targets = visible_targets(self.s, self.user)
        return self._targets

    def can_see(self, target_id: str) -> bool:
        return self.targets is None or target_id in self.targets

    def audit(self, action: str, target: Any = None, outcome: str = "ok", detail: str | None = None) -> None:
        auth.audit(self.s, self.user.username if self.user else "", action, None if target is None else str(target),
                   outcome, detail, self.ip, self.user.role if self.user else None)


class Refused(Exception):
    """A refused request: ``key`` (web/i18n.py: 未保存, 未找到 ...) and what is wrong, either
    ``msgs`` (coded, watchlist/messages.py, rendered in the user's language with the field) or a
    ``detail`` that reads the same in every language (an id, a file name)."""

    def __init__(self, status: int, key: str, detail: str = "", msgs: list | None = None):
        self.status, self.key, self.detail, self.msgs = status, key, detail, list(msgs or [])

    def text(self, lang: str) -> str:
        """The refusal in ``lang``: '未保存：尼斯分类（classes）：…；…' / 'Not saved: classes: …; …'."""
        parts = [m.render(lang) for m in self.msgs] or ([self.detail] if self.detail else [])
        if not parts:
            return t(self.key, lang)
        sep, join = (": ", "; ") if lang == "en" else ("：", "；")
        return t(self.key, lang) + sep + join.join(parts)

    def to_json(self, lang: str) -> dict:
        out: dict = {"error": self.text(lang)}
        if self.msgs:
            out["code"] = self.msgs[0].code
            out["problems"] = [m.to_json(lang) for m in self.msgs]
        return out


def request_lang(request: Request, settings: Settings) -> str:
    """The language of a request: the user's (set by ctx_dep), else the cookie, else the setting."""
    return getattr(request.state, "lang", None) or lang_of(request.cookies.get("mw_lang") or settings.language)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The console app. Upgrades the schema when it opens the engine itself."""
    from store.db import ensure_schema, make_engine

    st = settings or get_settings()
    if engine is None:
        engine = make_engine(settings=st)
        ensure_schema(engine)
    app = FastAPI(title="markwatch console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings, app.state.engine = st, engine
    app.state.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)
    app.state.secure_cookies = True
    tpl = Jinja2Templates(directory=str(HERE / "templates"))
    tpl.env.globals.update(t=t, status_name=status_name, event_action=event_action, event_actor=event_actor)
    tpl.env.filters["money"] = lambda v: "-" if v is None else f"{v:,.2f}".rstrip("0").rstrip(".")
    app.state.templates = tpl
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def headers(request: Request, call_next):
        resp = await call_next(request)
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers["X-Frame-Options"] = "DENY" if "sandbox" not in resp.headers["Content-Security-Policy"] else "SAMEORIGIN"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.url.path != "/static" and not request.url.path.startswith("/static/"):
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        lang = request_lang(request, st)
        if request.url.path.startswith("/api/") or request.headers.get("accept", "").startswith("application/json") \
                or request.headers.get("x-requested-with") == "fetch":
            return JSONResponse(exc.to_json(lang), status_code=exc.status)
        if exc.status == 401:
            return RedirectResponse("/login?" + urlencode({"next": request.url.path}), status_code=303)
        return HTMLResponse(tpl.get_template("error.html").render(msg=exc.text(lang), status=exc.status, lang=lang,
                                                                  user=None),
                            status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        """A malformed URL or parameter (/leads/abc): for a path part, the 404 page of a thing that
        does not exist; otherwise 422 naming the parameter; in the user's language, never
        FastAPI's English JSON."""
        from watchlist.messages import Msg, msgs_of

        errs = exc.errors()
        if any(e.get("loc", ("",))[0] == "path" for e in errs):
            bad = next(e for e in errs if e.get("loc", ("",))[0] == "path")
            return await refused(request, Refused(404, "not_found", msgs=[Msg("bad_path_id", {"value": bad.get("input")})]))
        return await refused(request, Refused(422, "bad_request", msgs=msgs_of(
            exc, field_of=lambda loc: ".".join(str(p) for p in loc[1:]) or str(loc[0] if loc else ""))))

    _routes(app)
    return app


# -- dependencies ------------------------------------------------------------------------------

async def ctx_dep(request: Request):
    app = request.app
    s: Session = app.state.sessionmaker()
    try:
        found = auth.session_user(s, request.cookies.get(COOKIE))
        c = Ctx(request, s, *(found or (None, None)))
        request.state.lang = c.lang
        yield c
    finally:
        s.close()


async def user_dep(request: Request, c: Ctx = Depends(ctx_dep)) -> Ctx:
    """A logged-in user; for writes also a valid CSRF token (header or form field)."""
    if c.user is None:
        raise Refused(401, "login")
    if request.method not in ("GET", "HEAD"):
        token = request.headers.get("x-csrf-token")
        if not token and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form(max_part_size=MAX_UPLOAD)
            token = form.get("csrf_token")
        if not auth.csrf_ok(c.sess, token if isinstance(token, str) else None):
            c.audit(f"{request.method} {request.url.path}", outcome="refused", detail="CSRF token missing or wrong")
            c.s.commit()
            raise Refused(403, "csrf")
    return c


def role_dep(*roles: str):
    async def dep(c: Ctx = Depends(user_dep)) -> Ctx:
        if c.user.role not in roles:
            c.audit(f"{c.request.method} {c.request.url.path}", outcome="refused", detail=f"role {c.user.role}")
            c.s.commit()
            raise Refused(403, "forbidden")
        return c
    return dep


any_user = Depends(user_dep)
staff = Depends(role_dep("admin", "officer"))
admin_only = Depends(role_dep("admin"))


def render(c: Ctx, name: str, status: int = 200, **kw) -> HTMLResponse:
    tpl = c.request.app.state.templates
    html = tpl.get_template(name).render(request=c.request, user=c.user, lang=c.lang,
                                         csrf=c.sess.csrf_token if c.sess else "", path=c.request.url.path, **kw)
    return HTMLResponse(html, status_code=status)


def _lead_for(c: Ctx, lead_id: int) -> Lead:
    lead = c.s.get(Lead, lead_id)
    if lead is None or not c.can_see(lead.target_id):
        raise Refused(404, "not_found")
    return lead


def _data_dir(c: Ctx) -> Path:
    return c.request.app.state.settings.resolved_data_dir


# -- presentation helpers ----------------------------------------------------------------------

def reasons_of(lead: Lead, lang: str) -> list[str]:
    """What the officer reads as "why": rendered from the stored reason codes in the console's
    language (alerts.i18n.match_reasons, matcher/reasons.py), else the stored text (English from
    evidence['reasons_en'] for leads stored before codes existed)."""
    ev = lead.evidence or {}
    if ev.get("reason_codes"):
        return match_reasons(lead.reasons, ev, lang)
    if lang == "en" and ev.get("reasons_en"):
        return list(ev["reasons_en"])
    return list(lead.reasons or [])


def highlight(title: str, ev: dict) -> list[tuple[str, bool]]:
    """Title split into (text, is_match) parts for the matched span/text of a lead."""
    ev = ev or {}
    start = end = None
    if ev.get("field") in (None, "title") and isinstance(ev.get("span"), list) and len(ev["span"]) == 2:
        a, b = ev["span"]
        if isinstance(a, int) and isinstance(b, int) and 0 <= a < b <= len(title) and \
                title[a:b] == (ev.get("matched_text") or title[a:b]):  # the title may have changed since
            start, end = a, b
    if start is None:
        for key in ("matched_text", "matched"):
            m = ev.get(key)
            if isinstance(m, str) and m and m in title:
                start = title.index(m)
                end = start + len(m)
                break
    if start is None:
        return [(title, False)]
    return [p for p in ((title[:start], False), (title[start:end], True), (title[end:], False)) if p[0]]


class TargetView:
    """Labels of the marks/GIs a page shows (only `ids` when given: a page loads what it shows)."""

    def __init__(self, s: Session, ids=None):
        mq, gq = select(Mark), select(GeographicalIndication)
        if ids is not None:
            ids = sorted(set(ids)) or ["\0none"]
            mq, gq = mq.where(Mark.id.in_(ids)), gq.where(GeographicalIndication.id.in_(ids))
        self.marks = {m.id: m for m in s.scalars(mq)}
        self.gis = {g.id: g for g in s.scalars(gq)}
        eq = select(Enterprise.id, Enterprise.name)
        if ids is not None:
            eq = eq.where(Enterprise.id.in_({m.enterprise_id for m in self.marks.values()} or {"\0none"}))
        self.ents = dict(s.execute(eq).all())

    def label(self, tid: str, lang: str | None = None) -> str:
        """What officers call the target: the mark's text; a logo (no text) as "<holder> 图形商标"."""
        m = self.marks.get(tid)
        if m is not None:
            if m.text:
                return m.text
            if m.kind == "logo":
                return f"{self.ents.get(m.enterprise_id, m.enterprise_id)} {t('logo', lang)}"
            return m.id
        g = self.gis.get(tid)
        return g.name if g else tid

    def holder(self, tid: str) -> str:
        m = self.marks.get(tid)
        return self.ents.get(m.enterprise_id, m.enterprise_id) if m else (self.gis[tid].name if tid in self.gis else "")

    def ref_price(self, tid: str) -> float | None:
        m = self.marks.get(tid)
        return m.reference_price if m else None

    def is_logo(self, tid: str) -> bool:
        m = self.marks.get(tid)
        return bool(m and m.kind == "logo" and m.image)


def listing_photos(s: Session, li: Listing, data_dir: Path) -> list[tuple[Path, set]]:
    """The listing's photos that exist locally: [(path, refs)], refs = what match evidence may name
    the photo by (URL, path as listed, SHA-256). Stored images first (crawler), else the listing's
    own image paths (imported JSONL, relative to its file); URLs are never fetched."""
    out: list[tuple[Path, set]] = []
    for img in s.scalars(select(Image).join(ListingImage, ListingImage.image_id == Image.id)
                         .where(ListingImage.listing_pk == li.id).order_by(ListingImage.position)):
        p = Path(img.path)
        p = p if p.is_absolute() else data_dir / p
        if p.is_file():
            out.append((p, {x for x in (img.url, img.path, img.sha256) if x}))
    if out:
        return out
    for ref in li.images or []:
        if not isinstance(ref, str) or "://" in ref:
            continue
        p = Path(ref)
        if not p.is_absolute() and li.local_dir:
            p = Path(li.local_dir) / p
        if p.is_file():
            out.append((p, {ref}))
    return out


def lead_json(lead: Lead, li: Listing, tv: TargetView | None, lang: str) -> dict:
    return {"id": lead.id, "target_id": lead.target_id, "target_kind": lead.target_kind,
            "enterprise_id": tv.marks[lead.target_id].enterprise_id if tv and lead.target_id in tv.marks else None,
            "score": lead.score, "priority": round(lead.priority or 0, 1), "status": lead.status,
            "verdict": lead.verdict, "reasons": reasons_of(lead, lang), "platform": li.platform,
            "listing_id": li.listing_id, "title": li.title, "url": li.url, "seller_id": li.seller_id,
            "seller_name": li.seller_name, "price": li.price, "jurisdiction": lead.jurisdiction,
            "first_seen": lead.first_seen.isoformat(timespec="seconds") if lead.first_seen else None}


OPTIONS_TTL = 60.0  # seconds the filter drop-downs (platforms, marks, bureaus) are reused


def cached_options(c: Ctx) -> dict:
    """filter_options per visibility, reused for OPTIONS_TTL s (DISTINCT platform scans the listings)."""
    import time

    cache = c.request.app.state.__dict__.setdefault("options_cache", {})
    key = None if c.targets is None else frozenset(c.targets)
    hit = cache.get(key)
    if hit and time.monotonic() - hit[0] < OPTIONS_TTL:
        return hit[1]
    val = filter_options(c.s, c.targets)
    if len(cache) > 200:
        cache.clear()
    cache[key] = (time.monotonic(), val)
    return val


def _filter_from(request: Request) -> QueueFilter:
    qp = request.query_params
    f = QueueFilter()
    for k in ("status", "platform", "target", "enterprise", "kind", "bureau", "since", "until", "q", "sort"):
        v = qp.get(k)
        if v is not None:
            setattr(f, k, v.strip()[:200])
    try:
        f.page = max(1, int(qp.get("page", "1")))
        f.per_page = max(1, min(200, int(qp.get("per_page", "50"))))
    except ValueError:
        raise Refused(400, "bad_request", msgs=[Msg("page_numbers", field="page")]) from None
    return f


def _bureaus(c: Ctx, f: QueueFilter) -> list[str] | None:
    if not f.bureau:
        return None
    try:
        from alerts.jurisdiction import configured_bureaus

        b = configured_bureaus()
        if b is not None and b.get(f.bureau) is not None:
            return list(b.subtree(f.bureau))
    except Exception:  # a broken bureaus file: filter on the id itself
        log.warning("bureaus file unreadable; filtering on %s only", f.bureau)
    return [f.bureau]


# -- routes ------------------------------------------------------------------------------------

def _routes(app: FastAPI) -> None:  # noqa: C901 (one place that lists every route)
    st: Settings = app.state.settings

    def set_cookie(resp: Response, request: Request, name: str, value: str, max_age: int, http_only=True):
        resp.set_cookie(name, value, max_age=max_age, httponly=http_only, samesite="strict", path="/",
                        secure=app.state.secure_cookies and request.url.scheme == "https"
                        or app.state.secure_cookies == "always")

    def login_form(request: Request, c: Ctx, status: int = 200, error: str | None = None, nxt: str = "/"):
        """The login page with a fresh login-CSRF token (double submit: cookie + form field)."""
        import secrets

        token = secrets.token_urlsafe(24)
        resp = render(c, "login.html", status=status, error=error, next=nxt, login_csrf=token)
        set_cookie(resp, request, "mw_login", token, 3600)
        return resp

    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, c: Ctx = Depends(ctx_dep)):
        return login_form(request, c, nxt=request.query_params.get("next", "/"))

    @app.post("/login")
    async def login(request: Request, c: Ctx = Depends(ctx_dep)):
        form = await request.form()
        username = str(form.get("username") or "")[:128]
        password = str(form.get("password") or "")
        nxt = str(form.get("next") or "/")
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/"
        import hmac

        sent, kept = str(form.get("csrf_token") or ""), request.cookies.get("mw_login") or ""
        if not sent or not kept or not hmac.compare_digest(sent, kept):
            auth.audit(c.s, username, "login", outcome="refused", detail="login CSRF token missing or wrong", ip=c.ip)
            c.s.commit()
            return login_form(request, c, 403, t("csrf", c.lang), nxt)
        if auth.throttled(c.s, username, c.ip):
            auth.audit(c.s, username, "login", outcome="refused", detail="throttled", ip=c.ip)
            c.s.commit()
            return login_form(request, c, 429, t("throttled", c.lang), nxt)
        u = auth.authenticate(c.s, username, password, c.ip)
        if u is None:
            auth.audit(c.s, username, "login", outcome="refused", detail="wrong user name or password", ip=c.ip)
            c.s.commit()
            return login_form(request, c, 401, t("bad_login", c.lang), nxt)
        token, _ = auth.new_session(c.s, u, c.ip)
        auth.audit(c.s, u.username, "login", ip=c.ip, role=u.role)
        c.s.commit()
        resp = RedirectResponse(nxt, status_code=303)
        set_cookie(resp, request, COOKIE, token, auth.SESSION_HOURS * 3600)
        resp.delete_cookie("mw_login", path="/")
        return resp

    @app.post("/logout")
    async def logout(request: Request, c: Ctx = any_user):
        auth.end_session(c.s, request.cookies.get(COOKIE))
        c.audit("logout")
        c.s.commit()
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @app.post("/language")
    async def language(request: Request, c: Ctx = any_user):
        form = await request.form()
        lang = lang_of(str(form.get("lang") or ""))
        c.user.language = lang
        c.audit("language", lang)
        c.s.commit()
        back = request.headers.get("referer") or "/"
        resp = RedirectResponse(back if back.startswith(str(request.base_url)) else "/", status_code=303)
        set_cookie(resp, request, "mw_lang", lang, 365 * 86400)
        return resp

    @app.get("/")
    async def home(c: Ctx = any_user):
        return RedirectResponse("/marks" if c.user.role == "holder" else "/queue", status_code=303)

    # -- queue --------------------------------------------------------------------------------
    @app.get("/queue", response_class=HTMLResponse)
    async def queue(request: Request, c: Ctx = any_user):
        f = _filter_from(request)
        pg = queue_page(c.s, f, c.targets, _bureaus(c, f))
        tv = TargetView(c.s, [l.target_id for l, _ in pg.rows])
        rows = [{"lead": l, "li": li, "title": highlight(li.title, l.evidence), "reasons": reasons_of(l, c.lang),
                 "label": tv.label(l.target_id, c.lang), "holder": tv.holder(l.target_id), "ref": tv.ref_price(l.target_id),
                 "logo": tv.is_logo(l.target_id), "photo": bool(li.images)} for l, li in pg.rows]
        return render(c, "queue.html", pg=pg, rows=rows, f=f, opts=cached_options(c),
                      qs=lambda **kw: urlencode(f.args(**kw)), staff=c.user.role != "holder")

    @app.get("/api/leads")
    async def api_leads(request: Request, c: Ctx = any_user):
        f = _filter_from(request)
        if "status" not in request.query_params:
            f.status = "all"
        pg = queue_page(c.s, f, c.targets, _bureaus(c, f))
        tv = TargetView(c.s, [l.target_id for l, _ in pg.rows])
        return {"items": [lead_json(l, li, tv, c.lang) for l, li in pg.rows], "total": pg.total,
                "page": pg.page, "pages": pg.pages}

    @app.get("/api/leads/{lead_id}")
    async def api_lead(lead_id: int, c: Ctx = any_user):
        lead = _lead_for(c, lead_id)
        return lead_json(lead, lead.listing, TargetView(c.s, [lead.target_id]), c.lang)

    async def _do(c: Ctx, lead_id: int, action: str, reason: str | None, to: str | None,
                  suppress_seller: bool = False, suppress_phrase: str | None = None) -> dict:
        from alerts.lifecycle import TransitionError

        from .actions import act

        if action not in LEAD_ACTIONS:
            raise Refused(404, "not_found")
        lead = _lead_for(c, lead_id)
        if c.user.role == "holder":
            c.audit(f"lead.{action}", lead_id, "refused", "holders cannot act on leads")
            c.s.commit()
            raise Refused(403, "forbidden")
        try:
            res = act(c.s, lead, action, c.user.username, reason=reason, to=to, data_dir=_data_dir(c),
                      suppress_seller=suppress_seller, suppress_phrase=suppress_phrase, language=c.lang)
        except (TransitionError, ValueError) as e:
            c.s.rollback()
            c.audit(f"lead.{action}", lead_id, "error", str(e))
            c.s.commit()
            msg = getattr(e, "msg", None)  # web.actions.ActionRefused: coded, in the user's language
            raise Refused(409, "not_saved", "" if msg else str(e), msgs=[msg] if msg else None) from None
        c.audit(f"lead.{action}", lead_id, detail=json.dumps({k: v for k, v in res.items() if k != "id"}
                                                             | ({"reason": reason} if reason else {}),
                                                             ensure_ascii=False))
        c.s.commit()
        res["status_name"] = status_name(res["to"], c.lang)
        return res

    @app.post("/api/leads/{lead_id}/{action}")
    async def api_act(lead_id: int, action: str, request: Request, c: Ctx = any_user):
        body: dict = {}
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = await request.json()
            except ValueError:
                raise Refused(400, "bad_request", msgs=[Msg("body_not_json")]) from None
        else:
            body = dict(await request.form())
        return await _do(c, lead_id, action, body.get("reason"), body.get("to"),
                         body.get("suppress_seller") in (True, "on", "true"), body.get("suppress_phrase") or None)

    @app.post("/leads/bulk")
    async def bulk(request: Request, c: Ctx = any_user):
        form = await request.form()
        action = str(form.get("action") or "")
        done, errors = [], []
        for raw in form.getlist("ids"):
            try:
                done.append(await _do(c, int(raw), action, form.get("reason") or None, form.get("to") or None))
            except Refused as e:
                if e.status == 403 and e.key in ("forbidden", "csrf"):
                    raise
                errors.append(f"#{raw}: {e.text(c.lang)}")
            except ValueError:
                errors.append(Msg("not_a_lead_id", {"value": raw}).text(c.lang))
        if request.headers.get("x-requested-with") == "fetch":
            return {"done": done, "errors": errors}
        return RedirectResponse(request.headers.get("referer") or "/queue", status_code=303)

    @app.post("/leads/{lead_id}/{action}")
    async def lead_act(lead_id: int, action: str, request: Request, c: Ctx = any_user):
        form = await request.form()
        res = await _do(c, lead_id, action, form.get("reason") or None, form.get("to") or None,
                        form.get("suppress_seller") == "on", (form.get("suppress_phrase") or "").strip() or None)
        if request.headers.get("x-requested-with") == "fetch":
            return res
        return RedirectResponse(f"/leads/{lead_id}", status_code=303)

    # -- lead detail and evidence -----------------------------------------------------------
    @app.get("/leads/{lead_id}", response_class=HTMLResponse)
    async def lead_detail(lead_id: int, c: Ctx = any_user):
        from alerts.lifecycle import allowed_actions
        from alerts.sellers import seller_profile

        from .actions import latest_pack

        lead = _lead_for(c, lead_id)
        li = lead.listing
        tv = TargetView(c.s, [lead.target_id])
        photos = listing_photos(c.s, li, _data_dir(c))
        records = list(c.s.scalars(select(EvidenceRecord).where(EvidenceRecord.listing_pk == li.id)
                                   .order_by(EvidenceRecord.seq)))
        snaps = list(c.s.scalars(select(ListingSnapshot).where(ListingSnapshot.listing_pk == li.id)
                                 .order_by(ListingSnapshot.seen_at, ListingSnapshot.id)))
        chain_ok, chain_msg = _chain(c)
        prof = None
        if c.user.role != "holder" and (li.seller_id or li.seller_name):
            prof = seller_profile(c.s, li.platform, li.seller_id or li.seller_name)
        others = [o for o in (prof.leads if prof else []) if o["lead_id"] != lead.id][:20]
        return render(c, "lead.html", lead=lead, li=li, title=highlight(li.title, lead.evidence),
                      reasons=reasons_of(lead, c.lang), label=tv.label(lead.target_id, c.lang), holder=tv.holder(lead.target_id),
                      ref=tv.ref_price(lead.target_id), logo=tv.is_logo(lead.target_id), photos=photos,
                      records=records, shot=next((r for r in records if r.kind == "screenshot"), None),
                      html=next((r for r in reversed(records) if r.kind == "html"), None),
                      snaps=snaps, chain_ok=chain_ok, chain_msg=chain_msg, prof=prof, others=others,
                      events=lead.events, allowed=allowed_actions(lead.status),
                      pack=latest_pack(_data_dir(c), lead.id), staff=c.user.role != "holder",
                      chart=json.dumps([[f"{sn.seen_at:%Y-%m-%d}", sn.price, sn.sales] for sn in snaps]))

    def _chain(c: Ctx) -> tuple[bool, str]:
        from alerts.referral import check_chain

        try:
            ok, msg, _ = check_chain(c.s, _data_dir(c) / "evidence")
        except Exception as e:  # shown, never hidden
            return False, f"{type(e).__name__}: {e}"
        return ok, msg

    @app.get("/leads/{lead_id}/photos/{n}")
    async def lead_photo(lead_id: int, n: int, request: Request, c: Ctx = any_user):
        """Photo n of the lead's listing as a JPEG thumbnail (?size=s: 160 px, else 480 px);
        ?box=1 draws where the logo / OCR text was found when the match came from this photo."""
        from matcher.images import ImageRejected, fit_within, open_image
        from matcher.logo_draw import draw_detection

        lead = _lead_for(c, lead_id)
        photos = listing_photos(c.s, lead.listing, _data_dir(c))
        if not 0 <= n < len(photos):
            raise Refused(404, "not_found")
        p, refs = photos[n]
        size = 160 if request.query_params.get("size") == "s" else 480
        ev = lead.evidence or {}
        boxes = []
        if request.query_params.get("box") and (ev.get("image") in refs or ev.get("image_sha256") in refs):
            if ev.get("quad") or ev.get("bbox"):
                boxes.append({"quad": ev.get("quad"), "bbox": ev.get("bbox"), "label": lead.target_id})
            elif isinstance(ev.get("box"), list) and len(ev["box"]) == 4:
                boxes.append({"quad": ev["box"], "label": lead.target_id})
        try:
            im = draw_detection(p, boxes, size) if boxes else fit_within(open_image(p), size)
        except (ImageRejected, OSError) as e:
            raise Refused(404, "not_found", str(e)) from None
        buf = io.BytesIO()
        im.convert("RGB").save(buf, "JPEG", quality=85)
        return Response(buf.getvalue(), media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/leads/{lead_id}/evidence/{seq}")
    async def lead_evidence(lead_id: int, seq: int, c: Ctx = any_user):
        """One ledger artefact of the lead's listing; HTML is served sandboxed with scripts off."""
        lead = _lead_for(c, lead_id)
        rec = c.s.get(EvidenceRecord, seq)
        if rec is None or rec.listing_pk != lead.listing_pk:
            raise Refused(404, "not_found")
        base = (_data_dir(c) / "evidence").resolve()
        p = (base / rec.path).resolve()
        if base not in p.parents or not p.is_file():
            raise Refused(404, "not_found")
        c.audit("evidence.view", f"lead {lead_id} seq {seq}")
        c.s.commit()
        if rec.kind == "html" or p.suffix.lower() in (".html", ".htm"):
            body = p.read_bytes()
            return Response(body, media_type=f"text/html; charset={snapshot_charset(body)}",
                            headers={"Content-Security-Policy": SNAPSHOT_CSP})
        mt = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
        if not mt.startswith("image/"):
            return FileResponse(p, media_type="application/octet-stream", filename=p.name)
        return FileResponse(p, media_type=mt)

    @app.get("/leads/{lead_id}/pack")
    async def lead_pack(lead_id: int, c: Ctx = staff):
        from .actions import latest_pack

        _lead_for(c, lead_id)
        p = latest_pack(_data_dir(c), lead_id)
        if p is None:
            raise Refused(404, "not_found")
        c.audit("referral.download", lead_id, detail=p.name)
        c.s.commit()
        return FileResponse(p, media_type="application/zip", filename=p.name)

    @app.get("/marks/{mark_id}/image")
    async def mark_image(mark_id: str, c: Ctx = any_user):
        m = c.s.get(Mark, mark_id)
        if m is None or not m.image or not c.can_see(m.id):
            raise Refused(404, "not_found")
        p = Path(m.image)
        if not p.is_file():
            raise Refused(404, "not_found")
        from matcher.images import fit_within, open_image

        buf = io.BytesIO()
        im = fit_within(open_image(p, mode="RGBA"), 240)
        im.save(buf, "PNG")
        return Response(buf.getvalue(), media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    # -- dashboard ---------------------------------------------------------------------------
    @app.get("/dashboard", response_class=HTMLResponse)
    async def dashboard(c: Ctx = staff):
        from alerts.sellers import top_sellers

        runs = list(c.s.scalars(select(Run).order_by(Run.id.desc()).limit(10)))
        fails = Counter()
        for rid, src, kind, n in c.s.execute(select(RunFailure.run_id, RunFailure.source, RunFailure.kind, func.count())
                                             .where(RunFailure.run_id.in_([r.id for r in runs]))
                                             .group_by(RunFailure.run_id, RunFailure.source, RunFailure.kind)):
            fails[(rid, src or "-", kind)] = n
        by_run: dict[int, list] = {}
        for (rid, src, kind), n in sorted(fails.items()):
            by_run.setdefault(rid, []).append((src, kind, n))
        markets = list(c.s.scalars(select(KeyMarket).where(KeyMarket.active.is_(True)).order_by(KeyMarket.lead_count.desc())))
        return render(c, "dashboard.html", runs=runs, by_run=by_run, sellers=top_sellers(c.s, 10), markets=markets)

    @app.get("/api/dashboard")
    async def api_dashboard(c: Ctx = staff):
        since = utcnow() - timedelta(days=30)
        day = func.date(Lead.first_seen)
        per_day = [[str(d), n] for d, n in c.s.execute(select(day, func.count()).where(Lead.first_seen >= since)
                                                      .group_by(day).order_by(day))]
        per_platform = [[p, n] for p, n in c.s.execute(select(Listing.platform, func.count()).join(Lead, Lead.listing_pk == Listing.id)
                                                      .group_by(Listing.platform).order_by(func.count().desc()).limit(15))]
        tv = TargetView(c.s)
        per_target = list(c.s.execute(select(Lead.target_id, func.count()).group_by(Lead.target_id)
                                      .order_by(func.count().desc())))
        per_mark = [[tv.label(tid, c.lang), n] for tid, n in per_target[:15]]
        ent = Counter()
        for tid, n in per_target:
            ent[tv.holder(tid) or tid] += n
        statuses = dict(c.s.execute(select(Lead.verdict, func.count()).where(Lead.verdict.is_not(None)).group_by(Lead.verdict)).all())
        decided = sum(statuses.values())
        return {"per_day": per_day, "per_platform": per_platform, "per_mark": per_mark,
                "per_enterprise": [[k, v] for k, v in ent.most_common(15)],
                "confirmation": {"confirmed": statuses.get("confirmed", 0), "dismissed": statuses.get("dismissed", 0),
                                 "rate": round(statuses.get("confirmed", 0) / decided, 3) if decided else None},
                "labels": {k: t(k, c.lang) for k in ("leads_per_day", "per_platform", "per_mark", "per_enterprise",
                                                     "confirm_rate", "confirm", "dismiss")}}

    # -- suppressions ------------------------------------------------------------------------
    @app.get("/suppressions", response_class=HTMLResponse)
    async def suppressions(c: Ctx = staff):
        rules = list(c.s.scalars(select(Suppression).order_by(Suppression.active.desc(), Suppression.id.desc())))
        return render(c, "suppressions.html", rules=rules, preview=None, phrase="")

    @app.post("/suppressions/preview", response_class=HTMLResponse)
    async def suppression_preview(request: Request, c: Ctx = staff):
        form = await request.form()
        phrase = str(form.get("phrase") or "").strip()
        if len(phrase) < 2:
            return HTMLResponse(f'<p class="err" id="preview">{t("phrase_short", c.lang)}</p>', status_code=422)
        like = f"%{phrase.replace('%', '').replace('_', '')}%"
        q = (select(Lead.id, Listing.title).join(Listing, Lead.listing_pk == Listing.id)
             .where(Lead.status.in_(("new", "in_review")), Listing.title.ilike(like) | Listing.description.ilike(like)))
        n = c.s.scalar(select(func.count()).select_from(q.subquery())) or 0
        sample = list(c.s.execute(q.limit(5)))
        tpl = request.app.state.templates.get_template("_preview.html")
        return HTMLResponse(tpl.render(n=n, sample=sample, phrase=phrase, lang=c.lang))

    @app.post("/suppressions/{rule_id}/remove")
    async def suppression_remove(rule_id: int, c: Ctx = staff):
        from alerts.suppress import remove_rule

        sup = c.s.get(Suppression, rule_id)
        if sup is None:
            raise Refused(404, "not_found")
        if not sup.active:
            at = f"{sup.removed_at:%Y-%m-%d %H:%M}" if sup.removed_at else "-"
            raise Refused(409, "not_saved", msgs=[Msg("rule_removed", {"id": rule_id, "who": sup.removed_by or "-",
                                                                       "at": at})])
        try:
            sup, n = remove_rule(c.s, rule_id, c.user.username)
        except ValueError as e:
            c.s.rollback()
            raise Refused(409, "not_saved", str(e)) from None
        c.audit("suppression.remove", rule_id, detail=f"{n} leads restored")
        c.s.commit()
        return RedirectResponse("/suppressions", status_code=303)

    # -- holders: marks, logos, sellers, GIs, import ---------------------------------------
    from . import holders

    holders.routes(app, render=render, any_user=any_user, Refused=Refused, data_dir=_data_dir)

    # -- admin -------------------------------------------------------------------------------
    @app.get("/admin", response_class=HTMLResponse)
    async def admin(c: Ctx = admin_only):
        users = list(c.s.scalars(select(WebUser).order_by(WebUser.username)))
        sources = list(c.s.scalars(select(Source).order_by(Source.name)))
        audit_rows = list(c.s.scalars(select(WebAudit).order_by(WebAudit.id.desc()).limit(50)))
        ents = list(c.s.scalars(select(Enterprise).order_by(Enterprise.id)))
        conf = {k: v for k, v in st.model_dump().items() if "url" not in k and "password" not in k}
        return render(c, "admin.html", users=users, sources=sources, audit_rows=audit_rows, ents=ents, conf=conf, msg=None)

    @app.post("/admin/users")
    async def admin_add_user(request: Request, c: Ctx = admin_only):
        form = await request.form()
        try:
            u = auth.add_user(c.s, str(form.get("username") or ""), str(form.get("role") or ""),
                              str(form.get("password") or ""), str(form.get("enterprise_id") or "") or None)
        except auth.AuthError as e:
            c.s.rollback()
            raise Refused(422, "not_saved", msgs=[e.msg]) from None
        c.audit("user.add", u.username, detail=u.role)
        c.s.commit()
        return RedirectResponse("/admin", status_code=303)
