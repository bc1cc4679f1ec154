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
from forms.conditions import ABSENT, evaluate as shown, json_equal
from forms.errors import FieldError
from forms.logic import Evaluator, compile_logic, truthy, var_template
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


def places(data: Any, segments: list[str], path: tuple = (), rows: tuple = ()) -> Iterator[tuple[list, tuple]]:
    """Every place in `data` matching a template's segments (the last one need not be answered), with its rows."""
    if len(segments) == 1:
        yield list(path) + [segments[0]], rows
        return
    head, rest = segments[0], segments[1:]
    if head == "*":
        if isinstance(data, list):
            for i, item in enumerate(data):
                yield from places(item, rest, path + (i,), rows + (i,))
    elif isinstance(data, dict) and isinstance(data.get(head), (dict, list)):
        yield from places(data[head], rest, path + (head,), rows)


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
        for template, segments, calculate, condition in self.calculations:
            for path, rows in list(places(result.data, segments)):
                parent = _parent(result.data, path)
                if not isinstance(parent, dict):
                    continue
                name = path[-1]
                value = calculate(result.data, rows, {})
                if value is None or (condition is not None and not shown(condition, result.data, rows)):
                    value = ABSENT
                sent = parent.get(name, ABSENT)
                if sent is ABSENT and value is ABSENT or sent is not ABSENT and json_equal(sent, value):
                    continue
                if result.data is data:
                    result.data = copy.deepcopy(data)
                    parent = _parent(result.data, path)
                if value is ABSENT:
                    del parent[name]
                else:
                    parent[name] = value
                if sent is not ABSENT:
                    result.differences.append(Difference(join(path), sent, value))
        return result

    def errors(self, data: Any) -> list[FieldError]:
        """The checks that come out false and the choices their filter leaves out."""
        found: list[FieldError] = []
        for segments, rule, message in self.checks:
            for path, rows in places(data, segments):
                parent = _parent(data, path)
                if not isinstance(parent, dict) or path[-1] not in parent:
                    continue  # a check belongs to its question, and applies once it is answered
                value = rule(data, rows, {})
                if value is not None and not truthy(value):
                    found.append(FieldError(join(path), message))
        for template, segments, allowed in self.filters:
            for path, rows in places(data, segments):
                parent = _parent(data, path)
                if not isinstance(parent, dict) or path[-1] not in parent:
                    continue
                choices = allowed(data, rows, {})
                if not isinstance(choices, list):
                    continue
                answer = parent[path[-1]]
                chosen = list(enumerate(answer)) if isinstance(answer, list) else [(None, answer)]
                for i, value in chosen:
                    if not any(json_equal(value, c) for c in choices):
                        pointer = join(path if i is None else path + [i])
                        label = self._labels.get(template, {}).get(choice_key(value), messages.show(value))
                        found.append(FieldError(pointer, messages.filtered(self._titles.get(template, path[-1]),
                                                                           label)))
        return found
