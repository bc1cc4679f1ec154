"""zh-CN messages for validation errors, in one table: the answers' errors as jsonschema_rs reports them (by kind),
and the request bodies' and form definitions' errors as jsonschema reports them (by keyword), named by the field's
title where it has one."""

from __future__ import annotations

import json
from typing import Any, Callable

from forms.formats import id_number_problem
from forms.ui import choice_key

TYPE_NAMES = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "是或否",
              "array": "列表", "object": "一组填写项", "null": "空值"}
FORMAT_NAMES = {"date": "日期", "date-time": "日期时间", "time": "时间", "email": "电子邮箱地址",
                "cn-mobile": "手机号码", "sha256": "照片标识", "uuid": "编号"}
ID_PROBLEMS = {"shape": "应为 18 位数字（最后一位可为 X）", "birth_date": "中的出生日期无效",
               "check_digit": "校验位错误"}


def show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _format(kind: dict, instance: Any, q: str) -> str:
    name = kind.get("format")
    if name == "cn-id-number" and isinstance(instance, str):
        return f"{q}{ID_PROBLEMS[id_number_problem(instance) or 'shape']}"
    return f"{q}不是有效的{FORMAT_NAMES.get(name, '格式（' + str(name) + '）')}"


def _type(kind: dict, instance: Any, q: str) -> str:
    names = "或".join(TYPE_NAMES.get(t, t) for t in kind.get("types", []))
    return f"{q}应为{names}"


def _limit(text: str) -> Callable[[dict, Any, str], str]:
    return lambda kind, instance, q: text.format(q=q, n=show(kind.get("limit")))


# Keyed by jsonschema_rs ValidationErrorKind class name.
MESSAGES: dict[str, Callable[[dict, Any, str], str]] = {
    "Type": _type,
    "Format": _format,
    "Enum": lambda kind, instance, q: f"{q}的选项无效",
    "Constant": lambda kind, instance, q: f"{q}只能是 {show(kind.get('expected_value'))}",
    "Minimum": _limit("{q}不能小于 {n}"),
    "Maximum": _limit("{q}不能大于 {n}"),
    "ExclusiveMinimum": _limit("{q}应大于 {n}"),
    "ExclusiveMaximum": _limit("{q}应小于 {n}"),
    "MultipleOf": lambda kind, instance, q: f"{q}应为 {show(kind.get('multiple_of'))} 的倍数",
    "MinLength": _limit("{q}至少要填 {n} 个字"),
    "MaxLength": _limit("{q}最多只能填 {n} 个字"),
    "Pattern": lambda kind, instance, q: f"{q}的填写格式不正确",
    "MinItems": _limit("{q}至少要有 {n} 项"),
    "MaxItems": _limit("{q}最多只能有 {n} 项"),
    "UniqueItems": lambda kind, instance, q: f"{q}中有重复的项",
    "Contains": lambda kind, instance, q: f"{q}缺少应包含的项",
    "MinProperties": _limit("{q}至少要填 {n} 项"),
    "MaxProperties": _limit("{q}最多只能填 {n} 项"),
    "PropertyNames": lambda kind, instance, q: f"{q}中有名称不合要求的填写项",
    "AnyOf": lambda kind, instance, q: f"{q}不符合任何一种允许的填写方式",
    "OneOfNotValid": lambda kind, instance, q: f"{q}不符合任何一种允许的填写方式",
    "OneOfMultipleValid": lambda kind, instance, q: f"{q}同时符合多种填写方式，无法判断",
    "Not": lambda kind, instance, q: f"{q}的填写不被允许",
    "FalseSchema": lambda kind, instance, q: f"{q}不应填写",
    "AdditionalItems": lambda kind, instance, q: f"{q}的项数超出了允许范围",
    "UnevaluatedItems": lambda kind, instance, q: f"{q}的项数超出了允许范围",
    "ContentEncoding": lambda kind, instance, q: f"{q}的编码不正确",
    "ContentMediaType": lambda kind, instance, q: f"{q}的内容类型不正确",
}


def describe(kind_name: str, kind: dict, instance: Any, title: str, labels: dict[str, str] | None) -> str:
    """The message for one error on the answer titled `title`."""
    return _describe(kind_name, kind, instance, f"「{title}」", labels)


def _describe(kind_name: str, kind: dict, instance: Any, q: str, labels: dict[str, str] | None) -> str:
    if kind_name == "Constant" and labels:
        label = labels.get(choice_key(kind.get("expected_value")))
        if label:
            return f"{q}只能选「{label}」"
    message = MESSAGES.get(kind_name)
    return message(kind, instance, q) if message else f"{q}的填写不符合要求"


def missing(title: str) -> str:
    return f"缺少必填项「{title}」"


def filtered(title: str, label: str) -> str:
    return f"「{title}」的选项「{label}」在当前情况下不可选"


def unexpected(name: str) -> str:
    return f"「{name}」不是本表单的题目，不应填写"


def hidden(title: str) -> str:
    return f"「{title}」在当前情况下不应填写"


def _limit_kind(value: Any) -> dict:
    return {"limit": value}


# jsonschema's keywords, as the jsonschema_rs kind of the same error and the kind's details.
_KEYWORD_KINDS: dict[str, tuple[str, Callable[[Any], dict]]] = {
    "type": ("Type", lambda v: {"types": v if isinstance(v, list) else [v]}),
    "format": ("Format", lambda v: {"format": v}),
    "enum": ("Enum", lambda v: {}),
    "const": ("Constant", lambda v: {"expected_value": v}),
    "multipleOf": ("MultipleOf", lambda v: {"multiple_of": v}),
    "pattern": ("Pattern", lambda v: {}),
    "uniqueItems": ("UniqueItems", lambda v: {}),
    "contains": ("Contains", lambda v: {}),
    "propertyNames": ("PropertyNames", lambda v: {}),
    "anyOf": ("AnyOf", lambda v: {}),
    "oneOf": ("OneOfNotValid", lambda v: {}),
    "not": ("Not", lambda v: {}),
    **{keyword: (keyword[0].upper() + keyword[1:], _limit_kind) for keyword in (
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems",
        "maxItems", "minProperties", "maxProperties")},
}


def explain(error: Any, title: str | None) -> str:
    """The message for one jsonschema error, by the same table as the answers' messages; without a title (a form
    definition's errors), the value as written is shown too."""
    validator, expected, instance = error.validator, error.validator_value, error.instance
    if validator == "required":
        return "缺少必填项：" + "、".join(k for k in expected if isinstance(instance, dict) and k not in instance)
    if validator in ("additionalProperties", "unevaluatedProperties"):
        return unknown_field()
    if validator not in _KEYWORD_KINDS:
        return f"{'「' + title + '」' if title else '该值'}的写法不正确（{validator}）"
    kind_name, kind = _KEYWORD_KINDS[validator]
    message = _describe(kind_name, kind(expected), instance, f"「{title}」" if title else "该值", None)
    return message if title else f"{message}（实际是 {_literal(instance)}）"


def unknown_field() -> str:
    return "不认识的字段"


def _literal(value: Any) -> str:
    """A value as the author wrote it in JSON, cut short: `"1"` and `1` must read differently."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"
