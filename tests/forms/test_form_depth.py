"""One depth bound for answers, schemas and UI hints, checked before anything walks them: at the bound all is well,
one past it is refused with the pointer of the first value too deep, and nothing deeper ever raises."""

from __future__ import annotations

import pytest

from forms import FieldError, FormDefinitionError, check, check_definition, compile_form
from forms.depth import MAX_DEPTH, TOO_DEEP, too_deep


def lists(levels: int, leaf=None):
    for _ in range(levels):
        leaf = [leaf]
    return leaf


def nested(key: str, levels: int, leaf):
    for _ in range(levels):
        leaf = {key: leaf}
    return leaf


TOO_DEEP_VALUES = [
    # (case, value, pointer of the first value deeper than MAX_DEPTH, or None)
    ("scalar", "王", None),
    ("empty", {}, None),
    ("lists at the bound", lists(MAX_DEPTH), None),
    ("lists one past", lists(MAX_DEPTH + 1), "/0" * (MAX_DEPTH + 1)),
    ("an empty list at the bound", lists(MAX_DEPTH - 1, []), None),
    ("a string one past", {"k": lists(MAX_DEPTH, "王")}, "/k" + "/0" * MAX_DEPTH),
    ("objects one past", nested("a/b", MAX_DEPTH + 1, 1), "/a~1b" * (MAX_DEPTH + 1)),
    ("the first in document order", {"x": [1, nested("y", MAX_DEPTH, 0)], "z": lists(MAX_DEPTH + 5)},
     "/x/1" + "/y" * (MAX_DEPTH - 1)),
    ("ten thousand deep", lists(10_000), "/0" * (MAX_DEPTH + 1)),
]


@pytest.mark.parametrize("case, value, pointer", TOO_DEEP_VALUES, ids=[c[0] for c in TOO_DEEP_VALUES])
def test_too_deep_names_the_first_value_past_the_bound(case, value, pointer):
    assert too_deep(value) == pointer


TREE = compile_form({
    "type": "object",
    "properties": {
        "child": {"$ref": "#", "title": "下级"},
        "lists": {"title": "嵌套列表", "$ref": "#/$defs/lists"},
        "group": {"type": "object", "title": "组", "properties": {"name": {"type": "string", "title": "姓名"}}},
    },
    "$defs": {"lists": {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/lists"}, {"type": "null"}]}}},
}, {})

ANSWERS = [
    # (case, data, errors)
    ("objects at the bound", nested("child", MAX_DEPTH, {}), []),
    ("objects one past", nested("child", MAX_DEPTH + 1, {}), [FieldError("/child" * (MAX_DEPTH + 1), TOO_DEEP)]),
    ("arrays at the bound", {"lists": lists(MAX_DEPTH - 1)}, []),
    ("arrays one past", {"lists": lists(MAX_DEPTH)}, [FieldError("/lists" + "/0" * MAX_DEPTH, TOO_DEEP)]),
    ("arrays 255 deep", {"lists": lists(255)}, [FieldError("/lists" + "/0" * MAX_DEPTH, TOO_DEEP)]),
    ("a string question at the bound", {"group": {"name": nested("x", MAX_DEPTH - 2, 1)}},
     [FieldError("/group/name", "「姓名」应为文本")]),
    ("a string question 600 deep", {"group": {"name": nested("x", 600, 1)}},
     [FieldError("/group/name" + "/x" * (MAX_DEPTH - 1), TOO_DEEP)]),
]


@pytest.mark.parametrize("case, data, errors", ANSWERS, ids=[c[0] for c in ANSWERS])
def test_answers_are_checked_for_depth_before_anything_walks_them(case, data, errors):
    assert check(TREE, data) == errors


def form(question: dict) -> dict:
    return {"type": "object", "properties": {"a": {"type": "boolean", "title": "甲"}, "q": question}}


DEFINITIONS = [
    # (case, schema, ui, pointer of the refusal or None)
    ("schema at the bound", form({"title": "乙", **nested("not", MAX_DEPTH - 2, {})}), {}, None),
    ("schema one past", form({"title": "乙", **nested("not", MAX_DEPTH - 1, {})}), {},
     "/schema/properties/q" + "/not" * (MAX_DEPTH - 1)),
    ("schema 600 deep", form({"title": "乙", **nested("not", 600, {})}), {},
     "/schema/properties/q" + "/not" * (MAX_DEPTH - 1)),
    ("ui at the bound", form({"title": "乙"}), {"questions": {"/q": {"show": nested("not", MAX_DEPTH - 4, {"q": "/a", "equals": True})}}},
     None),
    ("ui one past", form({"title": "乙"}), {"questions": {"/q": {"show": nested("not", MAX_DEPTH - 3, {"q": "/a", "equals": True})}}},
     "/ui/questions/~1q/show" + "/not" * (MAX_DEPTH - 3) + "/q"),
]


@pytest.mark.parametrize("case, schema, ui, pointer", DEFINITIONS, ids=[c[0] for c in DEFINITIONS])
def test_definitions_are_checked_for_depth_before_anything_walks_them(case, schema, ui, pointer):
    errors = check_definition(schema, ui)
    if pointer is None:
        assert errors == []
        compile_form(schema, ui)
    else:
        assert errors == [FieldError(pointer, f"{TOO_DEEP}，请简化表单")]


@pytest.mark.parametrize("case, schema, ui, pointer", [d for d in DEFINITIONS if d[3]], ids=[d[0] for d in DEFINITIONS if d[3]])
def test_compile_form_refuses_a_definition_past_the_bound_before_walking_it(case, schema, ui, pointer):
    with pytest.raises(FormDefinitionError) as refused:
        compile_form(schema, ui)
    assert refused.value.errors == [FieldError(pointer, TOO_DEEP)]
