"""Reading request bodies: size limit, JSON parsing and checking against a fixed schema, errors in zh-CN."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from starlette.requests import Request

from forms import messages, pointers
from forms.depth import BODY_DEPTH, TOO_DEEP, too_deep
from forms.formats import FAST_FORMATS, reference_format_checker
from server.core.problems import FieldProblem, InvalidInput, MalformedRequest, TooLarge, UnsupportedMediaType
from server.core.text import unstorable

# Names reach printed files and screens: forbid control characters (C0, DEL, C1) anywhere in them.
PRINTABLE = r"^[^\u0000-\u001f\u007f-\u009f]*$"


def text(title: str, max_length: int = 100, min_length: int = 1, **extra) -> dict:
    return {"type": "string", "title": title, "minLength": min_length, "maxLength": max_length, "pattern": PRINTABLE, **extra}


def uuid_field(title: str) -> dict:
    return {"type": "string", "title": title, "format": "uuid"}


@dataclass(frozen=True)
class BodySchema:
    """A route's body schema with two validators that judge alike (the form engine's formats): the fast one
    accepts, the reference one explains a refusal field by field."""

    schema: dict
    fast: jsonschema_rs.Validator
    reference: Draft202012Validator


def obj(properties: dict, required: tuple[str, ...] = (), **extra) -> BodySchema:
    schema = {"type": "object", "title": "请求内容", "properties": properties, "required": list(required), "additionalProperties": False, **extra}
    Draft202012Validator.check_schema(schema)
    return BodySchema(
        schema,
        jsonschema_rs.Draft202012Validator(schema, formats=FAST_FORMATS, validate_formats=True, offline=True),
        Draft202012Validator(schema, format_checker=reference_format_checker()),
    )


async def read_json(request: Request, validator: BodySchema | None = None) -> Any:
    """Parse the body as JSON within the size limit and check it; raise a problem otherwise."""
    limit = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"请求体超过 {limit} 字节的上限。")
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType("请以 application/json 发送数据。")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"请求体超过 {limit} 字节的上限。")
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        body = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedRequest(f"请求体不是有效的 JSON：{exc}") from None
    except RecursionError:
        raise MalformedRequest("JSON 嵌套层数过多。") from None
    # Before anything walks the body (the string scan below, the schema check, the form engine): one bound.
    if (at := too_deep(body, BODY_DEPTH)) is not None:
        raise InvalidInput(errors=[FieldProblem(at.encode("utf-8", "backslashreplace").decode(), TOO_DEEP)])
    if _ESCAPED_UNSTORABLE.search(raw):  # rare: only then is every string looked at
        errors = [FieldProblem(at, detail) for at, detail in _unstorable_strings(body, [])]
        if errors:
            raise InvalidInput(errors=errors)
    if validator is not None:
        check_body(validator, body)
    return body


# Strings JSON can spell, as escapes only, that no column can store: a lone surrogate (no UTF-8 for it) and U+0000
# (PostgreSQL's text and jsonb refuse it). An escaped backslash before "u" may match too; the walk then finds nothing.
_ESCAPED_UNSTORABLE = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)")


def _unstorable_strings(value: Any, path: list) -> list[tuple[str, str]]:
    """(pointer, reason) of each key or string in `value` that cannot be stored."""
    found: list[tuple[str, str]] = []
    if isinstance(value, str):
        # The pointer itself must be sendable: a key's lone surrogate is shown as its escape.
        at = pointers.join([p.encode("utf-8", "backslashreplace").decode() if isinstance(p, str) else p for p in path])
        if reason := unstorable(value):
            found.append((at, reason))
    elif isinstance(value, dict):
        for key, item in value.items():
            found += _unstorable_strings(key, path + [key]) if isinstance(key, str) else []
            found += _unstorable_strings(item, path + [key])
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _unstorable_strings(item, path + [i])
    return found


def _reject_constant(name: str):
    raise ValueError(f"不允许 {name}")


def _finite(text: str) -> float | int:
    """A JSON number written with a fraction or exponent. 1e400 reads as infinity, which no JSON column can hold and
    no reply can carry. One that is whole (1.0, 1e2) is the same number as 1 or 100 in JSON and in JSON Schema, so it
    is read as that integer: a retry spelling it otherwise is the same body, and every reply spells it alike."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"数字 {text[:20]} 超出范围")
    if value.is_integer() and abs(value) <= _EXACT:
        return int(value)
    return value


_EXACT = 2**53  # beyond it a float no longer holds every integer: such a number is left as it was read


def check_body(validator: BodySchema, body: Any) -> None:
    if validator.fast.is_valid(body):
        return
    errors = sorted(validator.reference.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        raise InvalidInput(errors=[problem for e in errors for problem in _problems(e)])


def _problems(error: ValidationError) -> list[FieldProblem]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        extras = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return [FieldProblem(pointers.join(path + [name]), messages.unknown_field()) for name in extras]
    if error.validator == "required":
        # jsonschema yields one error per missing name, and names it only in its message.
        name = next(n for n in error.validator_value if n not in error.instance and repr(n) in error.message)
        title = error.schema.get("properties", {}).get(name, {}).get("title", name)
        return [FieldProblem(pointers.join(path + [name]), messages.missing(title))]
    return [FieldProblem(pointers.join(path), messages.explain(error, error.schema.get("title") or "该字段"))]
