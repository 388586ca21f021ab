"""Holders' registration pages: word marks (aliases, Nice classes or 类似群 groups, reference
price), logo upload (validated by content, previewed, with the registration check's verdict from
watchlist/logos.py), authorised sellers, GIs with region and authorised users, CSV/XLSX bulk import
with a row-by-row error report (watchlist/loader.py's CSV rules, one row at a time).

Who edits what: a holder edits the enterprise they are bound to; an admin any enterprise
(``?enterprise=ID``); an officer sees every enterprise read-only. A new or changed word mark or
GI is matched at once against the stored listings (web/rematch.py, in the background); logos are
matched in the next pass.
"""
from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from pathlib import Path

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import func, select

from store.models import (AuthorizedSeller, Enterprise, GeographicalIndication, HolderGI, Lead, Listing, Mark,
                          WebAudit)
from watchlist.messages import Msg, msgs_of

MAX_LOGO = 5 * 1024 * 1024
MAX_IMPORT = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000


def _split(v) -> list[str]:
    return [p.strip() for p in re.split(r"[,，;；|、\s]+", str(v or "")) if p.strip()]


def classes_from(classes: str, groups: str) -> tuple[list[int], list[Msg]]:
    """Nice classes from "25,18" and/or 类似群 codes "2501,1801" (a group's first two digits are its
    class, per the 类似商品和服务区分表). Returns (classes, problems as coded Msgs)."""
    out, problems = set(), []
    for c in _split(classes):
        if c.isdigit() and 1 <= int(c) <= 45:
            out.add(int(c))
        else:
            problems.append(Msg("nice_class_range", {"value": c}, "classes"))
    for g in _split(groups):
        if re.fullmatch(r"\d{4}", g) and 1 <= int(g[:2]) <= 45:
            out.add(int(g[:2]))
        else:
            problems.append(Msg("group_code", {"value": g}, "groups"))
    return sorted(out), problems


def _same_word_mark(s, ent: str, text: str) -> str | None:
    """The id of the enterprise's active word mark with the same text (NFKC, case-folded,
    spaces ignored), else None."""
    import unicodedata

    def key(x: str) -> str:
        return "".join(unicodedata.normalize("NFKC", x or "").casefold().split())
    want = key(text)
    for mid, t in s.execute(select(Mark.id, Mark.text).where(Mark.enterprise_id == ent, Mark.kind == "word",
                                                             Mark.active.is_(True))):
        if key(t) == want:
            return mid
    return None


def routes(app: FastAPI, render, any_user, Refused, data_dir) -> None:  # noqa: C901
    st = app.state.settings

    def enterprise_of(c, request: Request, write: bool = False) -> str | None:
        if c.user.role == "holder":
            return c.user.enterprise_id
        want = request.query_params.get("enterprise") or None
        if write and c.user.role != "admin":
            c.audit(f"{request.method} {request.url.path}", outcome="refused", detail="officers cannot edit marks")
            c.s.commit()
            raise Refused(403, "forbidden")
        return want

    def writable_ent(c, request: Request, form) -> str:
        if c.user.role == "holder":
            ent = c.user.enterprise_id
        elif c.user.role == "admin":
            ent = str(form.get("enterprise_id") or request.query_params.get("enterprise") or "")
        else:
            c.audit(f"{request.method} {request.url.path}", outcome="refused", detail="officers cannot edit marks")
            c.s.commit()
            raise Refused(403, "forbidden")
        if not ent:
            raise Refused(422, "not_saved", msgs=[Msg("enterprise_required", field="enterprise_id")])
        if c.s.get(Enterprise, ent) is None:
            if c.s.get(GeographicalIndication, ent) is not None:
                raise Refused(422, "not_saved", msgs=[Msg("gi_account", {"value": ent})])
            raise Refused(404, "not_found", ent)
        return ent

    def own_mark(c, mark_id: str) -> Mark:
        m = c.s.get(Mark, mark_id)
        if m is None or not c.can_see(m.id):
            raise Refused(404, "not_found")
        if c.user.role == "officer":
            raise Refused(403, "forbidden")
        return m

    def schedule_rematch(bg: BackgroundTasks, c, target_id: str | list[str], kind: str) -> None:
        ids = [target_id] if isinstance(target_id, str) else list(target_id)
        if not ids:
            return
        if kind == "logo":
            c.audit("rematch", ids[0], detail=json.dumps({"pending": "next pass"}))
            return
        for i in ids:
            c.audit("rematch", i, detail=json.dumps({"running": True}))

        def job():
            from store.db import session_scope

            from . import auth
            from .rematch import rematch_target
            try:
                res = rematch_target(app.state.engine, st, ids)
                outcome = "ok"
            except Exception as e:  # recorded where the holder sees it, never silent
                res, outcome = {"error": f"{type(e).__name__}: {e}"}, "error"
            with session_scope(app.state.engine) as s:
                for i in ids:
                    one = {k: v for k, v in res.items() if k != "per_target"}
                    if "per_target" in res:
                        one["leads_new"] = res["per_target"].get(i, 0)
                    auth.audit(s, "system", "rematch", i, outcome, json.dumps(one, ensure_ascii=False))
        bg.add_task(job)

    def rematch_state(c, ids: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        if not ids:
            return out
        for a in c.s.scalars(select(WebAudit).where(WebAudit.action == "rematch", WebAudit.target.in_(ids))
                             .order_by(WebAudit.id)):
            try:
                out[a.target] = {**json.loads(a.detail or "{}"), "outcome": a.outcome, "at": a.at}
            except ValueError:
                out[a.target] = {"outcome": a.outcome, "at": a.at}
        return out

    @app.get("/marks", response_class=HTMLResponse)
    async def marks_page(request: Request, c=any_user, msg: str | None = None):
        ent_id = enterprise_of(c, request)
        ents = [c.s.get(Enterprise, ent_id)] if ent_id else (
            [] if c.user.role == "holder" else list(c.s.scalars(select(Enterprise).order_by(Enterprise.id))))
        ents = [e for e in ents if e is not None]
        marks = [m for e in ents for m in e.marks]
        sellers = [a for e in ents for a in e.authorized_sellers]
        gis = holder_gis_of(c, ent_id)
        ids = [m.id for m in marks] + [g.id for g in gis]
        counts = dict(c.s.execute(select(Lead.target_id, func.count()).where(Lead.target_id.in_(ids))
                                  .group_by(Lead.target_id)).all()) if ids else {}
        open_counts = dict(c.s.execute(select(Lead.target_id, func.count()).where(
            Lead.target_id.in_(ids), Lead.status.in_(("new", "in_review"))).group_by(Lead.target_id)).all()) if ids else {}
        verdicts = {}
        for m in marks:
            if m.kind == "logo" and m.image:
                verdicts[m.id] = logo_verdict(c, m)
        n_listings = c.s.scalar(select(func.count()).select_from(Listing)) or 0
        return render(c, "marks.html", ents=ents, marks=marks, sellers=sellers, gis=gis, counts=counts,
                      open_counts=open_counts, verdicts=verdicts, rematch=rematch_state(c, ids),
                      editable=c.user.role in ("holder", "admin"), ent_id=ent_id, n_listings=n_listings,
                      msg=request.query_params.get("msg"), report=None)

    def holder_gis_of(c, ent_id):
        if ent_id is None:
            return [] if c.user.role == "holder" else list(c.s.scalars(select(GeographicalIndication)
                                                                         .order_by(GeographicalIndication.id)))
        ids = set(c.s.scalars(select(HolderGI.gi_id).where(HolderGI.enterprise_id == ent_id)))
        if c.s.get(GeographicalIndication, ent_id) is not None:
            ids.add(ent_id)
        return list(c.s.scalars(select(GeographicalIndication).where(GeographicalIndication.id.in_(ids)))) if ids else []

    def logo_verdict(c, m: Mark) -> dict:
        from matcher.logo_cache import LogoProblem
        from watchlist.logos import validate_logo

        try:
            info = validate_logo(m.image, data_dir(c) / "cache")
        except LogoProblem as e:
            return {"ok": False, "text": e.reason_zh if c.lang == "zh-CN" and e.reason_zh else str(e)}
        except OSError as e:
            return {"ok": False, "text": str(e)}
        warn = []
        if info.features < 30:
            warn.append("特征点少于 30：小或简单的图形较难可靠识别" if c.lang == "zh-CN"
                        else f"only {info.features} keypoints: small or plain logos are found less reliably")
        if not m.nice_classes and not m.well_known:
            warn.append("未填写尼斯分类且非驰名商标：不会产生线索" if c.lang == "zh-CN"
                        else "no Nice classes and not well-known: this logo can never produce a lead")
        return {"ok": True, "features": info.features, "size": f"{info.width}×{info.height}", "warnings": warn}

    def new_id(c, ent: str, kind: str) -> str:
        n = c.s.scalar(select(func.count()).select_from(Mark).where(Mark.enterprise_id == ent)) or 0
        while True:
            n += 1
            mid = f"{ent}-{'tm' if kind == 'word' else 'logo'}-{n}"
            if c.s.get(Mark, mid) is None:
                return mid

    def back(ent: str | None, c, msg: str) -> RedirectResponse:
        q = {"msg": msg}
        if c.user.role == "admin" and ent:
            q["enterprise"] = ent
        from urllib.parse import urlencode
        return RedirectResponse("/marks?" + urlencode(q), status_code=303)

    def word_fields(form) -> tuple[dict, list[Msg]]:
        classes, problems = classes_from(str(form.get("classes") or ""), str(form.get("groups") or ""))
        price_s = str(form.get("reference_price") or "").strip()
        price = None
        if price_s:
            try:
                price = float(price_s)
            except ValueError:
                problems.append(Msg("not_a_number", {"value": price_s}, "reference_price"))
        return {"text": str(form.get("text") or "").strip(), "aliases": _split(form.get("aliases")),
                "nice_classes": classes, "reference_price": price}, problems

    def validate_mark(d: dict, skip: set[str] = frozenset()) -> list[Msg]:
        """The watchlist model's problems with the form's fields (already reported fields skipped)."""
        from watchlist.model import Mark as MarkModel

        try:
            MarkModel.model_validate(d)
        except ValidationError as e:
            return [m for m in msgs_of(e, field_of=lambda loc: str(loc[0]) if loc else "") if m.field not in skip]
        return []

    @app.post("/marks/word")
    async def add_word(request: Request, bg: BackgroundTasks, c=any_user):
        form = await request.form()
        ent = writable_ent(c, request, form)
        d, problems = word_fields(form)
        mid = new_id(c, ent, "word")
        problems += validate_mark({"id": mid, "kind": "word", **d}, {p.field for p in problems})
        if problems:
            raise Refused(422, "not_saved", msgs=problems)
        same = _same_word_mark(c.s, ent, d["text"])
        if same:  # a double-clicked 保存 or a re-typed mark: one mark, else every lead comes twice
            raise Refused(409, "not_saved", msgs=[Msg("same_text_registered", {"value": d["text"], "mark": same}, "text")])
        wk = c.user.role == "admin" and form.get("well_known") == "on"
        c.s.add(Mark(id=mid, enterprise_id=ent, kind="word", well_known=wk, active=True, **d))
        c.audit("mark.add", mid, detail=json.dumps(d, ensure_ascii=False))
        schedule_rematch(bg, c, mid, "word")
        c.s.commit()
        return back(ent, c, mid)

    @app.post("/marks/logo")
    async def add_logo(request: Request, bg: BackgroundTasks, c=any_user):
        from matcher.logo_cache import LogoProblem
        from watchlist.logos import register_logo

        form = await request.form(max_part_size=MAX_LOGO + 1)
        ent = writable_ent(c, request, form)
        up = form.get("image")
        if up is None or not hasattr(up, "read"):
            raise Refused(422, "not_saved", msgs=[Msg("no_file", field="image")])
        data = await up.read(MAX_LOGO + 1)
        if len(data) > MAX_LOGO:
            raise Refused(413, "not_saved", msgs=[Msg("file_too_large", {"mb": MAX_LOGO // 1024 // 1024}, "image")])
        classes, problems = classes_from(str(form.get("classes") or ""), str(form.get("groups") or ""))
        if problems:
            raise Refused(422, "not_saved", msgs=problems)
        with tempfile.TemporaryDirectory() as td:
            tmp = Path(td) / "upload"
            tmp.write_bytes(data)
            try:  # validated by content (Pillow decode, size and pixel bounds), never by name or type
                info = register_logo(tmp, data_dir(c))
            except LogoProblem as e:
                c.audit("logo.add", ent, "refused", str(e))
                c.s.commit()
                raise Refused(422, "not_saved", msgs=[Msg("logo_unusable", {"reason_en": str(e).replace(str(tmp), "upload"),
                                                                           "reason_zh": e.reason_zh or str(e)},
                                                          "image")]) from None
        mid = new_id(c, ent, "logo")
        label = str(form.get("text") or "").strip() or None
        c.s.add(Mark(id=mid, enterprise_id=ent, kind="logo", text=label, image=str(info.stored),
                     image_sha256=info.sha256, nice_classes=classes, well_known=False, active=True, aliases=[]))
        c.audit("logo.add", mid, detail=f"{info.format} {info.width}x{info.height}, {info.features} keypoints, sha256 {info.sha256}")
        schedule_rematch(bg, c, mid, "logo")
        c.s.commit()
        return back(ent, c, mid)

    @app.post("/marks/{mark_id}/edit")
    async def edit_mark(mark_id: str, request: Request, bg: BackgroundTasks, c=any_user):
        form = await request.form()
        m = own_mark(c, mark_id)
        d, problems = word_fields(form)
        if m.kind == "logo":
            d = {"text": d["text"] or None, "nice_classes": d["nice_classes"], "reference_price": d["reference_price"]}
        else:
            problems += validate_mark({"id": m.id, "kind": "word", **d}, {p.field for p in problems})
        if problems:
            raise Refused(422, "not_saved", msgs=problems)
        for k, v in d.items():
            setattr(m, k, v)
        m.active = True
        c.audit("mark.edit", m.id, detail=json.dumps(d, ensure_ascii=False))
        schedule_rematch(bg, c, m.id, m.kind)
        c.s.commit()
        return back(m.enterprise_id, c, m.id)

    @app.post("/marks/{mark_id}/deactivate")
    async def deactivate_mark(mark_id: str, c=any_user):
        m = own_mark(c, mark_id)
        m.active = False
        c.audit("mark.deactivate", m.id)
        c.s.commit()
        return back(m.enterprise_id, c, m.id)

    @app.post("/sellers")
    async def add_seller(request: Request, c=any_user):
        form = await request.form()
        ent = writable_ent(c, request, form)
        from watchlist.model import AuthorizedSeller as SellerModel

        d = {k: (str(form.get(k) or "").strip() or None) for k in ("platform", "seller_id", "seller_name")}
        try:
            SellerModel.model_validate(d)
        except ValidationError as e:
            raise Refused(422, "not_saved", msgs=msgs_of(e)) from None
        c.s.add(AuthorizedSeller(enterprise_id=ent, **d))
        c.audit("seller.add", ent, detail=json.dumps(d, ensure_ascii=False))
        c.s.commit()
        return back(ent, c, "seller")

    @app.post("/sellers/{seller_pk}/delete")
    async def delete_seller(seller_pk: int, c=any_user):
        a = c.s.get(AuthorizedSeller, seller_pk)
        ok = a is not None and (
            (c.user.role == "admin") or
            (c.user.role == "holder" and c.user.enterprise_id and
             (a.enterprise_id == c.user.enterprise_id or (a.gi_id and c.can_see(a.gi_id)))))
        if not ok:
            raise Refused(404, "not_found")
        ent = a.enterprise_id
        c.s.delete(a)
        c.audit("seller.delete", seller_pk)
        c.s.commit()
        return back(ent, c, "seller")

    @app.post("/gis")
    async def add_gi(request: Request, bg: BackgroundTasks, c=any_user):
        from watchlist.model import GeographicalIndication as GIModel

        form = await request.form()
        if c.user.role == "holder":
            owner = c.user.enterprise_id
        elif c.user.role == "admin":
            owner = str(form.get("enterprise_id") or "")
        else:
            raise Refused(403, "forbidden")
        users, problems = [], []
        for u in _split(form.get("authorized_users")):
            plat, _, sid = u.rpartition(":")
            users.append({"platform": plat or None, "seller_id": sid})
        gid = str(form.get("id") or "").strip() or f"gi-{owner}-{(c.s.scalar(select(func.count()).select_from(GeographicalIndication)) or 0) + 1}"
        existing = c.s.get(GeographicalIndication, gid)
        if existing is not None and not c.can_see(gid):
            raise Refused(409, "not_saved", msgs=[Msg("gi_id_taken", {"value": gid}, "id")])
        d = {"id": gid, "name": str(form.get("name") or "").strip(), "product": str(form.get("product") or "").strip(),
             "category": str(form.get("category") or "").strip() or None,
             "aliases": _split(form.get("aliases")),
             "region": {"admin_codes": _split(form.get("admin_codes")), "places": _split(form.get("places"))},
             "authorized_users": users}
        try:
            gi = GIModel.model_validate(d)
        except ValidationError as e:
            raise Refused(422, "not_saved", msgs=msgs_of(e)) from None
        row = existing or GeographicalIndication(id=gid)
        if existing is None:
            c.s.add(row)
        row.name, row.aliases, row.product, row.category = gi.name, gi.aliases, gi.product, gi.category
        row.admin_codes, row.places, row.active = gi.region.admin_codes, gi.region.places, True
        row.nice_classes = row.nice_classes or []
        row.authorized_users = [AuthorizedSeller(platform=a.platform, seller_id=a.seller_id, seller_name=a.seller_name)
                                for a in gi.authorized_users]
        c.s.flush()
        if owner and c.s.get(HolderGI, gid) is None and owner != gid:
            c.s.add(HolderGI(gi_id=gid, enterprise_id=owner))
        c.audit("gi.add" if existing is None else "gi.edit", gid, detail=json.dumps(d, ensure_ascii=False))
        schedule_rematch(bg, c, gid, "gi")
        c.s.commit()
        return back(owner, c, gid)

    @app.post("/marks/import", response_class=HTMLResponse)
    async def import_marks(request: Request, bg: BackgroundTasks, c=any_user):
        form = await request.form(max_part_size=MAX_IMPORT + 1)
        ent = writable_ent(c, request, form) if c.user.role == "holder" else None
        if c.user.role not in ("holder", "admin"):
            raise Refused(403, "forbidden")
        up = form.get("file")
        if up is None or not hasattr(up, "read"):
            raise Refused(422, "not_saved", msgs=[Msg("no_file", field="file")])
        data = await up.read(MAX_IMPORT + 1)
        if len(data) > MAX_IMPORT:
            raise Refused(413, "not_saved", msgs=[Msg("file_too_large", {"mb": MAX_IMPORT // 1024 // 1024}, "file")])
        name = Path(getattr(up, "filename", "") or "upload.csv").name
        try:
            rows = table_rows(data, name)
        except TableProblem as e:
            raise Refused(422, "not_saved", name, msgs=[e.msg]) from None
        report = import_rows(c, rows, name, ent)
        schedule_rematch(bg, c, report["imported"], "word")  # one pass for all imported marks
        c.audit("marks.import", name, "ok" if not report["problems"] else "error",
                json.dumps({"imported": len(report["imported"]), "problems": len(report["problems"])}))
        c.s.commit()
        resp = await marks_page(request, c)
        html = resp.body.decode()
        tpl = request.app.state.templates.get_template("_import_report.html")
        return HTMLResponse(html.replace("<!--import-report-->", tpl.render(report=report, lang=c.lang)))


class TableProblem(ValueError):
    """An upload that is not a readable table; ``msg`` is the coded message (field: the file name)."""

    def __init__(self, code: str, name: str, **params):
        self.msg = Msg(code, params, name)
        super().__init__(self.msg.render("en"))


def table_rows(data: bytes, name: str) -> list[list[str]]:
    """Rows of a CSV (UTF-8, with or without BOM) or XLSX upload, header first. Raises
    TableProblem (a ValueError)."""
    if data[:4] == b"PK\x03\x04":  # XLSX by content (a zip), whatever the name says
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:
            raise TableProblem("file_not_xlsx", name) from None
        ws = wb.worksheets[0]
        rows = [["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)) for v in r]
                for r in ws.iter_rows(values_only=True)]
        wb.close()
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise TableProblem("file_not_text", name) from None
        rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any(str(v).strip() for v in r)]
    if not rows:
        raise TableProblem("file_empty", name)
    if len(rows) > MAX_IMPORT_ROWS + 1:
        raise TableProblem("file_too_many_rows", name, n=MAX_IMPORT_ROWS)
    return rows


def import_rows(c, rows: list[list[str]], name: str, holder_ent: str | None) -> dict:
    """Import word marks row by row with watchlist/loader.py's CSV rules; a bad row is reported
    (file, line, field, message in the user's language: watchlist/messages.py) and the other rows
    are still imported. Holders' rows must name their own enterprise (or leave enterprise_id
    empty). Returns {"file", "rows", "imported": [mark ids], "problems": [{"line", "field" (the
    column), "label" (its zh-CN name, '' in English), "code", "message"}]}."""
    from watchlist.errors import WatchlistError
    from watchlist.loader import parse_watchlist_csv
    from watchlist.messages import field_title, render

    header = [h.strip() for h in rows[0]]
    problems: list[dict] = []
    imported: list[str] = []

    def refuse(line: int, field: str, code: str, **params) -> None:
        problems.append({"line": line, "field": field, "label": field_title(field, c.lang) if c.lang != "en" else "", "code": code,
                         "message": render(code, c.lang, **params)})

    for i, r in enumerate(rows[1:], start=2):
        d = dict(zip(header, r))
        if holder_ent is not None:
            if (d.get("enterprise_id") or "").strip() not in ("", holder_ent):
                refuse(i, "enterprise_id", "not_your_enterprise", value=d.get("enterprise_id"), ent=holder_ent)
                continue
            d["enterprise_id"] = holder_ent
            ent = c.s.get(Enterprise, holder_ent)
            d["enterprise_name"] = ent.name if ent else holder_ent
            if not c.user.role == "admin":
                d["well_known"] = ""
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(d.keys()))
        w.writeheader()
        w.writerow(d)
        try:
            wl = parse_watchlist_csv(buf.getvalue(), name)
        except WatchlistError as e:
            for p in e.problems:
                problems.append({"line": i, "field": p.field, "label": field_title(p.field, c.lang) if c.lang != "en" else "",
                                 "code": p.code, "message": p.text(c.lang)})
            continue
        mid = wl.enterprises[0].marks[0].id
        other = c.s.get(Mark, mid)
        if other is not None and other.enterprise_id != wl.enterprises[0].id:
            refuse(i, "mark_id", "mark_of_other_enterprise", value=mid)
            continue
        if c.s.get(Enterprise, wl.enterprises[0].id) is not None:
            e = c.s.get(Enterprise, wl.enterprises[0].id)
            wl.enterprises[0].name = e.name  # keep the registered name
            sellers = list(e.authorized_sellers)
        else:
            sellers = []
        _upsert_marks_only(c.s, wl, sellers)
        imported.append(mid)
    c.s.flush()
    return {"file": name, "rows": len(rows) - 1, "imported": imported, "problems": problems}


def _upsert_marks_only(s, wl, sellers) -> None:
    """upsert_watchlist replaces an enterprise's authorised sellers; keep the existing ones."""
    from store.repo import upsert_watchlist

    ent_id = wl.enterprises[0].id
    upsert_watchlist(s, wl)
    e = s.get(Enterprise, ent_id)
    if sellers:
        e.authorized_sellers = [AuthorizedSeller(platform=a.platform, seller_id=a.seller_id, seller_name=a.seller_name)
                                for a in sellers]
