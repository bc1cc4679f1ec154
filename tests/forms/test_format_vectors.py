"""The string formats the server asserts, one table for the server and the phone (tests/test_field_app.py runs the
same table through server/http/static/app/form/formats.js in the browser)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forms.formats import CUSTOM_FORMATS, is_date

TABLE = json.loads((Path(__file__).parent / "format_vectors.json").read_text(encoding="utf-8"))
ASSERTED = {**CUSTOM_FORMATS, "date": is_date}


@pytest.mark.parametrize("vector", TABLE["vectors"], ids=lambda v: f"{v['format']}:{v['value'][:24]}")
def test_the_server_judges_each_format_as_the_table_says(vector):
    check = ASSERTED.get(vector["format"])
    assert (check is None or check(vector["value"])) is vector["valid"]


def test_the_table_covers_every_asserted_format_both_ways():
    seen = {(v["format"], v["valid"]) for v in TABLE["vectors"]}
    assert {(name, valid) for name in ASSERTED for valid in (True, False)} <= seen
