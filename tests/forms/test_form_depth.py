"""One depth bound for answers, schemas and UI hints, checked before anything walks them: at the bound all is well,
one past it is refused with the pointer of the first value too deep, and nothing deeper ever raises."""

from __future__ import annotations

import pytest

from forms import FieldError, FormDefinitionError, builtin_forms, check, check_definition, compile_form
from forms.depth import MAX_DEPTH, TOO_DEEP, depth_bound, too_deep


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


CLOSED = {"type": "object", "additionalProperties": False, "properties": {
    "name": {"type": "string", "title": "姓名"},
    "members": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                           "properties": {"name": {"type": "string"}}}},
}}

BOUNDS = [
    # (case, schema, the deepest a valid value can be, or None when the schema leaves it open)
    ("anything", {}, None),
    ("true", True, None),
    ("nothing", False, 0),
    ("a string", {"type": "string"}, 0),
    ("an object open to any property", {"type": "object", "properties": {"a": {"type": "string"}}}, None),
    ("a closed object", CLOSED, 3),
    ("closed by unevaluatedProperties", {"type": "object", "unevaluatedProperties": False,
                                         "properties": {"a": {"type": "array", "items": {"type": "integer"}}}}, 2),
    ("unevaluatedProperties beside allOf", {"type": "object", "unevaluatedProperties": False,
                                            "allOf": [{"properties": {"a": {}}}]}, None),
    ("a list of anything", {"type": "array"}, None),
    ("prefixItems, then nothing", {"type": "array", "prefixItems": [{"type": "string"}, {"const": [[1]]}],
                                   "items": False}, 3),
    ("a const", {"const": {"a": [1]}}, 2),
    ("an enum", {"enum": [1, [[2]], {"a": 1}]}, 2),
    ("allOf takes the tightest", {"allOf": [{}, {"type": "string"}]}, 0),
    ("anyOf takes the widest", {"anyOf": [{"const": 1}, {"const": [[1]]}]}, 2),
    ("oneOf with an open branch", {"oneOf": [{"const": 1}, {"type": "object"}]}, None),
    ("then and else", {"if": {"type": "string"}, "then": {"type": "string"}, "else": {"const": [1]}}, 1),
    ("then alone bounds nothing", {"if": {"type": "string"}, "then": {"type": "string"}}, None),
    ("a reference", {"$ref": "#/$defs/row", "$defs": {"row": CLOSED}}, 3),
    ("a recursive reference", {
        "type": "object", "additionalProperties": False,
        "properties": {"child": {"$ref": "#"}, "name": {"type": "string"}}}, None),
    ("a reference that cannot be resolved", {"$ref": "#/$defs/none"}, None),
]


@pytest.mark.parametrize("case, schema, bound", BOUNDS, ids=[c[0] for c in BOUNDS])
def test_the_depth_a_schema_allows_is_never_understated(case, schema, bound):
    assert depth_bound(schema) == bound


@pytest.mark.parametrize("form_def", [f for f in builtin_forms()], ids=lambda f: f["slug"])
def test_every_built_in_form_bounds_the_depth_of_its_answers(form_def):
    assert compile_form(form_def["schema"], form_def["ui"]).depth_bound <= 4


BOUNDED = compile_form(CLOSED, {})


@pytest.mark.parametrize("case, data, errors", [
    ("valid", {"name": "王", "members": [{"name": "李"}]}, []),
    ("ten thousand deep where no property may be", {"x": lists(10_000)},
     [FieldError("/x" + "/0" * MAX_DEPTH, TOO_DEEP)]),
    ("too deep in a question", {"members": [{"name": nested("x", 100, 1)}]},
     [FieldError("/members/0/name" + "/x" * (MAX_DEPTH - 2), TOO_DEEP)]),
    ("deep but within the bound", {"members": [{"name": nested("x", 10, 1)}]},
     [FieldError("/members/0/name", "「name」应为文本")]),
])
def test_a_form_that_bounds_depth_still_refuses_what_is_too_deep_by_its_pointer(case, data, errors):
    assert BOUNDED.depth_bound == 3
    assert check(BOUNDED, data) == errors


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
