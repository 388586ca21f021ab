"""Validation messages as data: every refusal a user reads (watchlist files, console forms, bulk
import, the JSON API, lead actions) is a code with parameters, rendered to zh-CN (default) or
English from ONE table, like the match reasons (matcher/reasons.py).

    render("nice_class_range", "zh-CN", value="99")   # '尼斯分类“99”不是 1–45 之间的数字'
    code, params = from_pydantic(err)                  # one entry of ValidationError.errors()
    field_title("nice_classes", "zh-CN")               # '尼斯分类'
    Msg("greater_than", {"gt": 0, "value": -5}, "reference_price").render("zh-CN")  # '参考价：必须大于 0（填写的是“-5”）'

Models raise ``pydantic_core.PydanticCustomError(code, english_template, params)`` so that the
code travels in the error's ``type``; pydantic's own error types (``missing``, ``int_parsing``,
``greater_than`` ...) have entries here too. A code without an entry renders pydantic's English
``msg`` (en) or a generic Chinese sentence with the value (zh-CN), never a bare traceback.

Where a message is shown, the file/line/field it belongs to is shown with it (watchlist.errors.
Problem, the console's import report): this module renders only the "what is wrong" part.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any

# code: (zh-CN, en). Parameters in {braces}; {value} is the offending input as written.
MESSAGES: dict[str, tuple[str, str]] = {
    # -- generic field problems (pydantic's own error types) -------------------------------
    "missing": ("必填，未填写", "is required but missing"),
    "extra_forbidden": ("不是可识别的字段", "is not a known field"),
    "literal_error": ("应为 {expected} 之一（填写的是“{value}”）", "must be one of {expected} (got {value!r})"),
    "string_too_short": ("不能为空", "must not be empty"),
    "string_too_long": ("不能超过 {max_length} 个字符", "must be at most {max_length} characters"),
    "string_type": ("应为文字（填写的是“{value}”）", "must be text (got {value!r})"),
    "int_parsing": ("应为整数（填写的是“{value}”）", "is not a whole number: {value!r}"),
    "int_type": ("应为整数（填写的是“{value}”）", "is not a whole number: {value!r}"),
    "int_from_float": ("应为整数（填写的是“{value}”）", "is not a whole number: {value!r}"),
    "float_parsing": ("应为数字（填写的是“{value}”）", "is not a number: {value!r}"),
    "float_type": ("应为数字（填写的是“{value}”）", "is not a number: {value!r}"),
    "finite_number": ("应为有限的数字（填写的是“{value}”）", "must be a finite number (got {value!r})"),
    "greater_than": ("必须大于 {gt}（填写的是“{value}”）", "must be greater than {gt} (got {value!r})"),
    "greater_than_equal": ("不能小于 {ge}（填写的是“{value}”）", "must be at least {ge} (got {value!r})"),
    "less_than": ("必须小于 {lt}（填写的是“{value}”）", "must be less than {lt} (got {value!r})"),
    "less_than_equal": ("不能大于 {le}（填写的是“{value}”）", "must be at most {le} (got {value!r})"),
    "bool_parsing": ("应填 是/否（yes/no），填写的是“{value}”", "not yes/no: {value!r}"),
    "bool_type": ("应填 是/否（yes/no），填写的是“{value}”", "not yes/no: {value!r}"),
    "list_type": ("应为列表", "must be a list"),
    "dict_type": ("应为键值表（映射）", "must be a mapping"),
    "model_type": ("应为键值表（映射）", "must be a mapping"),
    "model_attributes_type": ("应为键值表（映射）", "must be a mapping"),
    "invalid": ("填写的值无效（“{value}”）", "is not valid: {value!r}"),
    # -- watchlist rules (watchlist/model.py, watchlist/loader.py) -------------------------
    "nice_class_range": ("“{value}”不是 1–45 之间的尼斯分类号", "Nice class {value} is not a number between 1 and 45"),
    "group_code": ("“{value}”不是四位数字的类似群号（如 2507）", "类似群 {value!r} is not a four-digit code such as '2507'"),
    "group_unknown": ("“{value}”不是《类似商品和服务区分表》中的类似群（应为四位数字，如 2507）",
                      "类似群 {value!r} is not a group of the 类似商品和服务区分表 (four digits, e.g. '2507')"),
    "ref_prices_key": ("分商品参考价的键“{value}”不是尼斯分类（1–45）或四位类似群号",
                       "reference_prices key {value!r} is not a Nice class (1-45) or a 4-digit 类似群 group"),
    "ref_prices_value": ("分商品参考价 {key} 应为数字（填写的是“{value}”）", "reference_prices[{key}] is not a number: {value!r}"),
    "ref_prices_range": ("分商品参考价 {key} 必须大于 0 且不超过 1e8", "reference_prices[{key}] must be > 0 and at most 1e8"),
    "word_needs_text": ("文字商标必须填写商标文字", "a word mark needs 'text'"),
    "logo_needs_image": ("图形商标必须提供图片", "a logo mark needs 'image'"),
    "seller_needs_key": ("授权卖家需要填写卖家ID或店铺名", "needs seller_id or seller_name"),
    "region_needs_place": ("产区需要填写行政区划代码或地名", "a region needs admin_codes or places"),
    "admin_code_format": ("行政区划代码“{value}”不是 6 位 GB/T 2260 代码", "admin code {value!r} is not a 6-digit GB/T 2260 code"),
    "admin_code_unknown": ("行政区划代码“{value}”不在区划表中（可用 markwatch geo show 核对）", "{detail}"),
    "place_inexact": ("产区地名“{value}”不能准确对应一个行政区划：请填写区划全称或 6 位行政区划代码", "{detail}"),
    "duplicate_id": ("编号“{value}”重复（已被 {other} 使用）", "duplicate id {value!r} (already used by {other})"),
    "logo_file_missing": ("找不到图片文件：{path}", "file not found: {path}"),
    "logo_unusable": ("图形商标图片不可用：{reason_zh}", "{reason_en}"),
    "not_list": ("应为列表", "must be a list"),
    "not_mapping": ("应为键值表（映射）", "must be a mapping"),
    "unknown_column": ("不是可识别的列（可用的列：{known}）", "is not a known column (known: {known})"),
    "missing_column": ("缺少必需的列{found}", "column is required but missing{found}"),
    "extra_cells": ("比表头多出 {n} 个单元格", "{n} more cells than header columns"),
    "not_key_value": ("应为用“|”分隔的 键:值 项（填写的是“{value}”）", "not KEY:VALUE items separated by '|': {value!r}"),
    "differs_from_line": ("与同一企业第 {line} 行不一致（“{before}” 与 “{after}”）",
                          "differs from line {line} of the same enterprise ({before!r} vs {after!r})"),
    "ent_refused": ("企业“{value}”的信息有误，该企业的商标均未导入", "enterprise {value!r} has a problem: none of its marks was imported"),
    # -- console forms and bulk import (web/holders.py) ---------------------------------------
    "not_a_number": ("应为数字（填写的是“{value}”）", "not a number: {value!r}"),
    "not_your_enterprise": ("“{value}”不是您的企业（{ent}）", "{value!r} is not your enterprise ({ent})"),
    "mark_of_other_enterprise": ("商标编号 {value} 属于其他企业", "{value} belongs to another enterprise"),
    "same_text_registered": ("“{value}”已登记为 {mark}，请编辑该商标", "{value!r} is already registered as {mark}; edit that mark"),
    "no_file": ("未上传文件", "no file uploaded"),
    "file_too_large": ("文件超过 {mb} MB", "larger than {mb} MB"),
    "file_not_text": ("不是 UTF-8 文本或 XLSX 表格", "not UTF-8 text or an XLSX workbook"),
    "file_not_xlsx": ("不是可读取的 XLSX 表格", "not a readable XLSX workbook"),
    "file_empty": ("文件为空", "empty file"),
    "file_too_many_rows": ("超过 {n} 行", "more than {n} rows"),
    "enterprise_required": ("请选择企业", "enterprise_id is required"),
    "gi_account": ("{value} 是地理标志管理者账户：请登记地理标志，而非商标", "{value} is a GI authority's account: register GIs, not marks"),
    "gi_id_taken": ("地理标志编号 {value} 已被占用", "GI id {value} is taken"),
    # -- request parameters and lead actions (web/app.py) -----------------------------------
    "bad_path_id": ("“{value}”不是有效的编号", "{value!r} is not a valid id"),
    "lead_not_allowed": ("线索 #{id} 当前状态为“{status}”，不能{action}（此状态可以：{allowed}）",
                         "lead #{id} is {status}: cannot {action} it (allowed from {status}: {allowed})"),
    "refer_confirm_first": ("线索 #{id} 当前状态为“{status}”，请先确认侵权再移送",
                            "lead #{id} is {status}: confirm it before referring it"),
    "refer_needs_destination": ("移送需要选择去向：公安、海关、平台、其他局，或填写局名",
                                "referring needs a destination: police, customs, platform, another bureau, or the bureau's name"),
    "dismiss_needs_reason": ("排除线索 #{id} 需要选择排除理由", "dismissing lead #{id} needs a reason"),
    "reopen_needs_reason": ("重新核查线索 #{id} 需要填写理由", "reopening lead #{id} needs a reason"),
    "undo_nothing": ("线索 #{id} 没有可撤销的本人操作（最近一次是 {who} 的“{last}”）",
                     "lead #{id}: nothing of yours to undo (the last change was {last} by {who})"),
    "phrase_short": ("至少需要两个字", "needs at least two characters"),
    "rule_removed": ("抑制规则 #{id} 已由 {who} 于 {at} 删除", "suppression rule {id} was already removed by {who} at {at}"),
    "not_a_lead_id": ("“{value}”不是线索编号", "{value!r} is not a lead id"),
    "password_short": ("至少 {n} 个字符", "too short: at least {n} characters"),
    "username_length": ("应为 1–128 个字符", "1-128 characters"),
    "username_chars": ("“{value}”只能包含文字（含中文）、数字和 . _ - @（不能有空格或控制字符）",
                       "{value!r} may hold letters (Chinese too), digits and . _ - @ only"),
    "role_unknown": ("“{value}”不是可用的角色（{roles}）", "{value!r} is not one of {roles}"),
    "holder_needs_enterprise": ("商标权利人账户必须绑定一个企业（或地理标志）编号",
                                "a holder is bound to one enterprise (or GI) id"),
    "enterprise_unknown": ("监测名单中没有企业或地理标志“{value}”（请先导入）",
                           "no enterprise or GI {value!r} in the watchlist (import it first)"),
    "enterprise_only_holders": ("只有商标权利人账户需要绑定企业", "only holders are bound to an enterprise"),
    "body_not_json": ("请求内容不是 JSON", "the request body is not JSON"),
    "page_numbers": ("页码和每页条数应为数字", "page/per_page must be numbers"),
}

# Field (CSV column / form field) -> (zh-CN, en) label shown beside the raw name.
FIELDS: dict[str, tuple[str, str]] = {
    "enterprise_id": ("企业编号", "enterprise id"), "enterprise_name": ("企业名称", "enterprise name"),
    "mark_id": ("商标编号", "mark id"), "id": ("编号", "id"), "name": ("名称", "name"), "kind": ("类型", "kind"),
    "text": ("商标文字", "mark text"), "aliases": ("别名", "aliases"), "image": ("图片", "image"),
    "nice_classes": ("尼斯分类", "Nice classes"), "similar_groups": ("类似群", "similar-goods groups"),
    "groups": ("类似群", "similar-goods groups"), "classes": ("尼斯分类", "Nice classes"),
    "well_known": ("驰名商标", "well-known"), "reference_price": ("参考价", "reference price"),
    "reference_prices": ("分商品参考价", "reference prices per goods"), "reference_currency": ("参考价币种", "currency"),
    "registration_number": ("注册号", "registration number"), "qualifications": ("重点企业资格", "qualifications"),
    "authorized_sellers": ("授权卖家", "authorised sellers"), "authorized_users": ("授权使用人", "authorised users"),
    "seller_id": ("卖家ID", "seller id"), "seller_name": ("店铺名", "shop name"), "platform": ("平台", "platform"),
    "product": ("产品", "product"), "category": ("类目", "category"), "region": ("产区", "region"),
    "region.admin_codes": ("产区行政区划代码", "region admin codes"), "region.places": ("产区地名", "region places"),
    "admin_codes": ("产区行政区划代码", "region admin codes"), "places": ("产区地名", "region places"),
    "file": ("文件", "file"), "header": ("表头", "header"), "version": ("版本", "version"),
    "lead_id": ("线索编号", "lead id"), "to": ("移送去向", "destination"), "reason": ("理由", "reason"),
    "suppress_phrase": ("抑制用语", "suppression phrase"), "page": ("页码", "page"), "per_page": ("每页条数", "per page"),
    "username": ("用户名", "user name"), "password": ("密码", "password"), "role": ("角色", "role"),
}

# pydantic error types that mean "not a number" for a Nice class: one clear message for them all
_NICE_NUMBER = ("int_parsing", "int_type", "int_from_float", "greater_than_equal", "less_than_equal")


def _lang(language: str | None) -> int:
    return 1 if (language or "").lower().startswith("en") else 0


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _short(v: Any) -> Any:
    """An input value as shown in a message: strings/numbers as they are, anything else briefly."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    if isinstance(v, (str, int, float)) or v is None:
        return v if not isinstance(v, str) or len(v) <= 80 else v[:77] + "…"
    s = str(v)
    return s if len(s) <= 80 else s[:77] + "…"


_INPUTS = ("value", "before", "after")  # what the user typed: shown shortened


def _param(key: str, v: Any, lang: str) -> Any:
    """A parameter as shown: a {'zh-CN': ..., 'en': ...} dict (a status or action name) in the
    message's language; the user's input shortened; anything else as it is."""
    if isinstance(v, dict) and "en" in v and "zh-CN" in v:
        return v[lang]
    if key in _INPUTS:
        return _short(v)
    return int(v) if isinstance(v, float) and v.is_integer() and abs(v) < 1e15 else v


def render(code: str, language: str | None = None, **params: Any) -> str:
    """The message of ``code`` in ``language`` ('zh-CN' default, 'en'). A parameter given as
    {'zh-CN': ..., 'en': ...} is shown in the message's language. Unknown codes give
    ``params['msg']`` (pydantic's English) in English and a generic Chinese sentence in zh-CN."""
    pair = MESSAGES.get(code)
    i = _lang(language)
    if pair is None:
        if i == 1 and params.get("msg"):
            return str(params["msg"]).removeprefix("Value error, ")
        pair = MESSAGES["invalid"]
    lang = "en" if i == 1 else "zh-CN"
    p = _Safe({k: _param(k, v, lang) for k, v in params.items()})
    try:
        return pair[i].format_map(p)
    except (ValueError, IndexError, KeyError):  # a stray brace in a value: show the template's words
        return pair[i]


def field_title(field: str, language: str | None = None) -> str:
    """Just the human name of a field in ``language`` ('尼斯分类'), '' when there is none."""
    if not field or field == "-":
        return ""
    root = field.split("[", 1)[0]
    pair = FIELDS.get(root) or FIELDS.get(root.split(".", 1)[0])
    return "" if pair is None else pair[_lang(language)]


def from_pydantic(err: dict) -> tuple[str, dict]:
    """(code, params) of one entry of ``ValidationError.errors()``: custom errors carry their code
    as ``type`` and params as ``ctx``; pydantic's own types keep theirs, with ``value`` = input."""
    code = err.get("type") or "invalid"
    ctx = dict(err.get("ctx") or {})
    params: dict = {k: (int(v) if isinstance(v, float) and v.is_integer() and abs(v) < 1e15 else v)
                    for k, v in ctx.items() if k != "error"}
    params.setdefault("value", _short(err.get("input")))
    params["msg"] = err.get("msg", "")
    names = [p for p in err.get("loc", ()) if isinstance(p, str)]
    if code == "literal_error" and "expected" in ctx:
        params["expected"] = str(ctx["expected"]).replace("'", "")
    if code == "value_error" and isinstance(ctx.get("error"), Exception):
        params["msg"] = str(ctx["error"])
    if names and names[-1] == "nice_classes" and code in _NICE_NUMBER:
        code = "nice_class_range"
    if code == "extra_forbidden":
        params.pop("value", None)
    return code, params


@dataclass
class Msg:
    """One coded message about one field (a form field, a CSV column, a request parameter).
    ``render(lang)``: the field's name in that language, then the message: '参考价：必须大于 0（填写的
    是“-5”）' / 'reference price: must be greater than 0 (got -5)'; a field without a known name
    is shown as it is."""
    code: str
    params: dict = dc_field(default_factory=dict)
    field: str = ""

    def text(self, language: str | None = None) -> str:
        return render(self.code, language, **self.params)

    def render(self, language: str | None = None) -> str:
        label = field_title(self.field, language) or ("" if self.field == "-" else self.field)
        if not label:
            return self.text(language)
        return f"{label}: {self.text(language)}" if _lang(language) == 1 else f"{label}：{self.text(language)}"

    def to_json(self, language: str | None = None) -> dict:
        return {"field": self.field or None, "code": self.code, "message": self.text(language)}


def msgs_of(e: Any, field_of=None) -> list[Msg]:
    """Msgs of a pydantic ValidationError; ``field_of(loc)`` names the field (default: the loc
    joined with '.', list indexes as [n])."""
    out = []
    for err in e.errors():
        code, params = from_pydantic(err)
        loc = tuple(err.get("loc", ()))
        if field_of is not None:
            name = field_of(loc)
        else:
            name = ""
            for part in loc:
                name = f"{name}[{part}]" if isinstance(part, int) else (f"{name}.{part}" if name else str(part))
        if not name and code in ("word_needs_text", "logo_needs_image"):
            name = "text" if code == "word_needs_text" else "image"
        out.append(Msg(code, params, name))
    return out
