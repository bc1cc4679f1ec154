"""One spelling of an id and one meaning of a number: a record has one name, whatever a client writes, and a retry
that spells the same JSON otherwise is the same body."""

import json
import uuid

import pytest

from factories import assert_problem, headers_for, home_visit, make_field, make_user, submission_body
from server.models import AuditEvent


@pytest.mark.parametrize("spelling", [
    lambda u: u.hex,  # no dashes
    lambda u: f"urn:uuid:{u}",
    lambda u: f"{{{u}}}",
    lambda u: f" {u}",
])
async def test_an_id_in_another_spelling_is_not_found(client, settings, spelling):
    field = await make_field(client, settings)
    admin = await headers_for(settings, await make_user("admin"))
    hid = field.household.id
    assert (await client.get(f"/api/v1/households/{hid}", headers=admin)).status_code == 200
    assert_problem(await client.get(f"/api/v1/households/{spelling(hid)}", headers=admin), 404)
    assert_problem(await client.get("/api/v1/submissions", params={"household": spelling(hid)}, headers=admin),
                   422, "/household")
    assert_problem(await client.get("/api/v1/audit", params={"household": spelling(hid)}, headers=admin),
                   422, "/household")


async def test_an_upper_case_id_names_the_same_record_and_the_audit_log_one_id(client, settings):
    field = await make_field(client, settings)
    hid = uuid.uuid4()
    body = {"community": str(field.district.east_a.id), "address": "凌云社区 2 组 5 号", "head": "李桂兰"}
    response = await client.put(f"/api/v1/households/{str(hid).upper()}", json=body, headers=field.headers)
    assert response.status_code == 201 and response.json()["id"] == str(hid)
    assert (await client.put(f"/api/v1/households/{hid}", json=body, headers=field.headers)).status_code == 200
    assert (await client.get(f"/api/v1/households/{str(hid).upper()}", headers=field.headers)).status_code == 200
    named = {e.target_id for e in await AuditEvent.filter(target_type="household")}
    assert named == {str(hid)}


async def test_a_whole_number_is_the_same_number_however_it_is_written(client, settings):
    field = await make_field(client, settings)
    body = submission_body(field.household, home_visit(field.photos[0], field.photos))
    sid = uuid.uuid4()
    first = await client.put(f"/api/v1/submissions/{sid}", headers=field.headers | {"Content-Type": "application/json"},
                             content=_json(body).replace('"version":1,', '"version":1.0,').encode())
    assert first.status_code == 201, first.text
    again = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=field.headers)
    assert again.status_code == 200
    assert again.content == first.content
    written = await client.put(f"/api/v1/submissions/{sid}", headers=field.headers | {"Content-Type": "application/json"},
                               content=_json(body).replace('"version":1,', '"version":1e0,').encode())
    assert written.status_code == 200 and written.content == first.content


def _json(body: dict) -> str:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    assert '"version":1,' in text
    return text
