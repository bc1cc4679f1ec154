"""Finding the questions of a form in its JSON Schema.

A question is a named property, wherever the schema declares it: under `properties`, in the
branches of allOf/anyOf/oneOf/if-then-else and dependentSchemas, behind local `$ref`s, and inside
the `items` of arrays (repeated rows such as household members). Questions are named by pointer
templates into the data, with `*` standing for any row: `/members/*/id_number`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from forms.pointers import escape, join, resolve, split

# Keywords whose subschemas apply to the same instance, so their properties are questions too.
_SAME_INSTANCE = ("allOf", "anyOf", "oneOf")
_SAME_INSTANCE_ONE = ("then", "else")


@dataclass
class Question:
    template: str  # "/members/*/name"
    name: str
    schema: dict  # the property's schema with a leading local $ref followed
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


def follow_ref(root: dict, node: Any, pointer: str, seen: frozenset[str]) -> tuple[Any, str, frozenset[str]]:
    """Follow local `#/...` references; others (anchors, other resources) are left as they are."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
        target = node["$ref"][1:]
        if target in seen:
            return None, pointer, seen  # recursive definition: no further questions
        try:
            node = resolve(root, target)
        except LookupError:
            return None, pointer, seen
        pointer, seen = target, seen | {target}
    return node, pointer, seen


def is_rows(schema: Any, root: dict) -> bool:
    if not isinstance(schema, dict) or "items" not in schema:
        return False
    items, _, _ = follow_ref(root, schema["items"], "", frozenset())
    return isinstance(items, dict) and _declares_properties(items, root, 0)


def _declares_properties(schema: dict, root: dict, depth: int) -> bool:
    if depth > 8:
        return False
    if isinstance(schema.get("properties"), dict) and schema["properties"]:
        return True
    for sub in _same_instance_subschemas(schema, ""):
        node, _, _ = follow_ref(root, sub[0], "", frozenset())
        if isinstance(node, dict) and _declares_properties(node, root, depth + 1):
            return True
    return False


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


def find_questions(root: dict) -> dict[str, Question]:
    """Every question of the form by template, in the order the schema declares them."""
    found: dict[str, Question] = {}
    _walk(root, root, "", [], frozenset(), found, 0)
    return found


def _walk(root: dict, node: Any, pointer: str, data_path: list[str], seen: frozenset[str],
          found: dict[str, Question], depth: int) -> None:
    node, pointer, seen = follow_ref(root, node, pointer, seen)
    if not isinstance(node, dict) or depth > 64:
        return
    props = node.get("properties")
    required = node.get("required") if isinstance(node.get("required"), list) else []
    if isinstance(props, dict):
        for name, sub in props.items():
            sub_pointer = f"{pointer}/properties/{escape(name)}"
            template = join(data_path + [name])
            resolved, resolved_pointer, sub_seen = follow_ref(root, sub, sub_pointer, seen)
            question = found.get(template)
            if question is None:
                question = Question(template, name, resolved if isinstance(resolved, dict) else {},
                                    sub if isinstance(sub, dict) else {}, sub_pointer, node, pointer, [])
                found[template] = question
            if name in required and pointer not in question.required_in:
                question.required_in.append(pointer)
            for declared in (sub, resolved):  # a title beside a $ref wins over the target's
                title = declared.get("title") if isinstance(declared, dict) else None
                if isinstance(title, str) and title not in question.titles:
                    question.titles.append(title)
            if not isinstance(resolved, dict):
                continue
            if is_rows(resolved, root):
                question.rows = True
                _walk(root, resolved["items"], f"{resolved_pointer}/items", data_path + [name, "*"],
                      sub_seen, found, depth + 1)
            elif _declares_properties(resolved, root, 0):
                question.group = True
                _walk(root, resolved, resolved_pointer, data_path + [name], sub_seen, found, depth + 1)
    for sub, sub_pointer in _same_instance_subschemas(node, pointer):
        _walk(root, sub, sub_pointer, data_path, seen, found, depth + 1)
