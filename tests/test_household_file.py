"""The household file (一户一档): members, the situation and the visit each field came from, visits newest first with
their submissions, photos and evidence warnings, the needs raised and the conflicts awaiting a supervisor; a page of
visits at a time, in the same number of queries whatever the household's history."""

import uuid
from contextlib import contextmanager

import pytest
from tortoise import connections

import forms

from factories import (assert_problem, economic_survey, headers_for, home_visit, jpeg, make_field, make_form_version,
                       make_user, sha256_of, submission_body, upload)
from server.models import AuditEvent, Visit
from server.surveys.catalogue import load_catalogue

MONDAY = ("2025-03-17T09:00:00+08:00", "2025-03-17T09:40:00+08:00")
TUESDAY = ("2025-03-18T15:00:00+08:00", "2025-03-18T15:30:00+08:00")
MEMBER = "5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10"


async def send(client, headers, household, data, when, form="home_visit") -> str:
    sid = str(uuid.uuid4())
    body = submission_body(household, data, form=form, started_at=when[0], finished_at=when[1])
    response = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return sid


@contextmanager
def counting_queries(monkeypatch):
    """Counts the statements sent to the database, whatever part of the code sends them."""
    counted = []
    client = type(connections.get("default"))
    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_many"):
        original = getattr(client, name)

        def counting(self, sql, *args, _original=original, **kwargs):
            counted.append(sql)
            return _original(self, sql, *args, **kwargs)

        monkeypatch.setattr(client, name, counting)
    yield counted
    monkeypatch.undo()


async def test_the_file_shows_who_lives_there_how_they_were_seen_every_visit_photo_and_need(client, settings):
    field = await make_field(client, settings, photos=2)
    await make_form_version("economic_survey")
    await load_catalogue(forms.catalogue())
    household, worker, photos = field.household, field.headers, field.photos
    colleague = await headers_for(settings, await make_user("worker", field.district.east_a))
    await field.share_photos(client, colleague)
    supervisor = await headers_for(settings, await make_user("supervisor", field.district.east))

    survey = economic_survey(MEMBER) | {"house_photos": [photos[1]]}
    survey["members"][0] |= {"birth_date": "1958-03-12"}
    survey_id = await send(client, worker, household, survey, ("2025-03-10T09:00:00+08:00",
                                                              "2025-03-10T10:00:00+08:00"), "economic_survey")
    monday = await send(client, worker, household, home_visit(photos[0], photos, health="poor"), MONDAY)
    # Another phone, offline on Tuesday, saw it otherwise: a conflict for the supervisor.
    tuesday = await send(client, colleague, household, home_visit(photos[0], [photos[0]], health="good"), TUESDAY)

    response = await client.get(f"/api/v1/households/{household.id}", headers=supervisor)
    assert response.status_code == 200, response.text
    file = response.json()
    assert file["id"] == str(household.id) and file["head"] == "张秀英"

    by_name = {m["name"]: m for m in file["members"]}
    assert set(by_name) == {"李桂兰", "王建国"}
    head = by_name["李桂兰"]
    assert head["id"] == MEMBER and head["relation"] == "self" and head["gender"] == "female"
    assert head["birth_date"] == "1958-03-12" and head["tags"] == []
    number = survey["members"][0]["id_number"]
    assert head["id_number"] == number[:6] + "********" + number[-4:]  # masked, as everywhere
    assert by_name["王建国"]["birth_date"] is None  # not observed yet: shown, and null

    visits = {v["id"]: v for v in file["visits"]["items"]}
    order = [v["submissions"][0]["id"] for v in file["visits"]["items"]]
    assert order == [tuesday, monday, survey_id]  # newest first, by when the visits happened
    assert file["visits"]["next_cursor"] is None
    assert file["situation"]["health"] == "good"
    source = file["situation_sources"]["health"]
    assert source["submission"] == tuesday and source["visit"] in visits and source["reason"] is None
    assert visits[source["visit"]]["submissions"][0]["id"] == tuesday
    assert file["situation_sources"]["household_size"]["submission"] == survey_id

    monday_visit = next(v for v in file["visits"]["items"] if v["submissions"][0]["id"] == monday)
    shown = monday_visit["submissions"][0]
    assert shown["form"] == "home_visit" and shown["version"] == 1 and shown["review_state"] == "pending"
    assert monday_visit["worker_name"] == "worker 测试"
    assert {(p["sha256"], p["pointer"]) for p in shown["photos"]} == {
        (photos[0], "/door_photo"), (photos[0], "/photos/0"), (photos[1], "/photos/1")}
    assert all(p["thumbnail"] == f"/api/v1/attachments/{p['sha256']}?size=thumb" for p in shown["photos"])
    thumbnail = await client.get(shown["photos"][0]["thumbnail"], headers=supervisor)
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    assert "flags" in shown  # the supervisor evaluates: evidence warnings are shown

    needs = file["needs"]
    home_needs = [n for n in needs if n["submission"] == tuesday]
    assert [(n["item"], n["urgency"], n["outcome"]) for n in home_needs] == [
        ("elderly.safety_check", "high", None), ("elderly.emotional_comfort", "normal", None)]
    assert [n["item_name"] for n in home_needs] == ["居家安全排查", "心理慰藉"]
    assert home_needs[0]["visit"] == source["visit"]
    assert {n["submission"] for n in needs} == {tuesday, monday}  # the survey raised none
    assert [n["raised_at"] for n in needs] == sorted((n["raised_at"] for n in needs), reverse=True)

    assert file["open_conflicts"] == 1
    [conflict] = file["conflicts"]
    assert conflict["field"] == "health" and conflict["kept"]["value"] == "good" and conflict["state"] == "open"

    # The worker evaluated by the warnings does not see them.
    as_worker = (await client.get(f"/api/v1/households/{household.id}", headers=worker)).json()
    assert all("flags" not in s for v in as_worker["visits"]["items"] for s in v["submissions"])
    assert await AuditEvent.filter(action="household.read", household_id=household.id).count() == 2


async def test_a_need_names_its_visit_and_the_catalogue_name_of_its_item(client, settings):
    field = await make_field(client, settings)
    sid = await send(client, field.headers, field.household, home_visit(field.photos[0], field.photos), MONDAY)
    file = (await client.get(f"/api/v1/households/{field.household.id}", headers=field.headers)).json()
    visit = await Visit.get(household_id=field.household.id)
    assert {(n["submission"], n["visit"]) for n in file["needs"]} == {(sid, str(visit.id))}
    # The catalogue is loaded by `doorstep load-builtins`; without it the name is null, the code still there.
    assert all(n["item_name"] is None and n["item"] for n in file["needs"])


async def test_a_correction_of_a_submission_takes_its_place_in_the_visit_and_its_needs(client, settings):
    field = await make_field(client, settings)
    first = await send(client, field.headers, field.household, home_visit(field.photos[0], field.photos), MONDAY)
    data = home_visit(field.photos[0], field.photos, has_needs=False)
    del data["needs"]
    body = submission_body(field.household, data, started_at=MONDAY[0], finished_at=MONDAY[1], replaces=first)
    second = str(uuid.uuid4())
    assert (await client.put(f"/api/v1/submissions/{second}", json=body, headers=field.headers)).status_code == 201
    file = (await client.get(f"/api/v1/households/{field.household.id}", headers=field.headers)).json()
    [visit] = file["visits"]["items"]
    assert [s["id"] for s in visit["submissions"]] == [second]
    assert file["needs"] == []


async def test_visits_come_a_page_at_a_time_in_as_many_queries_for_three_visits_as_for_a_page(
        client, settings, monkeypatch):
    field = await make_field(client, settings, photos=3)
    sent = []
    for day in range(1, 26):
        when = (f"2025-03-{day:02}T09:00:00+08:00", f"2025-03-{day:02}T09:30:00+08:00")
        sent.append(await send(client, field.headers, field.household,
                               home_visit(field.photos[0], field.photos), when))
        if day == 3:
            with counting_queries(monkeypatch) as few:
                response = await client.get(f"/api/v1/households/{field.household.id}", headers=field.headers)
            assert len(response.json()["visits"]["items"]) == 3
    with counting_queries(monkeypatch) as many:
        first = await client.get(f"/api/v1/households/{field.household.id}", headers=field.headers)
    assert len(many) == len(few), "a file costs the same queries whatever its number of visits"

    page = first.json()["visits"]
    assert len(page["items"]) == 20 and page["next_cursor"]
    second = (await client.get(f"/api/v1/households/{field.household.id}",
                               params={"visits_cursor": page["next_cursor"]}, headers=field.headers)).json()
    assert second["visits"]["next_cursor"] is None
    shown = [v["submissions"][0]["id"] for v in page["items"] + second["visits"]["items"]]
    assert shown == list(reversed(sent))
    bad = await client.get(f"/api/v1/households/{field.household.id}", params={"visits_cursor": "bm90LW91cnM"},
                           headers=field.headers)
    assert_problem(bad, 422, "/visits_cursor")

    # A phone keeping the whole file asks for larger pages: the same visits, in the same order.
    pages, cursor = [], ""
    while cursor is not None:
        reply = (await client.get(f"/api/v1/households/{field.household.id}", headers=field.headers,
                                  params={"visits_limit": 10, "visits_cursor": cursor})).json()["visits"]
        pages.append(len(reply["items"]))
        shown_again = [v["submissions"][0]["id"] for v in reply["items"]]
        assert shown_again == shown[sum(pages[:-1]):sum(pages)]
        cursor = reply["next_cursor"]
    assert pages == [10, 10, 5]
    whole = await client.get(f"/api/v1/households/{field.household.id}", params={"visits_limit": 100},
                             headers=field.headers)
    assert len(whole.json()["visits"]["items"]) == 25 and whole.json()["visits"]["next_cursor"] is None
    for limit in ("0", "101", "ten"):
        too = await client.get(f"/api/v1/households/{field.household.id}", params={"visits_limit": limit},
                               headers=field.headers)
        assert_problem(too, 422, "/visits_limit")


async def test_no_one_outside_the_households_areas_opens_its_file(client, settings):
    field = await make_field(client, settings)
    await send(client, field.headers, field.household, home_visit(field.photos[0], field.photos), MONDAY)
    district = field.district
    expected = {
        await make_user("worker", district.east_b): 404,
        await make_user("worker", district.west_a): 404,
        await make_user("supervisor", district.west): 404,
        await make_user("provider"): 404,
        await make_user("bureau", district.county): 200,
        await make_user("admin"): 200,
    }
    for user, status in expected.items():
        headers = await headers_for(settings, user)
        response = await client.get(f"/api/v1/households/{field.household.id}", headers=headers)
        assert response.status_code == status, (user.role, response.text)
        if status == 404:
            assert_problem(response, 404)
            assert response.json()["type"] == "/problems/household-not-found"
    # An id that exists nowhere is answered alike.
    assert_problem(await client.get(f"/api/v1/households/{uuid.uuid4()}", headers=field.headers), 404)


@pytest.mark.parametrize("photos", [1])
async def test_a_photo_of_the_file_is_served_to_who_reads_the_file_only(client, settings, photos):
    field = await make_field(client, settings, photos=photos)
    await send(client, field.headers, field.household, home_visit(field.photos[0], field.photos), MONDAY)
    supervisor = await headers_for(settings, await make_user("supervisor", field.district.east))
    outsider = await headers_for(settings, await make_user("supervisor", field.district.west))
    file = (await client.get(f"/api/v1/households/{field.household.id}", headers=supervisor)).json()
    url = file["visits"]["items"][0]["submissions"][0]["photos"][0]["thumbnail"]
    assert (await client.get(url, headers=supervisor)).status_code == 200
    assert (await client.get(url, headers=outsider)).status_code == 404
    data = jpeg()
    await upload(client, field.headers, data)
    assert sha256_of(data) not in url
