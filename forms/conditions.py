"""Conditions that show a question (like XLSForm's `relevant`): evaluation and translation.

A condition is an atom on one answer — `{"q": "/age", "min": 60}` with one of equals, in,
contains, answered, min, max — or `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}`.
A `*` in `q` takes the row of the question being shown, so a member's question can depend
on the same member's other answers. The same meaning exists twice: in Python for error
reports, and as JSON Schema so the compiled validator checks visibility in one pass.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Iterator

from forms.pointers import split

OPERATORS = ("equals", "in", "contains", "answered", "min", "max")
ABSENT = object()


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema's `const` sees it: 1 == 1.0, but true is not 1."""
    if type(a) is type(b) and (type(a) is int or type(a) is str):  # the most common case, first
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def atoms(condition: Any, pointer: str = "") -> Iterator[tuple[dict, str]]:
    """Every atom of a condition with its pointer inside the condition."""
    if not isinstance(condition, dict):
        return
    if "q" in condition:
        yield condition, pointer
    for key in ("all", "any"):
        if isinstance(condition.get(key), list):
            for i, sub in enumerate(condition[key]):
                yield from atoms(sub, f"{pointer}/{key}/{i}")
    if "not" in condition:
        yield from atoms(condition["not"], f"{pointer}/not")


def operator(atom: dict) -> str:
    return next(op for op in OPERATORS if op in atom)


def bind(template: str, rows: tuple[int, ...]) -> list[str | int]:
    """Concrete data path of `template` with its `*`s replaced by the question's rows."""
    path: list[str | int] = []
    stars = iter(rows)
    for segment in split(template):
        path.append(next(stars) if segment == "*" else segment)
    return path


def lookup(data: Any, path: list[str | int]) -> Any:
    for segment in path:
        if isinstance(segment, int):
            if not isinstance(data, list) or segment >= len(data):
                return ABSENT
        elif not isinstance(data, dict) or segment not in data:
            return ABSENT
        data = data[segment]
    return data


def holds(atom: dict, value: Any) -> bool:
    op = operator(atom)
    if op == "answered":
        return (value is not ABSENT) == bool(atom["answered"])
    if value is ABSENT:
        return False
    if op == "equals":
        return json_equal(value, atom["equals"])
    if op == "in":
        return any(json_equal(value, choice) for choice in atom["in"])
    if op == "contains":
        return isinstance(value, list) and any(json_equal(v, atom["contains"]) for v in value)
    if op == "min":
        return _is_number(value) and value >= atom["min"]
    return _is_number(value) and value <= atom["max"]


def evaluate(condition: dict, data: Any, rows: tuple[int, ...]) -> bool:
    if "q" in condition:
        return holds(condition, lookup(data, bind(condition["q"], rows)))
    if "all" in condition:
        return all(evaluate(c, data, rows) for c in condition["all"])
    if "any" in condition:
        return any(evaluate(c, data, rows) for c in condition["any"])
    return not evaluate(condition["not"], data, rows)


def as_logic(condition: dict) -> dict:
    """The condition as an expression of forms/logic.py, for an evaluator that knows only those (the phone's).

    The same meaning for every answer a form can hold (a null answer aside: `answered` counts it, `var` cannot)."""
    if "q" in condition:
        op = operator(condition)
        value, answer = condition[op], {"var": condition["q"]}
        if op == "answered":
            return {"!=" if value else "==": [answer, None]}
        return {
            "equals": lambda: {"and": [{"!=": [answer, None]}, {"==": [answer, value]}]},
            "in": lambda: {"and": [{"!=": [answer, None]}, {"in": [answer, value]}]},
            "contains": lambda: {"and": [{"!!": [{"count": [answer]}]}, {"in": [value, answer]}]},
            "min": lambda: {"!!": [{">=": [answer, value]}]},
            "max": lambda: {"!!": [{"<=": [answer, value]}]},
        }[op]()
    if "all" in condition:
        return {"!!": [{"and": [as_logic(c) for c in condition["all"]]}]}
    if "any" in condition:
        return {"!!": [{"or": [as_logic(c) for c in condition["any"]]}]}
    return {"!": [as_logic(condition["not"])]}


# --- the same meaning as JSON Schema --------------------------------------------------------

def nest(path: list[str], inner: Any) -> Any:
    """A schema applying `inner` at `path` below the current instance, when it is there."""
    for segment in reversed(path):
        inner = {"items": inner} if segment == "*" else {"properties": {segment: inner}}
    return inner


def _present(path: list[str], inner: Any) -> dict:
    """A schema that holds when an answer exists at `path` (objects all the way) and fits `inner`."""
    schema: Any = inner
    for segment in reversed(path):
        schema = {"type": "object", "required": [segment], "properties": {segment: schema}}
    return schema


def to_schema(condition: dict, anchor: int) -> dict:
    """JSON Schema true exactly when `condition` holds, applied at the first `anchor` segments."""
    if "q" in condition:
        path = split(condition["q"])[anchor:]
        op = operator(condition)
        value = condition[op]
        if op == "answered":
            present = _present(path, True)
            return present if value else {"not": present}
        inner = {
            "equals": lambda: {"const": value},
            "in": lambda: {"enum": list(value)},
            "contains": lambda: {"type": "array", "contains": {"const": value}},
            "min": lambda: {"type": "number", "minimum": value},
            "max": lambda: {"type": "number", "maximum": value},
        }[op]()
        return _present(path, inner)
    if "all" in condition:
        return {"allOf": [to_schema(c, anchor) for c in condition["all"]]}
    if "any" in condition:
        return {"anyOf": [to_schema(c, anchor) for c in condition["any"]]}
    return {"not": to_schema(condition["not"], anchor)}


# --- can it ever hold? ------------------------------------------------------------------------

_MAX_WORLDS = 20000


def can_hold(condition: dict, domains: dict[str, list[Any]],
             judge: Callable[[dict, dict[str, Any]], bool] | None = None) -> bool | None:
    """Whether some answers make `condition` true; None when there are too many to try.

    `domains` gives, per referenced template, the answers worth trying (ABSENT included).
    """
    names = sorted(domains)
    worlds = 1
    for name in names:
        worlds *= len(domains[name])
    if worlds > _MAX_WORLDS:
        return None
    for combo in itertools.product(*(domains[n] for n in names)):
        answers = dict(zip(names, combo))
        if (judge or evaluate_in)(condition, answers):
            return True
    return False


def evaluate_in(condition: dict, answers: dict[str, Any]) -> bool:
    """Evaluate with answers given per template (rows set aside), missing ones absent."""
    if "q" in condition:
        return holds(condition, answers.get(condition["q"], ABSENT))
    if "all" in condition:
        return all(evaluate_in(c, answers) for c in condition["all"])
    if "any" in condition:
        return any(evaluate_in(c, answers) for c in condition["any"])
    return not evaluate_in(condition["not"], answers)


def candidate_answers(schema: dict, condition_values: list[Any]) -> list[Any]:
    """Answers worth trying for a question: its choices, or the values conditions mention."""
    candidates: list[Any] = [ABSENT]
    choices = choices_of(schema)
    if choices is not None:
        if schema.get("type") == "array":
            candidates += [[]] + [[c] for c in choices] + [list(choices)]
        else:
            candidates += choices
        return candidates
    if schema.get("type") == "boolean":
        return candidates + [True, False]
    for value in condition_values:
        if isinstance(value, list):
            candidates += value + [[v] for v in value] + [list(value)]
        elif _is_number(value):
            candidates += [value - 1, value, value + 1]
        else:
            candidates += [value, [value]]
    return candidates + ["\u0000other"]


def choices_of(schema: dict) -> list[Any] | None:
    """The allowed values of a choice question (enum or oneOf/anyOf of consts), else None."""
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return choices_of(schema["items"])
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    for key in ("oneOf", "anyOf"):
        options = schema.get(key)
        if isinstance(options, list) and options and all(
            isinstance(o, dict) and "const" in o for o in options
        ):
            return [o["const"] for o in options]
    return None
