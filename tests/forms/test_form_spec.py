"""2020-12 constructs are judged as the specification says, and both validators agree.

jsonschema is the reference; the engine's hot path uses jsonschema_rs. The corpus below is
judged by both (with the same format checkers) and by the engine, which must all say the same.
"""

from __future__ import annotations

import jsonschema
import jsonschema_rs
import pytest

from forms import check, check_definition, compile_form
from forms.formats import FAST_FORMATS, reference_format_checker
from form_samples import id_number


def obj(properties: dict, **extra) -> dict:
    return {"type": "object", "properties": properties, **extra}


T = {"type": "string", "title": "文本"}
N = {"type": "integer", "title": "数字"}

CORPUS = [
    # (case, schema, [(data, valid)…])
    ("ref_and_defs", obj({"a": {"$ref": "#/$defs/pos", "title": "甲"}}, **{"$defs": {"pos": {"type": "integer", "minimum": 1}}}),
     [({"a": 1}, True), ({"a": 0}, False), ({"a": "1"}, False)]),
    ("dynamic_ref", {"type": "object", "$id": "https://doorstep.invalid/tree", "$dynamicAnchor": "node",
                     "properties": {"label": T, "kids": {"type": "array", "title": "下级", "items": {"$dynamicRef": "#node"}}}},
     [({"label": "a", "kids": [{"label": "b"}]}, True), ({"label": "a", "kids": [{"label": 1}]}, False)]),
    ("if_then_else", obj({"kind": {"title": "类型", "enum": ["a", "b"]}, "x": N},
                         **{"if": {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
                            "then": {"required": ["x"]}, "else": {"not": {"required": ["x"]}}}),
     [({"kind": "a", "x": 1}, True), ({"kind": "a"}, False), ({"kind": "b", "x": 1}, False), ({"kind": "b"}, True)]),
    ("dependent_required", obj({"car": {"type": "boolean", "title": "有车"}, "plate": T}, dependentRequired={"car": ["plate"]}),
     [({"car": True, "plate": "湘A"}, True), ({"car": True}, False), ({}, True)]),
    ("dependent_schemas", obj({"a": N, "b": N}, dependentSchemas={"a": {"properties": {"b": {"minimum": 5}}}}),
     [({"a": 1, "b": 5}, True), ({"a": 1, "b": 4}, False), ({"b": 4}, True)]),
    ("unevaluated_properties", obj({"a": N}, allOf=[{"properties": {"b": N}}], unevaluatedProperties=False),
     [({"a": 1, "b": 2}, True), ({"a": 1, "c": 2}, False)]),
    ("prefix_items", obj({"pair": {"type": "array", "title": "一对", "prefixItems": [N, T], "items": False}}),
     [({"pair": [1, "a"]}, True), ({"pair": [1, "a", 2]}, False), ({"pair": ["a"]}, False)]),
    ("unevaluated_items", obj({"xs": {"type": "array", "title": "列表", "prefixItems": [N], "unevaluatedItems": False}}),
     [({"xs": [1]}, True), ({"xs": [1, 2]}, False)]),
    ("contains_min_max", obj({"xs": {"type": "array", "title": "列表", "contains": {"const": 1}, "minContains": 2, "maxContains": 3}}),
     [({"xs": [1, 1]}, True), ({"xs": [1, 2]}, False), ({"xs": [1, 1, 1, 1]}, False)]),
    ("any_one_not", obj({"v": {"title": "值", "anyOf": [N, T], "not": {"const": 0}}, "w": {"title": "乙", "oneOf": [N, {"minimum": 5}]}}),
     [({"v": 1}, True), ({"v": 0}, False), ({"v": []}, False), ({"w": 1}, True), ({"w": 6}, False)]),
    ("property_names_and_pattern_properties",
     obj({}, propertyNames={"maxLength": 3}, patternProperties={"^n_": N}),
     [({"n_a": 1}, True), ({"n_a": "x"}, False), ({"long": 1}, False)]),
    ("min_max_properties", obj({}, minProperties=1, maxProperties=2), [({"a": 1}, True), ({}, False), ({"a": 1, "b": 2, "c": 3}, False)]),
    ("const_one_equals_one_point_zero", obj({"n": {"title": "数", "const": 1}}), [({"n": 1.0}, True), ({"n": True}, False)]),
    ("enum_of_objects", obj({"o": {"title": "对象", "enum": [{"a": 1}, [1, 2]]}}), [({"o": {"a": 1}}, True), ({"o": {"a": 2}}, False)]),
    ("formats", obj({"d": {"title": "日期", "format": "date"}, "dt": {"title": "时间", "format": "date-time"},
                     "t": {"title": "钟点", "format": "time"}, "e": {"title": "邮箱", "format": "email"},
                     "id": {"title": "身份证", "format": "cn-id-number"}, "m": {"title": "手机", "format": "cn-mobile"},
                     "u": {"title": "编号", "format": "uuid"}, "ip": {"title": "IP", "format": "ipv4"}}),
     [({"d": "2024-02-29"}, True), ({"d": "2023-02-29"}, False), ({"dt": "2024-06-30T23:59:60Z"}, False),
      ({"dt": "2024-01-01t12:00:00z"}, True), ({"t": "23:59:60Z"}, False), ({"t": "12:00:00+08:00"}, True),
      ({"e": "a b@c.cn"}, False), ({"e": "li@example.cn"}, True), ({"id": id_number()}, True),
      ({"id": "110105194912310021"}, False), ({"m": "19912345678"}, True), ({"m": "10012345678"}, False),
      ({"u": "5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10"}, True), ({"u": "{5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10}"}, False),
      ({"ip": "not an ip"}, True), ({"d": 20240229}, True)]),
    ("content_is_annotation_only", obj({"c": {"title": "内容", "contentEncoding": "base64", "contentMediaType": "application/json"}}),
     [({"c": "%%%"}, True)]),
]
CASES = [(case, schema, data, valid) for case, schema, rows in CORPUS for data, valid in rows]


@pytest.mark.parametrize("case, schema, data, valid", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_reference_fast_validator_and_engine_judge_alike(case, schema, data, valid):
    reference = jsonschema.Draft202012Validator(schema, format_checker=reference_format_checker())
    fast = jsonschema_rs.Draft202012Validator(schema, formats=FAST_FORMATS, validate_formats=True, offline=True)
    assert check_definition(schema, {}) == []
    assert reference.is_valid(data) is valid
    assert fast.is_valid(data) is valid
    errors = check(compile_form(schema, {}), data)
    assert (errors == []) is valid
    assert all(e.detail and (e.pointer == "" or e.pointer.startswith("/")) for e in errors)
