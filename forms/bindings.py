"""Bindings: the x- keywords that carry answers into the household file and the needs list.

Declared in the schema on a question (see forms/README.md):
  x-situation: <target>   the answer becomes the household's situation[target]
  x-members: true         an array whose rows are members, matched by their `id` answer
  x-member: <field>       inside member rows: the answer is that member field
  x-member-tag: <tag>     inside member rows, on a yes/no question: true adds the tag
  x-needs: true           an array whose rows are needs
  x-need: <field>         inside need rows: item (a catalogue code), urgency, description, member
  x-need-item: <code>     on a yes/no question: true raises a need for that catalogue item
  x-need-items: true      on a multiple choice of catalogue codes: each chosen code raises a need
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from forms.conditions import ABSENT, choices_of, lookup
from forms.errors import FieldError
from forms.pointers import split
from forms.walk import Question

SITUATION_TARGETS = {
    "income_source": "经济来源", "family_structure": "家庭结构", "health": "健康状况",
    "care": "照料情况", "assistance_type": "救助类型", "address": "住址", "phone": "联系电话",
    "head_name": "户主姓名", "housing": "住房情况", "household_size": "家庭人口数",
    "monthly_income": "家庭月收入", "guardianship": "监护情况", "disability": "残疾情况",
    "risk_level": "风险等级", "eligibility": "低保标准核对",
}
MEMBER_FIELDS = {
    "id": "成员编号", "name": "姓名", "relation": "与户主关系", "gender": "性别", "birth_date": "出生日期",
    "id_number": "身份证号", "phone": "联系电话", "tags": "标签", "health": "健康状况",
    "disability_type": "残疾类别", "disability_level": "残疾等级", "school": "就读学校",
    "occupation": "职业", "monthly_income": "月收入", "guardian": "监护人",
}
MEMBER_TAGS = {
    "elderly": "老年人", "living_alone": "独居", "empty_nest": "空巢", "left_behind": "留守",
    "child": "儿童", "orphan": "孤儿", "de_facto_unsupported": "事实无人抚养", "disability": "残疾",
    "mental_disorder": "精神障碍", "subsistence_allowance": "低保", "extreme_hardship": "特困",
    "low_income": "低收入", "serious_illness": "大病", "relocated": "易地搬迁",
}
NEED_FIELDS = {"item": "服务项目", "urgency": "紧急程度", "description": "需求描述", "member": "相关成员"}
URGENCIES = {"normal": "一般", "high": "较急", "urgent": "紧急"}
KEYWORDS = ("x-situation", "x-members", "x-member", "x-member-tag", "x-needs", "x-need",
            "x-need-item", "x-need-items")


@dataclass
class Changes:
    """What one valid submission does to the household file; the submission layer applies it."""
    situation: dict[str, Any] = field(default_factory=dict)
    members: list[dict] = field(default_factory=list)  # {"pointer", "id"?, field…, "tags"?}
    needs: list[dict] = field(default_factory=list)  # {"pointer", "item", "urgency", "description", "member"}


@dataclass
class Bindings:
    situation: dict[str, str] = field(default_factory=dict)  # template -> target
    members: str | None = None  # template of the member rows
    member_fields: dict[str, str] = field(default_factory=dict)  # row question name -> field
    member_tags: dict[str, str] = field(default_factory=dict)  # row question name -> tag
    needs: str | None = None
    need_fields: dict[str, str] = field(default_factory=dict)
    need_flags: dict[str, str] = field(default_factory=dict)  # template -> catalogue code
    need_lists: list[str] = field(default_factory=list)  # templates of checkbox lists of codes


def _row_owner(question: Question, rows_template: str | None) -> bool:
    return rows_template is not None and question.template.rsplit("/", 1)[0] == rows_template + "/*"


def read_bindings(questions: dict[str, Question]) -> Bindings:
    found = Bindings()
    for q in questions.values():
        if q.keyword("x-members") is True:
            found.members = found.members or q.template
        if q.keyword("x-needs") is True:
            found.needs = found.needs or q.template
    for q in questions.values():
        if isinstance(q.keyword("x-situation"), str):
            found.situation[q.template] = q.keyword("x-situation")
        if isinstance(q.keyword("x-member"), str) and _row_owner(q, found.members):
            found.member_fields[q.name] = q.keyword("x-member")
        if isinstance(q.keyword("x-member-tag"), str) and _row_owner(q, found.members):
            found.member_tags[q.name] = q.keyword("x-member-tag")
        if isinstance(q.keyword("x-need"), str) and _row_owner(q, found.needs):
            found.need_fields[q.name] = q.keyword("x-need")
        if isinstance(q.keyword("x-need-item"), str):
            found.need_flags[q.template] = q.keyword("x-need-item")
        if q.keyword("x-need-items") is True:
            found.need_lists.append(q.template)
    return found


def check_bindings(questions: dict[str, Question], catalogue_items: set[str] | None) -> Iterator[FieldError]:
    """Every binding must name a known target, sit on a question that can carry it, and be unique."""
    seen: dict[tuple[str, str], str] = {}

    def at(q: Question, keyword: str) -> str:
        return f"/schema{q.schema_pointer}/{keyword}"

    def unique(q: Question, kind: str, target: str, keyword: str) -> Iterator[FieldError]:
        scope = q.template.rsplit("/", 1)[0] if kind != "situation" else ""
        if (kind, scope + target) in seen:
            yield FieldError(at(q, keyword), f"绑定目标「{target}」已由「{seen[(kind, scope + target)]}」使用")
        seen[(kind, scope + target)] = q.title or q.name

    def catalogue_codes(q: Question, values: list[Any] | None, keyword: str) -> Iterator[FieldError]:
        if values is None:
            yield FieldError(at(q, keyword), f"「{q.title or q.name}」应为从服务项目清单中选择的题目")
        elif catalogue_items is not None:
            for value in values:
                if value not in catalogue_items:
                    yield FieldError(at(q, keyword), f"服务项目清单中没有「{value}」")

    members = [q for q in questions.values() if q.keyword("x-members") is not None]
    needs = [q for q in questions.values() if q.keyword("x-needs") is not None]
    for rows, keyword, label in ((members, "x-members", "成员"), (needs, "x-needs", "需求")):
        for i, q in enumerate(rows):
            if q.keyword(keyword) is not True or not q.rows:
                yield FieldError(at(q, keyword), f"{keyword} 只能是 true，并写在每行为对象的数组题目上")
            elif "*" in split(q.template):
                yield FieldError(at(q, keyword), f"{label}列表不能嵌套在其他列表中")
            elif i > 0:
                yield FieldError(at(q, keyword), f"一个表单只能有一个{label}列表")
    binding = read_bindings(questions)
    for q in questions.values():
        title = q.title or q.name
        target = q.keyword("x-situation")
        if target is not None:
            if target not in SITUATION_TARGETS:
                yield FieldError(at(q, "x-situation"), f"未知的户情况绑定目标「{target}」")
            elif any(seg == "*" for seg in split(q.template)):
                yield FieldError(at(q, "x-situation"), f"「{title}」在列表中，不能绑定户情况")
            else:
                yield from unique(q, "situation", target, "x-situation")
        for keyword, rows_template, allowed, kind in (
            ("x-member", binding.members, MEMBER_FIELDS, "成员字段"),
            ("x-member-tag", binding.members, MEMBER_TAGS, "成员标签"),
            ("x-need", binding.needs, NEED_FIELDS, "需求字段"),
        ):
            value = q.keyword(keyword)
            if value is None:
                continue
            if not _row_owner(q, rows_template):
                yield FieldError(at(q, keyword), f"「{title}」不在{kind[:2]}列表的行中，不能使用 {keyword}")
            elif value not in allowed:
                yield FieldError(at(q, keyword), f"未知的{kind}「{value}」")
            else:
                yield from unique(q, keyword, value, keyword)
                if keyword == "x-member-tag" and q.schema.get("type") != "boolean":
                    yield FieldError(at(q, keyword), f"「{title}」应为是/否题目才能绑定成员标签")
                if keyword == "x-member" and value == "tags":
                    for tag in choices_of(q.schema) or []:
                        if tag not in MEMBER_TAGS:
                            yield FieldError(at(q, keyword), f"未知的成员标签「{tag}」")
                if keyword == "x-need" and value == "item":
                    yield from catalogue_codes(q, choices_of(q.schema), keyword)
                if keyword == "x-need" and value == "urgency":
                    for level in choices_of(q.schema) or []:
                        if level not in URGENCIES:
                            yield FieldError(at(q, keyword), f"未知的紧急程度「{level}」")
        code = q.keyword("x-need-item")
        if code is not None:
            if q.schema.get("type") != "boolean":
                yield FieldError(at(q, "x-need-item"), f"「{title}」应为是/否题目才能提出需求")
            else:
                yield from catalogue_codes(q, [code], "x-need-item")
        if q.keyword("x-need-items") is not None:
            if q.keyword("x-need-items") is not True or q.schema.get("type") != "array":
                yield FieldError(at(q, "x-need-items"), "x-need-items 只能是 true，并写在多选题上")
            else:
                yield from catalogue_codes(q, choices_of(q.schema), "x-need-items")


def binding_changes_for(binding: Bindings, data: dict) -> Changes:
    changes = Changes()
    for template, target in binding.situation.items():
        value = lookup(data, split(template))
        if value is not ABSENT:
            changes.situation[target] = value
    if binding.members:
        for index, row in _rows(data, binding.members):
            member: dict[str, Any] = {"pointer": f"{binding.members}/{index}"}
            tags: list[str] = []
            for name, target in binding.member_fields.items():
                if name in row:
                    if target == "tags" and isinstance(row[name], list):
                        tags += [t for t in row[name] if t not in tags]
                    else:
                        member[target] = row[name]
            for name, tag in binding.member_tags.items():
                if row.get(name) is True and tag not in tags:
                    tags.append(tag)
            if binding.member_tags or "tags" in binding.member_fields.values():
                member["tags"] = tags
            changes.members.append(member)
    if binding.needs:
        for index, row in _rows(data, binding.needs):
            need = {"pointer": f"{binding.needs}/{index}", "urgency": "normal", "description": None,
                    "member": None}
            for name, target in binding.need_fields.items():
                if name in row:
                    need[target] = row[name]
            if "item" in need:
                changes.needs.append(need)
    for template, code in binding.need_flags.items():
        if lookup(data, split(template)) is True:
            changes.needs.append(_need(template, code))
    for template in binding.need_lists:
        chosen = lookup(data, split(template))
        if isinstance(chosen, list):
            changes.needs += [_need(f"{template}/{i}", code) for i, code in enumerate(chosen)]
    return changes


def _need(pointer: str, code: str) -> dict:
    return {"pointer": pointer, "item": code, "urgency": "normal", "description": None, "member": None}


def _rows(data: dict, template: str) -> Iterator[tuple[int, dict]]:
    rows = lookup(data, split(template))
    if isinstance(rows, list):
        for index, row in enumerate(rows):
            if isinstance(row, dict):
                yield index, row
