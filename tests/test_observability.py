"""What an operator watches: /metrics in the Prometheus text format (requests by route template and status with
their latency, photo upload bytes, image work waiting, database connections, export jobs by state; who may read it),
and log lines as one JSON object each, carrying the request's id."""

from __future__ import annotations

import io
import json
import logging
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.routing import Route

from factories import assert_problem, headers_for, jpeg, make_district, make_user, upload
from server.app import create_app
from server.http import logs
from server.settings import load_settings


async def scrape(client, **headers) -> dict[tuple, float]:
    """The samples of /metrics by (name, sorted labels)."""
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_requests_are_counted_by_route_template_and_status_with_their_latency(client, settings):
    admin = await headers_for(settings, await make_user("admin"))
    missing = [str(uuid.uuid4()) for _ in range(3)]
    for household in missing:
        assert_problem(await client.get(f"/api/v1/households/{household}", headers=admin), 404)
    assert (await client.get("/api/v1/me", headers=admin)).status_code == 200
    assert_problem(await client.get("/no/such/place"), 404)
    samples = await scrape(client)
    route = "/api/v1/households/{id}"
    assert value(samples, "doorstep_http_requests_total", method="GET", route=route, status="404") == 3
    assert value(samples, "doorstep_http_requests_total", method="GET", route="/api/v1/me", status="200") == 1
    assert value(samples, "doorstep_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert value(samples, "doorstep_http_request_duration_seconds_count", method="GET", route=route) == 3
    assert value(samples, "doorstep_http_request_duration_seconds_bucket", method="GET", route=route, le="+Inf") == 3
    # No id, no raw path in any label: a series per route, never per household.
    labels = " ".join(str(key) for key in samples)
    assert not any(household in labels for household in missing) and "/no/such" not in labels
    # A route with a converter is named as OpenAPI names it.
    await client.get("/api/v1/forms/nothing/versions/1", headers=admin)
    assert value(await scrape(client), "doorstep_http_requests_total", method="GET",
                 route="/api/v1/forms/{slug}/versions/{version}", status="404") == 1


async def test_upload_bytes_image_work_and_connections_are_shown(client, settings):
    district = await make_district()
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    photos = [jpeg((320, 240)), jpeg((64, 48))]
    for photo in photos:
        assert (await upload(client, worker, photo)).status_code == 201
    assert (await upload(client, worker, photos[0])).status_code == 200  # sent again: its bytes came again
    samples = await scrape(client)
    assert value(samples, "doorstep_upload_bytes_total") == 2 * len(photos[0]) + len(photos[1])
    for gauge in ("doorstep_image_jobs_waiting", "doorstep_image_jobs_running", "doorstep_thumbnails_waiting"):
        assert (gauge, ()) in samples
    assert value(samples, "doorstep_db_connections", kind="max") >= 1
    assert 1 <= value(samples, "doorstep_db_connections", kind="open") <= value(samples, "doorstep_db_connections",
                                                                                 kind="max")
    assert value(samples, "doorstep_db_connections", kind="in_use") >= 0


async def test_export_jobs_are_counted_by_state_from_the_database_and_this_instances_runs(app, client, settings):
    district = await make_district()
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    period = {"from": "2025-03-01", "to": "2025-03-31"}
    for area in (district.east_a, district.east):
        response = await client.post("/api/v1/exports", json={"area": str(area.id)} | period, headers=supervisor)
        assert response.status_code == 202, response.text
    samples = await scrape(client)
    assert value(samples, "doorstep_export_jobs", state="queued") == 2
    assert value(samples, "doorstep_export_jobs", state="running") == 0
    assert ("doorstep_export_jobs", (("state", "expired"),)) in samples
    assert value(samples, "doorstep_export_runs_total") == 0
    assert (await app.state.exports.run_once()).state == "done"
    samples = await scrape(client)
    assert value(samples, "doorstep_export_jobs", state="queued") == 1
    assert value(samples, "doorstep_export_jobs", state="done") == 1
    assert value(samples, "doorstep_export_runs_total") == 1 and value(samples, "doorstep_export_running") == 0


async def test_without_a_token_only_this_machine_straight_to_the_instance_reads_the_figures(app):
    for client_address, headers in ((("10.0.0.7", 5000), {}), (("127.0.0.1", 5000), {"X-Forwarded-For": "10.0.0.7"})):
        transport = httpx.ASGITransport(app=app, client=client_address)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert_problem(await client.get("/metrics", headers=headers), 404)


async def test_with_a_token_whoever_sends_it_reads_the_figures_and_no_one_else(settings, clean_database):
    app = create_app(load_settings({}, **(vars(settings) | {"metrics_token": "t" * 40})), manage_database=False)
    for client_address in (("10.0.0.7", 5000), ("127.0.0.1", 5000)):
        transport = httpx.ASGITransport(app=app, client=client_address)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert_problem(await client.get("/metrics"), 401)
            assert_problem(await client.get("/metrics", headers={"Authorization": "Bearer " + "t" * 39}), 401)
            assert await scrape(client, Authorization="Bearer " + "t" * 40)
    await app.state.thumbnails.close()
    app.state.image_workers.shutdown(wait=True)


async def test_each_app_keeps_figures_of_its_own(client, settings, clean_database):
    other = create_app(settings, manage_database=False)
    await client.get("/healthz")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://t") as second:
        samples = await scrape(second)
    assert value(samples, "doorstep_http_requests_total", method="GET", route="/healthz", status="200") == 0
    await other.state.thumbnails.close()
    other.state.image_workers.shutdown(wait=True)


@pytest.fixture
def json_lines():
    """What the JSON log handler writes while the test runs, one parsed object a line."""
    out = io.StringIO()
    handler = logs.handler("json")
    handler.setStream(out)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


async def test_each_request_is_one_json_line_with_its_id_method_route_status_and_duration(client, settings, json_lines):
    admin = await headers_for(settings, await make_user("admin"))
    household = str(uuid.uuid4())
    response = await client.get(f"/api/v1/households/{household}?q=430102195803124425", headers=admin)
    [line] = [line for line in json_lines() if line.get("request_id") == response.headers["x-request-id"]]
    assert line["logger"] == "doorstep.request" and line["level"] == "INFO"
    assert (line["method"], line["route"], line["path"], line["status"]) == (
        "GET", "/api/v1/households/{id}", f"/api/v1/households/{household}", 404)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    # The query is never logged (httpx is the test's own client, logging the request as sent).
    assert "430102195803124425" not in json.dumps([line for line in json_lines() if line["logger"] != "httpx"])
    assert line["time"].endswith("+00:00")


async def test_an_error_is_logged_as_json_with_its_traceback_and_request_id(settings, clean_database, json_lines):
    async def boom(request):
        raise RuntimeError("出错了")

    app = create_app(settings, manage_database=False)
    app.router.routes.append(Route("/boom", boom))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    request_id = assert_problem(response, 500)["request_id"]
    [error] = [line for line in json_lines() if line["level"] == "ERROR"]
    assert error["request_id"] == request_id and error["route"] == "/boom"
    assert "RuntimeError: 出错了" in error["traceback"] and "Traceback" in error["traceback"]
    [done] = [line for line in json_lines() if line["level"] == "INFO" and line.get("request_id") == request_id]
    assert done["status"] == 500
    await app.state.thumbnails.close()
    app.state.image_workers.shutdown(wait=True)


def test_the_log_format_is_a_setting():
    assert load_settings({}).log_format == "json"
    assert load_settings({"DOORSTEP_LOG_FORMAT": "text"}).log_format == "text"
    with pytest.raises(Exception, match="DOORSTEP_LOG_FORMAT"):
        load_settings({"DOORSTEP_LOG_FORMAT": "xml"})
