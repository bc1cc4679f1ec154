import pytest

from factories import assert_problem, headers_for, make_district, make_user
from server.people import areas
from server.models import Area, AuditEvent


async def post_area(client, headers, **body):
    return await client.post("/api/v1/areas", json=body, headers=headers)


async def test_admin_builds_a_county_township_community_tree(client, settings):
    headers = await headers_for(settings, await make_user("admin"))
    county = (await post_area(client, headers, code="430602", name="巴陵区", level="county")).json()
    township = (await post_area(client, headers, code="430602001", name="城东街道", level="township", parent=county["id"])).json()
    response = await post_area(client, headers, code="430602001001", name="白竹亭社区", level="community", parent=township["id"])
    assert response.status_code == 201
    assert response.json() == {
        "id": response.json()["id"], "code": "430602001001", "name": "白竹亭社区", "level": "community", "parent": township["id"],
    }
    tree = (await client.get("/api/v1/areas", headers=headers)).json()
    assert [a["code"] for a in tree["items"]] == ["430602", "430602001", "430602001001"]
    assert tree["next_cursor"] is None
    assert await AuditEvent.filter(action="area.created").count() == 3


@pytest.mark.parametrize(
    ("level", "parent", "pointer"),
    [
        ("county", "east", "/parent"),  # a county has no parent
        ("township", None, "/parent"),  # a township needs one
        ("township", "east", "/parent"),  # ... and it must be a county
        ("community", "county", "/parent"),  # a community's parent is a township
        ("community", "east_a", "/parent"),
        ("province", "county", "/level"),
    ],
)
async def test_an_area_whose_parent_is_of_the_wrong_level_is_refused(client, settings, level, parent, pointer):
    district = await make_district()
    headers = await headers_for(settings, await make_user("admin"))
    before = await Area.all().count()
    body = {"code": "X1", "name": "新区域", "level": level}
    if parent:
        body["parent"] = str(getattr(district, parent).id)
    assert_problem(await client.post("/api/v1/areas", json=body, headers=headers), 422, pointer)
    assert await Area.all().count() == before


async def test_moving_an_area_cannot_make_a_cycle(client, settings):
    district = await make_district()
    headers = await headers_for(settings, await make_user("admin"))
    # The levels make a cycle impossible: a county cannot go under its own community, nor an area under itself.
    for area, parent in ((district.county, district.east_a), (district.east, district.east), (district.east, district.east_a)):
        response = await client.patch(f"/api/v1/areas/{area.id}", json={"parent": str(parent.id)}, headers=headers)
        assert_problem(response, 422, "/parent")
    assert (await Area.get(id=district.east.id)).parent_id == district.county.id


async def test_moving_a_community_to_another_township_moves_its_scope(client, settings):
    district = await make_district()
    admin = await headers_for(settings, await make_user("admin"))
    west_supervisor = await headers_for(settings, await make_user("supervisor", district.west))
    assert (await client.get(f"/api/v1/areas/{district.east_a.id}", headers=west_supervisor)).status_code == 404
    response = await client.patch(f"/api/v1/areas/{district.east_a.id}", json={"parent": str(district.west.id)}, headers=admin)
    assert response.status_code == 200 and response.json()["parent"] == str(district.west.id)
    assert (await client.get(f"/api/v1/areas/{district.east_a.id}", headers=west_supervisor)).status_code == 200


async def test_a_duplicate_code_is_a_conflict(client, settings):
    district = await make_district()
    headers = await headers_for(settings, await make_user("admin"))
    response = await post_area(client, headers, code=district.east_a.code, name="重复", level="community", parent=str(district.east.id))
    assert_problem(response, 409)


async def test_supervisor_adds_communities_only_to_its_own_township(client, settings):
    district = await make_district()
    headers = await headers_for(settings, await make_user("supervisor", district.east))
    ok = await post_area(client, headers, code="E9", name="新村", level="community", parent=str(district.east.id))
    assert ok.status_code == 201
    assert_problem(await post_area(client, headers, code="W9", name="别村", level="community", parent=str(district.west.id)), 422, "/parent")
    assert_problem(await post_area(client, headers, code="T9", name="新街道", level="township", parent=str(district.county.id)), 422, "/parent")
    assert not await Area.filter(code__in=["W9", "T9"]).exists()


@pytest.mark.parametrize("role", ["worker", "bureau"])
async def test_workers_and_bureau_cannot_create_areas(client, settings, role):
    district = await make_district()
    area = district.east_a if role == "worker" else district.county
    headers = await headers_for(settings, await make_user(role, area))
    assert_problem(await post_area(client, headers, code="Z1", name="某村", level="community", parent=str(district.east.id)), 403)


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({"code": "A1", "name": "白竹亭\x00社区", "level": "community"}, ["/name"]),
        ({"code": "A1", "name": "第一行\n第二行", "level": "community"}, ["/name"]),
        ({"code": "A1", "name": "", "level": "community"}, ["/name"]),
        ({"code": "A1", "name": "长" * 101, "level": "community"}, ["/name"]),
        ({"code": "A1; DROP TABLE area;--", "name": "村", "level": "community"}, ["/code"]),
        ({"code": 430602, "name": ["村"], "level": "community"}, ["/code", "/name"]),
        ({"code": "A1", "name": "村", "level": "community", "parent": "not-a-uuid"}, ["/parent"]),
        ({"code": "A1", "name": "村", "level": "community", "population": 5}, ["/population"]),
        ({"name": "村"}, ["/code", "/level"]),
    ],
)
async def test_bad_area_bodies_change_nothing(client, settings, body, pointers):
    district = await make_district()
    headers = await headers_for(settings, await make_user("admin"))
    if "parent" not in body and body.get("level") == "community":
        body["parent"] = str(district.east.id)
    before = await Area.all().count()
    assert_problem(await client.post("/api/v1/areas", json=body, headers=headers), 422, *pointers)
    assert await Area.all().count() == before


async def test_sql_looking_names_are_stored_as_plain_text(client, settings):
    district = await make_district()
    headers = await headers_for(settings, await make_user("admin"))
    name = "'); DROP TABLE area; -- 村"
    response = await post_area(client, headers, code="S1", name=name, level="community", parent=str(district.east.id))
    assert response.status_code == 201
    assert (await client.get(f"/api/v1/areas/{response.json()['id']}", headers=headers)).json()["name"] == name


async def test_area_list_pages_with_a_cursor(client, settings):
    """A page size of 4 (the route's is 1000) shows the cursor at work."""
    district = await make_district()
    headers = await headers_for(settings, await make_user("admin"))
    page = await areas.paginate(Area.all(), None, order=("code", "id"), shape=areas.as_api, limit=4)
    assert len(page.items) == 4 and page.next_cursor
    rest = await client.get("/api/v1/areas", params={"cursor": page.next_cursor}, headers=headers)
    assert [a["id"] for a in rest.json()["items"]] == [str(district.east_b.id), str(district.west_a.id)]
    assert_problem(await client.get("/api/v1/areas", params={"cursor": "garbage"}, headers=headers), 422, "/cursor")
