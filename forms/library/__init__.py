"""The built-in form library and the service catalogue, shipped as JSON beside this module."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

_HERE = Path(__file__).parent
# The order the set-up command loads them in, and the order a station sees them.
SLUGS = ("home_visit", "economic_survey", "elderly_ledger", "child_file", "disability_ledger",
         "needs_survey")


@lru_cache(maxsize=None)
def _load(name: str) -> str:
    return (_HERE / f"{name}.json").read_text(encoding="utf-8")


def builtin_forms() -> list[dict]:
    """Each built-in form as {"slug", "title", "schema", "ui"}; fresh copies every call."""
    return [json.loads(_load(slug)) for slug in SLUGS]


def catalogue() -> list[dict]:
    """The service catalogue: [{"code", "name", "items": [{"code", "name"}…]}…]."""
    return json.loads(_load("catalogue"))["categories"]


def catalogue_items() -> set[str]:
    return {item["code"] for category in catalogue() for item in category["items"]}
