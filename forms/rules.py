"""Publishing checks of what a form computes: calculations, checks across questions, choice filters and prefills.

Every expression must be one of ours (forms/logic.py), read questions that exist, in the same row as the question
it serves or over all rows, with the types its operators need; calculations must not go round in a circle; a filter
may only allow choices of its question; a prefilled question must be bound to the household file.
"""

from __future__ import annotations

from typing import Any, Iterator

from forms.computing import references
from forms.conditions import choices_of
from forms.errors import FieldError
from forms.logic import LogicError, compile_logic, parse_date, var_template
from forms.pointers import escape, split
from forms.ui import types_of
from forms.walk import Question

_NUMERIC = ("+", "-", "*", "/", "round", "sum", "min", "max")


def check_rules(ui: dict, questions: dict[str, Question]) -> Iterator[FieldError]:
    hints: dict[str, dict] = ui.get("questions", {})
    calculations: dict[str, Any] = {}
    for template, hint in hints.items():
        q = questions.get(template)
        if q is None:
            continue  # reported as a hint for a missing question
        at = f"/ui/questions/{escape(template)}"
        title = q.title or q.name
        if "calculate" in hint:
            if not q.leaf:
                yield FieldError(f"{at}/calculate", f"「{title}」是一组题目，不能计算")
            elif (found := list(_expression(hint["calculate"], f"{at}/calculate", template, questions))):
                yield from found
            else:
                calculations[template] = hint["calculate"]
        if "filter" in hint:
            choices = choices_of(q.schema)
            if choices is None:
                yield FieldError(f"{at}/filter", f"「{title}」不是选择题，不能设置选项筛选")
            else:
                yield from _expression(hint["filter"], f"{at}/filter", template, questions)
                for value, where in _results(hint["filter"], ""):
                    if not any(value == c and type(value) is type(c) for c in choices):
                        yield FieldError(f"{at}/filter{where}", f"「{value}」不是「{title}」的选项")
        if hint.get("prefill") is True and not _bound(q, questions):
            yield FieldError(f"{at}/prefill", f"「{title}」没有绑定到一户一档（x-situation、x-members 或 x-member），不能从档案预填")
        if "prefill_members" in hint:
            yield from _member_filter(hint, f"{at}/prefill_members", q, title)
    for i, rule in enumerate(ui.get("checks", [])):
        at = f"/ui/checks/{i}"
        if rule["pointer"] not in questions:
            yield FieldError(f"{at}/pointer", f"检查的位置「{rule['pointer']}」不是本表单的题目")
            continue
        yield from _expression(rule["rule"], f"{at}/rule", rule["pointer"], questions)
    yield from _cycles(calculations, questions)
    screening = ui.get("screening")
    if screening:
        for key, kind in (("per_person", "number"), ("date", "date")):
            template = screening[key]
            if template not in questions or "*" in split(template):
                yield FieldError(f"/ui/screening/{key}", f"「{template}」应为本表单中不在列表里的题目")
            else:
                for e in _needs({"var": template}, "", questions, kind):
                    yield FieldError(f"/ui/screening/{key}", e.detail)


def _expression(expression: Any, at: str, owner: str, questions: dict[str, Question]) -> Iterator[FieldError]:
    try:
        compile_logic(expression)
    except LogicError as e:
        yield FieldError(at, f"表达式写法不正确：{e}")
        return
    for ref, where in references(expression):
        if ref not in questions:
            yield FieldError(f"{at}{where}", f"表达式引用了不存在的题目「{ref}」")
    yield from _types(expression, at, questions)


def _types(node: Any, at: str, questions: dict[str, Question]) -> Iterator[FieldError]:
    """Operands of `age` must be dates, of arithmetic numbers: answers read by `var` and literals alike."""
    if isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _types(sub, f"{at}/{i}", questions)
        return
    if not isinstance(node, dict) or len(node) != 1:
        return
    op, args = next(iter(node.items()))
    if op == "var":
        return
    operands = args if isinstance(args, list) else [args]
    base = f"{at}/{escape(op)}"
    for i, operand in enumerate(operands):
        where = f"{base}/{i}" if isinstance(args, list) else base
        if op == "age":
            yield from _needs(operand, where, questions, "date")
        elif op in _NUMERIC and not (op == "round" and i == 1):
            yield from _needs(operand, where, questions, "number")
        yield from _types(operand, where, questions)


def _needs(operand: Any, at: str, questions: dict[str, Question], kind: str) -> Iterator[FieldError]:
    name = "日期" if kind == "date" else "数字"
    if isinstance(operand, dict) and len(operand) == 1 and "var" in operand:
        template, _ = var_template(operand["var"])
        q = questions.get(template)
        if q is None:
            return
        schema = q.schema.get("items", {}) if q.schema.get("type") == "array" and kind == "number" else q.schema
        fits = (schema.get("format") == "date" and "string" in types_of(schema) if kind == "date"
                else bool(types_of(schema) & {"number", "integer"}))
        if not fits:
            yield FieldError(f"{at}/var", f"「{q.title or q.name}」不是{name}题目，这里需要{name}")
    elif kind == "date" and operand is not None and not isinstance(operand, dict) and parse_date(operand) is None:
        yield FieldError(at, f"这里需要{name}（如 2025-03-18），「{operand}」不是")
    elif kind == "number" and isinstance(operand, (str, bool)):
        yield FieldError(at, f"这里需要{name}，「{operand}」不是")


def _results(expression: Any, at: str) -> Iterator[tuple[Any, str]]:
    """The literal choices a filter can allow: items of the lists it can come out as."""
    if isinstance(expression, list):
        for i, value in enumerate(expression):
            if not isinstance(value, (dict, list)):
                yield value, f"{at}/{i}"
    elif isinstance(expression, dict) and "if" in expression and isinstance(expression["if"], list):
        branches = expression["if"]
        for i, branch in enumerate(branches):
            if i % 2 == 1 or i == len(branches) - 1:
                yield from _results(branch, f"{at}/if/{i}")


def _member_filter(hint: dict, at: str, q: Question, title: str) -> Iterator[FieldError]:
    """Which members get a prefilled row: an expression over the member's fields and `today`, not the answers."""
    if q.keyword("x-members") is not True or hint.get("prefill") is not True:
        yield FieldError(at, f"「{title}」不是从档案预填的成员列表（x-members 且 prefill），不能筛选成员")
        return
    try:
        compile_logic(hint["prefill_members"])
    except LogicError as e:
        yield FieldError(at, f"表达式写法不正确：{e}")
        return
    for ref, where in references(hint["prefill_members"]):
        yield FieldError(f"{at}{where}", f"成员筛选只读成员的字段（如 birth_date、tags）和 today，不读题目「{ref}」")


def _bound(q: Question, questions: dict[str, Question]) -> bool:
    if isinstance(q.keyword("x-situation"), str) or q.keyword("x-members") is True:
        return True
    if isinstance(q.keyword("x-member"), str):
        owner = questions.get(q.template.rsplit("/", 2)[0])
        return owner is not None and owner.keyword("x-members") is True
    return False


def _cycles(calculations: dict[str, Any], questions: dict[str, Question]) -> Iterator[FieldError]:
    graph = {t: [r for r, _ in references(e) if r in calculations] for t, e in calculations.items()}
    for start in graph:
        path = _path_back(start, graph)
        if path:
            names = " → ".join(questions[t].title or questions[t].name for t in [start, *path])
            yield FieldError(f"/ui/questions/{escape(start)}/calculate", f"计算循环引用：{names}")


def _path_back(start: str, graph: dict[str, list[str]]) -> list[str] | None:
    """A path from `start` through the calculations it reads back to itself, if there is one."""
    stack: list[tuple[str, list[str]]] = [(r, [r]) for r in graph[start]]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        if node == start:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack += [(r, path + [r]) for r in graph.get(node, [])]
    return None
