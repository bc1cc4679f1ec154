"""Answers that start from the household file (一户一档): a follow-up visit updates what the file knows instead of
typing it again.

A question marked `"prefill": true` in the UI hints starts from the file through its binding: an `x-situation`
question from the situation as last seen (the address, phone and head's name from the household itself when the
situation has none), the `x-members` rows from the members, one row each with its `id`, so that the submission's
bindings carry every change back to the same member. Only values the question can hold are given: a code another
form stored that is not a choice here, or a value of another type, is left for the worker to answer. ID numbers are
never prefilled: the file shows them masked, and an unanswered ID number leaves the file's as it is.

A ledger lists some of a household's people: `"prefill_members"` on the rows' hints is an expression (forms/logic.py)
that a member must make true to get a row, reading the member's fields and `today` by name (`{"var": "birth_date"}`),
as the elderly ledger leaves out those known to be under 60. A member left out is still in the file: a submission's
rows add and update members, they never remove one.
"""

from __future__ import annotations

from typing import Any

from forms.bindings import Bindings
from forms.conditions import choices_of, json_equal
from forms.logic import Evaluator, truthy
from forms.pointers import split
from forms.ui import types_of
from forms.walk import Question

# The household's own fields, for situation targets a form may bind that the situation may not hold yet.
_FROM_HOUSEHOLD = {"address": "address", "phone": "phone", "head_name": "head"}
_NOT_PREFILLED = {"id_number"}


def fits(schema: dict, value: Any) -> bool:
    """Whether a question can hold `value`: one of its choices, or of its type."""
    if value is None:
        return False
    choices = choices_of(schema)
    if choices is not None and schema.get("type") != "array":
        return any(json_equal(value, c) for c in choices)
    types = types_of(schema)
    if not types:
        return True
    kinds = {bool: "boolean", str: "string", int: "integer", float: "number", list: "array", dict: "object"}
    kind = kinds.get(type(value))
    return kind in types or (kind == "integer" and "number" in types) or (
        kind == "number" and "integer" in types and float(value).is_integer())


def prefill(questions: dict[str, Question], bindings: Bindings, templates: list[str], household: dict,
            member_filter: Evaluator | None = None, today: str | None = None) -> dict:
    """Answers for the prefilled `templates` from `household` = {"address", "phone", "head", "situation",
    "members": [{"id", field…, "tags"}]}; member rows only for the members `member_filter` holds for, given
    `today` (YYYY-MM-DD on the station's clock)."""
    answers: dict = {}
    for template in templates:
        q = questions[template]
        target = q.keyword("x-situation")
        if isinstance(target, str):
            value = household.get("situation", {}).get(target)
            if value is None and target in _FROM_HOUSEHOLD:
                value = household.get(_FROM_HOUSEHOLD[target])
            if fits(q.schema, value):
                _put(answers, split(template), value)
        elif template == bindings.members:
            rows = [_member_row(questions, template, bindings, member) for member in household.get("members", [])
                    if member_filter is None or truthy(member_filter({}, (), {**member, "today": today}))]
            _put(answers, split(template), rows)
    return answers


def _member_row(questions: dict[str, Question], template: str, bindings: Bindings, member: dict) -> dict:
    row: dict = {}
    tags = member.get("tags") or []
    for name, field in bindings.member_fields.items():
        q = questions.get(f"{template}/*/{name}")
        if q is None or field in _NOT_PREFILLED:
            continue
        value = member.get(field)
        if field == "tags":
            value = [t for t in tags if t in (choices_of(q.schema) or [])]
        if fits(q.schema, value):
            row[name] = value
    for name, tag in bindings.member_tags.items():
        row[name] = tag in tags
    return row


def _put(answers: dict, segments: list[str], value: Any) -> None:
    for segment in segments[:-1]:
        answers = answers.setdefault(segment, {})
    answers[segments[-1]] = value
