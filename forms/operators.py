"""The operators of forms/logic.py's expressions, as functions of values: forms/codegen.py writes calls to them.

Their meaning is in forms/logic.py's docstring and tests/forms/logic_vectors.json.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, Callable

from forms.conditions import json_equal

Evaluator = Callable[[Any, tuple, dict], Any]
MAX_DIGITS = 6
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SAFE = 2 ** 53
MISSING = object()  # no answer on the way down a path


def truthy(value: Any) -> bool:
    return not (value is None or value is False or value == "" or value == [] or
                (_is_number(value) and value == 0))


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float  # JSON's numbers: not bool, no subclasses


def _number(value: Any) -> Any:
    """A result as JavaScript would print it: 3.0 → 3; inf and nan → null."""
    if type(value) is float:
        if value - value != 0:  # inf or nan
            return None
        if value.is_integer() and -_SAFE < value < _SAFE:
            return int(value)
    elif type(value) is int and not -_SAFE < value < _SAFE:
        return _number(_double(value))
    return value


def _double(value: int | float) -> float:
    """A number as JavaScript holds it: an integer too large for a double is Infinity, as JSON.parse reads it."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _flat(values: tuple) -> list:
    out: list = []
    for v in values:
        if isinstance(v, list):
            out += [x for x in v if x is not None]
        elif v is not None:
            out.append(v)
    return out


# --- reading answers ---------------------------------------------------------------------------

def read_path(data: Any, segments: tuple, rows: tuple, default: Any) -> Any:
    """The answer at a template whose first `*`s take `rows`; a `*` beyond them fans out over every row and gives the
    list of the answers found there (for what forms/codegen.py does not read in place)."""
    found = _read(data, segments, 0, rows, 0)
    return default if found is MISSING else found


def _read(data: Any, segments: tuple, i: int, rows: tuple, bound: int) -> Any:
    while i < len(segments):
        segment = segments[i]
        if segment == "*":
            if not isinstance(data, list):
                return MISSING
            if bound < len(rows):
                if rows[bound] >= len(data):
                    return MISSING
                data, bound = data[rows[bound]], bound + 1
            else:  # fan out: the answers of every row, unanswered ones left out
                found = [_read(item, segments, i + 1, rows, bound + 1) for item in data]
                return [v for v in found if v is not MISSING and v is not None]
        elif isinstance(data, dict) and segment in data:
            data = data[segment]
        else:
            return MISSING
        i += 1
    return data


def parents(data: Any, segments: list[str]) -> list[tuple[dict, tuple]]:
    """The objects in `data` that hold a template's last segment (answered or not), with the rows of their `*`s."""
    if len(segments) == 1:
        return [(data, ())] if type(data) is dict else []
    level: list[tuple[Any, tuple]] = [(data, ())]
    for segment in segments[:-1]:
        below: list[tuple[Any, tuple]] = []
        for node, rows in level:
            if segment == "*":
                if type(node) is list:
                    below += [(item, rows + (i,)) for i, item in enumerate(node)]
            elif type(node) is dict and segment in node:
                below.append((node[segment], rows))
        level = below
    return [entry for entry in level if type(entry[0]) is dict]


# --- comparing ---------------------------------------------------------------------------------

def _order_key(value: Any) -> Any:
    # JavaScript orders strings by UTF-16 code units; so does this.
    return value.encode("utf-16-be", "surrogatepass") if isinstance(value, str) else value


def _compare(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def two(a: Any, b: Any) -> Any:
        if type(a) is str and type(b) is str:
            return test(a, b) if a.isascii() and b.isascii() else test(_order_key(a), _order_key(b))
        if _is_number(a) and _is_number(b):
            return test(a, b)
        return None
    return two


less, at_most, more, at_least = (_compare(t) for t in (operator.lt, operator.le, operator.gt, operator.ge))


def between(test: Callable[[Any, Any], Any], *values: Any) -> Any:
    """`<` or `<=` of three operands: both pairs hold (null unless all are numbers or all strings)."""
    if not (all(_is_number(v) for v in values) or all(isinstance(v, str) for v in values)):
        return None
    return test(values[0], values[1]) and test(values[1], values[2])


def within(x: Any, container: Any) -> bool:
    if isinstance(container, list):
        return any(json_equal(x, v) for v in container)
    return isinstance(x, str) and isinstance(container, str) and x in container


# --- arithmetic --------------------------------------------------------------------------------

_DOUBLES = {int: float, float: float}  # JSON's numbers (not bool) to doubles, as JavaScript computes with them


def _doubles(values: tuple) -> tuple:
    """The numbers among `values` as doubles, even integers too large for one; the rest as they are."""
    return tuple(_double(v) if type(v) in _DOUBLES else v for v in values)


def add(*values: Any) -> Any:
    result = 0.0
    try:
        for v in values:  # left to right as JavaScript adds; Python's sum() compensates float rounding
            result += _DOUBLES[type(v)](v)
    except KeyError:  # not a number
        return None
    except OverflowError:  # an integer too large for a double
        return add(*_doubles(values))
    return _number(result)


def multiply(*values: Any) -> Any:
    result = 1.0
    try:
        for v in values:
            result *= _DOUBLES[type(v)](v)
    except KeyError:
        return None
    except OverflowError:
        return multiply(*_doubles(values))
    return _number(result)


def subtract(a: Any, *b: Any) -> Any:
    """a - b, or -a alone."""
    try:
        x = _DOUBLES[type(a)](a)
        return _number(x - _DOUBLES[type(b[0])](b[0])) if b else _number(-x)
    except KeyError:
        return None
    except OverflowError:
        return subtract(*_doubles((a, *b)))


def divide(a: Any, b: Any) -> Any:
    try:
        x, y = _DOUBLES[type(a)](a), _DOUBLES[type(b)](b)
    except KeyError:
        return None
    except OverflowError:
        return divide(*_doubles((a, b)))
    return None if y == 0 else _number(x / y)


_EXACT = Context(prec=400, rounding=ROUND_HALF_UP)  # enough digits for any double: the exact binary value
_PLACES = [Decimal(1).scaleb(-n) for n in range(MAX_DIGITS + 1)]
_SCALES = [10.0 ** n for n in range(MAX_DIGITS + 1)]


def round_to(x: Any, digits: Any = 0) -> Any:
    """Half away from zero on the exact value of x."""
    if type(x) is int:
        return _number(x)
    if type(x) is not float or x - x != 0:  # not a number, inf or nan
        return None
    if x.is_integer():
        return _number(x)
    scaled = x * _SCALES[digits]  # off from x·10ⁿ by far less than 1e-6 below 2³⁰, and exactly split there
    if abs(scaled) < 2 ** 30 and abs(scaled - math.floor(scaled) - 0.5) > 1e-6:
        return _number(round(x, digits))  # not a tie: the nearest either way, and round() finds it exactly
    return _number(float(_EXACT.quantize(Decimal(x), _PLACES[digits])))


# --- over lists --------------------------------------------------------------------------------

def count_one(value: Any) -> int:
    if type(value) is list:
        return len(value) - value.count(None)
    return 0 if value is None else 1


def count(*values: Any) -> int:
    return len(_flat(values))


def _aggregate(values: tuple, combine: Callable[[list], Any]) -> Any:
    found = _flat(values)
    if any(type(v) not in _DOUBLES for v in found):
        return None
    return combine([_double(v) for v in found])


def total(*values: Any) -> Any:
    return _aggregate(values, lambda numbers: add(*numbers))


def least(*values: Any) -> Any:
    return _aggregate(values, lambda numbers: _number(min(numbers)) if numbers else None)


def greatest(*values: Any) -> Any:
    return _aggregate(values, lambda numbers: _number(max(numbers)) if numbers else None)


# --- dates -------------------------------------------------------------------------------------

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


def age(born: Any, at: Any) -> Any:
    if type(born) is str and type(at) is str and len(born) == 10 == len(at):
        return _years(born, at)
    return None


@functools.lru_cache(maxsize=4096)  # a station's visits share their dates, and households come back
def _years(born: str, at: str) -> int | None:
    b, a = _parse_date(born), _parse_date(at)
    if b is None or a is None or a < b:
        return None
    return a[0] - b[0] - ((a[1], a[2]) < (b[1], b[2]))
