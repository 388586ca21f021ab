"""Console strings, zh-CN by default with English. ``t(key, lang)``; unknown keys fall back to the key."""
from __future__ import annotations

from alerts.i18n import lang_of, status_name  # noqa: F401  (re-exported for templates)

S: dict[str, tuple[str, str]] = {  # key: (zh-CN, en)
    "app": ("侵权假冒线索监测", "Infringement lead monitor"),
    "login": ("登录", "Log in"), "logout": ("退出", "Log out"), "username": ("用户名", "User name"),
    "password": ("密码", "Password"), "bad_login": ("用户名或密码错误", "Wrong user name or password"),
    "throttled": ("登录失败次数过多，请 15 分钟后再试", "Too many failed logins: try again in 15 minutes"),
    "queue": ("线索队列", "Lead queue"), "dashboard": ("统计", "Dashboard"), "suppressions": ("抑制规则", "Suppressions"),
    "marks": ("商标登记", "My marks"), "admin": ("管理", "Admin"), "lang_switch": ("English", "中文"),
    "platform": ("平台", "Platform"), "mark": ("商标/地理标志", "Mark / GI"), "enterprise": ("企业", "Enterprise"),
    "kind": ("类型", "Kind"), "status": ("状态", "Status"), "bureau": ("辖区", "Bureau"), "date_from": ("发现自", "From"),
    "date_to": ("至", "To"), "search": ("搜索标题/卖家/商品号", "Search title / seller / id"), "sort": ("排序", "Sort"),
    "filter": ("筛选", "Filter"), "all": ("全部", "All"), "open": ("待处理", "Open"),
    "sort_priority": ("优先级", "Priority"), "sort_score": ("匹配分", "Score"), "sort_newest": ("最新", "Newest"),
    "sort_price": ("价格", "Price"), "word": ("文字商标", "word mark"), "logo": ("图形商标", "logo"), "gi": ("地理标志", "GI"),
    "n_of_m": ("第 {a}–{b} 条，共 {m} 条", "{a}–{b} of {m}"), "prev": ("上一页", "Previous"), "next": ("下一页", "Next"),
    "score": ("匹配分", "Score"), "priority": ("优先级", "Priority"), "reasons": ("判定理由", "Why"),
    "seller": ("卖家", "Seller"), "price": ("价格", "Price"), "ref_price": ("参考价", "reference"),
    "jurisdiction": ("辖区", "Jurisdiction"), "registered": ("登记商标", "Registered mark"),
    "listing": ("商品", "Listing"), "confirm": ("确认侵权", "Confirm"), "dismiss": ("排除", "Dismiss"),
    "refer": ("移送", "Refer"), "undo": ("撤销", "Undo"), "review": ("核查", "Review"), "close": ("结案", "Close"),
    "reopen": ("重新核查", "Reopen"), "bulk": ("批量操作所选", "Bulk action on selected"),
    "keys": ("快捷键：j/k 上下 · c 确认 · d 排除 · r 移送 · u 撤销 · o/回车 打开", "Keys: j/k move · c confirm · d dismiss · r refer · u undo · o/Enter open"),
    "dismiss_reason": ("排除理由", "Reason for dismissal"), "refer_to": ("移送至", "Refer to"),
    "reason_authorised": ("授权经销商", "authorised seller"), "reason_indicative": ("指示性使用（适用于/兼容）", "indicative use"),
    "reason_meaning": ("商标本义/其他商品", "ordinary meaning / other goods"), "reason_contains": ("词语包含而非使用商标", "word merely contains the mark"),
    "reason_genuine": ("正品（价格与来源核实）", "genuine goods"), "reason_other": ("其他（填写）", "other (write)"),
    "police": ("公安", "police"), "customs": ("海关", "customs"), "platform_dest": ("平台", "platform"),
    "other_bureau": ("其他局", "another bureau"), "no_leads": ("没有符合条件的线索", "No leads match"),
    "evidence": ("证据", "Evidence"), "screenshot": ("截图", "Screenshot"), "html": ("网页快照（已禁用脚本）", "HTML snapshot (scripts off)"),
    "photos": ("商品图片（红框为识别位置）", "Photos (red box: where it was found)"), "hashes": ("哈希与存证账本", "Hashes and ledger"),
    "ledger_ok": ("账本链校验一致", "ledger chain intact"), "ledger_bad": ("账本链校验失败", "ledger chain BROKEN"),
    "history": ("价格/销量历史", "Price and sales history"), "seller_profile": ("卖家画像与其他线索", "Seller profile and other leads"),
    "audit": ("处理记录", "Audit trail"), "referral_pack": ("生成移送材料包", "Referral pack"),
    "download_pack": ("下载移送材料包", "Download referral pack"), "online": ("在售", "online"), "removed": ("已下架", "removed"),
    "leads_per_day": ("每日新线索", "Leads per day"), "per_platform": ("各平台线索", "Leads per platform"),
    "per_mark": ("各商标线索", "Leads per mark"), "per_enterprise": ("各企业线索", "Leads per enterprise"),
    "confirm_rate": ("确认率", "Confirmation rate"), "top_sellers": ("线索最多的卖家", "Top sellers"),
    "key_markets": ("重点关注市场名录", "Key-market list"), "runs": ("监测运行与失败（按来源）", "Runs and named failures per source"),
    "phrase": ("用语", "Phrase"), "preview": ("预览", "Preview"), "remove": ("删除", "Remove"),
    "would_hide": ("该用语会隐藏 {n} 条待处理线索", "This phrase would hide {n} open leads"),
    "phrase_short": ("用语至少两个字", "A phrase needs at least two characters"),
    "add_word": ("登记文字商标", "Register a word mark"), "add_logo": ("上传图形商标", "Upload a logo"),
    "text": ("商标文字", "Mark text"), "aliases": ("别名（逗号分隔）", "Aliases (comma-separated)"),
    "classes": ("尼斯分类（逗号分隔，如 25,18）", "Nice classes (comma-separated, e.g. 25,18)"),
    "groups": ("类似群（如 2501,1801，可选）", "Similar-goods groups (e.g. 2501, optional)"),
    "well_known": ("驰名商标", "well-known mark"), "save": ("保存", "Save"), "image": ("图片", "Image"),
    "auth_sellers": ("授权卖家", "Authorised sellers"), "seller_id": ("卖家ID", "Seller id"), "seller_name": ("店铺名", "Shop name"),
    "gis": ("地理标志", "Geographical indications"), "gi_name": ("地理标志名称", "GI name"), "product": ("产品", "Product"),
    "region_codes": ("产区行政区划代码（GB/T 2260，逗号分隔）", "Region admin codes (GB/T 2260)"),
    "places": ("产区地名（逗号分隔）", "Region place names"), "auth_users": ("授权使用人（平台:卖家ID，逗号分隔）", "Authorised users (platform:seller id, ...)"),
    "import": ("批量导入（CSV/XLSX）", "Bulk import (CSV/XLSX)"), "file": ("文件", "File"),
    "import_ok": ("已导入 {n} 个商标", "Imported {n} marks"), "import_errors": ("以下行有错误，其他行已导入", "These rows have errors; the other rows were imported"),
    "rematch_word": ("已与已存商品比对：{n} 条商品，新增线索 {k} 条", "Matched against {n} stored listings: {k} new leads"),
    "rematch_pending": ("将在下一次监测（markwatch run 或 markwatch rematch）中与全部已存商品比对", "Will be matched against all stored listings in the next pass (markwatch run or markwatch rematch)"),
    "logo_verdict": ("登记检查", "Registration check"), "rematch_col": ("与已存商品比对", "re-match"), "logo_ok": ("可用：{f} 个特征点", "usable: {f} keypoints"),
    "my_leads": ("我的商标的线索", "Leads on my marks"), "users": ("用户", "Users"), "sources": ("采集来源", "Sources"),
    "settings": ("设置", "Settings"), "role": ("角色", "Role"), "add_user": ("添加用户", "Add user"),
    "forbidden": ("无权访问", "Forbidden"), "not_found": ("未找到", "Not found"), "csrf": ("请求缺少或带有错误的 CSRF 令牌", "Missing or wrong CSRF token"),
    "done": ("已完成", "Done"), "not_saved": ("未保存", "Not saved"), "bad_request": ("请求有误", "Bad request"),
    "line": ("行", "Line"), "field": ("字段", "Field"), "problem": ("问题", "Problem"),
    "sold_n": ("已售 {n}", "{n} sold"), "sales": ("销量", "sales"), "n_leads": ("线索数", "leads"),
    "ev_seq": ("序号", "seq"), "ev_kind": ("类型", "kind"), "ev_captured": ("固定时间", "captured"), "ev_bytes": ("字节", "bytes"), "select": ("选择", "Select"), "delete": ("停用", "Deactivate"), "edit": ("编辑", "Edit"),
    "rematch_now": ("保存后立即在后台与已存的 {n} 条商品比对", "Matched in the background against the {n} stored listings right after saving"),
    "live": ("直播", "live"), "reopen_reason": ("重新核查理由", "Why reopen"),
    "suppress_seller": ("以后不再提示该卖家（本商标）", "suppress this seller's future leads (this mark)"),
    "suppress_phrase": ("以后含此用语的不再提示（可选）", "suppress future leads with this phrase (optional)"), "saved": ("已保存", "Saved"),
    "rematch_running": ("正在后台与已存商品比对（刷新查看结果）", "Being matched against the stored listings (reload for the result)"), "listing_kind": ("商品", "listing"),
    "matched_label": ("命中", "matched"), "none": ("无", "none"), "confirmed_pct": ("已确认 / 已处理", "confirmed / decided"),
}


# lead event actions (alerts/lifecycle.ACTIONS, alerts/queue, alerts/suppress, web/actions) and actors
EVENTS: dict[str, tuple[str, str]] = {
    "created": ("生成线索", "lead created"), "linked": ("关联新命中", "new match linked"),
    "review": ("开始核查", "review started"), "confirm": ("确认侵权", "confirmed"), "dismiss": ("排除", "dismissed"),
    "refer": ("移送", "referred"), "close": ("结案", "closed"), "reopen": ("重新核查", "reopened"),
    "undo": ("撤销", "undone"), "ignore": ("忽略", "ignored"), "suppressed": ("被抑制规则隐藏", "suppressed by a rule"),
    "unsuppressed": ("抑制规则删除后恢复", "restored (rule removed)"),
}
ACTORS: dict[str, tuple[str, str]] = {"system": ("系统（自动）", "system (automatic)")}


def event_action(action: str, lang: str | None = None) -> str:
    """A lead event's action in the console language; an unknown action is shown as stored."""
    pair = EVENTS.get(action or "")
    return action if pair is None else pair[1] if lang_of(lang) == "en" else pair[0]


def event_actor(actor: str, lang: str | None = None) -> str:
    """``system`` (the pass, rules) in the console language; a user name as it is."""
    pair = ACTORS.get(actor or "")
    return actor if pair is None else pair[1] if lang_of(lang) == "en" else pair[0]


def t(key: str, lang: str | None = None, **kw) -> str:
    pair = S.get(key)
    if pair is None:
        return key
    s = pair[1] if lang_of(lang) == "en" else pair[0]
    return s.format(**kw) if kw else s
