"""Publishing accepts what the validator accepts: references resolved against an embedded `$id`, and patterns in the
validator's own dialect (ECMA 262 with Unicode property escapes). The questions behind such references are found,
and the answers are judged by the published form."""

from __future__ import annotations

import pytest

from forms import check, check_definition, compile_form

NAME = {"type": "string", "title": "姓名", "pattern": r"^\p{Han}{2,6}$"}


def form(properties: dict, **extra) -> dict:
    return {"type": "object", "properties": properties, **extra}


CASES = [
    # (case, schema, [(data, valid)…])
    ("chinese_name_pattern", form({"name": NAME}),
     [({"name": "王秀英"}, True), ({"name": "欧阳"}, True), ({"name": "王"}, False), ({"name": "Wang Xiuying"}, False),
      ({"name": "王秀英1"}, False)]),
    ("pattern_properties_with_unicode_escapes", form({}, patternProperties={r"^\p{Han}+$": {"type": "integer"}},
                                                     additionalProperties=False),
     [({"人数": 3}, True), ({"人数": "三"}, False), ({"size": 3}, False)]),
    ("ecma_control_escape", form({"code": {"type": "string", "title": "代码", "pattern": r"^\cC$"}}),
     [({"code": "\u0003"}, True), ({"code": "C"}, False)]),
    ("ref_against_an_embedded_urn_id",
     form({"person": {"title": "人员", "$id": "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed",
                      "$defs": {"name": NAME}, "type": "object",
                      "properties": {"name": {"$ref": "#/$defs/name"}}}}),
     [({"person": {"name": "李桂兰"}}, True), ({"person": {"name": "Li"}}, False)]),
    ("ref_against_an_embedded_https_id",
     form({"person": {"$ref": "https://doorstep.invalid/person.json", "title": "人员"}},
          **{"$defs": {"person": {"$id": "https://doorstep.invalid/person.json", "type": "object",
                                  "properties": {"age": {"$ref": "#/$defs/age"}},
                                  "$defs": {"age": {"type": "integer", "minimum": 0, "title": "年龄"}}}}}),
     [({"person": {"age": 70}}, True), ({"person": {"age": -1}}, False)]),
    ("relative_ref_resolved_against_a_nested_id",
     form({"a": {"$ref": "folder/age.json", "title": "年龄"}},
          **{"$id": "https://doorstep.invalid/forms/visit.json",
             "$defs": {"age": {"$id": "folder/age.json", "type": "integer", "maximum": 150}}}),
     [({"a": 90}, True), ({"a": 151}, False)]),
    ("percent_escaped_pointer_in_an_embedded_resource",
     form({"scores": {"title": "评分", "$id": "urn:doorstep:scores", "type": "object",
                      "properties": {"a": {"$ref": "#/$defs/percent%25field", "title": "百分比"},
                                     "b": {"$ref": "#/$defs/a~1b~0c", "title": "是否"}},
                      "$defs": {"percent%field": {"type": "integer", "maximum": 100}, "a/b~c": {"type": "boolean"}}}}),
     [({"scores": {"a": 100, "b": True}}, True), ({"scores": {"a": 101}}, False), ({"scores": {"b": 1}}, False)]),
    ("ref_to_a_boolean_schema_in_an_embedded_resource",
     form({"extra": {"title": "附加", "$id": "https://doorstep.invalid/extra.json", "type": "object",
                     "properties": {"never": {"$ref": "#/$defs/nothing", "title": "不应填写"},
                                    "any": {"$ref": "#/$defs/anything", "title": "任意"}},
                     "$defs": {"nothing": False, "anything": True}}}),
     [({"extra": {"any": [1, "a"]}}, True), ({"extra": {"never": 1}}, False)]),
    ("dynamic_ref_to_an_anchor_of_an_embedded_resource",
     form({"tree": {"$ref": "urn:doorstep:tree", "title": "树"}},
          **{"$defs": {"tree": {"$id": "urn:doorstep:tree", "$dynamicAnchor": "node", "type": "object",
                                "properties": {"label": {"type": "string", "title": "名称"},
                                               "kids": {"type": "array", "title": "下级",
                                                        "items": {"$dynamicRef": "#node"}}}}}}),
     [({"tree": {"label": "甲", "kids": [{"label": "乙"}]}}, True), ({"tree": {"kids": [{"label": 1}]}}, False)]),
]


@pytest.mark.parametrize("case, schema, rows", CASES, ids=[c[0] for c in CASES])
def test_what_the_validator_accepts_publishes_and_judges_answers(case, schema, rows):
    assert check_definition(schema, {}) == []
    compiled = compile_form(schema, {})
    for data, valid in rows:
        assert (check(compiled, data) == []) is valid, data


def test_questions_behind_a_reference_into_an_embedded_resource_are_found_and_titled():
    schema = {case: schema for case, schema, _ in CASES}["ref_against_an_embedded_urn_id"]
    assert compile_form(schema, {}).question_titles() == {"/person": "人员", "/person/name": "姓名"}
    untitled = form({"person": {"title": "人员", "$id": "urn:example:person", "$defs": {"name": {"type": "string"}},
                                "type": "object", "properties": {"name": {"$ref": "#/$defs/name"}}}})
    assert [e.pointer for e in check_definition(untitled, {})] == ["/schema/properties/person/properties/name"]


REFUSED = [
    # (case, schema, pointer): what the validator refuses too
    ("pattern_the_validator_cannot_compile", form({"a": {"type": "string", "title": "甲", "pattern": r"\p{NoSuchScript}"}}),
     "/schema/properties/a/pattern"),
    ("ref_to_the_wrong_resource", form({"person": {"title": "人员", "$id": "urn:example:person", "type": "object",
                                                   "properties": {"name": {"$ref": "#/$defs/name", "title": "姓名"}}}},
                                       **{"$defs": {"name": {"type": "string"}}}),
     "/schema/properties/person/properties/name/$ref"),
    ("pointer_into_a_list_by_name", form({"a": {"$ref": "#/allOf/first", "title": "甲"}}, allOf=[{}]),
     "/schema/properties/a/$ref"),
]


@pytest.mark.parametrize("case, schema, pointer", REFUSED, ids=[c[0] for c in REFUSED])
def test_what_the_validator_refuses_is_refused_with_a_pointer(case, schema, pointer):
    assert pointer in [e.pointer for e in check_definition(schema, {})]
