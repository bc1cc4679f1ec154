"""National ID numbers (身份证号, GB 11643) as replies and exports show them: masked.

An ID number is sensitive personal information under the Personal Information Protection Law. Every reply and every
export shows it masked, the first 6 characters (the region) and the last 4 kept, as people confirm a number on the
phone: 430602********003X. The whole number is shown only by a reveal, which supervisors and the bureau ask for one
member at a time and the audit log records (`server.households.members`).
"""

from __future__ import annotations

import re
from typing import Any
from weakref import WeakKeyDictionary

import forms
from forms import pointers

ID_NUMBER_FORMAT = "cn-id-number"
ID_NUMBER_FIELD = "id_number"  # the member field forms bind ID numbers to (x-member: id_number)

# An ID number inside free text (a need's description, a name field someone typed a number into).
_ID_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([1-8][0-9]{16}[0-9Xx]|[1-8][0-9]{14})(?![0-9A-Za-z])")

_templates: WeakKeyDictionary[forms.CompiledForm, tuple[tuple[str, ...], ...]] = WeakKeyDictionary()


def mask_id_number(number: Any) -> Any:
    """The number with all but its first 6 and last 4 characters starred; a short one starred whole. A number
    answered as a JSON number (a form that does not say `"type": "string"`) is masked too; anything else is left."""
    if isinstance(number, bool) or not isinstance(number, (str, int, float)):
        return number
    text = str(number)
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_id_numbers_in(text: str | None) -> str | None:
    """Free text with every ID number in it masked."""
    return _ID_NUMBER_IN_TEXT.sub(lambda found: mask_id_number(found[1]), text) if text else text


def mask_name(name: Any) -> str | None:
    """A person's name as a provider sees it: the family name, the rest starred (张秀英 → 张**)."""
    if not isinstance(name, str) or not name.strip():
        return None
    name = name.strip()
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_member(data: dict) -> dict:
    """A member's bound fields with the ID number masked (a copy; the stored dict is left alone)."""
    if data.get(ID_NUMBER_FIELD) is None:
        return data
    return {**data, ID_NUMBER_FIELD: mask_id_number(data[ID_NUMBER_FIELD])}


def id_number_templates(form: forms.CompiledForm) -> tuple[tuple[str, ...], ...]:
    """The pointer templates, split, of the form's `cn-id-number` questions (a list of numbers: its items)."""
    found = _templates.get(form)
    if found is None:
        found = []
        for template, question in form.questions.items():
            schema = question.schema
            if schema.get("format") == ID_NUMBER_FORMAT:
                found.append(tuple(pointers.split(template)))
            elif isinstance(schema.get("items"), dict) and schema["items"].get("format") == ID_NUMBER_FORMAT:
                found.append((*pointers.split(template), "*"))
        found = _templates[form] = tuple(found)
    return found


def mask_answers(form: forms.CompiledForm, data: Any) -> Any:
    """The answers with those of the form's ID-number questions masked, wherever they are (member rows included).

    The stored answers are not changed: what lies on the way to a masked answer is copied, the rest is shared."""
    for segments in id_number_templates(form):
        data = _masked_at(data, segments)
    return data


def _masked_at(node: Any, segments: tuple[str, ...]) -> Any:
    if not segments:
        return None if node is None else mask_id_number(node)
    head, rest = segments[0], segments[1:]
    if head == "*":
        return [_masked_at(item, rest) for item in node] if isinstance(node, list) else node
    if isinstance(node, dict) and head in node:
        return {**node, head: _masked_at(node[head], rest)}
    return node
