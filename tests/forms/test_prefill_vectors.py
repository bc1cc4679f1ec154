"""The prefill table (prefill_vectors.json) against forms/prefill.py; tests/test_field_app.py runs the same table
against the field app's form/prefill.js in Chromium, so that a phone offline starts a form as the server would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forms import check_definition, compile_form
from forms.library import builtin_forms

TABLE = json.loads((Path(__file__).with_name("prefill_vectors.json")).read_text(encoding="utf-8"))
BUILTIN = {form["slug"]: form for form in builtin_forms()}


def form_of(vector: dict) -> tuple[dict, dict]:
    if "form" in vector:
        return BUILTIN[vector["form"]]["schema"], BUILTIN[vector["form"]]["ui"]
    return vector["schema"], vector["ui"]


@pytest.mark.parametrize("vector", TABLE["vectors"], ids=[v["name"] for v in TABLE["vectors"]])
def test_the_server_prefills_as_the_table_says(vector: dict) -> None:
    schema, ui = form_of(vector)
    assert check_definition(schema, ui) == []  # every form of the table publishes
    household = TABLE["households"][vector["household"]]
    assert compile_form(schema, ui).prefill(household, TABLE["today"]) == vector["result"]


def test_the_table_covers_every_built_in_form_and_something_of_every_kind() -> None:
    assert {v["form"] for v in TABLE["vectors"] if "form" in v} == set(BUILTIN)
    results = [json.dumps(v["result"], ensure_ascii=False) for v in TABLE["vectors"]]
    for shown in ('"members": [{"id"', '"alone": true', '"kinds": ["child"]', '"health": "poor"',
                  '"address": "新址 1 号"', '"head_name": "王建国"', '"guardianship": "grandparents"',
                  '"children": [{"id": "6c1d6b75', '"elders": [{"id": "5b0c5a64'):
        assert any(shown in r for r in results), shown
    assert not any("********" in r for r in results)  # ID numbers are never prefilled
