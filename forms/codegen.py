"""Expressions and the walks over a form's rows, written once per form version as Python source and compiled.

A submission evaluates every calculation and check of its form in every row; as a tree of closures the work went
mostly into calls. Written out as source, a path is read in place and the rows are plain loops. The source holds
only names of ours: every value a form brings (a question's key, a constant, a default) is bound in the namespace
as `_c<n>`, never written into the source, so that no form can put code into it.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

from forms import operators as ops
from forms.conditions import ABSENT, evaluate as shown, json_equal

# Python's parser nests parentheses only so far: an expression deeper than this many operators, and a chain of
# `and`/`or`/`if` longer than CHAIN, goes on in a function of its own.
NESTING = 8
CHAIN = 16
# A path longer than this is read by a helper, a template deeper than this walked by one: no form comes close.
INLINE_PATH = 8

_HELPERS = {
    "_truthy": ops.truthy, "_equal": json_equal, "_within": ops.within, "_between": ops.between,
    "_less": ops.less, "_at_most": ops.at_most, "_more": ops.more, "_at_least": ops.at_least,
    "_add": ops.add, "_multiply": ops.multiply, "_subtract": ops.subtract, "_divide": ops.divide,
    "_round": ops.round_to, "_sum": ops.total, "_count": ops.count, "_count_one": ops.count_one,
    "_min": ops.least, "_max": ops.greatest, "_age": ops.age,
    "_read_path": ops.read_path, "_MISSING": ops.MISSING,
    "_parents": ops.parents, "_ABSENT": ABSENT, "_shown": shown, "_NO_CONTEXT": {}, "_SCALARS": (str, int, float),
}
_COMPARISONS = {"<": "_less", "<=": "_at_most", ">": "_more", ">=": "_at_least"}
_CALLS = {"+": "_add", "*": "_multiply", "-": "_subtract", "/": "_divide", "round": "_round", "sum": "_sum",
          "count": "_count", "min": "_min", "max": "_max", "age": "_age", "in": "_within", "==": "_equal"}


class Source:
    """The namespace and names of the functions of one form version."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = dict(_HELPERS)
        self._names = itertools.count()
        self._held: dict[tuple, tuple[str, type]] = {}  # while a walk's body is written: its nodes by path, and type
        self.rows_read = False  # whether what was written since over_rows began a body reads the rows `r`

    def constant(self, value: Any) -> str:
        name = f"_c{next(self._names)}"
        self.namespace[name] = value
        return name

    def temporary(self) -> str:
        return f"_t{next(self._names)}"

    def compile(self, lines: list[str]) -> Callable:
        """The function defined by `lines` (`def _f(...)` first)."""
        code = "\n".join(lines)
        exec(compile(code, "<form>", "exec"), self.namespace)
        return self.namespace.pop("_f")

    def function(self, expression: str) -> Callable:
        """A function of (answers, rows, context) returning `expression`."""
        return self.compile(["def _f(d, r, c):", f"    return {expression}"])

    def call_of_own(self, write: Callable[[], str]) -> str:
        """A call of a function of its own returning what `write()` writes, which reads from the answers alone."""
        held, self._held = self._held, {}  # the walk's nodes are not in that function's scope
        try:
            called = self.constant(self.function(write()))
        finally:
            self._held = held
        self.rows_read = True
        return f"{called}(d, r, c)"

    # --- expressions (forms/logic.py checks them and gives each operator's parts) ---------------

    def operator(self, op: str, parts: list[str]) -> str:
        """The source of an operator applied to the sources of its operands."""
        if op in ("and", "or"):
            tests = [(self.temporary(), p) for p in parts[:-1]]
            keep = "not _truthy" if op == "and" else "_truthy"  # the value it stops at, else the last one's
            return "(" + "".join(f"{t} if {keep}({t} := {p}) else " for t, p in tests) + parts[-1] + ")"
        if op == "if":
            pairs = "".join(f"{then} if _truthy({test}) else " for test, then in zip(parts[::2], parts[1::2]))
            return f"({pairs}{parts[-1] if len(parts) % 2 else 'None'})"
        if op == "!":
            return f"(not _truthy({parts[0]}))"
        if op == "!!":
            return f"_truthy({parts[0]})"
        if op == "!=":
            return f"(not _equal({parts[0]}, {parts[1]}))"
        if op in _COMPARISONS:
            if len(parts) == 3:
                return f"_between({_COMPARISONS[op]}, {', '.join(parts)})"
            return f"{_COMPARISONS[op]}({parts[0]}, {parts[1]})"
        if op == "count" and len(parts) == 1:
            return f"_count_one({parts[0]})"
        return f"{_CALLS[op]}({', '.join(parts)})"

    def read(self, segments: list[str], bound: int, default: Any) -> str:
        """The source reading the answer at a template whose first `bound` `*`s take the rows `r`."""
        fallback = self.constant(default)
        if segments.count("*") != bound or len(segments) > INLINE_PATH:  # a fan-out, or a path too long to inline
            self.rows_read = True
            return f"_read_path(d, {self.constant(tuple(segments))}, r[:{bound}], {fallback})"
        # Inside a walk over rows, start from the deepest object or list the walk already holds on the way.
        start = max((n for n in range(len(segments) + 1) if tuple(segments[:n]) in self._held), default=None)
        source, kind = self._held[tuple(segments[:start])] if start is not None else ("d", None)
        row = segments[:start or 0].count("*")
        for i, step in enumerate(segments[start or 0:], start or 0):
            missing = fallback if i == len(segments) - 1 else "_MISSING"
            node = self.temporary()
            if step == "*":
                self.rows_read = True
                rows = source if kind is list else f"({node} if type({node} := {source}) is list else ())"
                item = self.temporary()
                source = f"({item}[r[{row}]] if r[{row}] < len({item} := {rows}) else {missing})"
                row += 1
            elif kind is dict:
                source = f"{source}.get({self.constant(step)}, {missing})"
            else:
                source = f"({node}.get({self.constant(step)}, {missing}) if type({node} := {source}) is dict " \
                         f"else {missing})"
            kind = None
        return source

    # --- walks over rows -----------------------------------------------------------------------

    def over_rows(self, segments: list[str], body: Callable[[str, str], list[str]]) -> list[str]:
        """Lines running the lines `body(parent, rows)` writes for each object that holds a template's last segment
        (answered or not), `parent` the source of that object and `rows` of the rows its `*`s took (`r` too, when
        the body reads it); the body's reads start from the nodes the walk holds."""
        if len(segments) > INLINE_PATH:
            return [f"for p, r in _parents(d, {self.constant(segments)}):", *("    " + line for line in body("p", "r"))]
        lines, indent, node, rows, held = [], "", "d", [], {}
        for depth, step in enumerate(segments[:-1]):
            below = self.temporary()
            if step == "*":
                row = self.temporary()
                lines += [f"{indent}if type({node}) is list:", f"{indent}    for {row}, {below} in enumerate({node}):"]
                indent += "        "
                rows.append(row)
                held[tuple(segments[:depth])] = (node, list)
            else:
                key = self.constant(step)
                lines += [f"{indent}if type({node}) is dict and {key} in {node}:", f"{indent}    {below} = {node}[{key}]"]
                indent += "    "
                held[tuple(segments[:depth])] = (node, dict)
            node = below
        held[tuple(segments[:-1])] = (node, dict)
        rows_source = "(" + "".join(r + ", " for r in rows) + ")"
        self._held, self.rows_read = held, False
        try:
            written = body(node, rows_source)
        finally:
            self._held = {}
        lines += [f"{indent}if type({node}) is dict:"] + ([f"{indent}    r = {rows_source}"] if self.rows_read else [])
        return lines + [indent + "    " + line for line in written]
