"""Expressions: the subset of JSON Logic (jsonlogic.com) that forms compute with, defined strictly.

For calculations, checks across questions and choice filters (show conditions translate into it:
conditions.as_logic). Implemented here and in server/http/static/logic.js for the phone, both held to one table of
vectors (tests/forms/logic_vectors.json). Unlike JSON Logic's JavaScript reference, nothing is coerced:

- `{"var": "/members/*/income"}` reads an answer by its question template. A `*` takes the row being computed;
  a `*` beyond those rows fans out over every row and gives the list of the answers found there. A missing answer
  is null; `{"var": [template, default]}` gives the default instead. A name without a leading `/` is a value of
  the context (`choice` in a choice filter).
- `==`, `!=`: JSON equality (1 == 1.0, true is not 1). `<`, `<=`, `>`, `>=` (2 or 3 operands): numbers with
  numbers, strings with strings (ISO dates order as text); anything else is null.
- `and`, `or`, `!`, `!!`, `if` as in JSON Logic; false, null, 0, "" and [] are false.
- `+`, `-`, `*`, `/`: numbers only, else null; dividing by zero is null. `round` [x, digits 0–6]: half away from
  zero on the exact value. `sum`, `count`, `min`, `max` over their operands, lists flattened once, nulls skipped.
- `age` [birth date, at date]: whole years between two `YYYY-MM-DD` dates, null when either is not a date or
  the birth is later.
- `in` [x, list or string].

Results are JSON values; a whole-number float becomes an int (as JavaScript prints it), a non-finite one null.
"""

from __future__ import annotations

import itertools
from typing import Any

from forms.operators import BUILDERS, MAX_DIGITS, Evaluator, parse_date, truthy
from forms.pointers import split

Data = Any
__all__ = ["Evaluator", "LogicError", "compile_logic", "evaluate", "parse_date", "truthy", "var_template"]

OPERATORS = ("var", "==", "!=", "<", "<=", ">", ">=", "and", "or", "!", "!!", "if", "+", "-", "*", "/", "round",
             "sum", "count", "min", "max", "age", "in")


class LogicError(ValueError):
    """An expression that is not one of ours (publishing refuses it)."""


def evaluate(expression: Any, data: Data, rows: tuple = (), context: dict | None = None, owner: str = "") -> Any:
    return compile_logic(expression, owner)(data, rows, context or {})


def compile_logic(expression: Any, owner: str = "") -> Evaluator:
    """A function of (answers, rows, context) computing `expression` for the question `owner` (a template), whose
    `*`s the rows fill; raises LogicError for what is not ours."""
    if isinstance(expression, list):
        parts = [compile_logic(e, owner) for e in expression]
        return lambda d, r, c: [p(d, r, c) for p in parts]
    if not isinstance(expression, dict):
        return lambda d, r, c: expression
    if len(expression) != 1:
        raise LogicError("表达式的每个对象只能有一个运算符")
    op, args = next(iter(expression.items()))
    if op not in OPERATORS:
        raise LogicError(f"未知的运算符「{op}」")
    if op == "var":
        return _var(args, owner)
    raw = args if isinstance(args, list) else [args]
    if op in ("round",) and len(raw) == 2 and not (isinstance(raw[1], int) and 0 <= raw[1] <= MAX_DIGITS):
        raise LogicError(f"round 的位数应为 0 到 {MAX_DIGITS} 的整数")
    _arity(op, len(raw))
    parts = [compile_logic(a, owner) for a in raw]
    return BUILDERS[op](parts)


def _arity(op: str, n: int) -> None:
    fixed = {"!": (1, 1), "!!": (1, 1), "/": (2, 2), "age": (2, 2), "in": (2, 2), "==": (2, 2), "!=": (2, 2),
             "<": (2, 3), "<=": (2, 3), ">": (2, 2), ">=": (2, 2), "-": (1, 2), "round": (1, 2), "if": (1, 99)}
    low, high = fixed.get(op, (1, 999))
    if not low <= n <= high:
        raise LogicError(f"运算符「{op}」的参数个数不对")


def var_template(args: Any) -> tuple[str, Any]:
    name, default = (args[0], args[1] if len(args) > 1 else None) if isinstance(args, list) and args else (args, None)
    if not isinstance(name, str):
        raise LogicError("var 应为题目路径，如 \"/members/*/income\"")
    return name, default


def bound_stars(template: str, owner: str) -> int:
    """How many `*`s of `template` take the owner's rows: those on the owner's own path; the rest fan out."""
    segments, own = split(template), split(owner)
    stars = [k for k, s in enumerate(segments) if s == "*"]
    return sum(1 for _ in itertools.takewhile(lambda k: segments[:k + 1] == own[:k + 1], stars))


def _var(args: Any, owner: str) -> Evaluator:
    name, default = var_template(args)
    if not name.startswith("/"):
        return lambda d, r, c: c.get(name, default)
    segments, bound = split(name), bound_stars(name, owner)
    if segments.count("*") == bound:  # one answer, not a list: the hot path, by lookups that fail fast
        steps = tuple(segments)

        def one(data: Data, rows: tuple, context: dict) -> Any:
            k = 0
            try:
                for step in steps:
                    if step == "*":
                        if type(data) is not list:
                            return default
                        data, k = data[rows[k]], k + 1
                    elif type(data) is dict:
                        data = data[step]
                    else:
                        return default
            except (KeyError, IndexError):
                return default
            return data
        return one

    def read(data: Data, rows: tuple, context: dict) -> Any:
        found = _read(data, segments, 0, rows[:bound], 0)
        return default if found is _NOTHING else found
    return read


_NOTHING = object()


def _read(data: Any, segments: list[str], i: int, rows: tuple, bound: int) -> Any:
    while i < len(segments):
        segment = segments[i]
        if segment == "*":
            if not isinstance(data, list):
                return _NOTHING
            if bound < len(rows):
                if rows[bound] >= len(data):
                    return _NOTHING
                data, bound = data[rows[bound]], bound + 1
            else:  # fan out: the answers of every row, unanswered ones left out
                found = [_read(item, segments, i + 1, rows, bound + 1) for item in data]
                return [v for v in found if v is not _NOTHING and v is not None]
        elif isinstance(data, dict) and segment in data:
            data = data[segment]
        else:
            return _NOTHING
        i += 1
    return data
