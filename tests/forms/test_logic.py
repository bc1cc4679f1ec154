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


# forms/codegen.py writes expressions as Python source: what a form brings is data, however it is spelled, and
# neither depth nor length changes what an expression means.

HOSTILE = "\"); __import__('os').system('echo owned') #\n'"


def test_keys_and_constants_are_data_whatever_they_spell():
    data = {HOSTILE: {HOSTILE: 5}, "rows": [{HOSTILE: "x"}]}
    assert evaluate({"var": f"/{HOSTILE}/{HOSTILE}"}, data) == 5
    assert evaluate({"var": [f"/{HOSTILE}/none", HOSTILE]}, data) == HOSTILE
    assert evaluate({"==": [{"var": f"/rows/*/{HOSTILE}"}, "x"]}, data, (0,), owner=f"/rows/*/{HOSTILE}") is True
    assert evaluate({"in": [HOSTILE, [1, HOSTILE]]}, data) is True
    assert evaluate({"var": HOSTILE}, data, context={HOSTILE: 7}) == 7


def nest(op: str, levels: int, leaf):
    for _ in range(levels):
        leaf = {op: [leaf]}
    return leaf


@pytest.mark.parametrize("levels, result", [(1, False), (2, True), (31, False), (32, True)])  # 32: 64 levels of JSON
def test_an_expression_as_deep_as_may_be_means_what_it_says(levels, result):
    assert evaluate(nest("!", levels, 1), {}) is result


def test_a_sum_nested_to_the_bound_adds_up():
    expression = {"var": "/a"}
    for _ in range(31):  # two levels of JSON each: 62, within the bound of 64
        expression = {"+": [expression, 1]}
    assert evaluate(expression, {"a": 1}) == 32


@pytest.mark.parametrize("expression, result", [
    ({"and": [1] * 998 + [0]}, 0),
    ({"and": [1] * 999}, 1),
    ({"and": [1] * 500 + ["", 1]}, ""),
    ({"or": [0] * 998 + ["是"]}, "是"),
    ({"or": [0] * 999}, 0),
    ({"if": [False, 1] * 49 + [True]}, True),
    ({"if": [False, 1] * 40 + [True, "第四十一"] + [True, 2] * 8}, "第四十一"),
    ({"if": [False, 1] * 49}, None),
])
def test_long_chains_mean_what_short_ones_do(expression, result):
    assert evaluate(expression, {}) == result and type(evaluate(expression, {})) is type(result)


def test_rounding_agrees_with_rounding_the_exact_value_half_away_from_zero():
    from decimal import ROUND_HALF_UP, Decimal
    import random
    from forms.operators import round_to
    rng = random.Random(18)
    values = ([rng.uniform(-1e6, 1e6) for _ in range(5000)] + [rng.uniform(-1, 1) for _ in range(5000)]
              + [k / 8 for k in range(-800, 800)] + [k / 1000 + 0.0005 for k in range(-2000, 2000)]
              + [k + 0.5 for k in range(2 ** 30 - 5, 2 ** 30 + 5)])
    for x in values:
        for digits in range(7):
            exact = float(Decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))
            assert json_equal(round_to(x, digits), exact), (x, digits)
