"""Whether the UI hints agree with the schema: every hint names a real question, widgets fit
their questions, choice labels name real choices, and every show condition can come true
without going round in circles."""

from __future__ import annotations

from typing import Any, Iterator

from forms.bindings import check_bindings
from forms.conditions import (ABSENT, atoms, can_hold, candidate_answers, choices_of, evaluate_in,
                              operator)
from forms.errors import FieldError
from forms.rules import check_rules
from forms.ui import choice_key, widget_fits
from forms.pointers import escape, split
from forms.walk import Question


def check_hints(ui: dict, questions: dict[str, Question],
                catalogue_items: set[str] | None) -> Iterator[FieldError]:
    yield from check_bindings(questions, catalogue_items)
    placed: dict[str, str] = {}
    for p, page in enumerate(ui.get("pages", [])):
        for i, template in enumerate(page["questions"]):
            at = f"/ui/pages/{p}/questions/{i}"
            if template not in questions:
                yield FieldError(at, f"界面提示引用了不存在的题目「{template}」")
            elif template in placed:
                yield FieldError(at, f"题目「{template}」已放在第 {placed[template]} 页")
            else:
                placed[template] = str(p + 1)
    for i, template in enumerate(ui.get("order", [])):
        if template not in questions:
            yield FieldError(f"/ui/order/{i}", f"界面提示引用了不存在的题目「{template}」")
    hints: dict[str, dict] = ui.get("questions", {})
    for template, hint in hints.items():
        at = f"/ui/questions/{escape(template)}"
        q = questions.get(template)
        if q is None:
            yield FieldError(at, f"界面提示引用了不存在的题目「{template}」")
            continue
        choices = choices_of(q.schema)
        if "widget" in hint and not widget_fits(hint["widget"], q.schema, choices):
            yield FieldError(f"{at}/widget", f"控件「{hint['widget']}」不适用于题目「{q.title or q.name}」")
        keys = {choice_key(c) for c in choices or []}
        if q.schema.get("type") == "boolean":
            keys |= {"true", "false"}
        for key in hint.get("choices", {}):
            if key not in keys:
                yield FieldError(f"{at}/choices/{escape(key)}", f"题目「{q.title or q.name}」没有选项「{key}」")
        if "show" in hint:
            yield from _check_condition(template, hint["show"], f"{at}/show", questions)
    yield from check_rules(ui, questions)
    conditions = {t: h["show"] for t, h in hints.items() if "show" in h and t in questions}
    cyclic = set(_cycles(conditions, questions))
    for template in cyclic:
        yield FieldError(f"/ui/questions/{escape(template)}/show",
                         f"题目「{_title(questions, template)}」的显示条件循环引用")
    if cyclic:
        return
    for template, condition in conditions.items():
        if _refs_known(condition, questions) and _never_shown(template, conditions, questions):
            yield FieldError(f"/ui/questions/{escape(template)}/show",
                             f"题目「{_title(questions, template)}」的显示条件永远不会成立")


def _title(questions: dict[str, Question], template: str) -> str:
    return questions[template].title or questions[template].name


def _refs_known(condition: dict, questions: dict[str, Question]) -> bool:
    return all(atom["q"] in questions for atom, _ in atoms(condition))


def _check_condition(template: str, condition: dict, at: str,
                     questions: dict[str, Question]) -> Iterator[FieldError]:
    own = split(template)
    for atom, where in atoms(condition):
        ref = atom["q"]
        q = questions.get(ref)
        if q is None:
            yield FieldError(f"{at}{where}/q", f"显示条件引用了不存在的题目「{ref}」")
            continue
        if ref == template:
            yield FieldError(f"{at}{where}/q", "显示条件不能引用题目自己")
            continue
        segments = split(ref)
        for k, segment in enumerate(segments):
            if segment == "*" and segments[:k + 1] != own[:k + 1]:
                yield FieldError(f"{at}{where}/q", f"显示条件引用的「{_title(questions, ref)}」在另一个列表中，无法对应到同一行")
                break
        op = operator(atom)
        if op == "contains" and q.schema.get("type") != "array":
            yield FieldError(f"{at}{where}", f"「{_title(questions, ref)}」不是多选题，不能用 contains")


def _cycles(conditions: dict[str, dict], questions: dict[str, Question]) -> Iterator[str]:
    """Templates whose condition depends, through other conditions, on itself."""
    graph = {t: {a["q"] for a, _ in atoms(c) if a["q"] in questions} for t, c in conditions.items()}
    for start in graph:
        stack, seen = list(graph[start]), set()
        while stack:
            node = stack.pop()
            if node == start:
                yield start
                break
            if node in seen:
                continue
            seen.add(node)
            stack += graph.get(node, ())


def _never_shown(template: str, conditions: dict[str, dict], questions: dict[str, Question]) -> bool:
    """No answers show the question; answers to hidden questions count as absent."""
    involved, stack = [], [template]
    while stack:  # everything the condition depends on, dependencies before dependents
        node = stack.pop()
        for atom, _ in atoms(conditions.get(node, {})):
            if atom["q"] not in involved:
                involved.append(atom["q"])
                stack.append(atom["q"])
    if not all(t in questions for t in involved):
        return False  # reported as a reference to a missing question
    mentioned: dict[str, list[Any]] = {t: [] for t in involved}
    for node in [template, *involved]:
        for atom, _ in atoms(conditions.get(node, {})):
            op = operator(atom)
            if op != "answered":
                mentioned[atom["q"]].append(atom[op])
    domains = {t: candidate_answers(questions[t].schema, mentioned[t]) for t in involved}
    order = _dependency_order(involved, conditions)

    def effective(condition: dict, answers: dict[str, Any]) -> bool:
        seen = dict(answers)
        for node in order:
            if node in conditions and not evaluate_in(conditions[node], seen):
                seen[node] = ABSENT
        return evaluate_in(condition, seen)

    shown = can_hold({"all": [conditions[template]]}, domains, effective)
    return shown is False


def _dependency_order(templates: list[str], conditions: dict[str, dict]) -> list[str]:
    order: list[str] = []

    def visit(node: str) -> None:
        if node in order:
            return
        for atom, _ in atoms(conditions.get(node, {})):
            if atom["q"] in templates:
                visit(atom["q"])
        order.append(node)

    for template in templates:
        visit(template)
    return order
