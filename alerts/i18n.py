"""Short user-facing strings of the alerts stage, zh-CN by default, English on request."""
from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "score": {"zh-CN": "匹配分 {score}：+{pts:.1f}", "en": "match score {score}: +{pts:.1f}"},
    "well_known": {"zh-CN": "驰名商标：+{pts:.0f}", "en": "well-known mark: +{pts:.0f}"},
    "repeat": {"zh-CN": "重复侵权卖家（已确认线索 {n} 条）：+{pts:.0f}",
               "en": "repeat seller ({n} confirmed leads before): +{pts:.0f}"},
    "price_gap": {"zh-CN": "售价 {price:g} 元，低于参考价 {ref:g} 元的 {gap:.0%}：+{pts:.1f}",
                  "en": "price {price:g} is {gap:.0%} below the reference price {ref:g}: +{pts:.1f}"},
    "turnover": {"zh-CN": "估算违法经营额 {amount:,.0f} 元（售价×销量 {sales}）：+{pts:.0f}",
                 "en": "estimated turnover CNY {amount:,.0f} (price × {sales} sold): +{pts:.0f}"},
    "turnover_police": {"zh-CN": "估算违法经营额达 {limit:,.0f} 元，可能达到移送公安标准",
                        "en": "estimated turnover reaches CNY {limit:,.0f}: may meet the threshold for police transfer"},
    "recent": {"zh-CN": "{days} 天内新发现：+{pts:.0f}", "en": "new within {days} days: +{pts:.0f}"},
    "stale": {"zh-CN": "{days} 天未再出现：{pts:.0f}", "en": "not seen for {days} days: {pts:.0f}"},
    "offline": {"zh-CN": "商品已下架：{pts:.0f}", "en": "listing removed: {pts:.0f}"},
    "relisted": {"zh-CN": "疑似重新上架（关联线索 #{id}，状态 {status}）：+{pts:.0f}",
                 "en": "looks relisted (related lead #{id}, {status}): +{pts:.0f}"},
    "key_market": {"zh-CN": "重点关注市场：{name}：+{pts:.0f}", "en": "key market: {name}: +{pts:.0f}"},
    "suppressed": {"zh-CN": "已抑制：规则 #{id}（{what}，{reason}）", "en": "suppressed by rule #{id} ({what}: {reason})"},
    "sup_seller": {"zh-CN": "卖家“{name}”已确认合法", "en": "seller '{name}' confirmed legitimate"},
    "sup_phrase": {"zh-CN": "用语“{phrase}”已确认合法", "en": "phrase '{phrase}' confirmed legitimate"},
    "jur_code": {"zh-CN": "卖家所在地“{loc}”（{code}）属 {bureau}", "en": "seller location '{loc}' ({code}) is in {bureau}"},
    "jur_unresolved": {"zh-CN": "卖家所在地“{loc}”无法定位，归上级 {bureau}",
                       "en": "seller location '{loc}' not resolved: assigned to the parent {bureau}"},
    "jur_outside": {"zh-CN": "卖家所在地“{loc}”（{code}）不在辖区内，归 {bureau}",
                    "en": "seller location '{loc}' ({code}) is outside the area: assigned to {bureau}"},
}

STATUS_NAMES = {
    "zh-CN": {"new": "新线索", "in_review": "核查中", "confirmed": "已确认", "dismissed": "已排除",
              "referred": "已移送", "closed": "已结案", "suppressed": "已抑制"},
    "en": {"new": "new", "in_review": "in review", "confirmed": "confirmed", "dismissed": "dismissed",
           "referred": "referred", "closed": "closed", "suppressed": "suppressed"},
}


def lang_of(language: str | None) -> str:
    return "en" if (language or "").lower().startswith("en") else "zh-CN"


def tr(key: str, language: str | None = None, **kw) -> str:
    return STRINGS[key][lang_of(language)].format(**kw)


def status_name(status: str, language: str | None = None) -> str:
    return STATUS_NAMES[lang_of(language)].get(status, status)


def match_reasons(reasons: list[str] | None, evidence: dict | None, language: str | None = None) -> list[str]:
    """'Why it matched' of a lead in the language (default MARKWATCH_LANGUAGE): rendered from the
    reason codes the matchers stored in ``evidence['reason_codes']`` (matcher/reasons.py), else the
    stored strings (leads stored before codes existed)."""
    codes = (evidence or {}).get("reason_codes")
    if not codes:
        return list(reasons or [])
    if language is None:
        from config.settings import get_settings

        language = get_settings().language
    from matcher.reasons import render_all

    return render_all(codes, language)
