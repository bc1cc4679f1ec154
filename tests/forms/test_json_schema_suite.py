"""The official JSON Schema Test Suite for draft 2020-12 judges the form engine.

Each group of the suite (a schema and tests of data against it) becomes a form: publishing must accept it, and
check() must give every test the suite's verdict, formats judged as docs/forms.md documents them.

A form's root is an object whose properties are questions, so a group's schema S becomes the question `value`:
`{"type": "object", "required": ["value"], "properties": {"value": S}}`, and the data D is sent as `{"value": D}`.
Three things keep S meaning what it means alone:
- S gets an `$id` when it has none, so that its own `#...` references still mean S and not the wrapper (the
  embedded resource is exactly what forms must support: a `$ref` resolved against an embedded `$id`);
- S's `$schema` moves to the wrapper, where a form declares its draft;
- every question the engine finds gets a `title` (a rule of forms, not of JSON Schema); a question declared as a
  boolean schema b becomes `{"title": …, "allOf": [b]}`, which is the same schema.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from forms import check, check_definition, compile_form
from forms.formats import ASSERTED_FORMATS
from forms.walk import find_questions

SUITE = Path(__file__).parent / "json_schema_test_suite" / "tests" / "draft2020-12"
VALUE_ID = "https://doorstep.invalid/suite/value.json"

# --- groups left out, and why ---------------------------------------------------------------------------------------

REMOTE = ("refers to a document of the suite's remotes/ (served at http://localhost:1234) or uses one as its "
          "meta-schema; a form cannot fetch anything, so publishing refuses it (checked below)")
NUL = "holds U+0000, which no text column (PostgreSQL text or jsonb) stores: no form or answer can carry it"

LEFT_OUT: dict[tuple[str, str], str] = {
    **{("refRemote.json", group): REMOTE for group in (
        "remote ref", "fragment within remote ref", "anchor within remote ref", "ref within remote ref",
        "base URI change", "base URI change - change folder", "base URI change - change folder in subschema",
        "root ref in remote ref", "remote ref with ref to defs", "Location-independent identifier in remote ref",
        "retrieved nested refs resolve relative to their URI not $id", "remote HTTP ref with different $id",
        "remote HTTP ref with different URN $id", "remote HTTP ref with nested absolute ref",
        "$ref to $ref finds detached $anchor")},
    **{("dynamicRef.json", group): REMOTE for group in (
        "strict-tree schema, guards against misspelled properties",
        "tests for implementation dynamic anchor and reference link",
        "$ref and $dynamicAnchor are independent of order - $defs first",
        "$ref and $dynamicAnchor are independent of order - $ref first",
        "$ref to $dynamicRef finds detached $dynamicAnchor")},
    ("optional/cross-draft.json", "refs to historic drafts are processed as historic drafts"): REMOTE,
    ("optional/format-assertion.json", "schema that uses custom metaschema with format-assertion: false"): REMOTE,
    ("optional/format-assertion.json", "schema that uses custom metaschema with format-assertion: true"): REMOTE,
    ("vocabulary.json", "schema that uses custom metaschema with with no validation vocabulary"): REMOTE,
    ("vocabulary.json", "ignore unrecognized optional vocabulary"): REMOTE,
    ("const.json", "nul characters in strings"): NUL,
    ("enum.json", "nul characters in strings"): NUL,
}

# --- formats, as documented -----------------------------------------------------------------------------------------
# The guide asserts date, date-time, time, email and uuid (and Doorstep's own formats) and only annotates any other:
# every test of another format is valid. Where the suite's verdict on an asserted format differs from the guide's
# definition, the guide's stands, for the reason given.

ASSERTED_BY_GUIDE = "format.json assumes formats only annotate; the guide asserts this one"
NO_LEAP_SECOND = "the guide's times have no leap second (:60)"
PLAIN_EMAIL = "the guide's email is a plain address: printable ASCII local part (no quotes), dotted domain"
DOTS_UNCHECKED = "the guide's email local part is any printable ASCII: dots are not checked"

FORMAT_VERDICTS: dict[tuple[str, str, str], tuple[bool, str]] = {
    **{("format.json", f"{name} format", f"invalid {name} string is only an annotation by default"):
       (False, ASSERTED_BY_GUIDE) for name in ("email", "date", "date-time", "time", "uuid")},
    **{("optional/format/date-time.json", "validation of date-time strings", test): (False, NO_LEAP_SECOND)
       for test in ("a valid date-time with a leap second, UTC", "a valid date-time with a leap second, with minus offset")},
    **{("optional/format/time.json", "validation of time strings", test): (False, NO_LEAP_SECOND) for test in (
        "a valid time string with leap second, Zulu", "valid leap second, zero time-offset",
        "valid leap second, positive time-offset", "valid leap second, large positive time-offset",
        "valid leap second, negative time-offset", "valid leap second, large negative time-offset")},
    **{("optional/format/email.json", "validation of e-mail addresses", test): (False, PLAIN_EMAIL) for test in (
        "a quoted string with a space in the local part is valid",
        "a quoted string with a double dot in the local part is valid",
        "a quoted string with a @ in the local part is valid",
        "an IPv4-address-literal after the @ is valid", "an IPv6-address-literal after the @ is valid")},
    **{("optional/format/email.json", "validation of e-mail addresses", test): (True, DOTS_UNCHECKED) for test in (
        "dot before local part is not valid", "dot after local part is not valid",
        "two subsequent dots inside local part are not valid")},
}


def groups() -> list[tuple[str, dict]]:
    return [(path.relative_to(SUITE).as_posix(), group)
            for path in sorted(SUITE.rglob("*.json")) for group in json.loads(path.read_text(encoding="utf-8"))]


GROUPS = groups()
KEPT = [(file, group) for file, group in GROUPS if (file, group["description"]) not in LEFT_OUT]


def as_form(schema: bool | dict) -> dict:
    """A group's schema as a form whose question `value` is that schema (see the module's docstring)."""
    root: dict = {"type": "object", "required": ["value"]}
    if isinstance(schema, dict):
        value = copy.deepcopy(schema)
        if "$schema" in value:
            root["$schema"] = value.pop("$schema")
        value.setdefault("$id", VALUE_ID)
        value.setdefault("title", "值")
    else:
        value = {"title": "值", "allOf": [schema]}
    root["properties"] = {"value": value}
    for question in find_questions(root).values():
        declared = question.parent["properties"][question.name]
        if isinstance(declared, dict):
            declared.setdefault("title", question.name)
        else:
            question.parent["properties"][question.name] = {"title": question.name, "allOf": [declared]}
    return root


def expected(file: str, group: dict, test: dict) -> bool:
    if (file, group["description"], test["description"]) in FORMAT_VERDICTS:
        return FORMAT_VERDICTS[(file, group["description"], test["description"])][0]
    schema = group["schema"]
    if file.startswith("optional/format/") or file == "format.json":
        if isinstance(schema, dict) and schema.get("format") not in ASSERTED_FORMATS:
            return True  # only an annotation, as the guide says
    return test["valid"]


@pytest.mark.parametrize("file, group", KEPT, ids=[f"{file}::{group['description']}" for file, group in KEPT])
def test_suite_group_publishes_and_the_engine_gives_every_verdict(file, group):
    schema = as_form(group["schema"])
    assert check_definition(schema, {}) == []
    form = compile_form(schema, {})
    wrong = []
    for test in group["tests"]:
        errors = check(form, {"value": test["data"]})
        assert all(e.detail and (e.pointer == "" or e.pointer.startswith("/")) for e in errors), errors
        if (errors == []) is not expected(file, group, test):
            wrong.append((test["description"], test["data"], errors))
    assert not wrong


REMOTE_GROUPS = [(file, group) for file, group in GROUPS if LEFT_OUT.get((file, group["description"])) == REMOTE]


@pytest.mark.parametrize("file, group", REMOTE_GROUPS, ids=[f"{f}::{g['description']}" for f, g in REMOTE_GROUPS])
def test_group_needing_a_remote_document_is_refused_for_that_alone(file, group):
    errors = check_definition(as_form(group["schema"]), {})
    assert errors and all(e.pointer.endswith(("/$ref", "/$dynamicRef", "/$schema")) for e in errors), errors


def test_every_group_left_out_and_every_format_verdict_names_a_real_test():
    present = {(file, group["description"]) for file, group in GROUPS}
    assert set(LEFT_OUT) <= present
    tests = {(file, group["description"], test["description"]) for file, group in GROUPS for test in group["tests"]}
    assert set(FORMAT_VERDICTS) <= tests
    assert len(KEPT) > 400  # the suite is all there
