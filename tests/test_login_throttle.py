"""A lockout nobody can cause on purpose: wrong passwords from one place slow that place down, never a worker logging
in from another; the address is read from X-Forwarded-For only when a trusted proxy sent it; an admin can lift a
throttle, and both throttling and lifting are in the audit log."""

import dataclasses

import httpx
import pytest

from factories import PASSWORD, assert_problem, headers_for, make_user
from server.app import create_app
from server.core.clock import now
from server.models import AuditEvent, LoginFailure

PLACE_A, PLACE_B = "198.51.100.7", "203.0.113.9"


def client_from(app, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://doorstep.test")


async def login(client, username, password=PASSWORD, **kwargs):
    return await client.post("/api/v1/auth/token", json={"username": username, "password": password}, **kwargs)


async def test_wrong_passwords_from_one_place_do_not_lock_out_another(app):
    await make_user("admin", username="boss")
    async with client_from(app, PLACE_A) as a, client_from(app, PLACE_B) as b:
        for _ in range(30):
            assert (await login(a, "boss", "guess-guess")).status_code in (401, 429)
        assert (await login(b, "boss")).status_code == 200  # at once, from another place
        throttled = await login(a, "boss")  # the right password from the guessing place still waits
        assert_problem(throttled, 429)
        assert int(throttled.headers["retry-after"]) > 0


async def test_the_wait_grows_with_each_failure(app, settings):
    await make_user("worker", username="zhangmin")
    free, waits = settings.login_max_failures_user, []
    async with client_from(app, PLACE_A) as a:
        for failures in range(free - 1, free + 3):
            await LoginFailure.all().delete()
            await LoginFailure.bulk_create([LoginFailure(username="zhangmin", address=PLACE_A, at=now())
                                            for _ in range(failures)])
            response = await login(a, "zhangmin")
            waits.append(int(response.headers.get("retry-after", 0)) if response.status_code == 429 else 0)
    assert waits[0] == 0  # the free failures cost nothing
    assert 0 < waits[1] < waits[2] < waits[3]
    assert waits[2] == 2 * waits[1] and waits[3] == 2 * waits[2]


@pytest.fixture
def behind_proxy(settings):
    return dataclasses.replace(settings, trusted_proxies=("127.0.0.1",))


async def test_the_forwarded_address_counts_only_from_a_trusted_proxy(app, behind_proxy):
    await make_user("admin", username="boss")
    proxied = create_app(behind_proxy, manage_database=False)
    async with client_from(proxied, "127.0.0.1") as proxy, client_from(app, PLACE_B) as stranger:
        for _ in range(3):
            await login(proxy, "boss", "guess-guess", headers={"X-Forwarded-For": PLACE_A})
        assert set(await LoginFailure.all().values_list("address", flat=True)) == {PLACE_A}
        # The proxy's other clients are not slowed down by one of them.
        assert (await login(proxy, "boss", headers={"X-Forwarded-For": PLACE_B})).status_code == 200
        # An untrusted peer cannot pretend to come from elsewhere: its failures are its own.
        for _ in range(3):
            await login(stranger, "boss", "guess-guess", headers={"X-Forwarded-For": PLACE_A})
        assert (await LoginFailure.filter(address=PLACE_B).count()) == 3
        assert_problem(await login(stranger, "boss", headers={"X-Forwarded-For": "192.0.2.1"}), 429)
    await proxied.state.thumbnails.close()
    proxied.state.image_workers.shutdown(wait=True)


async def test_an_admin_sees_and_lifts_a_throttle_and_both_are_audited(app, client, settings):
    await make_user("worker", username="zhangmin")
    admin = await headers_for(settings, await make_user("admin"))
    async with client_from(app, PLACE_A) as a:
        for _ in range(settings.login_max_failures_user):
            await login(a, "zhangmin", "guess-guess")
        assert_problem(await login(a, "zhangmin"), 429)
        listed = (await client.get("/api/v1/login-throttles", headers=admin)).json()["items"]
        assert [(t["username"], t["address"], t["failures"]) for t in listed] == [
            ("zhangmin", PLACE_A, settings.login_max_failures_user)]
        assert listed[0]["until"] is not None
        assert_problem(await client.delete("/api/v1/login-throttles", headers=admin), 422, "/username")
        lifted = await client.delete("/api/v1/login-throttles", params={"username": "zhangmin"}, headers=admin)
        assert lifted.status_code == 204
        assert (await login(a, "zhangmin")).status_code == 200
    assert await AuditEvent.filter(action="login.throttled", actor_name="zhangmin", address=PLACE_A).count() == 1
    event = await AuditEvent.get(action="login.throttle_lifted")
    assert event.detail["username"] == "zhangmin" and event.detail["failures"] == settings.login_max_failures_user
