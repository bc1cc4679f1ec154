"""Registering households met in the field, under the ids the phones made offline."""

import asyncio
import uuid

from factories import assert_problem, headers_for, make_district, make_household, make_user
from server.models import AuditEvent, Household


def body_for(area, **changes) -> dict:
    return {"community": str(area.id), "address": "白竹亭社区 3 组 12 号", "head": "张秀英",
            "phone": "13807312456", "location": {"lat": 28.1941, "lon": 112.9823}} | changes


async def test_worker_registers_a_household_and_a_retry_confirms_it(client, settings):
    district = await make_district()
    headers = await headers_for(settings, await make_user("worker", district.east_a))
    hid = uuid.uuid4()
    body = body_for(district.east_a)
    first = await client.put(f"/api/v1/households/{hid}", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["id"] == str(hid) and first.json()["location"] == {"lat": 28.1941, "lon": 112.9823}
    # Keys in another order are the same body.
    again = await client.put(f"/api/v1/households/{hid}", json=dict(reversed(list(body.items()))), headers=headers)
    assert again.status_code == 200 and again.json() == first.json()
    assert await Household.all().count() == 1
    assert await AuditEvent.filter(action="household.registered").count() == 1


async def test_another_body_under_the_same_id_is_a_conflict_and_changes_nothing(client, settings):
    district = await make_district()
    headers = await headers_for(settings, await make_user("worker", district.east_a))
    hid = uuid.uuid4()
    await client.put(f"/api/v1/households/{hid}", json=body_for(district.east_a), headers=headers)
    other = await client.put(f"/api/v1/households/{hid}", json=body_for(district.east_a, head="李四"), headers=headers)
    assert_problem(other, 409)
    assert (await Household.get(id=hid)).head == "张秀英"


async def test_the_same_id_from_two_workers_at_once_registers_one_household_and_the_other_is_a_conflict(
        client, settings):
    district = await make_district()
    a, b = [await headers_for(settings, await make_user("worker", district.east_a)) for _ in range(2)]
    hid, body = uuid.uuid4(), body_for(district.east_a)
    answers = await asyncio.gather(*(client.put(f"/api/v1/households/{hid}", json=body, headers=h) for h in (a, b)))
    assert sorted(r.status_code for r in answers) == [201, 409]
    winner = a if answers[0].status_code == 201 else b
    loser = b if winner is a else a
    assert (await client.put(f"/api/v1/households/{hid}", json=body, headers=winner)).status_code == 200
    assert_problem(await client.put(f"/api/v1/households/{hid}", json=body, headers=loser), 409)
    assert await Household.all().count() == 1
    assert await AuditEvent.filter(action="household.registered").count() == 1


async def test_a_community_outside_the_workers_areas_is_not_found(client, settings):
    district = await make_district()
    headers = await headers_for(settings, await make_user("worker", district.east_a))
    for community in (district.east_b, district.west_a):
        response = await client.put(f"/api/v1/households/{uuid.uuid4()}", json=body_for(community), headers=headers)
        assert_problem(response, 404)
    # A township is not a community either.
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    response = await client.put(f"/api/v1/households/{uuid.uuid4()}", json=body_for(district.east), headers=supervisor)
    assert_problem(response, 404)
    assert await Household.all().count() == 0


async def test_bad_registration_bodies_are_refused_with_pointers(client, settings):
    district = await make_district()
    headers = await headers_for(settings, await make_user("worker", district.east_a))
    cases = [
        (body_for(district.east_a, location={"lat": 95, "lon": 0}), "/location/lat"),
        (body_for(district.east_a, head=""), "/head"),
        (body_for(district.east_a, community="not-a-uuid"), "/community"),
        ({k: v for k, v in body_for(district.east_a).items() if k != "address"}, "/address"),
        (body_for(district.east_a, colour="red"), "/colour"),
    ]
    for body, pointer in cases:
        assert_problem(await client.put(f"/api/v1/households/{uuid.uuid4()}", json=body, headers=headers), 422, pointer)
    assert await Household.all().count() == 0


async def test_bureau_and_providers_may_not_register_households(client, settings):
    district = await make_district()
    for user in (await make_user("bureau", district.county), await make_user("provider")):
        response = await client.put(f"/api/v1/households/{uuid.uuid4()}", json=body_for(district.east_a),
                                    headers=await headers_for(settings, user))
        assert_problem(response, 403)


async def test_households_are_seen_only_within_the_callers_areas(client, settings):
    district = await make_district()
    household = await make_household(district.east_a)
    expected = {
        await make_user("worker", district.east_a): 200,
        await make_user("worker", district.east_b): 404,
        await make_user("supervisor", district.east): 200,
        await make_user("supervisor", district.west): 404,
        await make_user("bureau", district.county): 200,
        await make_user("provider"): 404,
    }
    for user, status in expected.items():
        response = await client.get(f"/api/v1/households/{household.id}", headers=await headers_for(settings, user))
        assert response.status_code == status, (user.role, response.text)
    headers = await headers_for(settings, await make_user("admin"))
    assert_problem(await client.get("/api/v1/households/not-a-uuid", headers=headers), 404)
