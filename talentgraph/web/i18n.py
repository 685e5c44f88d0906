"""The staff page's words, one table per language; templates never spell UI text themselves.

Chinese is the default: the community office works in Chinese, and English is one click away
(a ``lang`` query parameter, remembered in a cookie).
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_COOKIE = "tg_lang"

ZH: dict[str, str] = {
    "app_title": "联洋社区人才库",
    "app_subtitle": "社区工作人员检索",
    "switch_lang": "English",
    "switch_lang_label": "切换为英文",
    "signin_title": "登录",
    "signin_help": "请输入发给您的访问密钥（以 tg_ 开头）。",
    "key_label": "访问密钥",
    "signin_button": "登录",
    "signout_button": "退出",
    "signed_in_as": "已登录：",
    "role_staff": "社区工作人员",
    "role_analyst": "分析员",
    "role_platform": "数字孪生平台",
    "role_admin": "管理员",
    "role_note_staff": "您可以看到辖区内居民的联系方式等个人信息；辖区外只显示公开信息。",
    "role_note_analyst": "您可以看到姓名、语言、技能、国籍等，不含个人联系方式。",
    "role_note_platform": "您的角色只能看到居民的统计数字，不能查看个人。",
    "role_note_admin": "您可以看到除证件号以外的全部信息。",
    "areas_label": "辖区：",
    "search_label": "搜索人才",
    "search_placeholder": "例如：俄语 翻译、钢琴老师、志愿者",
    "search_button": "搜索",
    "search_hint": "可用中文、英文、拼音或本人文字输入技能、语言、姓名。",
    "suggestions": "建议",
    "facets_title": "筛选",
    "apply_filters": "应用筛选",
    "clear_filters": "清除筛选",
    "facet_languages": "语言",
    "facet_skills": "技能",
    "facet_nationality": "国籍",
    "facet_residential_area": "居住小区",
    "facet_volunteer": "志愿者",
    "facet_party_member": "党员",
    "counts_only": "仅显示人数",
    "results_count": "共找到 {n} 人",
    "results_none": "没有找到符合条件的人。可以换个说法，或清除筛选。",
    "why_matched": "匹配原因",
    "languages": "语言",
    "skills": "技能",
    "area": "住址",
    "nationality": "国籍",
    "occupation": "职业",
    "phone": "电话",
    "volunteer": "志愿者",
    "yes": "是",
    "no": "否",
    "open_person": "查看详情",
    "add_shortlist": "加入名单",
    "remove_shortlist": "移出名单",
    "in_shortlist": "已在名单中",
    "shortlist_title": "候选名单",
    "shortlist_empty": "名单为空。在搜索结果中点击“加入名单”。",
    "shortlist_clear": "清空名单",
    "shortlist_full": "名单最多 {n} 人。",
    "export_results": "导出搜索结果",
    "export_shortlist": "导出名单",
    "export_note": "导出文件只包含您的角色可以查看的字段，导出记录会写入访问日志。",
    "next_page": "下一页",
    "first_page": "回到第一页",
    "back_to_search": "返回搜索",
    "person_title": "人员详情",
    "field": "项目",
    "value": "内容",
    "member_of": "所属组织",
    "works_at": "工作单位",
    "participates_in": "参与项目",
    "leads": "负责",
    "hidden_note": "未显示的信息表示您的角色无权查看。",
    "err_bad_key": "密钥无效、已撤销或已过期。请检查是否完整复制，或向管理员申请新密钥。",
    "err_session_expired": "登录已过期或密钥已被撤销，请重新登录。",
    "err_csrf": "页面已过期，请刷新后重试。",
    "err_bad_query": "搜索条件无法识别，请换个说法或清除筛选。",
    "err_too_long": "搜索内容太长，请用几个关键词。",
    "err_forbidden": "您的角色无权进行此操作。",
    "err_not_found": "找不到此人，或您的角色无权查看。",
    "err_deadline": "查询时间过长，请缩小范围后重试。",
    "err_busy": "系统繁忙，请稍后再试。",
    "err_internal": "出现了问题，请稍后再试。问题已记录。",
    "err_no_search": "此服务器未启用搜索。",
    "err_no_persons": "您的角色不能查看个人记录。",
    "err_title": "出错了",
    "skip_to_results": "跳到搜索结果",
    "name_other": "其他名字",
    "score": "相关度",
}

EN: dict[str, str] = {
    "app_title": "Lianyang Community Talent Finder",
    "app_subtitle": "Search for community staff",
    "switch_lang": "中文",
    "switch_lang_label": "Switch to Chinese",
    "signin_title": "Sign in",
    "signin_help": "Enter the access key you were given (it starts with tg_).",
    "key_label": "Access key",
    "signin_button": "Sign in",
    "signout_button": "Sign out",
    "signed_in_as": "Signed in as ",
    "role_staff": "community staff",
    "role_analyst": "analyst",
    "role_platform": "twin-city platform",
    "role_admin": "administrator",
    "role_note_staff": "You see phone numbers and other personal details of residents in your areas; elsewhere only public details.",
    "role_note_analyst": "You see names, languages, skills and nationality, but no personal contact details.",
    "role_note_platform": "Your role sees residents only as counts, never a person.",
    "role_note_admin": "You see everything except identity documents.",
    "areas_label": "Areas: ",
    "search_label": "Search for people",
    "search_placeholder": "e.g. Russian translator, piano teacher, volunteer",
    "search_button": "Search",
    "search_hint": "Type skills, languages or names in Chinese, English, pinyin or the person's own script.",
    "suggestions": "Suggestions",
    "facets_title": "Filters",
    "apply_filters": "Apply filters",
    "clear_filters": "Clear filters",
    "facet_languages": "Language",
    "facet_skills": "Skill",
    "facet_nationality": "Nationality",
    "facet_residential_area": "Residential area",
    "facet_volunteer": "Volunteer",
    "facet_party_member": "Party member",
    "counts_only": "counts only",
    "results_count": "{n} people found",
    "results_none": "Nobody matches. Try other words or clear the filters.",
    "why_matched": "Why it matched",
    "languages": "Languages",
    "skills": "Skills",
    "area": "Lives in",
    "nationality": "Nationality",
    "occupation": "Occupation",
    "phone": "Phone",
    "volunteer": "Volunteer",
    "yes": "Yes",
    "no": "No",
    "open_person": "Details",
    "add_shortlist": "Add to shortlist",
    "remove_shortlist": "Remove from shortlist",
    "in_shortlist": "On the shortlist",
    "shortlist_title": "Shortlist",
    "shortlist_empty": "The shortlist is empty. Use “Add to shortlist” on a result.",
    "shortlist_clear": "Clear shortlist",
    "shortlist_full": "The shortlist holds at most {n} people.",
    "export_results": "Export results",
    "export_shortlist": "Export shortlist",
    "export_note": "Exports hold only the fields your role may read, and are recorded in the access log.",
    "next_page": "Next page",
    "first_page": "Back to the first page",
    "back_to_search": "Back to search",
    "person_title": "Person",
    "field": "Field",
    "value": "Value",
    "member_of": "Member of",
    "works_at": "Works at",
    "participates_in": "Takes part in",
    "leads": "Leads",
    "hidden_note": "Details not shown are ones your role may not read.",
    "err_bad_key": "The key is not valid, was revoked or has expired. Check it was copied whole, or ask an administrator for a new one.",
    "err_session_expired": "Your session has ended or your key was revoked. Please sign in again.",
    "err_csrf": "This page has expired. Please reload it and try again.",
    "err_bad_query": "The search could not be understood. Try other words or clear the filters.",
    "err_too_long": "The search text is too long. Use a few keywords.",
    "err_forbidden": "Your role may not do that.",
    "err_not_found": "This person was not found, or your role may not see them.",
    "err_deadline": "The search took too long. Narrow it down and try again.",
    "err_busy": "The system is busy. Please try again shortly.",
    "err_internal": "Something went wrong. Please try again later; the problem was logged.",
    "err_no_search": "Search is not enabled on this server.",
    "err_no_persons": "Your role may not see individual people.",
    "err_title": "Something went wrong",
    "skip_to_results": "Skip to results",
    "name_other": "Other names",
    "score": "Relevance",
}

TEXTS: Mapping[str, Mapping[str, str]] = {"zh": ZH, "en": EN}

# Person fields shown on the person page, by GraphQL field name; anything else the role reads is
# shown under its own name (rare: the ontology grew a property).
FIELD_LABELS: Mapping[str, Mapping[str, str]] = {
    "zh": {"name": "姓名", "latinName": "拼音/拉丁名", "otherNames": "其他名字", "gender": "性别", "birthYear": "出生年份",
           "birthDate": "出生日期", "registeredOn": "登记日期", "arrivedOn": "来华日期", "nationality": "国籍",
           "languages": "语言", "languageLevels": "语言水平", "skills": "技能", "occupation": "职业", "education": "学历",
           "politicalStatus": "政治面貌", "phone": "电话", "volunteer": "志愿者", "bio": "简介", "area": "住址",
           "id": "编号"},
    "en": {"name": "Name", "latinName": "Latin/pinyin name", "otherNames": "Other names", "gender": "Gender",
           "birthYear": "Birth year", "birthDate": "Birth date", "registeredOn": "Registered on", "arrivedOn": "Arrived on",
           "nationality": "Nationality", "languages": "Languages", "languageLevels": "Language levels", "skills": "Skills",
           "occupation": "Occupation", "education": "Education", "politicalStatus": "Political status", "phone": "Phone",
           "volunteer": "Volunteer", "bio": "Profile", "area": "Lives in", "id": "ID"},
}


def language(request: Request) -> str:
    """The page's language: ``?lang=`` wins (and is then remembered in the cookie), then the cookie."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    kept = request.cookies.get(LANG_COOKIE)
    return kept if kept in LANGS else DEFAULT_LANG


def texts(lang: str) -> Mapping[str, str]:
    return TEXTS.get(lang, TEXTS[DEFAULT_LANG])


def check_tables() -> None:
    """Both tables name the same strings (a test calls this; a missing word would show as a key)."""
    if set(ZH) != set(EN):
        raise AssertionError(f"UI tables differ: {sorted(set(ZH) ^ set(EN))}")


__all__ = ["DEFAULT_LANG", "FIELD_LABELS", "LANGS", "LANG_COOKIE", "TEXTS", "check_tables", "language", "texts"]
