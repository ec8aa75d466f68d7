"""The 台账 sheet layout: its columns, their Chinese and English headers, and cell values.

One table serves both directions, so what ``export-xlsx`` writes is exactly what
``import-xlsx`` reads back. Headers are matched loosely (full-width characters,
stray spaces, a trailing colon or a bracketed note do not matter).
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from tracker.items.models import KEY_AREAS, SOURCES, STATUSES


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    width: int = 12
    imported: bool = True  # False: written on export, ignored on import


COLUMNS = (
    Column("seq", "序号", "No.", ("序", "#", "no", "number", "s/n"), 6, imported=False),
    Column("code", "编号", "Code", ("问题编号", "任务编号", "事项编号", "ref", "reference", "ref."), 10),
    Column(
        "title",
        "问题描述",
        "Item",
        (
            "事项",
            "问题",
            "任务",
            "存在问题",
            "问题名称",
            "任务名称",
            "事项名称",
            "工作事项",
            "问题(任务)名称",
            "问题(事项)描述",
            "问题清单",
            "title",
            "issue",
            "problem",
            "problem description",
            "task",
        ),
        36,
    ),
    Column("description", "详细描述", "Details", ("具体情况", "情况说明", "问题详情", "description"), 30),
    Column("kind", "类型", "Kind", ("事项类型", "问题类型", "type"), 8),
    Column("source", "问题来源", "Source", ("来源", "发现途径", "问题出处"), 14),
    Column("key_area", "重点领域", "Key area", ("领域", "所属领域", "area"), 14),
    Column("severity", "严重程度", "Severity", ("等级", "问题等级", "level"), 9),
    Column(
        "measures",
        "整改措施",
        "Measures",
        ("措施", "整改要求", "整改措施及要求", "rectification measures", "actions"),
        36,
    ),
    Column(
        "group",
        "责任单位",
        "Responsible group",
        (
            "牵头单位",
            "责任部门",
            "责任工作组",
            "牵头工作组",
            "责任组",
            "responsible unit",
            "group",
            "work group",
            "lead group",
        ),
        16,
    ),
    Column(
        "supporting",
        "配合单位",
        "Supporting groups",
        ("协办单位", "配合部门", "配合工作组", "supporting units", "co-operating units", "cooperating units"),
        16,
    ),
    Column("owner", "责任人", "Responsible person", ("负责人", "具体责任人", "owner", "person responsible"), 12),
    Column(
        "deadline",
        "整改时限",
        "Deadline",
        ("完成时限", "时限", "完成时间", "截止时间", "截止日期", "整改期限", "due date", "due"),
        12,
    ),
    Column("original_deadline", "原定时限", "Original deadline", ("原定完成时限",), 12, imported=False),
    Column("extensions", "延期次数", "Extensions", ("延期",), 8, imported=False),
    Column("acceptance", "验收标准", "Acceptance criteria", ("整改目标", "整改目标/验收标准", "acceptance"), 24),
    Column("found_on", "发现时间", "Found on", ("发现日期", "交办时间", "found", "date found"), 12),
    Column("venue", "涉及场馆", "Venue", ("场馆", "地点", "location"), 14),
    Column("milestone", "关联节点", "Milestone", ("节点", "冲刺节点"), 16),
    Column("confidential", "是否保密", "Confidential", ("保密", "密级"), 8),
    Column("remarks", "备注", "Remarks", ("notes", "note", "comment", "comments"), 20),
    Column("status", "整改状态", "Status", ("状态", "完成情况"), 10),
    Column("progress", "整改进度(%)", "Progress (%)", ("进度", "进度(%)", "整改进度", "progress"), 9),
    Column("latest_note", "最新进展", "Latest note", ("整改进展", "进展情况", "最新进展情况"), 30),
    Column("closed_on", "销号日期", "Closed on", ("销号时间",), 12, imported=False),
    # The item's version when exported: a row whose item changed since is a conflict on import.
    Column("version", "版本号(勿改)", "Version (do not edit)", ("版本", "版本号", "version"), 8),
)
BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED = ("title", "group")

# Cell vocabularies: key → (Chinese, English, other accepted spellings).
KINDS = {"problem": ("问题", "Problem", ()), "task": ("任务", "Task", ("工作任务",))}
SEVERITIES = {
    "high": ("重大", "High", ("高", "严重")),
    "medium": ("较大", "Medium", ("中",)),
    "low": ("一般", "Low", ("低", "轻微")),
}
KEY_AREA_NAMES = {
    "competition": ("竞赛组织", "Competition organisation", ()),
    "accessibility": ("无障碍环境改造", "Accessibility works", ("无障碍", "无障碍环境")),
    "reception": ("接待服务", "Reception", ()),
    "safety": ("安全排查", "Safety inspection", ("安全保卫",)),
    "transition": ("转段", "Committee transition", ("机构转段",)),
    "venue": ("场馆设施", "Venue facilities", ("场馆",)),
    "ceremony": ("开闭幕式", "Ceremonies", ()),
    "volunteer": ("志愿服务", "Volunteer services", ()),
    "medical": ("医疗卫生", "Medical services", ()),
    "antidoping": ("反兴奋剂", "Anti-doping", ()),
    "logistics": ("后勤保障", "Logistics", ()),
    "publicity": ("新闻宣传", "Media and publicity", ()),
    "discipline": ("纪律监督", "Discipline supervision", ("纪检监督",)),
    "third_party": ("第三方服务", "Third-party services", ()),
}
SOURCE_NAMES = {
    "meeting_decision": ("会议决定", "Meeting decision", ("会议交办",)),
    "leader_inspection": ("领导检查", "Leader inspection", ("领导督导",)),
    "superior_guidance": ("上级指导", "Provincial guidance", ("省级指导",)),
    "self_check": ("自查", "Self-inspection", ("自查自纠",)),
    "safety_inspection": ("安全隐患排查", "Safety hazard inspection", ()),
    "accessibility_audit": ("无障碍检查", "Accessibility audit", ()),
    "exercise_debrief": ("演练复盘", "Rehearsal or test-event debrief", ("测试赛复盘",)),
    "discipline_finding": ("纪检监督发现", "Discipline supervision finding", ()),
    "public_feedback": ("群众反馈", "Public feedback", ()),
}
STATUS_NAMES = {
    "open": ("未整改", "Not started", ("未开始", "open")),
    "in_progress": ("整改中", "In progress", ("进行中", "in progress")),
    "submitted": ("待验收", "Awaiting verification", ("已提交", "submitted")),
    "closed": ("已销号", "Closed", ("已完成", "已整改", "销号")),
    "cancelled": ("已撤销", "Cancelled", ("撤销",)),
}
YES = ("是", "Yes", ("y", "true", "1", "√", "✓", "保密"))
NO = ("否", "No", ("n", "false", "0", "", "不保密", "公开"))
assert set(KEY_AREA_NAMES) == set(KEY_AREAS) and set(SOURCE_NAMES) == set(SOURCES)
assert set(STATUS_NAMES) == set(STATUSES)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_BRACKETED = re.compile(r"\([^)]*\)$")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=8192)  # sheets repeat the same group, person and value names thousands of times
def squash(text) -> str:
    """Compare form: full-width folded (NFKC), no whitespace at all, case-folded."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(text or ""))).casefold()


def _header_form(text) -> str:
    return squash(text).rstrip(":").replace("*", "")


def _header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for column in COLUMNS:
        for name in (column.key, column.zh, column.en, *column.aliases):
            index.setdefault(_header_form(name), column.key)
    return index


HEADERS = _header_index()


def column_for_header(text) -> str | None:
    """The column key a header cell names, or None for a column we do not know."""
    form = _header_form(text)
    if not form:
        return None
    if form in HEADERS:
        return HEADERS[form]
    return HEADERS.get(_BRACKETED.sub("", form))


def header(key: str, lang: str) -> str:
    column = BY_KEY[key]
    return column.en if lang == "en" else column.zh


def _vocabulary(table: dict) -> dict[str, str]:
    index = {}
    for key, (zh, en, others) in table.items():
        for name in (key, zh, en, *others):
            index[squash(name)] = key
    return index


VOCABULARIES = {
    "kind": _vocabulary(KINDS),
    "severity": _vocabulary(SEVERITIES),
    "key_area": _vocabulary(KEY_AREA_NAMES),
    "source": _vocabulary(SOURCE_NAMES),
    "status": _vocabulary(STATUS_NAMES),
    "confidential": _vocabulary({True: YES, False: NO}),
}
NAMES = {
    "kind": KINDS,
    "severity": SEVERITIES,
    "key_area": KEY_AREA_NAMES,
    "source": SOURCE_NAMES,
    "status": STATUS_NAMES,
}


def value_name(kind: str, key, lang: str) -> str:
    """How a fixed value is written in the sheet (Chinese or English)."""
    if kind == "confidential":
        zh, en, _ = YES if key else NO
    elif key in NAMES[kind]:
        zh, en, _ = NAMES[kind][key]
    else:
        return key or ""
    return en if lang == "en" else zh


def neutralise(text: str) -> str:
    """Keep a spreadsheet from reading text as a formula (CSV/formula injection): prefix a quote.

    Text that already starts with quotes before a formula character gets one more,
    so ``unneutralise`` can always take exactly one away.
    """
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def unneutralise(text: str) -> str:
    """Undo ``neutralise`` so an exported sheet imports back unchanged."""
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS) else text
