"""Forms that compute: calculated questions, checks across questions, choice filters, prefills; and what
publishing refuses of them, each with its pointer."""

from __future__ import annotations

import copy

import pytest

from forms import FieldError, check, check_definition, compile_form, compute

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "visit_date": {"type": "string", "title": "走访日期", "format": "date"},
        "address": {"type": "string", "title": "住址", "x-situation": "address"},
        "note": {"type": "string", "title": "备注"},
        "household_size": {"type": "integer", "title": "家庭人口数", "x-situation": "household_size"},
        "has_other": {"type": "boolean", "title": "有其他收入"},
        "other_income": {"type": "number", "title": "其他收入"},
        "members": {
            "type": "array", "title": "家庭成员", "x-members": True,
            "items": {"type": "object", "title": "成员", "additionalProperties": False, "properties": {
                "id": {"type": "string", "title": "成员编号", "format": "uuid", "x-member": "id"},
                "name": {"type": "string", "title": "姓名", "x-member": "name"},
                "birth_date": {"type": "string", "title": "出生日期", "format": "date", "x-member": "birth_date"},
                "age": {"type": "integer", "title": "年龄"},
                "income": {"type": "number", "title": "月收入"},
                "disability_type": {"title": "残疾类别", "enum": ["visual", "hearing"]},
                "disability_level": {"title": "残疾等级", "enum": ["1", "2", "3", "4"]},
            }},
        },
        "total_income": {"type": "number", "title": "家庭月收入"},
        "per_person": {"type": "number", "title": "人均月收入"},
    },
}
UI = {
    "questions": {
        "/other_income": {"show": {"q": "/has_other", "equals": True}},
        "/members/*/age": {"calculate": {"age": [{"var": "/members/*/birth_date"}, {"var": "/visit_date"}]}},
        "/total_income": {"calculate": {"+": [{"sum": {"var": "/members/*/income"}}, {"var": ["/other_income", 0]}]}},
        "/per_person": {"calculate": {"round": [{"/": [{"var": "/total_income"}, {"count": {"var": "/members"}}]}, 2]}},
        "/members/*/disability_level": {"filter": {"if": [
            {"==": [{"var": "/members/*/disability_type"}, "visual"]}, ["1", "2"],
            {"==": [{"var": "/members/*/disability_type"}, "hearing"]}, ["3", "4"], None]}},
        "/members": {"prefill": True},
        "/address": {"prefill": True},
    },
    "checks": [
        {"rule": {"<=": [{"var": "/members/*/birth_date"}, {"var": "/visit_date"}]},
         "pointer": "/members/*/birth_date", "message": "出生日期不能晚于走访日期"},
        {"rule": {"==": [{"var": "/household_size"}, {"count": {"var": "/members"}}]},
         "pointer": "/household_size", "message": "家庭人口数应与成员人数一致"},
    ],
}
DATA = {
    "visit_date": "2025-03-18", "household_size": 2,
    "members": [{"name": "李桂兰", "birth_date": "1958-03-12", "income": 350},
                {"name": "王建国", "birth_date": "1955-08-07", "income": 0.5, "disability_type": "visual",
                 "disability_level": "2"}],
}
FORM = compile_form(SCHEMA, UI)


def test_the_form_publishes():
    assert check_definition(SCHEMA, UI) == []


def test_the_server_computes_every_calculated_answer():
    computed = compute(FORM, copy.deepcopy(DATA))
    assert computed.differences == []
    assert [m["age"] for m in computed.data["members"]] == [67, 69]
    assert computed.data["total_income"] == 350.5 and computed.data["per_person"] == 175.25
    assert check(FORM, computed.data) == []


def test_a_phones_disagreeing_value_is_replaced_and_reported():
    sent = copy.deepcopy(DATA)
    sent["per_person"] = 999
    sent["members"][0]["age"] = 66
    computed = compute(FORM, sent)
    assert computed.data["per_person"] == 175.25 and computed.data["members"][0]["age"] == 67
    assert {(d.pointer, d.sent, d.computed) for d in computed.differences} == {
        ("/per_person", 999, 175.25), ("/members/0/age", 66, 67)}
    assert sent["per_person"] == 999  # what was sent stays as sent


def test_agreeing_values_are_not_copied():
    first = compute(FORM, copy.deepcopy(DATA)).data
    again = compute(FORM, first)
    assert again.data is first and again.differences == []


def test_dividing_by_zero_leaves_the_answer_out():
    sent = {"visit_date": "2025-03-18", "members": [], "per_person": 0}
    computed = compute(FORM, sent)
    assert "per_person" not in computed.data and computed.data["total_income"] == 0
    assert [(d.pointer, d.sent) for d in computed.differences] == [("/per_person", 0)]
    assert computed.differences[0].as_flag() == {"pointer": "/per_person", "sent": 0, "computed": None}


def test_a_hidden_question_counts_as_unanswered():
    sent = copy.deepcopy(DATA) | {"has_other": True, "other_income": 100}
    assert compute(FORM, sent).data["total_income"] == 450.5
    sent = copy.deepcopy(DATA) | {"has_other": False}
    assert compute(FORM, sent).data["total_income"] == 350.5


def test_a_number_where_a_date_is_needed_gives_no_age():
    sent = copy.deepcopy(DATA)
    sent["members"][0]["birth_date"] = "1958-02-30"  # not a date: no age, and the schema says why
    computed = compute(FORM, sent)
    assert "age" not in computed.data["members"][0]
    assert FieldError("/members/0/birth_date", "「出生日期」不是有效的日期") in check(FORM, computed.data)


@pytest.mark.parametrize("change, pointer, detail", [
    (lambda d: d["members"][1].update(birth_date="2025-04-01"), "/members/1/birth_date", "出生日期不能晚于走访日期"),
    (lambda d: d.update(household_size=3), "/household_size", "家庭人口数应与成员人数一致"),
    (lambda d: d["members"][1].update(disability_level="3"), "/members/1/disability_level",
     "「残疾等级」的选项「3」在当前情况下不可选"),
])
def test_checks_and_filters_refuse_with_the_designers_message(change, pointer, detail):
    data = copy.deepcopy(DATA)
    change(data)
    assert check(FORM, compute(FORM, data).data) == [FieldError(pointer, detail)]


def test_a_check_on_unanswered_questions_does_not_apply():
    data = copy.deepcopy(DATA)
    del data["household_size"]
    del data["members"][0]["birth_date"]
    assert check(FORM, compute(FORM, data).data) == []


def test_checks_are_reported_with_the_schemas_errors():
    data = copy.deepcopy(DATA) | {"household_size": 3, "note": 5}
    assert set(check(FORM, compute(FORM, data).data)) == {
        FieldError("/household_size", "家庭人口数应与成员人数一致"), FieldError("/note", "「备注」应为文本")}


def _ui(change) -> dict:
    ui = copy.deepcopy(UI)
    change(ui)
    return ui


Q = "/ui/questions"
REFUSALS = [
    ("a calculation cycle", lambda u: u["questions"]["/total_income"].update(calculate={"var": "/per_person"}),
     f"{Q}/~1total_income/calculate", "计算循环引用：家庭月收入 → 人均月收入 → 家庭月收入"),
    ("a question calculated from itself", lambda u: u["questions"]["/per_person"].update(
        calculate={"+": [{"var": "/per_person"}, 1]}), f"{Q}/~1per_person/calculate", "计算循环引用：人均月收入 → 人均月收入"),
    ("a missing question", lambda u: u["questions"]["/per_person"].update(calculate={"var": "/nothing"}),
     f"{Q}/~1per_person/calculate/var", "表达式引用了不存在的题目「/nothing」"),
    ("a number where a date is needed", lambda u: u["questions"]["/members/*/age"].update(
        calculate={"age": [{"var": "/members/*/income"}, "2025-01-01"]}),
     f"{Q}/~1members~1*~1age/calculate/age/0/var", "「月收入」不是日期题目，这里需要日期"),
    ("a literal that is not a date", lambda u: u["questions"]["/members/*/age"].update(
        calculate={"age": [{"var": "/members/*/birth_date"}, 20250101]}),
     f"{Q}/~1members~1*~1age/calculate/age/1", "这里需要日期（如 2025-03-18），「20250101」不是"),
    ("text where a number is needed", lambda u: u["questions"]["/per_person"].update(
        calculate={"/": [{"var": "/address"}, 2]}), f"{Q}/~1per_person/calculate/~1/0/var",
     "「住址」不是数字题目，这里需要数字"),
    ("an unknown operator", lambda u: u["questions"]["/per_person"].update(calculate={"avg": [1]}),
     f"{Q}/~1per_person/calculate", "表达式写法不正确：未知的运算符「avg」"),
    ("a check at a missing question", lambda u: u["checks"].append({"rule": True, "pointer": "/nowhere", "message": "x"}),
     "/ui/checks/2/pointer", "检查的位置「/nowhere」不是本表单的题目"),
    ("a filter on a question without choices", lambda u: u["questions"].update({"/members/*/name": {"filter": ["a"]}}),
     f"{Q}/~1members~1*~1name/filter", "「姓名」不是选择题，不能设置选项筛选"),
    ("a filter allowing a choice that does not exist", lambda u: u["questions"]["/members/*/disability_level"].update(
        filter={"if": [True, ["1", "5"], None]}), f"{Q}/~1members~1*~1disability_level/filter/if/1/1",
     "「5」不是「残疾等级」的选项"),
    ("a prefill of an unbound question", lambda u: u["questions"].update({"/note": {"prefill": True}}),
     f"{Q}/~1note/prefill", "「备注」没有绑定到一户一档（x-situation、x-members 或 x-member），不能从档案预填"),
    ("a member filter on what is not a prefilled member list", lambda u: u["questions"]["/address"].update(
        prefill_members=True), f"{Q}/~1address/prefill_members",
     "「住址」不是从档案预填的成员列表（x-members 且 prefill），不能筛选成员"),
    ("a member filter reading an answer", lambda u: u["questions"]["/members"].update(
        prefill_members={"<": [{"var": "birth_date"}, {"var": "/visit_date"}]}), f"{Q}/~1members/prefill_members/</1/var",
     "成员筛选只读成员的字段（如 birth_date、tags）和 today，不读题目「/visit_date」"),
    ("a member filter that is no expression of ours", lambda u: u["questions"]["/members"].update(
        prefill_members={"older_than": 60}), f"{Q}/~1members/prefill_members", "表达式写法不正确：未知的运算符「older_than」"),
    ("a calculated group", lambda u: u["questions"]["/members"].update(calculate=1),
     f"{Q}/~1members/calculate", "「家庭成员」是一组题目，不能计算"),
]


@pytest.mark.parametrize("case, change, pointer, detail", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_publishing_refuses(case, change, pointer, detail):
    assert FieldError(pointer, detail) in check_definition(SCHEMA, _ui(change))


def test_a_calculation_in_rows_sums_over_another_list():
    schema = copy.deepcopy(SCHEMA)
    schema["properties"]["needs"] = {"type": "array", "title": "需求", "items": {
        "type": "object", "properties": {"cost": {"type": "number", "title": "金额"}}}}
    ui = _ui(lambda u: u["questions"]["/members/*/age"].update(calculate={"sum": {"var": "/needs/*/cost"}}))
    assert check_definition(schema, ui) == []
    data = copy.deepcopy(DATA) | {"needs": [{"cost": 2}, {"cost": 3}]}
    assert [m["age"] for m in compute(compile_form(schema, ui), data).data["members"]] == [5, 5]


def test_prefill_gives_the_files_members_and_situation_that_fit_the_questions():
    household = {
        "address": "凤凰社区 3 组 12 号", "phone": "13807312456", "head": "李桂兰",
        "situation": {"household_size": 2, "address": None},
        "members": [
            {"id": "5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10", "name": "李桂兰", "birth_date": "1958-03-12",
             "id_number": "430102********1245", "tags": ["elderly"]},
            {"id": "6c1d6b75-2f8e-4d64-8a62-1e4d9f2b3c21", "name": "王建国", "birth_date": "not a date?"},
        ],
    }
    assert FORM.prefill(household) == {
        "address": "凤凰社区 3 组 12 号",
        "members": [{"id": "5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10", "name": "李桂兰", "birth_date": "1958-03-12"},
                    {"id": "6c1d6b75-2f8e-4d64-8a62-1e4d9f2b3c21", "name": "王建国", "birth_date": "not a date?"}],
    }


def test_computing_answers_nested_beyond_the_bound_leaves_them_to_check():
    deep: list = []
    for _ in range(200):
        deep = [deep]
    form = compile_form({"type": "object", "properties": {"a": {"title": "甲"}, "b": {"title": "乙"}}},
                        {"questions": {"/b": {"calculate": {"var": "/a"}}}})
    computed = compute(form, {"a": deep, "b": deep})
    assert computed.differences == [] and check(form, computed.data)[0].detail == "嵌套层数超过 64 层"


def test_a_calculation_reads_the_values_computed_before_it_not_those_sent():
    sent = copy.deepcopy(DATA) | {"total_income": 1000, "per_person": 500}  # agree with each other, not the members
    computed = compute(FORM, sent)
    assert computed.data["total_income"] == 350.5 and computed.data["per_person"] == 175.25
    assert [(d.pointer, d.sent, d.computed) for d in computed.differences] == [
        ("/total_income", 1000, 350.5), ("/per_person", 500, 175.25)]


def test_rows_within_rows_are_computed_and_checked_each_by_its_own_pointer():
    person = {"type": "object", "additionalProperties": False, "properties": {
        "birth": {"type": "string", "title": "出生日期", "format": "date"}, "age": {"type": "integer", "title": "年龄"},
        "group_size": {"type": "integer", "title": "同组人数"}}}
    schema = {"type": "object", "additionalProperties": False, "properties": {
        "visit_date": {"type": "string", "title": "走访日期", "format": "date"},
        "groups": {"type": "array", "title": "组", "items": {"type": "object", "additionalProperties": False,
                   "properties": {"people": {"type": "array", "title": "人", "items": person}}}}}}
    deep_age = {"age": [{"var": "/groups/*/people/*/birth"}, {"var": "/visit_date"}]}
    for _ in range(12):  # deeper than codegen writes in one expression: the rest is a function of its own
        deep_age = {"+": [deep_age, 0]}
    ui = {"questions": {"/groups/*/people/*/age": {"calculate": deep_age},
                        "/groups/*/people/*/group_size": {"calculate": {"count": {"var": "/groups/*/people"}}}},
          "checks": [{"rule": {"<=": [{"var": "/groups/*/people/*/birth"}, {"var": "/visit_date"}]},
                      "pointer": "/groups/*/people/*/birth", "message": "出生日期不能晚于走访日期"}]}
    assert check_definition(schema, ui) == []
    form = compile_form(schema, ui)
    data = {"visit_date": "2025-03-18", "groups": [
        {"people": [{"birth": "1958-03-12"}, {"birth": "2015-09-21", "age": 3}]},
        {"people": [{"birth": "2026-01-01"}]}, "not a group", {"people": "not a list"}]}
    computed = compute(form, data)
    assert [[p.get("age") for p in g["people"]] for g in computed.data["groups"][:2]] == [[67, 9], [None]]
    assert [d.pointer for d in computed.differences] == ["/groups/0/people/1/age"]  # sent 3, computed 9
    assert [[p["group_size"] for p in g["people"]] for g in computed.data["groups"][:2]] == [[2, 2], [1]]
    assert [e.pointer for e in form.rules.errors(computed.data)] == ["/groups/1/people/0/birth"]
