"""GET /api/v1/households/{id}/prefill: a form's prefilled questions answered from one household's file."""

import uuid
from datetime import datetime, timedelta, timezone

from factories import (assert_problem, economic_survey, headers_for, make_district, make_field, make_form_version,
                       make_household, make_user, submission_body)
from server.models import AuditEvent, Member

MEMBER = "5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10"


async def test_the_survey_starts_from_what_the_file_knows(client, settings):
    field = await make_field(client, settings)
    await make_form_version("economic_survey")
    household, worker = field.household, field.headers
    url = f"/api/v1/households/{household.id}/prefill?form=economic_survey&version=1"

    first = await client.get(url, headers=worker)
    assert first.status_code == 200, first.text
    # Nothing surveyed yet: the household's own address, phone and head, and no members.
    assert first.json() == {"household": str(household.id), "form": "economic_survey", "version": 1, "data": {
        "head_name": "张秀英", "phone": "13807312456", "address": "白竹亭社区 3 组 12 号", "members": []}}

    body = submission_body(household, economic_survey(MEMBER) | {"house_photos": field.photos}, form="economic_survey")
    sent = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=worker)
    assert sent.status_code == 201, sent.text

    data = (await client.get(url, headers=worker)).json()["data"]
    assert data["head_name"] == "李桂兰" and data["address"] == "凤凰社区 3 组 12 号"
    head, spouse = sorted(data["members"], key=lambda m: m["name"] != "李桂兰")
    assert head == {"id": MEMBER, "name": "李桂兰", "relation": "self", "gender": "female", "health": "chronic",
                    "work_status": "farming"}  # no ID number: the file shows it masked
    assert spouse["name"] == "王建国" and spouse["disability_level"] == "2" and uuid.UUID(spouse["id"])
    reads = await AuditEvent.filter(action="household.read", household_id=household.id).values_list("detail", flat=True)
    assert [d["part"] for d in reads if d.get("part") == "prefill"] == ["prefill", "prefill"]


async def test_prefill_is_scoped_and_names_what_is_wrong(client, settings):
    district = await make_district()
    await make_form_version("economic_survey")
    theirs = await make_household(district.west_a)
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    ours = await make_household(district.east_a)
    assert_problem(await client.get(f"/api/v1/households/{theirs.id}/prefill?form=economic_survey&version=1",
                                    headers=worker), 404)
    assert_problem(await client.get(f"/api/v1/households/{uuid.uuid4()}/prefill?form=economic_survey&version=1",
                                    headers=worker), 404)
    assert_problem(await client.get(f"/api/v1/households/{ours.id}/prefill?form=economic_survey&version=9",
                                    headers=worker), 404)
    assert_problem(await client.get(f"/api/v1/households/{ours.id}/prefill?form=nothing_here&version=1",
                                    headers=worker), 404)
    assert_problem(await client.get(f"/api/v1/households/{ours.id}/prefill?form=economic_survey",
                                    headers=worker), 422, "/version")


async def test_a_ledger_starts_with_the_members_it_is_for(client, settings):
    district = await make_district()
    await make_form_version("elderly_ledger")
    await make_form_version("child_file")
    household = await make_household(district.east_a)
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    stamp = datetime.now(timezone.utc)
    people = {"张秀英": "1946-05-02", "张小军": "2012-09-01", "张某": None}  # the last of no known age
    for n, (name, born) in enumerate(people.items()):
        await Member.create(id=uuid.uuid4(), household=household, data={"name": name, "birth_date": born}, meta={},
                            created_at=stamp + timedelta(seconds=n), updated_at=stamp)

    async def rows(form: str, template: str) -> list[str]:
        reply = await client.get(f"/api/v1/households/{household.id}/prefill?form={form}&version=1", headers=worker)
        assert reply.status_code == 200, reply.text
        return [row["name"] for row in reply.json()["data"][template]]

    assert await rows("elderly_ledger", "elders") == ["张秀英", "张某"]  # not the boy of 14
    assert await rows("child_file", "children") == ["张小军", "张某"]  # not his grandmother
