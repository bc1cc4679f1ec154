"""What a form computes and checks beyond its schema: calculated questions, checks across questions, choice filters.

All three are expressions of forms/logic.py written in the UI hints (docs/forms.md#calculations):
  ui.questions[template].calculate   the question's value, computed per row for a question inside rows
  ui.questions[template].filter      the choices allowed now: a list, or null for all of them
  ui.checks: [{"rule", "pointer", "message"}]   a rule that must not come out false once the question at its
                                                pointer is answered (in each row, inside rows)
The server computes every calculated answer itself: a phone's differing value is reported, never kept as the answer.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from forms import messages
from forms.depth import too_deep
from forms.conditions import ABSENT, json_equal
from forms.errors import FieldError
from forms.codegen import Source
from forms.logic import compile_logic, var_template, write
from forms.operators import parents
from forms.pointers import join, split
from forms.ui import choice_key


@dataclass
class Difference:
    """A calculated answer the phone sent that the server computes otherwise (ABSENT: none)."""
    pointer: str
    sent: Any
    computed: Any

    def as_flag(self) -> dict:
        shown_value = {"sent": self.sent, "computed": None if self.computed is ABSENT else self.computed}
        return {"pointer": self.pointer, **shown_value}


@dataclass
class Computed:
    data: Any  # the answers with the server's own calculated values
    differences: list[Difference] = field(default_factory=list)


def references(expression: Any) -> Iterator[tuple[str, str]]:
    """(template, pointer inside the expression) of every answer an expression reads."""
    stack: list[tuple[Any, str]] = [(expression, "")]
    while stack:
        node, at = stack.pop()
        if isinstance(node, list):
            stack += [(v, f"{at}/{i}") for i, v in enumerate(node)]
        elif isinstance(node, dict) and len(node) == 1:
            op, args = next(iter(node.items()))
            if op == "var":
                try:
                    name, _ = var_template(args)
                except ValueError:
                    continue
                if name.startswith("/"):
                    yield name, f"{at}/var" + ("/0" if isinstance(args, list) else "")
            else:
                stack.append((args, f"{at}/{_escape(op)}"))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def dependency_order(calculations: dict[str, Any]) -> list[str]:
    """Calculated templates, each after those it reads; a cycle is refused at publish (forms/rules.py)."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(template: str) -> None:
        if template in order or template in visiting:
            return
        visiting.add(template)
        for ref, _ in references(calculations[template]):
            if ref in calculations:
                visit(ref)
        order.append(template)

    for template in calculations:
        visit(template)
    return order


def bind(segments: list[str], rows: tuple) -> list:
    """The concrete path of a template's segments with its `*`s taking `rows`."""
    stars = iter(rows)
    return [next(stars) if s == "*" else s for s in segments]


_NO_CONTEXT: dict = {}


def _parent(data: Any, path: list) -> Any:
    for segment in path[:-1]:
        data = data[segment]
    return data


class _TooDeep(Exception):
    pass


class _Differs(Exception):
    pass


def _stop(*_: Any) -> Any:
    raise _Differs


class Rules:
    """The compiled calculations, checks and filters of one form version.

    All calculations are one function, and all checks another (forms/codegen.py), each walking the rows of one
    question after the other: the first hands over every answer sent that is not the computed one, the second lists
    the errors of the checks that fail."""

    def __init__(self, hints: dict, checks: list, conditions: dict[str, dict], titles: dict[str, str],
                 labels: dict[str, dict[str, str]]):
        formulas = {t: h["calculate"] for t, h in hints.items() if "calculate" in h}
        order = dependency_order(formulas)
        source = Source()
        self.calculations = [split(t) for t in order]
        self._calculate = _calculations(source, [(t, formulas[t], conditions.get(t)) for t in order])
        self.checks = [(split(c["pointer"]), c["message"]) for c in checks]
        source.namespace["_failed"] = self._failed
        self._check_errors = _checks(source, checks)
        self.filters = [(t, split(t), compile_logic(h["filter"], t)) for t, h in hints.items() if "filter" in h]
        self._titles, self._labels = titles, labels
        self.empty = not (self.calculations or self.filters or self.checks)
        # errors(data): the checks that come out false and the choices their filter leaves out (without filters,
        # straight the checks' own function: the hot path of every submission).
        self.errors = self._check_errors if not self.filters else self._errors_and_filtered

    def compute(self, data: Any) -> Computed:
        """The answers with every calculated value the server's own; copied only when one differs."""
        if not self.calculations:
            return Computed(data)
        try:  # most often every value sent is the one computed: nothing to keep track of
            self._calculate(data, _stop)
            return Computed(data)
        except _Differs:
            pass
        result = Computed(data)
        depth_checked = False

        def settle(index: int, parent: dict, rows: tuple, sent: Any, value: Any) -> Any:
            """Keep the computed value of calculation `index` in these rows; the answers from now on."""
            nonlocal depth_checked
            if not depth_checked:  # before comparing or copying what may nest deeper than anything may
                if too_deep(data) is not None:
                    raise _TooDeep  # check() refuses it
                depth_checked = True
            if sent is not ABSENT and value is not ABSENT and json_equal(sent, value):
                return result.data
            segments = self.calculations[index]
            if result.data is data:
                result.data = copy.deepcopy(data)
            parent = _parent(result.data, bind(segments, rows))  # where the copy holds what was found
            if value is ABSENT:
                del parent[segments[-1]]
            else:
                parent[segments[-1]] = value
            if sent is not ABSENT:
                result.differences.append(Difference(join(bind(segments, rows)), sent, value))
            return result.data

        try:
            self._calculate(data, settle)
        except _TooDeep:
            return Computed(data)
        return result

    def _failed(self, index: int, rows: tuple) -> FieldError:
        segments, message = self.checks[index]
        return FieldError(join(bind(segments, rows)), message)

    def _errors_and_filtered(self, data: Any) -> list[FieldError]:
        found = self._check_errors(data)
        for template, segments, allowed in self.filters:
            name = segments[-1]
            for parent, rows in parents(data, segments):
                if name not in parent:
                    continue
                choices = allowed(data, rows, _NO_CONTEXT)
                if not isinstance(choices, list):
                    continue
                path = bind(segments, rows)
                answer = parent[name]
                chosen = list(enumerate(answer)) if isinstance(answer, list) else [(None, answer)]
                for i, value in chosen:
                    if not any(json_equal(value, c) for c in choices):
                        pointer = join(path if i is None else path + [i])
                        label = self._labels.get(template, {}).get(choice_key(value), messages.show(value))
                        found.append(FieldError(pointer, messages.filtered(self._titles.get(template, path[-1]),
                                                                           label)))
        return found


def _calculations(source: Source, calculations: list[tuple[str, Any, dict | None]]) -> Callable:
    """One function of (answers, settle) computing each calculated question in every row, in order, and calling
    settle(index, parent, rows, sent, computed) where the answer sent is not the one computed; settle answers with
    the answers to read from then on (a copy once one is written)."""
    lines = ["def _f(d, settle):", "    c = _NO_CONTEXT"]
    for index, (template, expression, condition) in enumerate(calculations):
        body = functools.partial(_calculation, source, index, template, expression, condition)
        lines += ["    " + line for line in source.over_rows(split(template), body)]
    return source.compile(lines)


def _calculation(source: Source, index: int, template: str, expression: Any, condition: dict | None,
                 parent: str, rows: str) -> list[str]:
    shown_when = "" if condition is None else f" or not _shown({source.constant(condition)}, d, {rows})"
    return [f"v = {write(source, expression, template)}",
            f"if v is None{shown_when}:", "    v = _ABSENT",
            f"s = {parent}.get({source.constant(split(template)[-1])}, _ABSENT)",
            "if not (s is v or type(s) is type(v) and type(s) in _SCALARS and s == v):",
            f"    d = settle({index}, {parent}, {rows}, s, v)"]


def _checks(source: Source, checks: list[dict]) -> Callable:
    """One function of the answers listing the error of each check that is false where its question is answered."""
    lines = ["def _f(d):", "    c, failed = _NO_CONTEXT, []"]
    for index, check in enumerate(checks):
        body = functools.partial(_check, source, index, check["pointer"], check["rule"])
        lines += ["    " + line for line in source.over_rows(split(check["pointer"]), body)]
    return source.compile([*lines, "    return failed"])


def _check(source: Source, index: int, pointer: str, rule: Any, parent: str, rows: str) -> list[str]:
    return [f"if {source.constant(split(pointer)[-1])} in {parent}:",
            f"    v = {write(source, rule, pointer)}",
            "    if v is not None and v is not True and not _truthy(v):",  # a rule mostly holds: ask truthy() last
            f"        failed.append(_failed({index}, {rows}))"]
