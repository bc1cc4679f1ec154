"""Supervisors review the submissions of their township; a returned one is corrected by a new submission that
replaces it, checked against the original's form version; every earlier version stays readable."""

import uuid

import pytest

from factories import (assert_problem, economic_survey, headers_for, home_visit, jpeg, make_district, make_field,
                       make_form_version, make_household, make_user, sha256_of, submission_body, upload)
from server.core.clock import now
from server.core.pagination import DEFAULT_LIMIT
from server.models import Form, Household, Member, Review, Submission


@pytest.fixture
async def sent(client, settings):
    field = await make_field(client, settings)
    district, household, worker, photo = field.district, field.household, field.headers, field.photos[0]
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    sid = uuid.uuid4()
    body = submission_body(household, home_visit(photo, [photo], mood="low"))
    assert (await client.put(f"/api/v1/submissions/{sid}", json=body, headers=worker)).status_code == 201
    return district, household, worker, supervisor, sid, body


async def test_a_supervisor_lists_the_township_with_filters(client, settings, sent):
    district, household, worker, supervisor, sid, body = sent
    listed = (await client.get("/api/v1/submissions", headers=supervisor)).json()
    assert [s["id"] for s in listed["items"]] == [str(sid)] and listed["next_cursor"] is None
    for query, expected in [
        ("form=home_visit", [str(sid)]), ("form=economic_survey", []),
        (f"household={household.id}", [str(sid)]), (f"household={uuid.uuid4()}", []),
        (f"area={district.east_a.id}", [str(sid)]), (f"area={district.east.id}", [str(sid)]),
        (f"area={district.east_b.id}", []), ("state=pending", [str(sid)]), ("state=returned", []),
        ("since=2000-01-01T00:00:00%2B08:00", [str(sid)]), ("since=2999-01-01T00:00:00Z", []),
        # Also as RFC 3339 allows and as clients send it: lower case, and a "+" left unencoded (read as a space).
        ("since=2000-01-01t00:00:00z", [str(sid)]), ("since=2999-01-01T00:00:00+08:00", []),
    ]:
        got = (await client.get(f"/api/v1/submissions?{query}", headers=supervisor)).json()
        assert [s["id"] for s in got["items"]] == expected, query
    for query, pointer in [("since=yesterday", "/since"), ("since=2025-03-18T09:00:00", "/since"),
                           ("since=2025-03-18 09:00", "/since"), ("state=lost", "/state"), ("area=x", "/area"),
                           ("cursor=garbage", "/cursor")]:
        assert_problem(await client.get(f"/api/v1/submissions?{query}", headers=supervisor), 422, pointer)


async def test_a_returned_submission_is_corrected_and_every_version_stays_readable(client, settings, sent):
    district, household, worker, supervisor, sid, body = sent
    assert_problem(await client.post(f"/api/v1/submissions/{sid}/review", json={"state": "returned"},
                                     headers=supervisor), 422, "/comment")
    returned = await client.post(f"/api/v1/submissions/{sid}/review",
                                 json={"state": "returned", "comment": "照料情况与上次走访不符，请核实"},
                                 headers=supervisor)
    assert returned.status_code == 200, returned.text
    assert returned.json()["review"]["state"] == "returned"
    mine = (await client.get("/api/v1/submissions?state=returned", headers=worker)).json()["items"]
    assert [s["id"] for s in mine] == [str(sid)] and mine[0]["review"]["comment"] == "照料情况与上次走访不符，请核实"

    # The form moved on meanwhile: a version 2 is published and then the form is retired.
    await make_form_version("home_visit", version=2)
    await Form.filter(slug="home_visit").update(retired_at=now())
    cid = uuid.uuid4()
    data = dict(body["data"], care="family")
    correction = body | {"data": data, "replaces": str(sid)}
    for bad, pointer in ((correction | {"version": 2}, "/version"), (correction | {"form": "needs_survey"}, "/form")):
        assert_problem(await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=bad, headers=worker), 422, pointer)
    response = await client.put(f"/api/v1/submissions/{cid}", json=correction, headers=worker)
    assert response.status_code == 201, response.text
    reply = response.json()
    assert reply["replaces"] == str(sid) and reply["original"] == str(sid) and reply["version"] == 1

    fresh = await Household.get(id=household.id)
    assert fresh.situation["care"] == "family" and fresh.situation_meta["care"]["submission"] == str(cid)
    old = (await client.get(f"/api/v1/submissions/{sid}", headers=worker)).json()
    assert old["data"]["care"] == "neighbours" and old["review"]["state"] == "replaced"
    assert old["replaced_by"] == str(cid) and old["visit"] == reply["visit"]
    listed = {s["id"]: s for s in (await client.get("/api/v1/submissions", headers=supervisor)).json()["items"]}
    seen = listed[str(sid)]  # as the worker sees it, with the evidence that only evaluators see
    assert seen == old | {"flags": seen["flags"], "attachments": seen["attachments"]} and listed[str(cid)]["replaced_by"] is None
    assert [{"sha256": a["sha256"], "pointer": a["pointer"]} for a in seen["attachments"]] == old["attachments"]
    # A replaced submission is neither corrected nor reviewed again.
    assert_problem(await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=correction, headers=worker), 409)
    assert_problem(await client.post(f"/api/v1/submissions/{sid}/review", json={"state": "approved"},
                                     headers=supervisor), 409)
    approved = await client.post(f"/api/v1/submissions/{cid}/review", json={"state": "approved"}, headers=supervisor)
    assert approved.status_code == 200 and approved.json()["review"]["state"] == "approved"
    # An approved one is not corrected either.
    again = correction | {"replaces": str(cid)}
    assert_problem(await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=again, headers=worker), 409)
    assert await Review.all().count() == 2
    assert await Submission.all().count() == 2


async def test_a_correction_takes_back_what_the_replaced_submission_alone_said(client, settings):
    district = await make_district()
    await make_form_version("economic_survey")
    household = await make_household(district.east_a)
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    photo = jpeg()
    await upload(client, worker, photo)
    data = economic_survey(str(uuid.uuid4())) | {"house_photos": [sha256_of(photo)], "housing_area": 80}
    sid = uuid.uuid4()
    body = submission_body(household, data, form="economic_survey")
    assert (await client.put(f"/api/v1/submissions/{sid}", json=body, headers=worker)).status_code == 201
    assert await Member.filter(household_id=household.id, removed_at__isnull=True).count() == 2

    # The correction drops the second member (who was not part of the household) and the phone number.
    fixed = dict(data, members=data["members"][:1], household_size=1)
    del fixed["phone"]
    correction = body | {"data": fixed, "replaces": str(sid)}
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=correction, headers=worker)
    assert response.status_code == 201, response.text
    fresh = await Household.get(id=household.id)
    assert fresh.situation["household_size"] == 1 and "phone" not in fresh.situation
    members = await Member.filter(household_id=household.id, removed_at__isnull=True)
    assert [m.data["name"] for m in members] == ["李桂兰"]


async def test_only_supervisors_of_the_township_review(client, settings, sent):
    district, household, worker, supervisor, sid, body = sent
    assert_problem(await client.post(f"/api/v1/submissions/{sid}/review", json={"state": "approved"},
                                     headers=worker), 403)
    outsider = await headers_for(settings, await make_user("supervisor", district.west))
    assert_problem(await client.post(f"/api/v1/submissions/{sid}/review", json={"state": "approved"},
                                     headers=outsider), 404)
    bureau = await headers_for(settings, await make_user("bureau", district.county))
    assert_problem(await client.post(f"/api/v1/submissions/{sid}/review", json={"state": "approved"},
                                     headers=bureau), 403)
    assert_problem(await client.post(f"/api/v1/submissions/{sid}/review", json={"state": "lost"},
                                     headers=supervisor), 422, "/state")
    assert (await Submission.get(id=sid)).review_state == "pending"


async def test_a_township_with_more_submissions_than_a_page_is_listed_page_by_page_each_once(client, settings, sent):
    district, household, worker, supervisor, sid, body = sent
    ids = [str(sid)]
    for _ in range(DEFAULT_LIMIT):  # one page and one more
        ids.append(str(uuid.uuid4()))
        assert (await client.put(f"/api/v1/submissions/{ids[-1]}", json=body, headers=worker)).status_code == 201
    seen, cursor, pages = [], None, 0
    while True:
        page = (await client.get("/api/v1/submissions", params={"cursor": cursor} if cursor else {},
                                 headers=supervisor)).json()
        seen += [s["id"] for s in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 2 and sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    assert seen == [str(s.id) for s in await Submission.all().order_by("received_at", "id")]  # oldest first
