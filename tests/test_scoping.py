"""Role × area matrix: users inside and outside a target area try to read and change it and its people."""

import pytest

from factories import headers_for, make_area, make_district, make_user

# Who acts: (role, where they are assigned). "home" is the target's own area or its ancestors.
ACTORS = {
    "admin": ("admin", None),
    "bureau_home": ("bureau", "county"),
    "bureau_other": ("bureau", "other_county"),
    "supervisor_home": ("supervisor", "east"),
    "supervisor_other": ("supervisor", "west"),
    "worker_home": ("worker", "east_a"),
    "worker_other": ("worker", "east_b"),
    "provider": ("provider", None),
}

# What each actor gets for: read the target community, rename it, read its worker, rename that worker.
EXPECTED = {
    #                   read area, change area, read user, change user
    "admin": (200, 200, 200, 200),
    "bureau_home": (200, 403, 200, 403),
    "bureau_other": (404, 403, 404, 404),
    "supervisor_home": (200, 200, 200, 200),
    "supervisor_other": (404, 404, 404, 404),
    "worker_home": (200, 403, 404, 404),  # a fellow worker of the same community is not theirs to see
    "worker_other": (404, 403, 404, 404),
    "provider": (404, 403, 404, 404),
}


@pytest.fixture
async def world():
    district = await make_district()
    other_county = await make_area("county", name="君山区")
    areas = vars(district) | {"other_county": other_county}
    target_worker = await make_user("worker", district.east_a, username="target")
    return areas, target_worker


@pytest.mark.parametrize("actor", sorted(ACTORS))
async def test_role_area_matrix(client, settings, world, actor):
    areas, target_worker = world
    role, home = ACTORS[actor]
    headers = await headers_for(settings, await make_user(role, *([areas[home]] if home else [])))
    community = areas["east_a"]
    got = (
        (await client.get(f"/api/v1/areas/{community.id}", headers=headers)).status_code,
        (await client.patch(f"/api/v1/areas/{community.id}", json={"name": "改名社区"}, headers=headers)).status_code,
        (await client.get(f"/api/v1/users/{target_worker.id}", headers=headers)).status_code,
        (await client.patch(f"/api/v1/users/{target_worker.id}", json={"display_name": "改名"}, headers=headers)).status_code,
    )
    assert got == EXPECTED[actor]


@pytest.mark.parametrize("actor", sorted(ACTORS))
async def test_lists_hold_only_what_the_caller_may_see(client, settings, world, actor):
    areas, target_worker = world
    role, home = ACTORS[actor]
    me = await make_user(role, *([areas[home]] if home else []))
    headers = await headers_for(settings, me)
    listed_areas = {a["id"] for a in (await client.get("/api/v1/areas", headers=headers)).json()["items"]}
    seen = {name for name, area in areas.items() if str(area.id) in listed_areas}
    expected_areas = {
        "admin": set(areas),
        "bureau_home": {"county", "east", "west", "east_a", "east_b", "west_a"},
        "bureau_other": {"other_county"},
        "supervisor_home": {"east", "east_a", "east_b"},
        "supervisor_other": {"west", "west_a"},
        "worker_home": {"east_a"},
        "worker_other": {"east_b"},
        "provider": set(),
    }[actor]
    assert seen == expected_areas
    response = await client.get("/api/v1/users", headers=headers)
    if role in ("worker", "provider"):
        assert response.status_code == 403
    else:
        listed = {u["id"] for u in response.json()["items"]}
        assert (str(target_worker.id) in listed) == (EXPECTED[actor][2] == 200)
        assert str(me.id) in listed


async def test_guessing_ids_never_reveals_that_a_record_exists(client, settings, world):
    areas, target_worker = world
    headers = await headers_for(settings, await make_user("worker", areas["east_b"]))
    hidden = await client.get(f"/api/v1/areas/{areas['east_a'].id}", headers=headers)
    missing = await client.get("/api/v1/areas/00000000-0000-4000-8000-000000000000", headers=headers)
    malformed = await client.get("/api/v1/areas/not-an-id", headers=headers)
    assert hidden.status_code == missing.status_code == malformed.status_code == 404
    assert hidden.json() == missing.json() == malformed.json()


# --- The hand-written statements (server/sql.py) filter exactly as the ORM's scope does --------------------------


@pytest.mark.parametrize("actor", sorted(ACTORS))
async def test_the_sql_scope_matches_the_orm_scope(clean_database, world, actor):
    from factories import make_household
    from server.core import sql
    from server.core.caller import Caller
    from server.models import Form, Household
    from server.core.scope import forms_visible_to, forms_where, scope_of

    areas, _ = world
    for area in areas.values():
        if area.level == "community":
            await make_household(area)
        await Form.create(slug=f"form-{area.code}", area=area, draft_title="表", draft_schema={}, draft_ui={},
                          draft_updated_at=area.created_at)
    await Form.create(slug="builtin", draft_title="表", draft_schema={}, draft_ui={}, draft_updated_at=area.created_at)
    role, home = ACTORS[actor]
    caller = Caller(await make_user(role, *([areas[home]] if home else [])), "127.0.0.1")
    scope = await scope_of(caller)

    params: list = []
    rows = await sql.fetch("SELECT h.id FROM household h JOIN area a ON a.id = h.community_id "
                           f"WHERE {scope.where('a', params)}", params)
    by_orm = set(await Household.filter(scope.areas("community__")).values_list("id", flat=True))
    assert {sql.as_uuid(r["id"]) for r in rows} == by_orm
    params = []
    rows = await sql.fetch("SELECT f.id FROM form f LEFT JOIN area a ON a.id = f.area_id "
                           f"WHERE {await forms_where(caller, 'f', 'a', params)}", params)
    by_orm = set(await Form.filter(await forms_visible_to(caller)).values_list("id", flat=True))
    assert {sql.as_uuid(r["id"]) for r in rows} == by_orm
    assert by_orm or role == "provider"
