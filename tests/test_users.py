import pytest

from factories import PASSWORD, assert_problem, headers_for, make_district, make_user
from server.models import AccessToken, AuditEvent, User


def user_body(role="worker", areas=(), **extra):
    return {"username": "lihua", "password": "a long password", "display_name": "李华", "role": role,
            "areas": [str(a.id) for a in areas], **extra}


async def test_admin_creates_a_worker_who_can_then_log_in(client, settings):
    district = await make_district()
    headers = await headers_for(settings, await make_user("admin"))
    response = await client.post("/api/v1/users", json=user_body("worker", [district.east_a, district.east_b]), headers=headers)
    assert response.status_code == 201
    created = response.json()
    assert created["role"] == "worker" and sorted(created["areas"]) == sorted([str(district.east_a.id), str(district.east_b.id)])
    assert "password" not in created and "password_hash" not in created
    login = await client.post("/api/v1/auth/token", json={"username": "lihua", "password": "a long password"})
    assert login.status_code == 200
    assert await AuditEvent.filter(action="user.created", target_id=created["id"]).exists()


@pytest.mark.parametrize(
    ("role", "areas", "pointers"),
    [
        ("worker", ["east"], ["/areas/0"]),  # a worker is assigned communities, not a township
        ("worker", [], ["/areas"]),
        ("supervisor", ["east_a"], ["/areas/0"]),
        ("bureau", ["east"], ["/areas/0"]),
        ("admin", ["county"], ["/areas"]),
        ("provider", [], ["/provider"]),
    ],
)
async def test_roles_are_assigned_areas_of_their_own_level(client, settings, role, areas, pointers):
    district = await make_district()
    headers = await headers_for(settings, await make_user("admin"))
    response = await client.post("/api/v1/users", json=user_body(role, [getattr(district, a) for a in areas]), headers=headers)
    assert_problem(response, 422, *pointers)
    assert not await User.exists(username="lihua")


async def test_supervisor_creates_workers_of_its_own_township_only(client, settings):
    district = await make_district()
    headers = await headers_for(settings, await make_user("supervisor", district.east))
    assert (await client.post("/api/v1/users", json=user_body("worker", [district.east_a]), headers=headers)).status_code == 201
    outside = user_body("worker", [district.east_b, district.west_a], username="wangwu")
    assert_problem(await client.post("/api/v1/users", json=outside, headers=headers), 422, "/areas/1")
    assert_problem(await client.post("/api/v1/users", json=user_body("supervisor", [district.east], username="xx1"), headers=headers), 403)
    assert_problem(await client.post("/api/v1/users", json=user_body("admin", [], username="xx2"), headers=headers), 403)
    assert not await User.filter(username__in=["wangwu", "xx1", "xx2"]).exists()


async def test_a_taken_username_is_a_conflict(client, settings):
    district = await make_district()
    await make_user("worker", district.east_a, username="lihua")
    headers = await headers_for(settings, await make_user("admin"))
    assert_problem(await client.post("/api/v1/users", json=user_body("worker", [district.east_b]), headers=headers), 409)
    assert await User.filter(username="lihua").count() == 1


@pytest.mark.parametrize(
    ("change", "pointers"),
    [
        ({"username": "bad name!"}, ["/username"]),
        ({"username": "ab"}, ["/username"]),
        ({"password": "short"}, ["/password"]),
        ({"display_name": "李\u0007华"}, ["/display_name"]),
        ({"display_name": "名" * 101}, ["/display_name"]),
        ({"role": "superuser"}, ["/role"]),
        ({"areas": ["not-a-uuid"]}, ["/areas/0"]),
        ({"is_admin": True}, ["/is_admin"]),
    ],
)
async def test_bad_user_bodies_change_nothing(client, settings, change, pointers):
    district = await make_district()
    headers = await headers_for(settings, await make_user("admin"))
    body = user_body("worker", [district.east_a]) | change
    assert_problem(await client.post("/api/v1/users", json=body, headers=headers), 422, *pointers)
    assert await User.all().count() == 1


async def test_supervisor_disables_its_worker_and_the_worker_is_logged_out(client, settings):
    district = await make_district()
    worker = await make_user("worker", district.east_a)
    worker_headers = await headers_for(settings, worker)
    headers = await headers_for(settings, await make_user("supervisor", district.east))
    response = await client.patch(f"/api/v1/users/{worker.id}", json={"is_active": False}, headers=headers)
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert_problem(await client.get("/api/v1/me", headers=worker_headers), 401)
    assert await AccessToken.filter(user_id=worker.id, revoked_at__isnull=True).count() == 0


async def test_supervisor_cannot_change_roles_or_workers_it_does_not_manage(client, settings):
    district = await make_district()
    mine = await make_user("worker", district.east_a)
    shared = await make_user("worker", district.east_b, district.west_a)  # partly in another township
    headers = await headers_for(settings, await make_user("supervisor", district.east))
    assert_problem(await client.patch(f"/api/v1/users/{mine.id}", json={"role": "supervisor"}, headers=headers), 403)
    assert_problem(await client.patch(f"/api/v1/users/{shared.id}", json={"display_name": "改名"}, headers=headers), 403)
    moved = await client.patch(f"/api/v1/users/{mine.id}", json={"areas": [str(district.west_a.id)]}, headers=headers)
    assert_problem(moved, 422, "/areas/0")
    assert (await User.get(id=mine.id)).role == "worker"


async def test_users_change_their_own_password_with_the_current_one(client, settings):
    district = await make_district()
    worker = await make_user("worker", district.east_a)
    headers = await headers_for(settings, worker)
    wrong = await client.patch(f"/api/v1/users/{worker.id}", json={"password": "new password 1", "current_password": "nope"}, headers=headers)
    assert_problem(wrong, 422, "/current_password")
    assert_problem(await client.patch(f"/api/v1/users/{worker.id}", json={"areas": []}, headers=headers), 403)
    ok = await client.patch(f"/api/v1/users/{worker.id}", json={"password": "new password 1", "current_password": PASSWORD}, headers=headers)
    assert ok.status_code == 200
    assert_problem(await client.get("/api/v1/me", headers=headers), 401)


async def test_empty_patch_is_refused(client, settings):
    worker = await make_user("admin")
    headers = await headers_for(settings, worker)
    assert_problem(await client.patch(f"/api/v1/users/{worker.id}", json={}, headers=headers), 422, "")
