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
from dataclasses import dataclass, field
from typing import Any, Iterator

from forms import messages
from forms.depth import too_deep
from forms.conditions import ABSENT, evaluate as shown, json_equal
from forms.errors import FieldError
from forms.logic import compile_logic, truthy, var_template
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


def bind(segments: list[str], rows: tuple) -> list:
    """The concrete path of a template's segments with its `*`s taking `rows`."""
    stars = iter(rows)
    return [next(stars) if s == "*" else s for s in segments]


_NO_CONTEXT: dict = {}
_SCALARS = (str, int, float)


def _parent(data: Any, path: list) -> Any:
    for segment in path[:-1]:
        data = data[segment]
    return data


class Rules:
    """The compiled calculations, checks and filters of one form version."""

    def __init__(self, hints: dict, checks: list, conditions: dict[str, dict], titles: dict[str, str],
                 labels: dict[str, dict[str, str]]):
        calculations = {t: h["calculate"] for t, h in hints.items() if "calculate" in h}
        self.calculations = [(t, split(t), compile_logic(calculations[t], t), conditions.get(t))
                             for t in dependency_order(calculations)]
        self.filters = [(t, split(t), compile_logic(h["filter"], t)) for t, h in hints.items() if "filter" in h]
        self.checks = [(split(c["pointer"]), compile_logic(c["rule"], c["pointer"]), c["message"]) for c in checks]
        self._titles, self._labels = titles, labels
        self.empty = not (self.calculations or self.filters or self.checks)

    def compute(self, data: Any) -> Computed:
        """The answers with every calculated value the server's own; copied only when one differs."""
        result = Computed(data)
        depth_checked = False
        for template, segments, calculate, condition in self.calculations:
            name = segments[-1]
            for parent, rows in parents(result.data, segments):
                value = calculate(result.data, rows, _NO_CONTEXT)
                if value is None or (condition is not None and not shown(condition, result.data, rows)):
                    value = ABSENT
                sent = parent.get(name, ABSENT)
                if sent is value or type(sent) is type(value) and type(sent) in _SCALARS and sent == value:
                    continue
                if not depth_checked:  # before comparing or copying what may nest deeper than anything may
                    if too_deep(data) is not None:
                        return Computed(data)  # check() refuses it
                    depth_checked = True
                if sent is not ABSENT and value is not ABSENT and json_equal(sent, value):
                    continue
                if result.data is data:
                    result.data = copy.deepcopy(data)
                if result.data is not data:  # the rows were found in what was sent: write into the copy
                    parent = _parent(result.data, bind(segments, rows))
                if value is ABSENT:
                    del parent[name]
                else:
                    parent[name] = value
                if sent is not ABSENT:
                    result.differences.append(Difference(join(bind(segments, rows)), sent, value))
        return result

    def errors(self, data: Any) -> list[FieldError]:
        """The checks that come out false and the choices their filter leaves out."""
        found: list[FieldError] = []
        for segments, rule, message in self.checks:
            name = segments[-1]
            for parent, rows in parents(data, segments):
                if name not in parent:
                    continue  # a check belongs to its question, and applies once it is answered
                value = rule(data, rows, _NO_CONTEXT)
                if value is not None and not truthy(value):
                    found.append(FieldError(join(bind(segments, rows)), message))
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
