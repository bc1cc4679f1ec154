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
    # Every method a route serves, HEAD too (Starlette answers it wherever there is a GET); paths as OpenAPI writes
    # them.
    routed = {
        (re.sub(r"{(\w+):\w+}", r"{\1}", route.path), method)
        for route in app.routes
        if route.include_in_schema
        for method in route.methods
    }
    assert described == routed
    assert ("/api/v1/attachments/{sha256}", "HEAD") in described
    assert not [path for path, _ in described if ":" in path]
    assert spec["paths"]["/api/v1/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]["required"]


async def test_every_operation_says_in_chinese_what_it_answers(client):
    spec = (await client.get("/api/openapi.json")).json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert re.search(r"[\u4e00-\u9fff]", operation["summary"]), where
            successes = [status for status in operation["responses"] if status[0] in "23"]
            assert successes and "2XX" not in successes, f"{where}: declare its replies (server.http.routes.replies)"
            for status in successes:
                reply = operation["responses"][status]
                assert reply["description"] and reply["headers"]["X-Request-Id"]["required"], where
                for media_type, content in reply.get("content", {}).items():
                    assert "$ref" in content["schema"] or content["schema"].get("format") == "binary", where
            for status in ("4XX", "5XX"):
                problem = operation["responses"][status]["content"]["application/problem+json"]["schema"]
                assert problem == {"$ref": "#/components/schemas/Problem"}, where
            for parameter in operation.get("parameters", []):
                assert parameter["schema"] and parameter["in"] in ("path", "query", "header"), where
    public = {(path, method) for path, item in spec["paths"].items() for method, op in item.items()
              if op.get("security") == []}
    assert {("/healthz", "get"), ("/readyz", "get"), ("/api/v1/auth/token", "post")} <= public
    assert not [p for p in public if p[0].startswith("/api/v1/") and p[0] != "/api/v1/auth/token"]
    upload = spec["paths"]["/api/v1/attachments/{sha256}"]["put"]["requestBody"]["content"]
    assert set(upload) == {"image/jpeg", "image/png", "image/webp", "image/heic"}
    assert all(c["schema"] == {"type": "string", "format": "binary"} for c in upload.values())
    listed = spec["paths"]["/api/v1/submissions"]["get"]["parameters"]
    assert {p["name"] for p in listed} == {"form", "household", "area", "author", "flagged", "since", "state", "cursor"}
    export = spec["paths"]["/api/v1/forms/{slug}/submissions.{format}"]["get"]["parameters"]
    assert next(p for p in export if p["name"] == "format")["schema"] == {"enum": ["xlsx", "csv"]}


async def test_a_query_parameter_is_checked_against_its_description(client, settings):
    headers = await headers_for(settings, await make_user("admin"))
    for query, pointer in (("hours=-1", "/hours"), ("hours=1e3", "/hours"), ("hours=" + "9" * 5000, "/hours"),
                           ("actor=nobody", "/actor"), ("action=" + "x" * 65, "/action")):
        url = "/api/v1/orphan-photos" if query.startswith("hours") else "/api/v1/audit"
        assert_problem(await client.get(f"{url}?{query}", headers=headers), 422, pointer)
    # Left empty, a filter is not set.
    assert (await client.get("/api/v1/audit?actor=&household=&action=", headers=headers)).status_code == 200
    response = await client.delete("/api/v1/login-throttles?address=" + "0" * 65, headers=headers)
    assert_problem(response, 422, "/address")


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
