import copy

import pytest

import forms
from factories import assert_problem, headers_for, make_district, make_user
from server.ops import builtins
from server.models import Form, FormVersion

SCHEMA = {
    "type": "object",
    "properties": {
        "visited_on": {"type": "string", "format": "date", "title": "走访日期"},
        "household_size": {"type": "integer", "minimum": 1, "title": "家庭人口数"},
        "has_disability": {"type": "boolean", "title": "是否有残疾成员"},
        "disability_note": {"type": "string", "title": "残疾情况说明"},
    },
    "required": ["visited_on"],
    "additionalProperties": False,
}
UI = {"questions": {"/disability_note": {"show": {"q": "/has_disability", "equals": True}}}}


def definition(**changes):
    body = {"slug": "visit_east", "title": "城东走访", "schema": copy.deepcopy(SCHEMA), "ui": copy.deepcopy(UI)}
    return body | changes


@pytest.fixture
async def east():
    district = await make_district()
    return district, await make_user("supervisor", district.east)


async def test_supervisor_designs_publishes_and_revises_a_form(client, settings, east):
    district, supervisor = east
    headers = await headers_for(settings, supervisor)
    created = await client.post("/api/v1/forms", json=definition(), headers=headers)
    assert created.status_code == 201
    assert created.json()["area"] == str(district.east.id) and created.json()["latest_version"] is None
    assert (await client.post("/api/v1/forms/visit_east/publish", headers=headers)).json() == {"version": 1}

    v1 = await client.get("/api/v1/forms/visit_east/versions/1", headers=headers)
    assert v1.status_code == 200 and v1.headers["etag"]
    assert v1.json() | {"published_at": None} == {
        "slug": "visit_east", "version": 1, "title": "城东走访", "schema": SCHEMA, "ui": UI, "published_at": None,
    }
    cached = await client.get("/api/v1/forms/visit_east/versions/1", headers=headers | {"If-None-Match": v1.headers["etag"]})
    assert cached.status_code == 304

    revised = definition(title="城东走访（修订）")
    revised["schema"]["properties"]["household_size"]["maximum"] = 30
    draft = await client.put("/api/v1/forms/visit_east/draft", json={k: revised[k] for k in ("title", "schema", "ui")}, headers=headers)
    assert draft.status_code == 200 and draft.json()["draft"]["title"] == "城东走访（修订）"
    assert (await client.post("/api/v1/forms/visit_east/publish", headers=headers)).json() == {"version": 2}
    again = await client.get("/api/v1/forms/visit_east/versions/1", headers=headers)
    assert again.json() == v1.json() and again.headers["etag"] == v1.headers["etag"]
    v2 = await client.get("/api/v1/forms/visit_east/versions/2", headers=headers)
    assert v2.json()["schema"]["properties"]["household_size"]["maximum"] == 30
    assert v2.headers["etag"] != v1.headers["etag"]


async def test_publishing_an_unchanged_draft_is_a_conflict(client, settings, east):
    headers = await headers_for(settings, east[1])
    await client.post("/api/v1/forms", json=definition(), headers=headers)
    await client.post("/api/v1/forms/visit_east/publish", headers=headers)
    assert_problem(await client.post("/api/v1/forms/visit_east/publish", headers=headers), 409)
    assert await FormVersion.all().count() == 1


async def test_a_published_version_cannot_be_edited(client, settings, east):
    headers = await headers_for(settings, east[1])
    await client.post("/api/v1/forms", json=definition(), headers=headers)
    await client.post("/api/v1/forms/visit_east/publish", headers=headers)
    for method in ("PUT", "PATCH", "DELETE"):
        response = await client.request(method, "/api/v1/forms/visit_east/versions/1", json=definition(), headers=headers)
        assert_problem(response, 405)
    assert (await FormVersion.get(version=1)).title == "城东走访"


def with_property(name, schema):
    body = definition()
    body["schema"]["properties"][name] = schema
    return body


BAD_DEFINITIONS = [
    ("root not an object", definition(schema={"type": "array", "items": {"type": "string", "title": "x"}}), "/schema/type"),
    ("not a 2020-12 schema", with_property("age", {"type": "strin", "title": "年龄"}), "/schema/properties/age/type"),
    ("minimum not a number", with_property("age", {"type": "integer", "minimum": "1", "title": "年龄"}), "/schema/properties/age/minimum"),
    ("unresolvable $ref", with_property("age", {"$ref": "#/$defs/nowhere", "title": "年龄"}), "/schema/properties/age/$ref"),
    ("regex that does not compile", with_property("code", {"type": "string", "pattern": "([a-z", "title": "编码"}), "/schema/properties/code/pattern"),
    ("question without a title", with_property("age", {"type": "integer"}), "/schema/properties/age"),
    ("hint naming a missing question", definition(ui={"questions": {"/nowhere": {"widget": "text"}}}), "/ui/questions/~1nowhere"),
    ("condition on a missing question", definition(ui={"questions": {"/disability_note": {"show": {"q": "/ghost", "equals": 1}}}}),
     "/ui/questions/~1disability_note/show/q"),
    ("binding to an unknown target", with_property("income", {"type": "string", "title": "收入", "x-situation": "wealth"}),
     "/schema/properties/income/x-situation"),
]


@pytest.mark.parametrize(("name", "body", "pointer"), BAD_DEFINITIONS, ids=[b[0] for b in BAD_DEFINITIONS])
async def test_a_bad_definition_is_refused_at_publish_with_a_pointer_into_it(client, settings, east, name, body, pointer):
    headers = await headers_for(settings, east[1])
    assert (await client.post("/api/v1/forms", json=body, headers=headers)).status_code == 201
    problem = assert_problem(await client.post("/api/v1/forms/visit_east/publish", headers=headers), 422)
    assert pointer in [e["pointer"] for e in problem["errors"]], problem["errors"]
    assert all(e["detail"] for e in problem["errors"])
    assert await FormVersion.all().count() == 0
    assert (await Form.get(slug="visit_east")).latest_version == 0


async def test_circular_conditions_are_refused(client, settings, east):
    body = definition(ui={"questions": {
        "/household_size": {"show": {"q": "/disability_note", "answered": True}},
        "/disability_note": {"show": {"q": "/household_size", "min": 1}},
    }})
    headers = await headers_for(settings, east[1])
    await client.post("/api/v1/forms", json=body, headers=headers)
    assert_problem(await client.post("/api/v1/forms/visit_east/publish", headers=headers), 422)


@pytest.mark.parametrize(
    ("body", "status", "pointers"),
    [
        (definition(slug="Visit East"), 422, ["/slug"]),
        (definition(slug="../etc"), 422, ["/slug"]),
        (definition(slug="x" * 65), 422, ["/slug"]),
        (definition(schema="not an object"), 422, ["/schema"]),
        (definition(ui=[]), 422, ["/ui"]),
        ({"slug": "visit_east"}, 422, ["/title", "/schema"]),
        (definition(version=3), 422, ["/version"]),
    ],
)
async def test_bad_form_bodies_change_nothing(client, settings, east, body, status, pointers):
    headers = await headers_for(settings, east[1])
    assert_problem(await client.post("/api/v1/forms", json=body, headers=headers), status, *pointers)
    assert await Form.all().count() == 0


async def test_definitions_that_are_not_json_or_far_too_big_are_refused(client, settings, east):
    headers = await headers_for(settings, east[1]) | {"content-type": "application/json"}
    assert_problem(await client.post("/api/v1/forms", content=b'{"slug": "x", "schema": {', headers=headers), 400)
    deep = b'{"slug": "deep", "title": "t", "schema": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert (await client.post("/api/v1/forms", content=deep, headers=headers)).status_code in (400, 413)
    many = {f"q{n}": {"type": "string", "title": f"问题{n}"} for n in range(3000)}
    huge = definition(schema={"type": "object", "properties": many})
    await client.post("/api/v1/forms", json=huge, headers=headers)
    problem = assert_problem(await client.post("/api/v1/forms/visit_east/publish", headers=headers), 422)
    assert problem["errors"][0]["pointer"].startswith("/schema")
    assert await FormVersion.all().count() == 0


async def test_a_slug_that_is_taken_is_a_conflict(client, settings, east):
    headers = await headers_for(settings, east[1])
    await client.post("/api/v1/forms", json=definition(), headers=headers)
    assert_problem(await client.post("/api/v1/forms", json=definition(title="另一个"), headers=headers), 409)
    assert (await Form.get(slug="visit_east")).draft_title == "城东走访"


async def test_forms_are_seen_and_designed_only_within_ones_areas(client, settings, east):
    district, supervisor = east
    await client.post("/api/v1/forms", json=definition(), headers=await headers_for(settings, supervisor))
    await client.post("/api/v1/forms/visit_east/publish", headers=await headers_for(settings, supervisor))
    await client.post("/api/v1/forms", json=definition(slug="draft_only"), headers=await headers_for(settings, supervisor))

    east_worker = await headers_for(settings, await make_user("worker", district.east_a))
    west_worker = await headers_for(settings, await make_user("worker", district.west_a))
    west_supervisor = await headers_for(settings, await make_user("supervisor", district.west))
    bureau = await headers_for(settings, await make_user("bureau", district.county))

    listed = (await client.get("/api/v1/forms", headers=east_worker)).json()["items"]
    assert [f["slug"] for f in listed] == ["visit_east"]
    assert "draft" not in (await client.get("/api/v1/forms/visit_east", headers=east_worker)).json()
    assert (await client.get("/api/v1/forms/visit_east/versions/1", headers=east_worker)).status_code == 200
    assert_problem(await client.get("/api/v1/forms/draft_only", headers=east_worker), 404)
    assert_problem(await client.post("/api/v1/forms", json=definition(slug="mine"), headers=east_worker), 403)
    assert_problem(await client.post("/api/v1/forms/visit_east/publish", headers=east_worker), 403)

    for outsider in (west_worker, west_supervisor):
        assert (await client.get("/api/v1/forms", headers=outsider)).json()["items"] == []
        assert_problem(await client.get("/api/v1/forms/visit_east/versions/1", headers=outsider), 404)
    assert_problem(await client.post("/api/v1/forms/visit_east/retire", headers=west_supervisor), 404)

    assert {f["slug"] for f in (await client.get("/api/v1/forms", headers=bureau)).json()["items"]} == {"visit_east", "draft_only"}
    assert_problem(await client.post("/api/v1/forms/visit_east/retire", headers=bureau), 403)
    assert_problem(await client.post("/api/v1/forms", json=definition(slug="west_form", area=str(district.west.id)),
                                     headers=await headers_for(settings, supervisor)), 422, "/area")


async def test_a_retired_form_takes_no_drafts_or_versions_but_stays_readable(client, settings, east):
    district, supervisor = east
    headers = await headers_for(settings, supervisor)
    await client.post("/api/v1/forms", json=definition(), headers=headers)
    await client.post("/api/v1/forms/visit_east/publish", headers=headers)
    assert (await client.post("/api/v1/forms/visit_east/retire", headers=headers)).json()["retired"] is True
    draft = {k: definition(title="再改")[k] for k in ("title", "schema", "ui")}
    assert_problem(await client.put("/api/v1/forms/visit_east/draft", json=draft, headers=headers), 409)
    assert_problem(await client.post("/api/v1/forms/visit_east/publish", headers=headers), 409)
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    assert (await client.get("/api/v1/forms", headers=worker)).json()["items"] == []
    assert (await client.get("/api/v1/forms/visit_east/versions/1", headers=worker)).status_code == 200


async def test_built_in_forms_and_the_catalogue_load_once_and_everyone_may_fill_them(client, settings, east):
    district, _ = east
    first = await builtins.load_builtins()
    assert "发布了" in first
    assert "均已是最新" in await builtins.load_builtins()
    assert await FormVersion.all().count() == 6
    worker = await headers_for(settings, await make_user("worker", district.west_a))
    slugs = {f["slug"] for f in (await client.get("/api/v1/forms", headers=worker)).json()["items"]}
    assert slugs == {"home_visit", "economic_survey", "elderly_ledger", "child_file", "disability_ledger", "needs_survey"}
    version = (await client.get("/api/v1/forms/needs_survey/versions/1", headers=worker)).json()
    assert version["title"] == "需求调研"
    catalogue = (await client.get("/api/v1/catalogue", headers=worker)).json()["items"]
    assert [c["name"] for c in catalogue][:2] == ["社会救助", "养老服务"]
    assert sum(len(c["items"]) for c in catalogue) >= 31



async def test_a_built_in_form_changed_by_an_upgrade_is_published_again_by_the_system(client, settings, east):
    await builtins.load_builtins()
    # As if version 1 came from an older Doorstep whose home-visit form read differently.
    await FormVersion.filter(form__slug="home_visit", version=1).update(etag="from-an-older-release")
    said = await builtins.load_builtins()
    assert "第 2 版" in said and said.count("版") == 1
    assert await FormVersion.filter(form__slug="home_visit").count() == 2
    admin = await headers_for(settings, await make_user("admin"))
    events = (await client.get("/api/v1/audit?action=form.published", headers=admin)).json()["items"]
    published = sorted((e["target_id"], e["detail"]["version"]) for e in events)
    assert published == sorted([(f["slug"], 1) for f in forms.builtin_forms()] + [("home_visit", 2)])
    assert {(e["actor"], e["actor_name"]) for e in events} == {(None, "系统")}
    assert "均已是最新" in await builtins.load_builtins()
