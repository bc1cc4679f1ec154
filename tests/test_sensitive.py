"""ID numbers (身份证号) masked in every reply and export, workers' included; a whole number only by a reveal of a
supervisor, the bureau or an admin, which the audit log records; never in a log."""

import csv
import io
import logging
import uuid
import zipfile

import openpyxl
import pytest

import forms
from factories import (assert_problem, economic_survey, headers_for, id_number, make_area, make_field,
                       make_form_version, make_user, submission_body)
from form_samples import sample
from server.app import configure_logging
from server.core.sensitive import mask_answers, mask_id_number
from server.models import AuditEvent, Member, Submission

HEAD = "5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10"


def masked(number: str) -> str:
    return number[:6] + "********" + number[-4:]


@pytest.mark.parametrize("number, shown", [
    ("43060219530315003X", "430602********003X"),
    ("430602530315003", "430602*****5003"),  # an old 15-digit number
    ("1234567890", "**********"),
    ("", ""),
    (430602195303150013, "430602********0013"),  # answered as a JSON number
    (None, None),
    (True, True),
])
def test_an_id_number_shows_its_first_six_and_last_four_characters(number, shown):
    assert mask_id_number(number) == shown


def test_the_answers_of_every_id_number_question_are_masked_and_the_stored_ones_left_alone():
    child = next(f for f in forms.builtin_forms() if f["slug"] == "child_file")
    form = forms.compile_form(child["schema"], child["ui"])
    data = sample("child_file")
    shown = mask_answers(form, data)
    assert [c["id_number"] for c in shown["children"]] == [masked(c["id_number"]) for c in data["children"]]
    assert shown["guardian"]["id_number"] == masked(data["guardian"]["id_number"])  # not a member field: masked too
    assert shown["guardian"]["name"] == data["guardian"]["name"] and shown["photos"] == data["photos"]
    assert data == sample("child_file")  # the stored answers are not changed


@pytest.fixture
async def surveyed(client, settings):
    """A household of east_a surveyed for 低保: the head's ID number, and each member's, are in the answers."""
    field = await make_field(client, settings)
    await make_form_version("economic_survey")
    data = economic_survey(HEAD) | {"house_photos": [field.photos[0]]}
    field.numbers = [data["head_id_number"]] + [m["id_number"] for m in data["members"]]
    field.sid = str(uuid.uuid4())
    body = submission_body(field.household, data, form="economic_survey")
    field.reply = await client.put(f"/api/v1/submissions/{field.sid}", json=body, headers=field.headers)
    assert field.reply.status_code == 201, field.reply.text
    field.body = body
    return field


def assert_masked(text: str, numbers: list[str]) -> None:
    for number in numbers:
        assert number not in text
    assert masked(numbers[0]) in text


async def test_submission_replies_mask_the_answers_for_every_role(client, settings, surveyed):
    assert_masked(surveyed.reply.text, surveyed.numbers)
    assert surveyed.reply.json()["data"]["members"][0]["id_number"] == masked(surveyed.numbers[1])
    retry = await client.put(f"/api/v1/submissions/{surveyed.sid}", json=surveyed.body, headers=surveyed.headers)
    assert retry.status_code == 200 and retry.json() == surveyed.reply.json()
    district = surveyed.district
    readers = [surveyed.worker, await make_user("supervisor", district.east),
               await make_user("bureau", district.county), await make_user("admin")]
    for user in readers:
        headers = await headers_for(settings, user)
        for url in (f"/api/v1/submissions/{surveyed.sid}", "/api/v1/submissions"):
            response = await client.get(url, headers=headers)
            assert response.status_code == 200, response.text
            assert_masked(response.text, surveyed.numbers)
    # What the phone sent is stored whole: a reveal and the search by ID number need it.
    stored = await Submission.get(id=surveyed.sid)
    assert stored.data["head_id_number"] == surveyed.numbers[0]


async def test_the_file_its_history_and_its_conflicts_mask_the_numbers(client, settings, surveyed):
    supervisor = await headers_for(settings, await make_user("supervisor", surveyed.district.east))
    household = surveyed.household
    other = id_number("19580312", "335")
    response = await client.patch(f"/api/v1/households/{household.id}", headers=supervisor,
                                  json={"reason": "户口本核对", "members": [{"id": HEAD, "id_number": other}]})
    assert response.status_code == 200, response.text
    for url in (f"/api/v1/households/{household.id}", f"/api/v1/households/{household.id}/history",
                f"/api/v1/households/{household.id}/conflicts"):
        for headers in (surveyed.headers, supervisor):
            text = (await client.get(url, headers=headers)).text
            assert other not in text and all(n not in text for n in surveyed.numbers), url
    assert_masked(response.text, [other])


async def test_exports_mask_the_numbers_in_every_table(client, settings, surveyed):
    supervisor = await headers_for(settings, await make_user("supervisor", surveyed.district.east))
    base = "/api/v1/forms/economic_survey/submissions"
    for url in (f"{base}.csv", f"{base}.csv?table=members"):
        response = await client.get(url, headers=supervisor)
        assert response.status_code == 200, response.text
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert_masked(response.content.decode("utf-8-sig"), surveyed.numbers)
        assert any(masked(n) in row for row in rows for n in surveyed.numbers)
    workbook = await client.get(f"{base}.xlsx", headers=supervisor)
    cells = [str(c) for sheet in openpyxl.load_workbook(io.BytesIO(workbook.content)).worksheets
             for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert_masked("\n".join(cells), surveyed.numbers)
    archive = await client.get(f"{base}.zip", headers=supervisor)
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        book = openpyxl.load_workbook(io.BytesIO(z.read("economic_survey-submissions.xlsx")))
    cells = [str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert_masked("\n".join(cells), surveyed.numbers)


async def test_supervisors_the_bureau_and_admins_reveal_a_members_number_and_it_is_audited(client, settings,
                                                                                          surveyed):
    district = surveyed.district
    for user in (await make_user("supervisor", district.east), await make_user("bureau", district.county),
                 await make_user("admin")):
        response = await client.post(f"/api/v1/members/{HEAD}/reveal", headers=await headers_for(settings, user))
        assert response.status_code == 200, response.text
        assert response.json() == {"member": HEAD, "household": str(surveyed.household.id),
                                   "id_number": surveyed.numbers[1]}
        assert response.headers["cache-control"] == "no-store"
    events = await AuditEvent.filter(action="household.id_revealed").order_by("at")
    assert len(events) == 3 and {e.target_id for e in events} == {HEAD}
    assert all(e.household_id == surveyed.household.id and surveyed.numbers[1] not in str(e.detail) for e in events)


async def test_a_worker_or_provider_may_not_reveal_and_nobody_reveals_outside_their_areas(client, settings, surveyed):
    district = surveyed.district
    assert_problem(await client.post(f"/api/v1/members/{HEAD}/reveal", headers=surveyed.headers), 403)
    provider = await headers_for(settings, await make_user("provider"))
    assert_problem(await client.post(f"/api/v1/members/{HEAD}/reveal", headers=provider), 403)
    outsiders = [await make_user("supervisor", district.west),
                 await make_user("bureau", await make_area("county", name="君山区"))]
    for user in outsiders:
        response = await client.post(f"/api/v1/members/{HEAD}/reveal", headers=await headers_for(settings, user))
        assert_problem(response, 404)
        assert surveyed.numbers[1] not in response.text
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    for member_id in (str(uuid.uuid4()), "not-a-uuid"):
        assert_problem(await client.post(f"/api/v1/members/{member_id}/reveal", headers=supervisor), 404)
    assert await AuditEvent.filter(action="household.id_revealed").count() == 0


async def test_no_log_line_holds_a_whole_id_number_even_at_debug(client, settings, surveyed, caplog):
    configure_logging("DEBUG")  # as `doorstep serve` does with DOORSTEP_LOG_LEVEL=DEBUG
    caplog.set_level(logging.DEBUG)
    supervisor = await headers_for(settings, await make_user("supervisor", surveyed.district.east))
    other = id_number("19580312", "442")
    household = surveyed.household
    await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=surveyed.body, headers=surveyed.headers)
    await client.patch(f"/api/v1/households/{household.id}", headers=supervisor,
                       json={"reason": "核实", "members": [{"id": HEAD, "id_number": other}]})
    await client.patch(f"/api/v1/households/{household.id}", headers=supervisor,
                       json={"reason": "核实", "members": [{"id": HEAD, "id_number": other[:-1] + "0"}]})
    await client.get(f"/api/v1/households/{household.id}", headers=supervisor)
    await client.post(f"/api/v1/members/{HEAD}/reveal", headers=supervisor)
    await client.get("/api/v1/households", params={"q": other}, headers=supervisor)
    # httpx is the test's own client, not the server: its log lines are the requests as sent.
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records if r.name != "httpx")
    for number in [*surveyed.numbers, other]:
        assert number not in logged
    audited = "\n".join(str(e.detail) for e in await AuditEvent.all())
    assert all(n not in audited for n in [*surveyed.numbers, other])
    assert (await Member.get(id=HEAD)).data["id_number"] == other


async def test_a_correction_sent_with_the_masked_numbers_it_was_given_keeps_the_whole_ones(client, surveyed):
    """The phone corrects from the reply it has: masked numbers sent back unchanged stand for the original's (rows
    may move); a number retyped is taken as typed; a masked one that stands for no number of the original is a 422."""
    shown = surveyed.reply.json()["data"]
    data = dict(shown, members=[dict(m) for m in reversed(shown["members"])])
    data["members"][0].pop("age", None)
    new_number = id_number("19600101", "222")
    data["members"][1]["id_number"] = new_number  # 李桂兰's, retyped
    correction = str(uuid.uuid4())
    body = submission_body(surveyed.household, data, form="economic_survey") | {"replaces": surveyed.sid}
    reply = await client.put(f"/api/v1/submissions/{correction}", json=body, headers=surveyed.headers)
    assert reply.status_code == 201, reply.text
    assert_masked(reply.text, surveyed.numbers)
    stored = await Submission.get(id=correction)
    assert stored.data["head_id_number"] == surveyed.numbers[0]
    assert [m["id_number"] for m in stored.data["members"]] == [surveyed.numbers[2], new_number]

    stranger = dict(data, head_id_number=masked(id_number("19700101", "333")))
    body = submission_body(surveyed.household, stranger, form="economic_survey") | {"replaces": correction}
    refused = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=surveyed.headers)
    assert_problem(refused, 422, "/data/head_id_number")
