"""Values no column can hold, in bodies, paths and queries, are refused with a problem before the database sees them.

Each of these was a 500 (found by sending mutated bodies and queries at the app): the ORM refuses a string longer
than its column, SQLite an integer past 64 bits, PostgreSQL one past 32, and JSON reads 1e400 as infinity.
"""

import uuid

import pytest

from factories import assert_problem, headers_for, home_visit, make_field, make_user, submission_body
from server.models import AuditEvent, Household, Submission

LONG_SLUG = "a" * 65
HUGE = 99999999999999999999


@pytest.fixture
async def people(client, settings):
    field = await make_field(client, settings)
    admin = await headers_for(settings, await make_user("admin"))
    return field.district, field.household, field.headers, admin, field.photos[0]


async def test_a_number_json_reads_as_infinity_is_malformed(client, people):
    district, household, worker, admin, sha = people
    body = submission_body(household, home_visit(sha, [sha]))
    raw = _json(body).replace('"accuracy":12.5', '"accuracy":1e400')
    assert "1e400" in raw
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", content=raw,
                                headers=worker | {"Content-Type": "application/json"})
    assert "超出范围" in assert_problem(response, 400)["detail"]
    registration = ('{"community": "%s", "address": "3 组 12 号", "head": "张秀英", "location": {"lat": -1e999, "lon": 1}}'
                    % district.east_a.id)
    response = await client.put(f"/api/v1/households/{uuid.uuid4()}", content=registration,
                                headers=worker | {"Content-Type": "application/json"})
    assert_problem(response, 400)
    assert await Submission.all().count() == 0 and await Household.all().count() == 1


async def test_a_form_version_past_the_column_is_refused(client, people):
    district, household, worker, admin, sha = people
    body = submission_body(household, home_visit(sha, [sha]), version=2**31)
    assert_problem(await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=worker), 422, "/version")
    body = submission_body(household, home_visit(sha, [sha]), version=HUGE)
    assert_problem(await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=worker), 422, "/version")
    assert_problem(await client.get(f"/api/v1/forms/home_visit/versions/{HUGE}", headers=worker), 404)
    assert (await client.get(f"/api/v1/forms/home_visit/versions/{2**31 - 1}", headers=worker)).status_code == 404
    assert (await client.get("/api/v1/forms/home_visit/versions/1", headers=worker)).status_code == 200
    assert await Submission.all().count() == 0


async def test_a_slug_no_form_can_have_is_not_found_or_refused(client, people):
    district, household, worker, admin, sha = people
    for slug in (LONG_SLUG, "A", "x", "家计调查"):
        assert_problem(await client.get(f"/api/v1/forms/{slug}", headers=admin), 404)
        assert_problem(await client.get(f"/api/v1/forms/{slug}/submissions.csv", headers=admin), 404)
        assert_problem(await client.get("/api/v1/submissions", params={"form": slug}, headers=admin), 422, "/form")
    listed = await client.get("/api/v1/submissions", params={"form": "home_visit"}, headers=admin)
    assert listed.status_code == 200 and listed.json()["items"] == []


async def test_query_values_past_their_columns_are_refused(client, people):
    district, household, worker, admin, sha = people
    assert_problem(await client.get("/api/v1/audit", params={"action": "a" * 65}, headers=admin), 422, "/action")
    assert (await client.get("/api/v1/audit", params={"action": "a" * 64}, headers=admin)).json()["items"] == []
    for hours in (str(HUGE), "-1", "abc", "١٢", ""):
        response = await client.get("/api/v1/orphan-photos", params={"hours": hours}, headers=admin)
        assert_problem(response, 422, "/hours")
    assert (await client.get("/api/v1/orphan-photos", params={"hours": "87840"}, headers=admin)).status_code == 200
    assert not await AuditEvent.filter(action="a" * 64).exists()


async def test_strings_json_can_spell_but_no_column_can_store_are_refused_at_their_field(client, people):
    """A lone surrogate has no UTF-8; PostgreSQL refuses U+0000 in text and jsonb. Both come only as escapes."""
    district, household, worker, admin, sha = people
    body = submission_body(household, home_visit(sha, [sha]))
    for bad in ("\\ud800", "\\udfff", "\\u0000"):
        raw = _json(body).replace('"observations":"', f'"observations":"{bad}', 1)
        raw = raw.replace('"met_person":"张秀英"', f'"met_person":"张{bad}"', 1)
        response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", content=raw,
                                    headers=worker | {"Content-Type": "application/json"})
        assert_problem(response, 422, "/data/observations", "/data/met_person")
        raw = f'{{"community": "{district.east_a.id}", "address": "3 组{bad}", "head": "张秀英", "x{bad}": 1}}'
        response = await client.put(f"/api/v1/households/{uuid.uuid4()}", content=raw.encode(),
                                    headers=worker | {"Content-Type": "application/json"})
        key = "/x\x00" if bad == "\\u0000" else f"/x{bad}"  # a lone surrogate is named by its escape
        assert_problem(response, 422, "/address", key)
    assert_problem(await client.get("/api/v1/audit", params={"action": "login\x00"}, headers=admin), 422, "/action")
    assert await Submission.all().count() == 0 and await Household.all().count() == 1
    # A surrogate pair is a character like any other, and a backslash before "u" is just a backslash.
    raw = _json(body).replace('"observations":"', '"observations":"\\ud83d\\ude00 \\\\u0000 ', 1)
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", content=raw,
                                headers=worker | {"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["data"]["observations"].startswith("😀 \\u0000 ")


def _json(body: dict) -> str:
    import json

    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("path", ["/api/v1/forms", "/api/v1/areas", "/api/v1/users", "/api/v1/submissions",
                                  "/api/v1/audit"])
async def test_a_cursor_holding_what_no_row_could_is_not_one_of_ours(client, people, path):
    """Cursors are made from a row's values; a forged one with a value no column holds was a 500."""
    import base64
    import json

    district, household, worker, admin, sha = people

    def cursor(first: str, second: str = str(uuid.uuid4())) -> str:
        return base64.urlsafe_b64encode(json.dumps([first, second]).encode()).decode().rstrip("=")

    ordered_by_time = path in ("/api/v1/submissions", "/api/v1/audit")
    for first in ("a" * 101, "a\u0000", "\ud800") + (("2025-01-01T00:00:00",) if ordered_by_time else ()):
        response = await client.get(path, params={"cursor": cursor(first)}, headers=admin)
        assert_problem(response, 422, "/cursor")
    assert_problem(await client.get(path, params={"cursor": cursor("2025-01-01T00:00:00+00:00", "x")},
                                    headers=admin), 422, "/cursor")
    # Nested 3,000 deep, a forged cursor was a RecursionError in the JSON decoder: a 500.
    deep = base64.urlsafe_b64encode(b"[" * 3000).decode()
    assert_problem(await client.get(path, params={"cursor": deep}, headers=admin), 422, "/cursor")
