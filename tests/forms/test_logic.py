"""The expression language: one table of vectors, run through forms/logic.py here and through the phone's
server/http/static/logic.js in Node (the same ES module the browser loads; tests/forms/logic_vectors.html runs it
in a browser)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from forms.conditions import json_equal
from forms.logic import LogicError, compile_logic, evaluate

HERE = Path(__file__).parent
TABLE = json.loads((HERE / "logic_vectors.json").read_text(encoding="utf-8"))
VECTORS = [{"data": TABLE["household"]} | v for v in TABLE["vectors"]]


def same(a, b) -> bool:
    return json_equal(a, b)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_python_gives_each_vectors_result(vector):
    got = evaluate(vector["logic"], vector["data"], tuple(vector.get("rows", ())), vector.get("context"),
                   vector.get("owner", ""))
    assert same(got, vector["result"]), got


def test_javascript_gives_each_vectors_result():
    node = shutil.which("node")
    assert node, "Node.js is needed to run the phone's evaluator"
    out = subprocess.run([node, str(HERE / "logic_vectors.mjs")], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    results = json.loads(out)
    wrong = [f"{v['name']}: {r}" for v, r in zip(VECTORS, results) if "error" in r or not same(r["result"], v["result"])]
    assert len(results) == len(VECTORS) and not wrong, wrong


@pytest.mark.parametrize("expression", [
    {"nope": [1]}, {"+": [1], "-": [2]}, {}, {"var": 3}, {"/": [1]}, {"round": [1, 7]}, {"round": [1, {"var": "/d"}]},
    {"!": [1, 2]}, {"if": []},
])
def test_expressions_that_are_not_ours_are_refused(expression):
    with pytest.raises(LogicError):
        compile_logic(expression)


SHOW_CONDITIONS = [
    {"q": "/a", "equals": "x"}, {"q": "/a", "equals": 1}, {"q": "/a", "in": ["x", 2]}, {"q": "/a", "answered": True},
    {"q": "/a", "answered": False}, {"q": "/a", "contains": "x"}, {"q": "/a", "min": 2}, {"q": "/a", "max": 2},
    {"all": [{"q": "/a", "min": 1}, {"not": {"q": "/b", "equals": True}}]},
    {"any": [{"q": "/a", "equals": "x"}, {"q": "/b", "answered": True}]},
    {"q": "/rows/*/a", "equals": "x"},
]
ANSWERS = [{}, {"a": "x"}, {"a": "y"}, {"a": 1}, {"a": 1.0}, {"a": 2}, {"a": 3}, {"a": True}, {"a": ["x"]},
           {"a": []}, {"a": ["y", "x"]}, {"a": "x", "b": True}, {"b": False}, {"a": 0, "b": True},
           {"rows": [{"a": "x"}, {"a": "y"}]}]


@pytest.mark.parametrize("condition", SHOW_CONDITIONS, ids=json.dumps)
def test_todays_show_conditions_mean_the_same_as_expressions(condition):
    from forms.conditions import as_logic, evaluate as shown
    from forms.logic import truthy
    logic = as_logic(condition)
    for data in ANSWERS:
        if "contains" in condition and isinstance(data.get("a"), str):
            continue  # contains is for multiple choices (publishing refuses it elsewhere), whose answers are lists
        for rows in ((0,), (1,)):
            assert shown(condition, data, rows) == truthy(evaluate(logic, data, rows, owner="/rows/*/x")), (data, rows)
