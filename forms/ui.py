"""UI hints: their own JSON Schema, and how they must agree with the form's questions.

Format (see forms/README.md): {"pages": [{"title", "help"?, "questions": [template…]}],
"order": [template…], "questions": {template: {"widget", "help", "placeholder", "choices", "show", "calculate", "filter",
"prefill", "prefill_members"}},
"checks": [{"rule", "pointer", "message"}]}. Expressions (calculate, filter, rule) are forms/logic.py's.
"""

from __future__ import annotations

from typing import Any

WIDGETS = ("text", "textarea", "number", "radio", "select", "checkboxes", "date", "datetime", "time",
           "photo", "location", "signature")
IMAGE_WIDGETS = ("photo", "signature")

_TEMPLATE = {"type": "string", "pattern": "^(/[^/]+)+$", "maxLength": 512}

UI_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "pages": {
            "type": "array",
            "maxItems": 100,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["title", "questions"],
                "properties": {
                    "title": {"type": "string", "minLength": 1, "maxLength": 100},
                    "help": {"type": "string", "maxLength": 2000},
                    "questions": {"type": "array", "items": _TEMPLATE, "uniqueItems": True},
                },
            },
        },
        "order": {"type": "array", "items": _TEMPLATE, "uniqueItems": True},
        "screening": {
            "type": "object",
            "additionalProperties": False,
            "required": ["per_person", "date", "standard"],
            "properties": {"per_person": _TEMPLATE, "date": _TEMPLATE,
                           "standard": {"enum": ["subsistence", "extreme_hardship"]}},
        },
        "checks": {
            "type": "array",
            "maxItems": 200,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["rule", "pointer", "message"],
                "properties": {
                    "rule": {"type": ["object", "boolean"]},
                    "pointer": _TEMPLATE,
                    "message": {"type": "string", "minLength": 1, "maxLength": 200},
                },
            },
        },
        "questions": {
            "type": "object",
            "propertyNames": _TEMPLATE,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "widget": {"enum": list(WIDGETS)},
                    "help": {"type": "string", "maxLength": 2000},
                    "placeholder": {"type": "string", "maxLength": 200},
                    "choices": {
                        "type": "object",
                        "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 200},
                    },
                    "show": {"$ref": "#/$defs/condition"},
                    "calculate": {"type": ["object", "number", "string", "boolean"]},
                    "filter": {"type": ["object", "array"]},
                    "prefill": {"const": True},
                    "prefill_members": {"type": ["object", "boolean"]},
                },
            },
        },
    },
    "$defs": {
        "condition": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["q"],
                    "properties": {
                        "q": _TEMPLATE,
                        "equals": True,
                        "in": {"type": "array", "minItems": 1},
                        "contains": True,
                        "answered": {"type": "boolean"},
                        "min": {"type": "number"},
                        "max": {"type": "number"},
                    },
                    "additionalProperties": False,
                    "minProperties": 2,
                    "maxProperties": 2,
                },
                {"type": "object", "required": ["all"], "additionalProperties": False,
                 "properties": {"all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}}},
                {"type": "object", "required": ["any"], "additionalProperties": False,
                 "properties": {"any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}}},
                {"type": "object", "required": ["not"], "additionalProperties": False,
                 "properties": {"not": {"$ref": "#/$defs/condition"}}},
            ]
        }
    },
}


def types_of(schema: dict) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)}
    return set()


def widget_fits(widget: str, schema: dict, choices: list[Any] | None) -> bool:
    """Whether a question's schema can hold what the widget produces."""
    types = types_of(schema)
    fmt = schema.get("format")
    if widget in ("radio", "select"):
        return choices is not None or "boolean" in types
    if widget == "checkboxes":
        return "array" in types and choices is not None
    if widget in ("text", "textarea"):
        return "string" in types
    if widget == "number":
        return bool(types & {"number", "integer"})
    if widget in ("date", "datetime", "time"):
        return fmt == {"date": "date", "datetime": "date-time", "time": "time"}[widget]
    if widget in IMAGE_WIDGETS:
        items = schema.get("items") if "array" in types else schema
        return isinstance(items, dict) and items.get("format") == "sha256"
    return "object" in types  # location: {"latitude", "longitude", …}


def choice_key(value: Any) -> str:
    """How a choice value is written as a key of `choices` (JSON object keys are strings)."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)
