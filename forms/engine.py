"""Compiled forms and the hot path that checks submitted data against them.

compile_form does the expensive work once per form version: finding the questions, moving the
`required` of conditionally shown questions into the conditions, and compiling one jsonschema_rs
validator that checks the schema and every show condition in a single pass. check() asks that
validator first; only data it rejects pays for the slower walk that names every error.
"""

from __future__ import annotations

import copy
from typing import Any, Iterator

import jsonschema_rs

from forms import messages
from forms.bindings import Changes, binding_changes_for, read_bindings
from forms.computing import Rules
from forms.conditions import atoms, choices_of, evaluate, nest, to_schema
from forms.depth import MAX_DEPTH, depth_bound
from forms.errors import FieldError
from forms.logic import compile_logic
from forms.formats import FAST_FORMATS
from forms.ui import IMAGE_WIDGETS, choice_key
from forms.pointers import escape, join, resolve, split
from forms.prefill import prefill
from forms.references import BASE
from forms.walk import Question, find_questions

# A `required` written inside these is the author's own condition and stays where it is.
_CONDITIONAL_KEYWORDS = {"if", "then", "else", "anyOf", "oneOf", "not", "dependentSchemas"}


def compile_validator(schema: dict) -> Any:
    """The validator of answers. The publishing checks compile each pattern with it too, and resolve references
    against the same base (forms/references.py), so that they judge a schema as it will be judged."""
    return jsonschema_rs.Draft202012Validator(
        schema, formats=FAST_FORMATS, validate_formats=True, offline=True, base_uri=BASE
    )


def _template(path: list) -> str:
    return "".join("/" + ("*" if isinstance(s, int) else escape(str(s))) for s in path)


def concrete(data: Any, segments: list[str], path: tuple = (), rows: tuple = ()) -> Iterator[tuple[list, tuple]]:
    """Every place in `data` matching a template's segments, with the rows its `*`s took."""
    if not segments:
        yield list(path), rows
        return
    head, rest = segments[0], segments[1:]
    if head == "*":
        if isinstance(data, list):
            for i, item in enumerate(data):
                yield from concrete(item, rest, path + (i,), rows + (i,))
    elif isinstance(data, dict) and head in data:
        yield from concrete(data[head], rest, path + (head,), rows)


class CompiledForm:
    def __init__(self, schema: dict, ui: dict):
        self.schema = schema
        self.ui = ui
        self.questions: dict[str, Question] = find_questions(schema)
        hints = ui.get("questions", {}) if isinstance(ui, dict) else {}
        self.conditions: dict[str, dict] = {
            t: hint["show"] for t, hint in hints.items() if "show" in hint and t in self.questions
        }
        self.bindings = read_bindings(self.questions)
        self._titles = {t: q.title for t, q in self.questions.items() if q.title}
        self._labels = self._choice_labels(hints)
        self._photos = [t for t, hint in hints.items() if hint.get("widget") in IMAGE_WIDGETS]
        self._stripped, self._required_when_shown = self._strip_conditional_required()
        fast_schema = dict(self._stripped)
        injections = [self._injection(t, c) for t, c in self.conditions.items()]
        if injections:
            # not-not keeps the meaning and drops annotations, so the engine's own checks cannot
            # change what unevaluatedProperties/unevaluatedItems see in the author's schema.
            fast_schema["allOf"] = [*schema.get("allOf", []), {"not": {"not": {"allOf": injections}}}]
        self._fast = compile_validator(fast_schema)
        # Answers this validator accepts are at most this deep (forms/depth.py), or None: the walk must check them.
        bound = depth_bound(self._stripped)
        self.depth_bound = bound if bound is not None and bound <= MAX_DEPTH else None
        self.is_valid = self._fast.is_valid  # the hot path: one call straight into Rust
        self._base: Any = None
        self.rules = Rules(hints, ui.get("checks", []) if isinstance(ui, dict) else [], self.conditions,
                           self._titles, self._labels)
        self.prefilled = [t for t, hint in hints.items() if hint.get("prefill") is True and t in self.questions]
        members_hint = hints.get(self.bindings.members or "", {})
        self._member_filter = (compile_logic(members_hint["prefill_members"])
                               if "prefill_members" in members_hint else None)

    # --- compiling ----------------------------------------------------------------------------

    def _strip_conditional_required(self) -> tuple[dict, set[str]]:
        stripped = copy.deepcopy(self.schema)
        moved: set[str] = set()
        for template in self.conditions:
            q = self.questions[template]
            if q.parent_pointer not in q.required_in:
                continue
            if _CONDITIONAL_KEYWORDS & set(split(q.parent_pointer)):
                continue
            parent = resolve(stripped, q.parent_pointer)
            parent["required"] = [n for n in parent["required"] if n != q.name]
            if not parent["required"]:
                del parent["required"]
            moved.add(template)
        return stripped, moved

    def _injection(self, template: str, condition: dict) -> dict:
        target = split(template)
        anchor = target[:-1]
        for atom, _ in atoms(condition):
            ref = split(atom["q"])
            common = 0
            while common < min(len(anchor), len(ref)) and anchor[common] == ref[common]:
                common += 1
            anchor = anchor[:common]
        rel = target[len(anchor):]
        hidden = nest(rel[:-1], {"not": {"required": [rel[-1]]}})
        rule: dict = {"if": to_schema(condition, len(anchor)), "else": hidden}
        if template in self._required_when_shown:
            rule["then"] = nest(rel[:-1], {"required": [rel[-1]]})
        return nest(anchor, rule)

    def _choice_labels(self, hints: dict) -> dict[str, dict[str, str]]:
        labels: dict[str, dict[str, str]] = {}
        for template, q in self.questions.items():
            schema = q.schema.get("items", q.schema) if q.schema.get("type") == "array" else q.schema
            found: dict[str, str] = {}
            for key in ("oneOf", "anyOf"):
                for option in schema.get(key, []) if isinstance(schema, dict) else []:
                    if isinstance(option, dict) and "const" in option and isinstance(option.get("title"), str):
                        found[choice_key(option["const"])] = option["title"]
            found.update(hints.get(template, {}).get("choices", {}))
            if found:
                labels[template] = found
        return labels

    # --- reading ------------------------------------------------------------------------------

    @property
    def plain_schema(self) -> dict:
        """The author's schema with conditional questions' `required` moved into the conditions."""
        return self._stripped

    def question_titles(self) -> dict[str, str]:
        """Titles by pointer template (`/members/*/name`), in schema order, for export columns."""
        return dict(self._titles)

    def choice_labels(self) -> dict[str, dict[str, str]]:
        """Labels of choices by template, keyed as `choices` keys are (see ui.choice_key)."""
        return {t: dict(labels) for t, labels in self._labels.items()}

    def label_for(self, template: str, value: Any) -> str:
        return self._labels.get(template, {}).get(choice_key(value), messages.show(value))

    def photo_templates(self) -> list[str]:
        return list(self._photos)

    def photo_pointers(self, data: Any) -> list[tuple[str, str]]:
        """(pointer, sha256) of every answer to a photo or signature question in `data`."""
        found = []
        for template in self._photos:
            for path, _ in concrete(data, split(template)):
                value = _lookup_path(data, path)
                values = value if isinstance(value, list) else [value]
                for i, sha in enumerate(values):
                    if isinstance(sha, str):
                        found.append((join(path + [i] if isinstance(value, list) else path), sha))
        return found

    def title_for(self, template: str, schema_path: list | None = None) -> str:
        if template in self._titles:
            return self._titles[template]
        if schema_path:
            try:
                node = resolve(self._stripped, join(schema_path[:-1]))
                if isinstance(node, dict) and isinstance(node.get("title"), str):
                    return node["title"]
            except LookupError:
                pass
        segments = split(template)
        while segments:
            segments.pop()
            if join(segments) in self._titles:
                return self._titles[join(segments)]
        parts = [s for s in split(template) if s != "*"]
        return parts[-1] if parts else "本表单"

    # --- checking -----------------------------------------------------------------------------

    def report(self, data: Any) -> list[FieldError]:
        """Every error in data the fast validator rejected, named by question title."""
        errors: list[FieldError] = []
        hidden_answered: list[str] = []
        for template, condition in self.conditions.items():
            segments = split(template)
            name = segments[-1]
            for path, rows in concrete(data, segments[:-1]):
                parent = _lookup_path(data, path)
                if not isinstance(parent, dict):
                    continue
                pointer = join(path + [name])
                shown = evaluate(condition, data, rows)
                if not shown and name in parent:
                    errors.append(FieldError(pointer, messages.hidden(self.title_for(template))))
                    hidden_answered.append(pointer)
                elif shown and name not in parent and template in self._required_when_shown:
                    errors.append(FieldError(pointer, messages.missing(self.title_for(template))))
        if self._base is None:
            self._base = compile_validator(self._stripped)
        for error in self._base.iter_errors(data):
            for found in self._translate(error):
                if not any(found.pointer == h or found.pointer.startswith(h + "/") for h in hidden_answered):
                    errors.append(found)
        if not errors:
            # The two passes disagree only if a condition was translated wrongly; never accept then.
            errors.append(FieldError("", "提交内容不符合表单要求"))
        return list(dict.fromkeys(errors))

    def _translate(self, error: Any) -> Iterator[FieldError]:
        path = list(error.instance_path)
        pointer, template = join(path), _template(path)
        kind_name = type(error.kind).__name__
        kind = error.kind.as_dict()
        schema_path = list(error.schema_path)
        if kind_name == "Required":
            name = kind["property"]
            sub = f"{template}/{escape(name)}"
            title = self._titles.get(sub) or self._property_title(schema_path, name) or name
            yield FieldError(f"{pointer}/{escape(name)}", messages.missing(title))
        elif kind_name in ("AdditionalProperties", "UnevaluatedProperties"):
            for name in kind.get("unexpected", []):
                yield FieldError(f"{pointer}/{escape(name)}", messages.unexpected(name))
        elif kind_name in ("OneOfNotValid", "AnyOf") and self._is_choice(schema_path):
            yield FieldError(pointer, messages.describe("Enum", kind, None, self.title_for(template), None))
        else:
            title = self.title_for(template, schema_path)
            yield FieldError(pointer, messages.describe(kind_name, kind, error.instance, title,
                                                        self._labels.get(template)))

    def _property_title(self, schema_path: list, name: str) -> str | None:
        try:
            node = resolve(self._stripped, join(schema_path[:-1]))
            title = node["properties"][name]["title"]
        except (LookupError, KeyError, TypeError):
            return None
        return title if isinstance(title, str) else None

    def _is_choice(self, schema_path: list) -> bool:
        try:
            node = resolve(self._stripped, join(schema_path[:-1]))
        except LookupError:
            return False
        return isinstance(node, dict) and choices_of(node) is not None

    def prefill(self, household: dict, today: str | None = None) -> dict:
        """Answers of the prefilled questions from the household file (forms/prefill.py), `today` a YYYY-MM-DD."""
        return prefill(self.questions, self.bindings, self.prefilled, household, self._member_filter, today)

    def changes(self, data: dict) -> Changes:
        return binding_changes_for(self.bindings, data)


def _lookup_path(data: Any, path: list) -> Any:
    for segment in path:
        data = data[segment]
    return data
