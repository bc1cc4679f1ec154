"""A form's schema as a document of subschemas, with `$ref`s resolved as the validator resolves them.

Draft 2020-12 resolves a reference against the base URI in force where it is written: the form's `$id` (or a base
of ours when it has none), changed by every `$id` on the way down, so `#/$defs/x` inside an embedded resource means
that resource's `$defs`, and a URN `$id` is a base like any other. The reference implementation's `referencing`
library does exactly that; the publishing checks and the question finder both ask it, and the compiled validator
gets the same base, so all three read a reference alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import jsonschema_specifications
import referencing.exceptions
from referencing.jsonschema import DRAFT202012

if TYPE_CHECKING:
    from referencing._core import Resolver  # not exported by referencing; annotations only

from forms.pointers import escape

# The base URI of a form without an `$id`: the validator gets it too (compile_validator).
BASE = "https://doorstep.invalid/form.json"

# Where 2020-12 keeps subschemas: the same keywords as referencing's DRAFT202012, so that an `$id` or `$ref` inside
# anything else (an unknown keyword, a `const`) is data, as the validator treats it.
IN_VALUE = ("additionalProperties", "contains", "contentSchema", "else", "if", "items", "not", "propertyNames",
            "then", "unevaluatedItems", "unevaluatedProperties")
IN_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
IN_MAP = ("$defs", "definitions", "dependentSchemas", "patternProperties", "properties")

# What a reference may fail with: referencing's own refusal, and what it lets through on a malformed reference
# (a pointer segment that is not an index of a list, a URI urljoin cannot read).
LOOKUP_ERRORS = (referencing.exceptions.Unresolvable, ValueError, TypeError)


def subschemas(node: Any, at: str) -> Iterator[tuple[Any, str]]:
    """The direct subschemas of a schema object, with their pointers."""
    if not isinstance(node, dict):
        return
    for key in IN_VALUE:
        if key in node:
            yield node[key], f"{at}/{key}"
    for key in IN_LIST:
        if isinstance(node.get(key), list):
            for i, sub in enumerate(node[key]):
                yield sub, f"{at}/{key}/{i}"
    for key in IN_MAP:
        if isinstance(node.get(key), dict):
            for name, sub in node[key].items():
                yield sub, f"{at}/{key}/{escape(name)}"


def schema_nodes(root: Any) -> Iterator[tuple[dict, str]]:
    """Every schema object under `root` (itself included) with its pointer, in document order, without recursion."""
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, at = stack.pop()
        if isinstance(node, dict):
            yield node, at
            stack += reversed(list(subschemas(node, at)))


class Document:
    """A schema with its references resolvable; every lookup answers with the target, its pointer and the scope."""

    def __init__(self, root: dict):
        """Raises one of LOOKUP_ERRORS when the `$id`s themselves cannot be read."""
        self.root = root
        resource = DRAFT202012.create_resource(root)
        registry = jsonschema_specifications.REGISTRY.with_resource(BASE, resource).crawl()
        self.resolver: Resolver = registry.resolver(base_uri=BASE).in_subresource(resource)
        self._pointers: dict[int, str] = {}
        stack: list[tuple[Any, str]] = [(root, "")]
        while stack:  # every object and list, so a pointer found by reference can be named; no recursion
            node, at = stack.pop()
            if isinstance(node, dict):
                self._pointers.setdefault(id(node), at)
                stack += [(v, f"{at}/{escape(k)}") for k, v in node.items()]
            elif isinstance(node, list):
                self._pointers.setdefault(id(node), at)
                stack += [(v, f"{at}/{i}") for i, v in enumerate(node)]

    @staticmethod
    def enter(resolver: Resolver, node: Any) -> Resolver:
        """The scope inside `node`, a subschema reached by walking down (not by reference): its `$id` counts."""
        if isinstance(node, dict) and isinstance(node.get("$id"), str):
            return resolver.in_subresource(DRAFT202012.create_resource(node))
        return resolver

    def nodes(self) -> Iterator[tuple[dict, str, Resolver]]:
        """Every schema object of the document with its pointer and scope, without recursion."""
        stack: list[tuple[Any, str, Resolver]] = [(self.root, "", self.resolver)]
        while stack:
            node, at, resolver = stack.pop()
            if isinstance(node, dict):
                yield node, at, resolver
                stack += [(sub, sub_at, self.enter(resolver, sub)) for sub, sub_at in reversed(list(subschemas(node, at)))]

    def lookup(self, resolver: Resolver, ref: str) -> tuple[Any, str | None, Resolver]:
        """The target of `ref` written where `resolver` is in scope, its pointer in this document (None when it
        lies outside, as the meta-schemas do) and the scope inside it; raises one of LOOKUP_ERRORS."""
        resolved = resolver.lookup(ref)
        contents = resolved.contents
        at = self._pointers.get(id(contents)) if isinstance(contents, (dict, list)) else None
        return contents, at, resolved.resolver

    def follow(self, node: Any, at: str, resolver: Resolver,
               seen: frozenset[str]) -> tuple[Any, str, Resolver, frozenset[str]]:
        """Follow a chain of `$ref`s from `node` to a schema without one; None for the node when a reference cannot
        be followed (unresolvable, outside the document, or back to where the chain has already been)."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            try:
                node, target, resolver = self.lookup(resolver, node["$ref"])
            except LOOKUP_ERRORS:
                return None, at, resolver, seen
            if isinstance(node, bool):  # a reference to `true` or `false`: a schema, with nothing inside
                return node, at, resolver, seen
            if target is None or target in seen:
                return None, at, resolver, seen
            at, seen = target, seen | {target}
        return node, at, resolver, seen
