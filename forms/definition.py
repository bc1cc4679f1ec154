"""Checking a form definition before it is published: the schema, the hints, the bindings.

Errors point into {"schema": …, "ui": …}, e.g. /schema/properties/age/minimum, so a designer
sees which part of the definition is wrong. Limits come first: a huge or deeply nested
definition is refused before anything walks it.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import jsonschema
import jsonschema_rs

from forms.bindings import KEYWORDS
from forms.consistency import check_hints
from forms.depth import TOO_DEEP, too_deep
from forms.engine import CompiledForm, compile_validator
from forms.errors import FieldError
from forms.messages import explain
from forms.pointers import escape, join, split
from forms.references import LOOKUP_ERRORS, Document, schema_nodes
from forms.ui import UI_SCHEMA
from forms.walk import find_questions

MAX_BYTES = 512 * 1024
MAX_PROPERTIES = 2000
MAX_QUESTION_DEPTH = 12
DRAFT_URI = "https://json-schema.org/draft/2020-12/schema"

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
    count = sum(len(n["properties"]) for n, _ in schema_nodes(schema) if isinstance(n.get("properties"), dict))
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
    """Regexes that do not compile, references that lead nowhere, unknown x- keywords: each judged as the validator
    judges it, so that publishing refuses nothing the validator accepts (and says where, when it refuses)."""
    try:
        document = Document(schema)
    except LOOKUP_ERRORS as e:
        yield FieldError("/schema", f"无法解析的标识（$id）：{e}")
        return
    for node, at, resolver in document.nodes():
        if isinstance(node.get("pattern"), str):
            yield from _check_regex(node["pattern"], f"/schema{at}/pattern", "pattern")
        if isinstance(node.get("patternProperties"), dict):
            for regex in node["patternProperties"]:
                yield from _check_regex(regex, f"/schema{at}/patternProperties/{escape(regex)}", "patternProperties")
        for key in ("$ref", "$dynamicRef"):
            if isinstance(node.get(key), str):
                try:
                    document.lookup(resolver, node[key])
                except LOOKUP_ERRORS:
                    yield FieldError(f"/schema{at}/{key}", f"引用「{node[key]}」无法解析")
        for key in node:
            if key.startswith("x-") and key not in KEYWORDS:
                yield FieldError(f"/schema{at}/{escape(key)}", f"未知的绑定关键字「{key}」")


def _check_regex(regex: str, at: str, keyword: str) -> Iterator[FieldError]:
    """Compiled by the validator itself, whose dialect is ECMA 262's with Unicode: `\\p{Han}` is as good as `\\d`."""
    try:
        compile_validator({keyword: {regex: True} if keyword == "patternProperties" else regex})
    except (ValueError, jsonschema_rs.ValidationError) as e:
        yield FieldError(at, f"正则表达式「{regex}」无法编译：{str(e).splitlines()[0] if str(e) else e!r}")


def _check_unplaced_bindings(schema: dict, questions: dict) -> Iterator[FieldError]:
    placed = {id(q.declared) for q in questions.values()} | {id(q.schema) for q in questions.values()}
    for node, at in schema_nodes(schema):
        if id(node) in placed:
            continue
        for key in node:
            if key in KEYWORDS:
                yield FieldError(f"/schema{at}/{escape(key)}", f"绑定关键字「{key}」只能写在题目上")


def _check_compiles(schema: dict, ui: dict) -> Iterator[FieldError]:
    try:
        CompiledForm(schema, ui)
    except (ValueError, jsonschema_rs.ValidationError) as e:
        yield FieldError("/schema", f"表单无法编译：{str(e).splitlines()[0]}")
