"""Checking a form definition before it is published: the schema, the hints, the bindings.

Errors point into {"schema": …, "ui": …}, e.g. /schema/properties/age/minimum, so a designer
sees which part of the definition is wrong. Limits come first: a huge or deeply nested
definition is refused before anything walks it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator
from urllib.parse import urljoin

import jsonschema
import jsonschema_rs
import jsonschema_specifications
import referencing.exceptions
from referencing.jsonschema import DRAFT202012

from forms.bindings import KEYWORDS
from forms.consistency import check_hints
from forms.depth import TOO_DEEP, too_deep
from forms.errors import FieldError
from forms.messages import explain
from forms.ui import UI_SCHEMA
from forms.pointers import escape, join, split
from forms.walk import find_questions

MAX_BYTES = 512 * 1024
MAX_PROPERTIES = 2000
MAX_QUESTION_DEPTH = 12
DRAFT_URI = "https://json-schema.org/draft/2020-12/schema"
_BASE = "https://doorstep.invalid/form.json"
# Values of these keywords are data, not subschemas: never look for keywords inside them.
_DATA_KEYWORDS = {"const", "enum", "default", "examples"}
# Keys of these keywords' objects are names (a property may well be called "x-remark").
_NAME_MAPS = {"properties", "$defs", "definitions", "patternProperties", "dependentSchemas",
              "dependentRequired"}

_META = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
_UI = jsonschema.Draft202012Validator(UI_SCHEMA)


def check_definition(schema: Any, ui: Any, *, catalogue_items: set[str] | None = None) -> list[FieldError]:
    """Every problem of a form definition; an empty list means it may be published."""
    errors: list[FieldError] = []
    if not isinstance(schema, dict):
        errors.append(FieldError("/schema", "表单结构（schema）应为 JSON 对象"))
    if not isinstance(ui, dict):
        errors.append(FieldError("/ui", "界面提示（ui）应为 JSON 对象"))
    if errors:
        return errors
    errors = list(_check_limits(schema, ui))
    if errors:
        return errors
    errors = list(_check_meta(schema))
    if errors:
        return errors
    if schema.get("type") != "object":
        errors.append(FieldError("/schema/type", "表单的根应为对象（\"type\": \"object\"）"))
    errors += _check_keywords(schema)
    questions = find_questions(schema)
    for q in questions.values():
        at = f"/schema{q.schema_pointer}"
        if len(split(q.template)) > MAX_QUESTION_DEPTH:
            errors.append(FieldError(at, f"题目「{q.name}」嵌套超过 {MAX_QUESTION_DEPTH} 层"))
        elif q.leaf and not q.title:
            errors.append(FieldError(at, f"题目「{q.name}」缺少标题（title）"))
    errors += _check_unplaced_bindings(schema, questions)
    ui_errors = [FieldError("/ui" + join(e.absolute_path), f"界面提示写法不正确：{explain(e, None)}")
                 for e in _UI.iter_errors(ui)]
    errors += ui_errors or list(check_hints(ui, questions, catalogue_items))
    if not errors:
        errors += _check_compiles(schema, ui)
    return list(dict.fromkeys(errors))



def _nodes(document: Any, pointer: str = "") -> Iterator[tuple[dict, str]]:
    """Every object of a schema document that may be a schema, without recursion."""
    stack = [(document, pointer)]
    while stack:
        node, at = stack.pop()
        if isinstance(node, dict):
            yield node, at
            stack += [(v, f"{at}/{escape(k)}") for k, v in node.items() if k not in _DATA_KEYWORDS]
        elif isinstance(node, list):
            stack += [(v, f"{at}/{i}") for i, v in enumerate(node)]


def _check_limits(schema: dict, ui: dict) -> Iterator[FieldError]:
    for name, part in (("schema", schema), ("ui", ui)):
        if (at := too_deep(part)) is not None:
            yield FieldError(f"/{name}{at}", f"{TOO_DEEP}，请简化表单")
            return
    try:
        size = len(json.dumps({"schema": schema, "ui": ui}, ensure_ascii=False).encode())
    except (TypeError, ValueError):
        yield FieldError("", "表单定义中含有不是 JSON 的值")
        return
    if size > MAX_BYTES:
        yield FieldError("", f"表单定义过大（{size // 1024} KiB），上限为 {MAX_BYTES // 1024} KiB")
    count = sum(len(n["properties"]) for n, _ in _nodes(schema) if isinstance(n.get("properties"), dict))
    if count > MAX_PROPERTIES:
        yield FieldError("/schema", f"表单的题目过多（{count} 个），上限为 {MAX_PROPERTIES} 个")


def _check_meta(schema: dict) -> Iterator[FieldError]:
    declared = schema.get("$schema", DRAFT_URI)
    if not isinstance(declared, str) or declared.rstrip("#") != DRAFT_URI:
        yield FieldError("/schema/$schema", f"只支持 JSON Schema 2020-12（{DRAFT_URI}）")
        return
    for e in _META.iter_errors(schema):
        yield FieldError("/schema" + join(e.absolute_path),
                         f"不是有效的 JSON Schema 2020-12 写法：{explain(e, None)}")


def _check_keywords(schema: dict) -> Iterator[FieldError]:
    """Regexes that do not compile, references that lead nowhere, unknown x- keywords."""
    base = schema.get("$id") if isinstance(schema.get("$id"), str) else _BASE
    registry = jsonschema_specifications.REGISTRY.with_resource(base, DRAFT202012.create_resource(schema))
    try:
        resolver = registry.crawl().resolver(base_uri=base)
    except referencing.exceptions.Unresolvable as e:
        yield FieldError("/schema", f"无法解析的引用：{e}")
        return
    for node, at in _nodes(schema):
        for key in ("pattern",):
            if isinstance(node.get(key), str):
                yield from _check_regex(node[key], f"/schema{at}/{key}")
        if isinstance(node.get("patternProperties"), dict):
            for regex in node["patternProperties"]:
                yield from _check_regex(regex, f"/schema{at}/patternProperties/{escape(regex)}")
        for key in ("$ref", "$dynamicRef"):
            if isinstance(node.get(key), str):
                try:
                    resolver.lookup(urljoin(_base_of(schema, at, base), node[key]))
                except referencing.exceptions.Unresolvable:
                    yield FieldError(f"/schema{at}/{key}", f"引用「{node[key]}」无法解析")
        for key in node:
            if key.startswith("x-") and key not in KEYWORDS and not _names(at):
                yield FieldError(f"/schema{at}/{escape(key)}", f"未知的绑定关键字「{key}」")


def _names(at: str) -> bool:
    return at.rsplit("/", 1)[-1] in _NAME_MAPS


def _base_of(schema: dict, at: str, base: str) -> str:
    """The base URI in force at `at`: every $id on the way down changes it."""
    node: Any = schema
    for segment in split(at):
        if isinstance(node, dict) and isinstance(node.get("$id"), str) and node is not schema:
            base = urljoin(base, node["$id"])
        node = node[int(segment)] if isinstance(node, list) else node[segment]
    if isinstance(node, dict) and isinstance(node.get("$id"), str) and node is not schema:
        base = urljoin(base, node["$id"])
    return base


def _check_regex(regex: str, at: str) -> Iterator[FieldError]:
    try:
        re.compile(regex)
        jsonschema_rs.validator_for({"pattern": regex})
    except (re.error, ValueError, jsonschema_rs.ValidationError) as e:
        yield FieldError(at, f"正则表达式「{regex}」无法编译：{e}")


def _check_unplaced_bindings(schema: dict, questions: dict) -> Iterator[FieldError]:
    placed = {id(q.declared) for q in questions.values()} | {id(q.schema) for q in questions.values()}
    for node, at in _nodes(schema):
        if id(node) in placed:
            continue
        for key in node:
            if key in KEYWORDS and not _names(at):
                yield FieldError(f"/schema{at}/{escape(key)}", f"绑定关键字「{key}」只能写在题目上")


def _check_compiles(schema: dict, ui: dict) -> Iterator[FieldError]:
    from forms.engine import CompiledForm

    try:
        CompiledForm(schema, ui)
    except (ValueError, jsonschema_rs.ValidationError) as e:
        yield FieldError("/schema", f"表单无法编译：{str(e).splitlines()[0]}")
