"""Forms that compute, through the API: the server keeps its own calculated answers and flags a phone's differing
ones; checks across questions and choice filters refuse with 422 and pointers; publishing refuses bad expressions."""

import copy
import uuid

import pytest

from factories import assert_problem, headers_for, make_district, make_household, make_user, submission_body
from server.models import FormVersion, Household, Submission

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["visit_date"],
    "properties": {
        "visit_date": {"type": "string", "title": "走访日期", "format": "date"},
        "household_size": {"type": "integer", "title": "家庭人口数", "x-situation": "household_size"},
        "members": {
            "type": "array", "title": "家庭成员", "x-members": True,
            "items": {"type": "object", "title": "成员", "additionalProperties": False, "properties": {
                "name": {"type": "string", "title": "姓名", "x-member": "name"},
                "birth_date": {"type": "string", "title": "出生日期", "format": "date", "x-member": "birth_date"},
                "age": {"type": "integer", "title": "年龄"},
                "income": {"type": "number", "title": "月收入"},
                "disability_type": {"title": "残疾类别", "enum": ["visual", "hearing"]},
                "disability_level": {"title": "残疾等级", "enum": ["1", "2", "3", "4"]},
            }},
        },
        "per_person": {"type": "number", "title": "人均月收入", "x-situation": "monthly_income"},
    },
}
UI = {
    "questions": {
        "/members/*/age": {"calculate": {"age": [{"var": "/members/*/birth_date"}, {"var": "/visit_date"}]}},
        "/per_person": {"calculate": {"round": [{"/": [{"sum": {"var": "/members/*/income"}},
                                                       {"count": {"var": "/members"}}]}, 2]}},
        "/members/*/disability_level": {"filter": {"if": [
            {"==": [{"var": "/members/*/disability_type"}, "visual"]}, ["1", "2"], ["3", "4"]]}},
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
                {"name": "王建国", "birth_date": "1955-08-07", "income": 0, "disability_type": "visual",
                 "disability_level": "2"}],
}


@pytest.fixture
async def station(client, settings):
    """The form published by the east township's supervisor; a household of east_a and its worker."""
    district = await make_district()
    supervisor = await make_user("supervisor", district.east)
    boss = await headers_for(settings, supervisor)
    body = {"slug": "means_east", "title": "城东家计", "schema": SCHEMA, "ui": UI}
    assert (await client.post("/api/v1/forms", json=body, headers=boss)).status_code == 201
    assert (await client.post("/api/v1/forms/means_east/publish", headers=boss)).status_code == 201
    household = await make_household(district.east_a)
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    return household, worker, boss


async def send(client, household, headers, data):
    sid = uuid.uuid4()
    return sid, await client.put(f"/api/v1/submissions/{sid}", headers=headers,
                                 json=submission_body(household, data, form="means_east"))


async def test_the_server_stores_its_own_calculated_answers(client, station):
    household, worker, boss = station
    sid, response = await send(client, household, worker, copy.deepcopy(DATA))
    assert response.status_code == 201, response.text
    stored = await Submission.get(id=sid)
    assert [m["age"] for m in stored.data["members"]] == [67, 69] and stored.data["per_person"] == 175
    assert stored.flags == []
    assert (await Household.get(id=household.id)).situation["monthly_income"] == 175


async def test_a_phones_disagreeing_calculated_answer_is_flagged_not_trusted(client, station):
    household, worker, boss = station
    data = copy.deepcopy(DATA) | {"per_person": 900}
    data["members"][1]["age"] = 12
    sid, response = await send(client, household, worker, data)
    assert response.status_code == 201, response.text
    stored = await Submission.get(id=sid)
    assert stored.data["per_person"] == 175 and stored.data["members"][1]["age"] == 69
    assert (await Household.get(id=household.id)).situation["monthly_income"] == 175
    flags = {f["pointer"]: f for f in stored.flags}
    assert flags["/data/per_person"] | {"detail": None} == {
        "kind": "calculation_differs", "pointer": "/data/per_person", "sent": 900, "computed": 175, "detail": None}
    assert flags["/data/per_person"]["detail"] == "手机计算的结果为 900，服务器计算为 175，已按服务器结果保存"
    assert flags["/data/members/1/age"]["sent"] == 12 and flags["/data/members/1/age"]["computed"] == 69
    # the supervisor sees them; the worker does not
    seen = await client.get(f"/api/v1/submissions/{sid}", headers=boss)
    assert {f["kind"] for f in seen.json()["flags"]} == {"calculation_differs"}
    assert "flags" not in (await client.get(f"/api/v1/submissions/{sid}", headers=worker)).json()


async def test_dividing_by_zero_stores_no_answer_and_is_no_error(client, station):
    household, worker, boss = station
    sid, response = await send(client, household, worker, {"visit_date": "2025-03-18", "members": [],
                                                           "per_person": 0})
    assert response.status_code == 201, response.text
    stored = await Submission.get(id=sid)
    assert "per_person" not in stored.data
    assert stored.flags[0]["sent"] == 0 and stored.flags[0]["computed"] is None


@pytest.mark.parametrize("change, pointer, detail", [
    (lambda d: d["members"][0].update(birth_date="2025-03-19"), "/data/members/0/birth_date", "出生日期不能晚于走访日期"),
    (lambda d: d.update(household_size=3), "/data/household_size", "家庭人口数应与成员人数一致"),
    (lambda d: d["members"][1].update(disability_level="4"), "/data/members/1/disability_level",
     "「残疾等级」的选项「4」在当前情况下不可选"),
])
async def test_checks_and_choice_filters_are_refused_with_their_pointer(client, station, change, pointer, detail):
    household, worker, boss = station
    data = copy.deepcopy(DATA)
    change(data)
    sid, response = await send(client, household, worker, data)
    problem = assert_problem(response, 422, pointer)
    assert problem["errors"] == [{"pointer": pointer, "detail": detail}]
    assert await Submission.all().count() == 0


@pytest.mark.parametrize("ui_change, pointer", [
    (lambda u: u["questions"]["/per_person"].update(calculate={"var": "/per_person"}),
     "/ui/questions/~1per_person/calculate"),
    (lambda u: u["questions"]["/per_person"].update(calculate={"/": [{"var": "/nothing"}, 2]}),
     "/ui/questions/~1per_person/calculate/~1/0/var"),
    (lambda u: u["questions"]["/members/*/age"].update(calculate={"age": [{"var": "/household_size"}, "2025-01-01"]}),
     "/ui/questions/~1members~1*~1age/calculate/age/0/var"),
    (lambda u: u["checks"].append({"rule": True, "pointer": "/nowhere", "message": "不对"}), "/ui/checks/2/pointer"),
    (lambda u: u["questions"].update({"/members": {"prefill": True, "prefill_members": {
        ">=": [{"age": [{"var": "birth_date"}, {"var": "/visit_date"}]}, 60]}}}),
     "/ui/questions/~1members/prefill_members/>=/0/age/1/var"),
    (lambda u: u["questions"].update({"/per_person": {"prefill": True, "prefill_members": True}}),
     "/ui/questions/~1per_person/prefill_members"),
])
async def test_publishing_refuses_bad_expressions_with_their_pointer(client, settings, station, ui_change, pointer):
    household, worker, boss = station
    ui = copy.deepcopy(UI)
    ui_change(ui)
    assert (await client.put("/api/v1/forms/means_east/draft", headers=boss,
                             json={"title": "城东家计", "schema": SCHEMA, "ui": ui})).status_code == 200
    published = await FormVersion.filter(form__slug="means_east").count()
    assert_problem(await client.post("/api/v1/forms/means_east/publish", headers=boss), 422, pointer)
    assert await FormVersion.filter(form__slug="means_east").count() == published  # nothing published


async def test_an_income_too_large_for_a_double_is_no_server_error(client, station):
    """JSON allows any integer, JavaScript reads one beyond a double as Infinity: the per-person income of such a
    household has no value (as on the phone), and the submission is judged like any other."""
    household, worker, boss = station
    data = copy.deepcopy(DATA)
    data["members"][0]["income"] = 10 ** 400
    sid, response = await send(client, household, worker, data)
    assert response.status_code == 201, response.text
    stored = await Submission.get(id=sid)
    assert stored.data["members"][0]["income"] == 10 ** 400 and stored.data["members"][0]["age"] == 67
    assert "per_person" not in stored.data
