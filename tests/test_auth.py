from datetime import timedelta

from factories import PASSWORD, assert_problem, headers_for, make_district, make_user
from server.core.clock import now
from server.models import AccessToken, AuditEvent, LoginFailure


async def login(client, username, password=PASSWORD, **kwargs):
    return await client.post("/api/v1/auth/token", json={"username": username, "password": password}, **kwargs)


async def test_login_answers_a_token_that_opens_me(client):
    district = await make_district()
    worker = await make_user("worker", district.east_a, username="zhangmin")
    response = await login(client, "zhangmin")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert body["user"]["role"] == "worker" and body["user"]["areas"] == [str(district.east_a.id)]
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == str(worker.id)
    stored = await AccessToken.get(user_id=worker.id)
    assert body["access_token"] not in stored.token_hash


async def test_wrong_password_unknown_user_and_disabled_user_look_the_same(client):
    await make_user("admin", username="boss")
    await make_user("admin", username="gone", is_active=False)
    answers = [await login(client, "boss", "wrong password"), await login(client, "nobody"), await login(client, "gone")]
    for response in answers:
        assert_problem(response, 401)
    assert len({r.json()["type"] for r in answers}) == 1
    assert await AccessToken.all().count() == 0
    assert await AuditEvent.filter(action="login.failed").count() == 3


async def test_repeated_failures_for_one_user_get_429_even_with_the_right_password(client):
    await make_user("admin", username="boss")
    for _ in range(3):
        assert_problem(await login(client, "boss", "guess-guess"), 401)
    response = await login(client, "boss")
    assert_problem(response, 429)
    assert int(response.headers["retry-after"]) > 0
    assert await AccessToken.all().count() == 0


async def test_repeated_failures_from_one_address_get_429_for_every_username(client):
    await make_user("admin", username="boss")
    for n in range(10):
        await login(client, f"guess{n}", "guess-guess")
    assert_problem(await login(client, "boss"), 429)


async def test_old_failures_fall_out_of_the_window(client):
    await make_user("admin", username="boss")
    for _ in range(3):
        await LoginFailure.create(username="boss", address="127.0.0.1", at=now() - timedelta(hours=1))
    assert (await login(client, "boss")).status_code == 200


async def test_success_clears_the_users_failures(client):
    await make_user("admin", username="boss")
    for _ in range(2):
        await login(client, "boss", "guess-guess")
    assert (await login(client, "boss")).status_code == 200
    assert (await login(client, "boss", "guess-guess")).status_code == 401
    assert (await login(client, "boss")).status_code == 200


async def test_requests_without_a_valid_token_get_401(client, settings):
    user = await make_user("admin")
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic YWRtaW46YWRtaW4="}, {"Authorization": "Bearer"}):
        response = await client.get("/api/v1/me", headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/api/v1/me", headers=await headers_for(settings, user))).status_code == 200


async def test_expired_token_is_refused(client, settings):
    user = await make_user("admin")
    headers = await headers_for(settings, user)
    await AccessToken.filter(user_id=user.id).update(expires_at=now() - timedelta(seconds=1))
    assert_problem(await client.get("/api/v1/me", headers=headers), 401)


async def test_logout_revokes_the_token(client, settings):
    user = await make_user("admin")
    headers = await headers_for(settings, user)
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert_problem(await client.get("/api/v1/me", headers=headers), 401)
    assert await AuditEvent.filter(action="logout", actor_id=user.id).exists()


async def test_token_stops_working_after_the_password_changes(client, settings):
    admin = await make_user("admin")
    user = await make_user("admin")
    old = await headers_for(settings, user)
    response = await client.patch(f"/api/v1/users/{user.id}", json={"password": "a new long password"}, headers=await headers_for(settings, admin))
    assert response.status_code == 200
    assert_problem(await client.get("/api/v1/me", headers=old), 401)
    assert (await login(client, user.username, "a new long password")).status_code == 200


async def test_token_stops_working_when_the_user_is_disabled(client, settings):
    admin = await make_user("admin")
    user = await make_user("admin")
    old = await headers_for(settings, user)
    await client.patch(f"/api/v1/users/{user.id}", json={"is_active": False}, headers=await headers_for(settings, admin))
    assert_problem(await client.get("/api/v1/me", headers=old), 401)
    assert_problem(await login(client, user.username), 401)


async def test_bad_login_bodies_are_problems(client):
    await make_user("admin", username="boss")
    assert_problem(await client.post("/api/v1/auth/token", content=b"{not json"), 400)
    assert_problem(await client.post("/api/v1/auth/token", json=["boss"]), 422, "")
    assert_problem(await client.post("/api/v1/auth/token", json={"username": "boss"}), 422, "/password")
    assert_problem(await client.post("/api/v1/auth/token", json={"username": 1, "password": None}), 422, "/username", "/password")
    assert_problem(
        await client.post("/api/v1/auth/token", json={"username": "boss", "password": PASSWORD, "remember": True}), 422, "/remember"
    )
    assert_problem(
        await client.post("/api/v1/auth/token", content=b"username=boss", headers={"content-type": "application/x-www-form-urlencoded"}),
        415,
    )
    assert_problem(await client.post("/api/v1/auth/token", json={"username": "x" * 65, "password": PASSWORD}), 422, "/username")
    assert await AccessToken.all().count() == 0


async def test_a_body_past_the_limit_gets_413_and_is_not_read(client, settings):
    huge = b'{"username": "' + b"a" * settings.max_body_bytes + b'"}'
    assert_problem(await client.post("/api/v1/auth/token", content=huge, headers={"content-type": "application/json"}), 413)

    async def chunked():  # no Content-Length: the limit is enforced while reading
        yield b'{"username": "'
        for _ in range(settings.max_body_bytes // 65536 + 1):
            yield b"a" * 65536
        yield b'"}'

    assert_problem(await client.post("/api/v1/auth/token", content=chunked(), headers={"content-type": "application/json"}), 413)


async def test_me_shows_the_callers_own_record(client, settings):
    district = await make_district()
    supervisor = await make_user("supervisor", district.east)
    response = await client.get("/api/v1/me", headers=await headers_for(settings, supervisor))
    assert response.json() | {"created_at": None} == {
        "id": str(supervisor.id), "username": supervisor.username, "display_name": supervisor.display_name,
        "role": "supervisor", "areas": [str(district.east.id)], "provider": None, "is_active": True, "created_at": None,
    }
