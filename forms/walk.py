"""Finding the questions of a form in its JSON Schema.

A question is a named property, wherever the schema declares it: under `properties`, in the
branches of allOf/anyOf/oneOf/if-then-else and dependentSchemas, behind `$ref`s (resolved as the
validator resolves them: forms/references.py), and inside the `items` of arrays (repeated rows
such as household members). Questions are named by pointer templates into the data, with `*`
standing for any row: `/members/*/id_number`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from forms.pointers import escape, join, split
from forms.references import LOOKUP_ERRORS, Document

if TYPE_CHECKING:
    from forms.references import Resolver

# Keywords whose subschemas apply to the same instance, so their properties are questions too.
_SAME_INSTANCE = ("allOf", "anyOf", "oneOf")
_SAME_INSTANCE_ONE = ("then", "else")
# Definitions are at most 64 levels deep (forms/depth.py); only a recursive definition could lead further.
_MAX_WALK = 64


@dataclass
class Question:
    template: str  # "/members/*/name"
    name: str
    schema: dict  # the property's schema with its leading $refs followed
    declared: dict  # the property's schema as written (it may carry x- keywords beside $ref)
    schema_pointer: str  # where the property is declared, in the schema document
    parent: dict  # the object schema whose `properties` declare it
    parent_pointer: str
    required_in: list[str]  # pointers of the object schemas whose `required` names it
    rows: bool = False  # an array whose items are objects (members, needs…)
    group: bool = False  # an object with questions of its own
    titles: list[str] = field(default_factory=list)

    @property
    def title(self) -> str | None:
        return self.titles[0] if self.titles else None

    def keyword(self, name: str) -> Any:
        """An x- keyword of the question, written beside a $ref or in its target."""
        if name in self.declared:
            return self.declared[name]
        return self.schema.get(name)

    @property
    def required(self) -> bool:
        return bool(self.required_in)

    @property
    def leaf(self) -> bool:
        return not (self.rows or self.group)

    @property
    def segments(self) -> list[str]:
        return split(self.template)


def find_questions(root: dict) -> dict[str, Question]:
    """Every question of the form by template, in the order the schema declares them."""
    try:
        document = Document(root)
    except LOOKUP_ERRORS:
        return {}  # its $ids cannot be read: the publishing checks say so
    finder = _Finder(document)
    finder.walk(root, "", document.resolver, [], frozenset(), 0)
    return finder.found


class _Finder:
    """One walk over a schema. A node is walked in its own scope (its `$id` counts); `seen` holds the pointers of
    the `$ref` targets on the way down, so that a recursive definition ends the walk instead of looping; and a node
    is walked once for each place in the answers, so that branches referring to the same definitions (a diamond,
    repeated) do not multiply the walk."""

    def __init__(self, document: Document):
        self.document = document
        self.found: dict[str, Question] = {}
        self._walked: set[tuple[str, str]] = set()

    def walk(self, node: Any, pointer: str, resolver: Resolver, data_path: list[str], seen: frozenset[str],
             depth: int) -> None:
        if not isinstance(node, dict) or depth > _MAX_WALK or (pointer, join(data_path)) in self._walked:
            return
        self._walked.add((pointer, join(data_path)))
        props = node.get("properties")
        required = node.get("required") if isinstance(node.get("required"), list) else []
        if isinstance(props, dict):
            for name, sub in props.items():
                self._question(node, pointer, name, sub, Document.enter(resolver, sub), data_path, seen,
                               name in required, depth)
        for sub, sub_pointer in _same_instance_subschemas(node, pointer):
            self.walk(sub, sub_pointer, Document.enter(resolver, sub), data_path, seen, depth + 1)
        target = self._ref(node, resolver, seen)
        if target is not None:  # in 2020-12 a $ref applies beside its siblings, like one more allOf branch
            self.walk(*target[:3], data_path, target[3], depth + 1)

    def _question(self, parent: dict, parent_pointer: str, name: str, sub: Any, resolver: Resolver,
                  data_path: list[str], seen: frozenset[str], required: bool, depth: int) -> None:
        sub_pointer = f"{parent_pointer}/properties/{escape(name)}"
        template = join(data_path + [name])
        resolved, _, _, _ = self.document.follow(sub, sub_pointer, resolver, seen)
        question = self.found.get(template)
        if question is None:
            question = Question(template, name, resolved if isinstance(resolved, dict) else {},
                                sub if isinstance(sub, dict) else {}, sub_pointer, parent, parent_pointer, [])
            self.found[template] = question
        if required and parent_pointer not in question.required_in:
            question.required_in.append(parent_pointer)
        for declared in (sub, resolved):  # a title beside a $ref wins over the target's
            title = declared.get("title") if isinstance(declared, dict) else None
            if isinstance(title, str) and title not in question.titles:
                question.titles.append(title)
        items = self._items(sub, sub_pointer, resolver, seen)
        if items is not None and self._declares_properties(*items, 0):
            question.rows = True
            self.walk(*items[:3], data_path + [name, "*"], items[3], depth + 1)
        elif self._declares_properties(sub, sub_pointer, resolver, seen, 0):
            question.group = True
            self.walk(sub, sub_pointer, resolver, data_path + [name], seen, depth + 1)

    def _ref(self, node: dict, resolver: Resolver, seen: frozenset[str]) -> tuple | None:
        """(target, pointer, scope, seen) of the node's $ref, or None when there is nothing to walk there."""
        if not isinstance(node.get("$ref"), str):
            return None
        try:
            target, at, target_resolver = self.document.lookup(resolver, node["$ref"])
        except LOOKUP_ERRORS:
            return None
        if not isinstance(target, dict) or at is None or at in seen:
            return None
        return target, at, target_resolver, seen | {at}

    def _items(self, node: Any, pointer: str, resolver: Resolver, seen: frozenset[str]) -> tuple | None:
        """(items, pointer, scope, seen) of an array question, its own or behind its $refs."""
        for _ in range(_MAX_WALK):
            if not isinstance(node, dict):
                return None
            if "items" in node:
                items = node["items"]
                return items, f"{pointer}/items", Document.enter(resolver, items), seen
            target = self._ref(node, resolver, seen)
            if target is None:
                return None
            node, pointer, resolver, seen = target
        return None

    def _declares_properties(self, node: Any, pointer: str, resolver: Resolver, seen: frozenset[str],
                             depth: int) -> bool:
        if not isinstance(node, dict) or depth > 8:
            return False
        if isinstance(node.get("properties"), dict) and node["properties"]:
            return True
        branches = [(sub, at, Document.enter(resolver, sub), seen) for sub, at in _same_instance_subschemas(node, pointer)]
        target = self._ref(node, resolver, seen)
        return any(self._declares_properties(*branch, depth + 1) for branch in branches + ([target] if target else []))


def _same_instance_subschemas(schema: dict, pointer: str) -> Iterator[tuple[Any, str]]:
    for key in _SAME_INSTANCE:
        if isinstance(schema.get(key), list):
            for i, sub in enumerate(schema[key]):
                yield sub, f"{pointer}/{key}/{i}"
    for key in _SAME_INSTANCE_ONE:
        if key in schema:
            yield schema[key], f"{pointer}/{key}"
    if isinstance(schema.get("dependentSchemas"), dict):
        for name, sub in schema["dependentSchemas"].items():
            yield sub, f"{pointer}/dependentSchemas/{escape(name)}"
