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

Results are JSON values; a whole-number float becomes an int (as JavaScript prints it), a non-finite one null. In
arithmetic an integer too large for a double is infinite, as JavaScript's JSON.parse reads it.

Compiled to Python source (forms/codegen.py), with the operators of forms/operators.py.
"""

from __future__ import annotations

import itertools
from typing import Any

from forms.codegen import CHAIN, NESTING, Source
from forms.operators import MAX_DIGITS, Evaluator, parse_date, truthy
from forms.pointers import split

Data = Any
__all__ = ["Evaluator", "LogicError", "compile_logic", "evaluate", "parse_date", "truthy", "var_template", "write"]

OPERATORS = ("var", "==", "!=", "<", "<=", ">", ">=", "and", "or", "!", "!!", "if", "+", "-", "*", "/", "round",
             "sum", "count", "min", "max", "age", "in")


class LogicError(ValueError):
    """An expression that is not one of ours (publishing refuses it)."""


def evaluate(expression: Any, data: Data, rows: tuple = (), context: dict | None = None, owner: str = "") -> Any:
    return compile_logic(expression, owner)(data, rows, context or {})


def compile_logic(expression: Any, owner: str = "") -> Evaluator:
    """A function of (answers, rows, context) computing `expression` for the question `owner` (a template), whose
    `*`s the rows fill; raises LogicError for what is not ours."""
    source = Source()
    return source.function(write(source, expression, owner))


def write(source: Source, expression: Any, owner: str, level: int = 0) -> str:
    """The Python source of `expression` over (d: answers, r: rows, c: context), its values bound in `source`."""
    if isinstance(expression, list):
        return "[" + "".join(write(source, e, owner, level + 1) + ", " for e in expression) + "]"
    if not isinstance(expression, dict):
        return source.constant(expression)
    if len(expression) != 1:
        raise LogicError("表达式的每个对象只能有一个运算符")
    op, args = next(iter(expression.items()))
    if op not in OPERATORS:
        raise LogicError(f"未知的运算符「{op}」")
    if op == "var":
        name, default = var_template(args)
        if not name.startswith("/"):
            return f"c.get({source.constant(name)}, {source.constant(default)})"
        return source.read(split(name), bound_stars(name, owner), default)
    raw = args if isinstance(args, list) else [args]
    if op in ("round",) and len(raw) == 2 and not (isinstance(raw[1], int) and 0 <= raw[1] <= MAX_DIGITS):
        raise LogicError(f"round 的位数应为 0 到 {MAX_DIGITS} 的整数")
    _arity(op, len(raw))
    if level >= NESTING:  # a function of its own, called here
        return source.call_of_own(lambda: write(source, expression, owner))
    if op in ("and", "or") and len(raw) > CHAIN:  # the same as the first ones, then the rest as one operand
        raw = raw[:CHAIN - 1] + [{op: raw[CHAIN - 1:]}]
    elif op == "if" and len(raw) > CHAIN + 1:
        raw = raw[:CHAIN] + [{"if": raw[CHAIN:]}]
    return source.operator(op, [write(source, a, owner, level + 1) for a in raw])


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
