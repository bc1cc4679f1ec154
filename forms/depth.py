"""How deep untrusted JSON may nest: one bound, checked before anything walks the JSON.

Answers, form schemas, UI hints and request bodies are all handed to code that recurses: jsonschema_rs converts
Python values recursively and gives up at 255 levels with a ValueError, and so do json.dumps, deepcopy and our own
walks, each at its own depth. Checking one bound first, without recursion, turns an absurd document into a refusal
that names where it went too deep, whichever code would have met it first.

The depth of a value is the length of its JSON Pointer: the root is at 0, `/members/0/name` at 3. The built-in forms
reach 8; 64 leaves any real form a wide margin. A request body carries such documents one level down (a
submission's answers at /data, a form's schema at /schema), so a body may reach one level more: BODY_DEPTH.
"""

from __future__ import annotations

from typing import Any

from forms.pointers import join
from forms.references import LOOKUP_ERRORS, Document

MAX_DEPTH = 64
BODY_DEPTH = MAX_DEPTH + 1
TOO_DEEP = f"嵌套层数超过 {MAX_DEPTH} 层"


def too_deep(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """The pointer of the first value (in document order) deeper than `limit`, or None when all fit."""
    # On the hot path of every check, so plain loops (the fastest Python has here) over containers only: a value is
    # too deep exactly when some container at the limit is not empty. The pointer is looked for only then.
    level = [value] if type(value) is dict or type(value) is list else []
    for _ in range(limit):
        below = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) is dict or type(child) is list:
                    below.append(child)
        if not below:
            return None
        level = below
    if not any(level):
        return None
    return join(_first_too_deep(value, limit))


def _first_too_deep(value: Any, limit: int) -> list:
    """The path of the first value deeper than `limit`, depth first, without recursion; it must exist."""
    stack: list[tuple[Any, list]] = [(value, [])]
    while stack:
        node, path = stack.pop()
        if len(path) > limit:
            return path
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        # Scalars matter only where they are themselves too deep.
        stack += [(child, path + [key]) for key, child in reversed(list(children))
                  if isinstance(child, (dict, list)) or len(path) == limit]
    raise AssertionError("no value is too deep")


def depth_bound(schema: Any) -> int | None:
    """The deepest any value valid against `schema` can be, or None when the schema leaves depth open (an object
    open to any property, a list of anything, a recursive reference). It may say more than the truth, never less,
    so an answer the validator accepts under a bound of at most MAX_DEPTH needs no walk of its own."""
    try:
        document = Document(schema)
    except LOOKUP_ERRORS:
        return None
    return _Bounds(document).of(schema, document.resolver, frozenset())


_SCALAR_TYPES = {"string", "number", "integer", "boolean", "null"}
# Keywords whose subschemas judge the same value: with any of them, what `unevaluated*` leaves is theirs to say.
_IN_PLACE = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref", "$dynamicRef", "dependentSchemas")


def _tightest(bounds: list[int | None]) -> int | None:
    """A value meeting every constraint is bounded by the tightest of them."""
    known = [b for b in bounds if b is not None]
    return min(known) if known else None


def _widest(bounds: list[int | None]) -> int | None:
    """A value meeting one of several constraints, by the widest (open if any is)."""
    return None if not bounds or None in bounds else max(bounds)


def _value_depth(value: Any) -> int:
    depth, level = 0, [value]
    while level := [c for n in level if type(n) in (dict, list) for c in (n.values() if type(n) is dict else n)]:
        depth += 1
    return depth


class _Bounds:
    """Walks a schema (itself at most MAX_DEPTH deep, so recursion is safe) following `$ref`s until one repeats."""

    def __init__(self, document: Document):
        self.document = document

    def of(self, node: Any, resolver: Any, seen: frozenset[str]) -> int | None:
        if isinstance(node, bool):
            return None if node else 0
        if not isinstance(node, dict):
            return None
        resolver = Document.enter(resolver, node)
        bounds = [self._shape(node, resolver, seen)]
        if "const" in node:
            bounds.append(_value_depth(node["const"]))
        if isinstance(node.get("enum"), list):
            bounds.append(max((_value_depth(v) for v in node["enum"]), default=0))
        if isinstance(node.get("$ref"), str):
            bounds.append(self._reference(node["$ref"], resolver, seen))
        if isinstance(node.get("allOf"), list):
            bounds += [self.of(sub, resolver, seen) for sub in node["allOf"]]
        for key in ("anyOf", "oneOf"):
            if isinstance(node.get(key), list):
                bounds.append(_widest([self.of(sub, resolver, seen) for sub in node[key]]))
        if "then" in node and "else" in node:
            bounds.append(_widest([self.of(node[k], resolver, seen) for k in ("then", "else")]))
        return _tightest(bounds)

    def _reference(self, ref: str, resolver: Any, seen: frozenset[str]) -> int | None:
        try:
            target, at, inner = self.document.lookup(resolver, ref)
        except LOOKUP_ERRORS:
            return None
        if isinstance(target, bool):
            return self.of(target, inner, seen)
        if at is None or at in seen:  # outside the document, or recursive: no bound from here
            return None
        return self.of(target, inner, seen | {at})

    def _shape(self, node: dict, resolver: Any, seen: frozenset[str]) -> int | None:
        """The bound from `type` and what objects and arrays may hold."""
        declared = node.get("type")
        kinds = {declared} if isinstance(declared, str) else set(declared) if isinstance(declared, list) else None
        if kinds is not None and kinds <= _SCALAR_TYPES:
            return 0
        closed = not any(k in node for k in _IN_PLACE)
        children: list[Any] = []
        if kinds is None or "object" in kinds:
            rest = node.get("additionalProperties", node.get("unevaluatedProperties") if closed else None)
            if rest is None:
                return None
            children += [rest, *_values(node.get("properties")), *_values(node.get("patternProperties"))]
        if kinds is None or "array" in kinds:
            rest = node.get("items", node.get("unevaluatedItems") if closed else None)
            if rest is None:
                return None
            children += [rest, *(node["prefixItems"] if isinstance(node.get("prefixItems"), list) else [])]
        below = [self.of(child, resolver, seen) for child in children if child is not False]
        if not below:
            return 0  # no property or item may be there
        deepest = _widest(below)
        return None if deepest is None else 1 + deepest


def _values(mapping: Any) -> list:
    return list(mapping.values()) if isinstance(mapping, dict) else []
