"""Deeply nested JSON never ends in a 500: every entry point refuses a value deeper than the one bound with a 422
that points at it, and takes what sits exactly at the bound.

The bound (forms/depth.py) is 64 levels below a document's root: the answers, a form's schema, its UI hints. A
request body carries them one level down (/data, /schema, /ui), so a body reaches one level more.
"""

import uuid

import pytest

from factories import assert_problem, headers_for, make_district, make_household, make_user, submission_body
from forms.depth import BODY_DEPTH, MAX_DEPTH
from server.models import Form, Submission

TOO_DEEP = f"嵌套层数超过 {MAX_DEPTH} 层"


def lists(levels: int, leaf=None) -> list | None:
    """`leaf` inside `levels` lists: the leaf sits `levels` below the outermost list's parent."""
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


def children(levels: int, leaf: dict) -> dict:
    """`leaf` as the `child` of a `child` of …, `levels` objects deep."""
    value = leaf
    for _ in range(levels):
        value = {"child": value}
    return value


def nots(levels: int) -> dict:
    """A schema `{"not": {"not": … {}}}` whose innermost value sits `levels` below it."""
    value: dict = {}
    for _ in range(levels):
        value = {"not": value}
    return value


def pointer(prefix: str, token: str, count: int) -> str:
    return prefix + f"/{token}" * count


# A form whose answers may nest without end: a tree of named nodes, a list of lists, and a name two groups down.
TREE = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "名称"},
        "child": {"$ref": "#", "title": "下级"},
        "lists": {"$ref": "#/$defs/lists", "title": "嵌套列表"},
        "group": {"type": "object", "title": "组", "properties": {
            "inner": {"type": "object", "title": "内组", "properties": {"name": {"type": "string", "title": "姓名"}}}}},
    },
    "$defs": {"lists": {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/lists"}, {"type": "null"}]}}},
}


@pytest.fixture
async def tree(client, settings):
    """The tree form published by a supervisor of the east township; a worker of east_a and one of its households."""
    district = await make_district()
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    body = {"slug": "tree", "title": "树", "schema": TREE, "ui": {}}
    assert (await client.post("/api/v1/forms", json=body, headers=supervisor)).status_code == 201
    assert (await client.post("/api/v1/forms/tree/publish", headers=supervisor)).status_code == 201
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    return worker, await make_household(district.east_a)


async def submit(client, tree, data):
    headers, household = tree
    return await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=submission_body(household, data, form="tree"),
                            headers=headers)


# Answers at the bound: `child` objects to depth 64 (the name at 64), lists whose innermost null is at 64.
AT_THE_BOUND = [
    ("objects", children(MAX_DEPTH - 1, {"name": "叶"})),
    ("arrays", {"lists": lists(MAX_DEPTH - 1)}),
]
# One past it, with the pointer of the first value too deep, in the body.
PAST_THE_BOUND = [
    ("objects", children(MAX_DEPTH, {"name": "叶"}), pointer("/data", "child", MAX_DEPTH) + "/name"),
    ("arrays", {"lists": lists(MAX_DEPTH)}, "/data/lists" + "/0" * MAX_DEPTH),
    ("arrays 255 deep", {"lists": lists(255)}, "/data/lists" + "/0" * MAX_DEPTH),
    ("string question 600 deep", {"group": {"inner": {"name": children(600, {})}}},
     "/data/group/inner/name" + "/child" * (MAX_DEPTH - 2)),
]


@pytest.mark.parametrize("case, data", AT_THE_BOUND, ids=[c[0] for c in AT_THE_BOUND])
async def test_answers_at_the_bound_are_accepted(client, tree, case, data):
    response = await submit(client, tree, data)
    assert response.status_code == 201, response.text
    assert (await Submission.get(id=response.json()["id"])).data == data


@pytest.mark.parametrize("case, data, at", PAST_THE_BOUND, ids=[c[0] for c in PAST_THE_BOUND])
async def test_answers_past_the_bound_are_refused_with_a_pointer(client, tree, case, data, at):
    problem = assert_problem(await submit(client, tree, data), 422, at)
    assert problem["errors"][0]["detail"] == TOO_DEEP
    assert await Submission.all().count() == 0


async def test_a_string_question_answered_at_the_bound_is_refused_for_its_type(client, tree):
    data = {"group": {"inner": {"name": children(MAX_DEPTH - 3, {})}}}
    problem = assert_problem(await submit(client, tree, data), 422, "/data/group/inner/name")
    assert problem["errors"][0]["detail"] == "「姓名」应为文本"


# --- form definitions: POST /forms and PUT /forms/{slug}/draft --------------------------------------------------------

def definition(schema_levels: int = 2, ui_levels: int = 0) -> dict:
    """A form whose schema reaches `schema_levels` (a `not` chain under the question `a`) and whose UI hints reach
    `ui_levels` (a `not` chain in a show condition)."""
    schema = {"type": "object", "properties": {"a": {"type": "string", "title": "甲", **nots(schema_levels - 2)},
                                               "b": {"type": "boolean", "title": "乙"}}}
    ui = {}
    if ui_levels:
        condition: dict = {"q": "/b", "equals": True}
        for _ in range(ui_levels - 4):  # /questions/~1a/show is 3 levels, the atom's value one more
            condition = {"not": condition}
        ui = {"questions": {"/a": {"show": condition}}}
    return {"title": "深", "schema": schema, "ui": ui}


@pytest.fixture
async def designer(settings):
    district = await make_district()
    return await headers_for(settings, await make_user("supervisor", district.east))


@pytest.mark.parametrize("part, levels", [("schema", {"schema_levels": MAX_DEPTH}), ("ui", {"ui_levels": MAX_DEPTH})])
async def test_a_definition_at_the_bound_is_stored_and_published(client, designer, part, levels):
    body = definition(**levels)
    assert (await client.post("/api/v1/forms", json={"slug": "deep", **body}, headers=designer)).status_code == 201
    assert (await client.put("/api/v1/forms/deep/draft", json=body, headers=designer)).status_code == 200
    published = await client.post("/api/v1/forms/deep/publish", headers=designer)
    assert published.status_code == 201, published.text


PAST = [
    ("schema", {"schema_levels": MAX_DEPTH + 1}, "/schema/properties/a" + "/not" * (MAX_DEPTH - 1)),
    ("ui", {"ui_levels": MAX_DEPTH + 1}, "/ui/questions/~1a/show" + "/not" * (MAX_DEPTH - 3) + "/q"),
    ("schema 600 deep", {"schema_levels": 600}, "/schema/properties/a" + "/not" * (MAX_DEPTH - 1)),
]


@pytest.mark.parametrize("case, levels, at", PAST, ids=[c[0] for c in PAST])
async def test_a_definition_past_the_bound_is_refused_with_a_pointer(client, designer, case, levels, at):
    body = definition(**levels)
    assert_problem(await client.post("/api/v1/forms", json={"slug": "deep", **body}, headers=designer), 422, at)
    assert not await Form.exists(slug="deep")
    assert (await client.post("/api/v1/forms", json={"slug": "deep", **definition()}, headers=designer)).status_code == 201
    assert_problem(await client.put("/api/v1/forms/deep/draft", json=body, headers=designer), 422, at)
    assert (await Form.get(slug="deep")).draft_title == "深"


# --- any other body: PATCH /users/{id} ------------------------------------------------------------------------------

@pytest.fixture
async def admin_and_worker(settings):
    district = await make_district()
    return await headers_for(settings, await make_user("admin")), await make_user("worker", district.east_a)


async def test_any_other_body_past_the_bound_is_refused_with_a_pointer(client, admin_and_worker):
    headers, worker = admin_and_worker
    at_the_bound = {"display_name": lists(BODY_DEPTH - 1, "王")}  # the name at 65 in the body
    problem = assert_problem(await client.patch(f"/api/v1/users/{worker.id}", json=at_the_bound, headers=headers),
                             422, "/display_name")
    assert problem["errors"][0]["detail"] != TOO_DEEP  # refused for its type, not its depth
    for levels in (BODY_DEPTH, 600):
        body = {"display_name": lists(levels, "王")}
        problem = assert_problem(await client.patch(f"/api/v1/users/{worker.id}", json=body, headers=headers),
                                 422, "/display_name" + "/0" * BODY_DEPTH)
        assert problem["errors"][0]["detail"] == TOO_DEEP


async def test_a_body_too_deep_to_parse_is_malformed(client, admin_and_worker):
    headers, worker = admin_and_worker
    raw = '{"display_name": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = await client.patch(f"/api/v1/users/{worker.id}", content=raw,
                                  headers=headers | {"Content-Type": "application/json"})
    assert_problem(response, 400)
