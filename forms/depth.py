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
