"""The columns of each ledger, as a civil-affairs bureau reads them, and how one line's cells are made.

Cells come from the file (the member's bound fields, the household's situation as last seen) and the line (its visit
plan, the last visit). Values are shown with the labels the built-in forms give them (the ledger's own form first:
风险等级 低/中/高 on the elderly ledger, 0–3 级 on the disability one); a value no built-in form labels is shown as
stored. ID numbers are masked as everywhere (`core.sensitive`: 430602********003X). A few answers the
built-in ledger forms ask once per household and bind nowhere (a child's guardian, an elder's carer) are read from the
household's latest current submission of that form, one query per batch of lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import forms
from forms import pointers
from forms.bindings import MEMBER_TAGS
from forms.ui import choice_key
from server.core.sensitive import mask_id_number
from server.households import ledger_rules
from server.models import Member, Submission

# The form each ledger is kept with: its labels come first, and its unbound answers fill some columns.
LEDGER_FORMS = {"elderly": "elderly_ledger", "children": "child_file", "disability": "disability_ledger",
                "assistance": "economic_survey"}
# Answers of the ledger form outside the member rows, bound nowhere, by column key.
FORM_ANSWERS = {
    "elderly": {"carer": "/carer_name", "carer_phone": "/carer_phone"},
    "children": {"guardian": "/guardian/name", "guardian_relation": "/guardian/relation",
                 "guardian_phone": "/guardian/phone"},
}
# What a line's cells are made from, read as `values()` of LedgerEntry rows: a model per row (the line, its
# household, community and member) costs several times the query on a ledger of thousands.
FIELDS = ("id", "created_at", "household_id", "member_id", "kind", "plan", "every_days", "last_visit_at", "due_at",
          "household__situation", "household__address", "household__head", "household__phone",
          "household__community_id", "household__community__name", "member__data")
GENDERS = {"male": "男", "female": "女"}
ASSISTANCE_NAMES = {"subsistence_allowance": "低保", "extreme_hardship": "特困"}


@dataclass
class Line:
    """What one ledger line's cells are made from."""

    kind: str
    record: dict  # the line's FIELDS
    member: dict  # the member's bound fields; {} on a household line
    answers: dict  # the ledger form's unbound answers (FORM_ANSWERS)
    household_members: list[dict]  # on a household line, the bound fields of its living members; [] otherwise
    today: date
    zone: ZoneInfo

    @property
    def situation(self) -> dict:
        return self.record["household__situation"] or {}

    def member_label(self, name: str) -> Any:
        return _label(self.kind, "member", name, self.member.get(name))

    def situation_label(self, name: str) -> Any:
        return _label(self.kind, "situation", name, self.situation.get(name))


@dataclass(frozen=True)
class Column:
    key: str  # the key of the JSON line
    title: str  # the XLSX header
    width: int  # in characters, as Excel counts them (a Chinese character counts two)
    value: Callable[[Line], Any]


def _born(line: Line) -> date | None:
    return ledger_rules.birth_date_of(line.member)


def _last_visit(line: Line) -> datetime | None:
    last = line.record["last_visit_at"]
    return last.astimezone(line.zone) if last else None


def _days_since(line: Line) -> int | None:
    last = _last_visit(line)
    return (line.today - last.date()).days if last else None


def _tags(line: Line) -> str:
    return "、".join(MEMBER_TAGS.get(t, t) for t in sorted(ledger_rules.tags_of(line.member), key=_tag_order))


def _tag_order(tag: str) -> int:
    return list(MEMBER_TAGS).index(tag) if tag in MEMBER_TAGS else len(MEMBER_TAGS)


def _address(line: Line) -> str:
    return line.situation.get("address") or line.record["household__address"]


def _phone(line: Line) -> str | None:
    return line.member.get("phone") or line.situation.get("phone") or line.record["household__phone"]


def _assistance(line: Line) -> str | None:
    """The 救助类型 the household's survey bound, else what its members are tagged (低保, 特困)."""
    bound = line.situation.get("assistance_type")
    if bound:
        return _label(line.kind, "situation", "assistance_type", bound)
    tags = ledger_rules.household_tags(line.situation, line.household_members)
    return "、".join(ASSISTANCE_NAMES[t] for t in ASSISTANCE_NAMES if t in tags) or None


def _head_id_number(line: Line) -> str | None:
    """The household head's ID number, masked: the member answered as 本人 (relation self), else the one named so."""
    head = line.situation.get("head_name") or line.record["household__head"]
    found = next((m for m in line.household_members if m.get("relation") == "self"), None) or next(
        (m for m in line.household_members if m.get("name") == head), {})
    return mask_id_number(found.get("id_number"))


def _answer(key: str, template: str | None = None) -> Callable[[Line], Any]:
    def value(line: Line) -> Any:
        found = line.answers.get(key)
        if template and found is not None:
            return answer_label(LEDGER_FORMS[line.kind], template, found)
        return found
    return value


PERSON = [
    Column("name", "姓名", 10, lambda line: line.member.get("name")),
    Column("gender", "性别", 6, lambda line: GENDERS.get(line.member.get("gender"), line.member.get("gender"))),
    Column("birth_date", "出生日期", 12, _born),
    Column("age", "年龄", 6, lambda line: ledger_rules.age_on(_born(line), line.today)),
    Column("id_number", "身份证号", 21, lambda line: mask_id_number(line.member.get("id_number"))),
]
PLACE = [
    Column("community_name", "社区（村）", 14, lambda line: line.record["household__community__name"]),
    Column("address", "住址", 30, _address),
    Column("phone", "联系电话", 14, _phone),
]
VISITS = [
    Column("visit_plan", "探访要求", 18, lambda line: plan_text(line.kind, line.record["plan"],
                                                           line.record["every_days"])),
    Column("last_visit_at", "最近走访", 17, _last_visit),
    Column("days_since_visit", "距今天数", 9, _days_since),
    Column("next_visit_on", "下次走访", 12, lambda line: line.record["due_at"].astimezone(line.zone).date()),
]
COLUMNS: dict[str, list[Column]] = {
    "elderly": PERSON + [
        Column("categories", "老人类别", 18, _tags),
    ] + PLACE + [
        Column("income_source", "经济来源", 14, lambda line: line.situation_label("income_source")),
        Column("family_structure", "家庭结构", 14, lambda line: line.situation_label("family_structure")),
        Column("health", "健康状况", 12, lambda line: line.situation_label("health")),
        Column("care", "照料情况", 12, lambda line: line.situation_label("care")),
        Column("carer", "照料人", 10, _answer("carer")),
        Column("carer_phone", "照料人电话", 14, _answer("carer_phone")),
        Column("risk_level", "风险等级", 9, lambda line: line.situation_label("risk_level")),
    ] + VISITS,
    "children": PERSON + [
        Column("categories", "儿童类别", 18, _tags),
        Column("school", "就读学校", 18, lambda line: line.member.get("school")),
        Column("guardianship", "监护情况", 16, lambda line: line.situation_label("guardianship")),
        Column("guardian", "监护人", 10, lambda line: line.member.get("guardian") or _answer("guardian")(line)),
        Column("guardian_relation", "与儿童关系", 12, _answer("guardian_relation", "/guardian/relation")),
        Column("guardian_phone", "监护人电话", 14, _answer("guardian_phone")),
        Column("family_structure", "家庭结构", 12, lambda line: line.situation_label("family_structure")),
    ] + PLACE + VISITS,
    "disability": PERSON + [
        Column("disability_type", "残疾类别", 12, lambda line: line.member_label("disability_type")),
        Column("disability_level", "残疾等级", 9, lambda line: line.member_label("disability_level")),
        # `disability` is what disability_ledger's 是否持有残疾人证 binds: the legal sense of 残疾人.
        Column("certificate", "持残疾人证", 10, lambda line: "disability" in ledger_rules.tags_of(line.member)),
        Column("mental_disorder", "严重精神障碍", 12,
               lambda line: "mental_disorder" in ledger_rules.tags_of(line.member)),
        Column("guardian", "监护人", 10, lambda line: line.member.get("guardian")),
        Column("care", "照料情况", 12, lambda line: line.situation_label("care")),
        Column("risk_level", "风险等级", 9, lambda line: line.situation_label("risk_level")),
    ] + PLACE + VISITS,
    "assistance": [
        Column("head", "户主", 10, lambda line: line.situation.get("head_name") or line.record["household__head"]),
        Column("head_id_number", "户主身份证号", 21, _head_id_number),
        Column("assistance_type", "救助类型", 10, _assistance),
        Column("household_size", "家庭人口数", 10,
               lambda line: line.situation.get("household_size") or len(line.household_members) or None),
        Column("monthly_income", "人均月收入（元）", 15, lambda line: line.situation.get("monthly_income")),
        Column("income_source", "主要经济来源", 14, lambda line: line.situation_label("income_source")),
        Column("housing", "住房情况", 12, lambda line: line.situation_label("housing")),
        # The screening of the latest 家计调查 against the standard in force (server.intake.screening): for review.
        Column("eligibility", "低保标准核对（待复核）", 30, lambda line: line.situation.get("eligibility")),
    ] + PLACE + VISITS,
}


def plan_text(kind: str, code: str, every_days: int) -> str:
    """The visit plan as the ledger shows it: 独居老人，每周."""
    plan = next((p for p in ledger_rules.PLANS if p.kind == kind and p.code == code), None)
    frequency = ledger_rules.FREQUENCIES.get(every_days, f"每 {every_days} 天")
    return f"{plan.reason}，{frequency}" if plan else frequency


async def rows(kind: str, records: list[dict], today: date, zone: ZoneInfo) -> list[list[Any]]:
    """The cells of each line (its FIELDS), in the order of `COLUMNS[kind]`."""
    households = {r["household_id"] for r in records}
    answers = await _form_answers(kind, households)
    members: dict = {}
    if kind in ledger_rules.HOUSEHOLD_KINDS and households:
        found = Member.filter(household_id__in=list(households), removed_at__isnull=True).order_by("created_at", "id")
        for household_id, data in await found.values_list("household_id", "data"):
            members.setdefault(household_id, []).append(data)
    out = []
    for record in records:
        hid = record["household_id"]
        member = (record["member__data"] or {}) if record["member_id"] else {}
        line = Line(kind, record, member, answers.get(hid, {}), members.get(hid, []), today, zone)
        out.append([column.value(line) for column in COLUMNS[kind]])
    return out


def as_api(kind: str, record: dict, row: list[Any]) -> dict:
    """A line as JSON: its ids, then each column by key (dates as dates, times RFC 3339 on the station's clock)."""
    line = {"id": str(record["id"]), "kind": kind, "household": str(record["household_id"]),
            "member": str(record["member_id"]) if record["member_id"] else None,
            "community": str(record["household__community_id"])}
    for column, value in zip(COLUMNS[kind], row):
        line[column.key] = value.isoformat() if isinstance(value, (date, datetime)) else value
    return line


async def _form_answers(kind: str, household_ids: set) -> dict:
    """The unbound answers of each household's latest current submission of the ledger's form."""
    wanted = FORM_ANSWERS.get(kind)
    if not wanted or not household_ids:
        return {}
    latest: dict = {}
    found = Submission.filter(household_id__in=list(household_ids), form__slug=LEDGER_FORMS[kind]).exclude(
        review_state="replaced").order_by("observed_at", "id").values_list("household_id", "data")
    for household_id, data in await found:
        latest[household_id] = data  # later observations overwrite earlier ones
    return {hid: {key: _lookup(data, template) for key, template in wanted.items()} for hid, data in latest.items()}


def _lookup(data: Any, template: str) -> Any:
    for key in pointers.split(template):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data if isinstance(data, (str, int, float)) else None


# --- labels of the built-in forms -----------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _compiled(slug: str) -> forms.CompiledForm:
    definition = next(f for f in forms.builtin_forms() if f["slug"] == slug)
    return forms.compile_form(definition["schema"], definition["ui"])


@lru_cache(maxsize=None)
def _labels(kind: str) -> dict[tuple[str, str], dict[str, str]]:
    """(binding, name) → {choice key: label}, from the ledger's own form first, then the other built-in forms."""
    slugs = [LEDGER_FORMS[kind]] + [f["slug"] for f in forms.builtin_forms() if f["slug"] != LEDGER_FORMS[kind]]
    found: dict[tuple[str, str], dict[str, str]] = {}
    for slug in slugs:
        form = _compiled(slug)
        choices = form.choice_labels()
        for template, question in form.questions.items():
            for binding, keyword in (("situation", "x-situation"), ("member", "x-member")):
                name = question.keyword(keyword)
                if isinstance(name, str) and template in choices:
                    labels = found.setdefault((binding, name), {})
                    for key, label in choices[template].items():
                        labels.setdefault(key, label)
    return found


def _label(kind: str, binding: str, name: str, value: Any) -> Any:
    if value is None or isinstance(value, (list, dict)):
        return None if value is None else str(value)
    return _labels(kind).get((binding, name), {}).get(choice_key(value), value)


def answer_label(slug: str, template: str, value: Any) -> str:
    return _compiled(slug).label_for(template, value)
