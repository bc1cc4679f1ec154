import json
import logging
import re

from starlette.exceptions import HTTPException
from starlette.routing import Route
from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from factories import assert_problem, headers_for, make_district, make_user
from server.app import create_app, render_http_exception
from server.core.db import tortoise_config


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "storage": "ok"}


async def test_unknown_paths_and_methods_are_problems(client, settings):
    assert_problem(await client.get("/nowhere"), 404)
    headers = await headers_for(settings, await make_user("admin"))
    assert_problem(await client.get("/api/v1/nowhere", headers=headers), 404)
    assert_problem(await client.delete("/api/v1/areas", headers=headers), 405)


async def test_an_unexpected_error_is_a_bare_500_with_a_request_id_that_the_log_carries(settings, clean_database, caplog):
    import httpx

    async def boom(request):
        raise RuntimeError("secret internals: password=hunter2")

    app = create_app(settings, manage_database=False)
    app.router.routes.append(Route("/boom", boom))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with caplog.at_level(logging.ERROR, logger="doorstep.request"):
            response = await client.get("/boom")
    body = assert_problem(response, 500)
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]
    assert any(body["request_id"] in record.getMessage() and record.exc_info for record in caplog.records)


async def test_openapi_describes_every_api_route(client, app):
    spec = (await client.get("/api/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    described = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    # Every method a route serves, HEAD where it is more than the GET without a body; paths as OpenAPI writes them.
    routed = {
        (re.sub(r"{(\w+):\w+}", r"{\1}", route.path), method)
        for route in app.routes
        if route.include_in_schema
        for method in route.methods
        if method != "HEAD" or method in route.endpoint.operations
    }
    assert described == routed
    assert ("/api/v1/attachments/{sha256}", "HEAD") in described
    assert not [path for path, _ in described if ":" in path]
    assert spec["paths"]["/api/v1/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]["required"]


async def test_the_api_page_is_served_without_outside_assets(client):
    page = await client.get("/api/docs")
    assert page.status_code == 200 and "接口说明" in page.text
    assert "http://" not in page.text and "https://" not in page.text
    script = await client.get("/api/docs.js")
    assert script.status_code == 200 and "/api/openapi.json" in script.text


async def test_models_and_migrations_agree(database):
    config = tortoise_config("sqlite://:memory:")
    writers = await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
    assert [w.name for w in writers] == [], "models changed without a migration: run `doorstep makemigrations NAME`"


async def test_the_client_address_comes_from_a_trusted_proxy_only(settings, clean_database):
    import dataclasses

    import httpx

    from server.models import AuditEvent

    await make_district()
    await make_user("admin", username="boss")
    for trusted, expected in (((), "10.0.0.1"), (("10.0.0.1",), "203.0.113.9")):
        app = create_app(dataclasses.replace(settings, trusted_proxies=trusted), manage_database=False)
        transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.post("/api/v1/auth/token", json={"username": "boss", "password": "wrong-wrong"},
                              headers={"X-Forwarded-For": "203.0.113.9"})
        event = await AuditEvent.filter(action="login.failed").order_by("-at").first()
        assert event.address == expected


async def test_a_method_a_path_does_not_serve_is_405_naming_every_method_it_does(client, settings):
    headers = await headers_for(settings, await make_user("admin"))
    response = await client.delete("/api/v1/areas", headers=headers)
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD, POST"
    response = await client.post("/api/v1/attachments/" + "0" * 64, headers=headers)
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD, PUT"
    assert_problem(await client.get("/api/v1/no-such-thing", headers=headers), 404)


async def test_the_frameworks_other_http_errors_keep_their_status():
    response = await render_http_exception(None, HTTPException(416))
    assert response.status_code == 416
    assert response.media_type == "application/problem+json"
    assert json.loads(response.body)["status"] == 416
