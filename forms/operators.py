"""The operators of forms/logic.py's expressions, each built once into a function of (answers, rows, context).

Hot ones are specialised (two operands, one list): a submission evaluates them for every row of every calculation
and check. Their meaning is in forms/logic.py's docstring and tests/forms/logic_vectors.json.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, Callable

from forms.conditions import json_equal

Evaluator = Callable[[Any, tuple, dict], Any]
MAX_DIGITS = 6
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SAFE = 2 ** 53


def truthy(value: Any) -> bool:
    return not (value is None or value is False or value == "" or value == [] or
                (_is_number(value) and value == 0))


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float  # JSON's numbers: not bool, no subclasses


def _number(value: Any) -> Any:
    """A result as JavaScript would print it: 3.0 → 3; inf and nan → null."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer() and abs(value) < _SAFE:
            return int(value)
    elif isinstance(value, int) and abs(value) >= _SAFE:
        return float(value)
    return value


def _flat(values: list) -> list:
    out: list = []
    for v in values:
        if isinstance(v, list):
            out += [x for x in v if x is not None]
        elif v is not None:
            out.append(v)
    return out


def _order_key(value: Any) -> Any:
    # JavaScript orders strings by UTF-16 code units; so does this.
    return value.encode("utf-16-be", "surrogatepass") if isinstance(value, str) else value


def _comparable(values: list) -> bool:
    return all(_is_number(v) for v in values) or all(isinstance(v, str) for v in values)


def _compare(test: Callable[[Any, Any], bool]) -> Callable[[list], Evaluator]:
    def build(parts: list) -> Evaluator:
        if len(parts) == 2:
            left, right = parts

            def two(d, r, c):
                a, b = left(d, r, c), right(d, r, c)
                if type(a) is str and type(b) is str:
                    return test(a, b) if a.isascii() and b.isascii() else test(_order_key(a), _order_key(b))
                if _is_number(a) and _is_number(b):
                    return test(a, b)
                return None
            return two

        def run(d, r, c):
            values = [p(d, r, c) for p in parts]
            if not _comparable(values):
                return None
            keys = [_order_key(v) for v in values]
            return all(test(a, b) for a, b in zip(keys, keys[1:]))
        return run
    return build


def _numbers(parts: list, combine: Callable[[list], Any]) -> Evaluator:
    def run(d, r, c):
        values = []
        for p in parts:
            v = p(d, r, c)
            if type(v) is float:
                values.append(v)
            elif type(v) is int:
                values.append(float(v))  # as JavaScript computes: in doubles
            else:
                return None
        return _number(combine(values))
    return run


def _total(values: list) -> Any:
    result: Any = 0
    for v in values:  # left to right as JavaScript adds; Python's sum() compensates float rounding
        result += v
    return result


def _product(values: list) -> Any:
    result: Any = 1
    for v in values:
        result *= v
    return result


def _divide(values: list) -> Any:
    return None if values[1] == 0 else values[0] / values[1]


_EXACT = Context(prec=400, rounding=ROUND_HALF_UP)  # enough digits for any double: the exact binary value
_PLACES = [Decimal(1).scaleb(-n) for n in range(MAX_DIGITS + 1)]


def _round(parts: list) -> Evaluator:
    def run(d, r, c):
        x = parts[0](d, r, c)
        digits = parts[1](d, r, c) if len(parts) > 1 else 0
        if not _is_number(x) or not math.isfinite(x):
            return None
        if type(x) is int or x.is_integer():
            return _number(x)
        return _number(float(_EXACT.quantize(Decimal(x), _PLACES[digits])))
    return run


def _aggregate(kind: str) -> Callable[[list], Evaluator]:
    def build(parts: list) -> Evaluator:
        if kind == "count" and len(parts) == 1:
            only = parts[0]

            def count(d, r, c):
                value = only(d, r, c)
                if type(value) is list:
                    return len(value) - value.count(None)
                return 0 if value is None else 1
            return count

        def run(d, r, c):
            values = _flat([p(d, r, c) for p in parts])
            if kind == "count":
                return len(values)
            numbers = [v for v in values if _is_number(v)]
            if len(numbers) != len(values):
                return None
            numbers = [float(v) for v in numbers]
            if kind == "sum":
                return _number(_total(numbers))
            if not numbers:
                return None
            return _number(min(numbers) if kind == "min" else max(numbers))
        return run
    return build


def parse_date(value: Any) -> tuple[int, int, int] | None:
    if type(value) is not str or len(value) != 10:
        return None
    return _parse_date(value)


@functools.lru_cache(maxsize=4096)
def _parse_date(value: str) -> tuple[int, int, int] | None:
    if not _DATE.fullmatch(value):
        return None
    y, mo, d = int(value[:4]), int(value[5:7]), int(value[8:])
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return (y, mo, d) if 1 <= mo <= 12 and 1 <= d <= days[mo - 1] else None


def _age(parts: list) -> Evaluator:
    def run(d, r, c):
        born, at = parse_date(parts[0](d, r, c)), parse_date(parts[1](d, r, c))
        if born is None or at is None or at < born:
            return None
        return at[0] - born[0] - ((at[1], at[2]) < (born[1], born[2]))
    return run


def _if(parts: list) -> Evaluator:
    def run(d, r, c):
        i = 0
        while i + 1 < len(parts):
            if truthy(parts[i](d, r, c)):
                return parts[i + 1](d, r, c)
            i += 2
        return parts[i](d, r, c) if i < len(parts) else None
    return run


def _connective(stop_when: bool) -> Callable[[list], Evaluator]:
    """`and` (stops at a false value) and `or` (at a true one): the value it stopped at, or the last."""
    def build(parts: list) -> Evaluator:
        def run(d, r, c):
            value = None
            for p in parts:
                value = p(d, r, c)
                if truthy(value) is stop_when:
                    return value
            return value
        return run
    return build


def _in(parts: list) -> Evaluator:
    def run(d, r, c):
        x, within = parts[0](d, r, c), parts[1](d, r, c)
        if isinstance(within, list):
            return any(json_equal(x, v) for v in within)
        return isinstance(x, str) and isinstance(within, str) and x in within
    return run


BUILDERS: dict[str, Callable[[list], Evaluator]] = {
    "==": lambda p: lambda d, r, c: json_equal(p[0](d, r, c), p[1](d, r, c)),
    "!=": lambda p: lambda d, r, c: not json_equal(p[0](d, r, c), p[1](d, r, c)),
    "<": _compare(lambda a, b: a < b), "<=": _compare(lambda a, b: a <= b),
    ">": _compare(lambda a, b: a > b), ">=": _compare(lambda a, b: a >= b),
    "and": _connective(False), "or": _connective(True), "if": _if,
    "!": lambda p: lambda d, r, c: not truthy(p[0](d, r, c)),
    "!!": lambda p: lambda d, r, c: truthy(p[0](d, r, c)),
    "+": lambda p: _numbers(p, _total), "*": lambda p: _numbers(p, _product),
    "-": lambda p: _numbers(p, lambda v: -v[0] if len(v) == 1 else v[0] - v[1]),
    "/": lambda p: _numbers(p, _divide), "round": _round,
    "sum": _aggregate("sum"), "count": _aggregate("count"), "min": _aggregate("min"), "max": _aggregate("max"),
    "age": _age, "in": _in,
}
