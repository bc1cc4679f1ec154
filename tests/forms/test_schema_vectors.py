"""An author's if/then/else, dependentSchemas, dependentRequired, not and uniqueItems, one table for the server and the
phone (tests/test_field_app.py runs the same table through server/http/static/app/form/schema.js in the browser)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forms import check, compile_form

TABLE = json.loads((Path(__file__).parent / "schema_vectors.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", TABLE["vectors"], ids=lambda v: v["name"])
def test_the_server_gives_each_answer_the_errors_the_table_says(vector):
    found = [{"pointer": e.pointer, "detail": e.detail} for e in check(compile_form(vector["schema"], {}), vector["data"])]
    assert found == vector["errors"]


def test_the_table_has_each_keyword_failing_and_met():
    names = " ".join(v["name"] for v in TABLE["vectors"] if v["errors"])
    for keyword in ("if/then", "else", "dependentRequired", "dependentSchemas", "not", "uniqueItems", "$ref"):
        assert keyword in names
    assert sum(not v["errors"] for v in TABLE["vectors"]) >= 8
