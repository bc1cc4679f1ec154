"""Evidence warnings for supervisors (绩效评价): photos far from the household, outside the visit, or reused."""

import uuid

import pytest

from factories import (GPS_PHOTO, GPS_PHOTO_PLACE, assert_problem, headers_for, home_visit, jpeg, make_district, make_form_version,
                       make_household, make_user, sha256_of, submission_body, upload)
from server.intake.evidence import distance_m

# The camera wrote 2008-10-22 16:28:39 without an offset: read in Asia/Shanghai.
AROUND_THE_PHOTO = ("2008-10-22T16:00:00+08:00", "2008-10-22T16:45:00+08:00")


@pytest.fixture
async def setting(client, settings):
    district = await make_district()
    await make_form_version("home_visit")
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    data = GPS_PHOTO.read_bytes()
    assert (await upload(client, worker, data)).status_code == 201
    plain = jpeg()
    await upload(client, worker, plain)
    return district, worker, supervisor, sha256_of(data), sha256_of(plain)


async def send(client, worker, household, door, photos, when):
    sid = uuid.uuid4()
    body = submission_body(household, home_visit(door, photos), started_at=when[0], finished_at=when[1])
    response = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=worker)
    assert response.status_code == 201, response.text
    return sid


async def flags_of(client, supervisor, sid) -> list[dict]:
    return (await client.get(f"/api/v1/submissions/{sid}", headers=supervisor)).json()["flags"]


def test_distances_are_great_circle_metres():
    assert distance_m((28.1941, 112.9823), (28.1941, 112.9823)) == 0
    assert distance_m((0, 0), (0, 1)) == pytest.approx(111_195, rel=1e-3)


async def test_a_photo_taken_there_and_then_raises_no_flag(client, setting):
    district, worker, supervisor, gps, plain = setting
    household = await make_household(district.east_a, location=(GPS_PHOTO_PLACE[0] + 0.001, GPS_PHOTO_PLACE[1]))
    sid = await send(client, worker, household, gps, [plain], AROUND_THE_PHOTO)
    assert await flags_of(client, supervisor, sid) == []


async def test_a_photo_far_away_and_at_another_time_is_flagged_for_the_supervisor_only(client, setting):
    district, worker, supervisor, gps, plain = setting
    household = await make_household(district.east_a)  # in Changsha; the photo was taken in Tuscany
    sid = await send(client, worker, household, gps, [plain], ("2025-03-18T09:30:00+08:00", "2025-03-18T10:10:00+08:00"))
    flags = await flags_of(client, supervisor, sid)
    assert sorted(f["kind"] for f in flags) == ["far_from_household", "outside_visit_time"]
    far = next(f for f in flags if f["kind"] == "far_from_household")
    assert far["sha256"] == gps and far["pointer"] == "/data/door_photo" and far["distance_m"] > 8_000_000
    assert "公里" in far["detail"]
    mine = (await client.get(f"/api/v1/submissions/{sid}", headers=worker)).json()
    assert "flags" not in mine


async def test_a_photo_reused_in_another_households_visit_is_flagged(client, setting):
    district, worker, supervisor, gps, plain = setting
    first = await make_household(district.east_a, location=None)
    second = await make_household(district.east_a, location=None)
    one = await send(client, worker, first, plain, [plain], AROUND_THE_PHOTO)
    again = await send(client, worker, first, plain, [plain], AROUND_THE_PHOTO)
    other = await send(client, worker, second, plain, [plain], AROUND_THE_PHOTO)
    assert await flags_of(client, supervisor, one) == [] and await flags_of(client, supervisor, again) == []
    flags = await flags_of(client, supervisor, other)
    assert [(f["kind"], f["sha256"]) for f in flags] == [("reused", plain)]


@pytest.mark.parametrize("north_degrees, when, kinds", [
    (0.008, AROUND_THE_PHOTO, []),  # ~890 m away: within the default 1,000 m
    (0.010, AROUND_THE_PHOTO, ["far_from_household"]),  # ~1,110 m away
    (0.0, ("2008-10-22T18:20:00+08:00", "2008-10-22T19:00:00+08:00"), []),  # taken 111 minutes before: within 120
    (0.0, ("2008-10-22T18:40:00+08:00", "2008-10-22T19:00:00+08:00"), ["outside_visit_time"]),  # 131 minutes
    (0.0, ("2008-10-22T13:00:00+08:00", "2008-10-22T14:20:00+08:00"), ["outside_visit_time"]),  # 128 minutes after
])
async def test_each_warning_stands_alone_at_its_threshold(client, setting, north_degrees, when, kinds):
    district, worker, supervisor, gps, plain = setting
    household = await make_household(district.east_a, location=(GPS_PHOTO_PLACE[0] + north_degrees, GPS_PHOTO_PLACE[1]))
    sid = await send(client, worker, household, gps, [plain], when)
    assert [f["kind"] for f in await flags_of(client, supervisor, sid)] == kinds


async def test_the_review_queue_filters_by_evidence_and_worker_and_shows_each_photos_time_and_distance(client, setting, settings):
    district, worker, supervisor, gps, plain = setting
    there = await make_household(district.east_a, location=(GPS_PHOTO_PLACE[0] + 0.001, GPS_PHOTO_PLACE[1]))
    near = await send(client, worker, there, gps, [plain], AROUND_THE_PHOTO)
    household = await make_household(district.east_a)
    far = await send(client, worker, household, gps, [plain], ("2025-03-18T09:30:00+08:00", "2025-03-18T10:10:00+08:00"))
    other = await make_user("worker", district.east_a)
    me = (await client.get("/api/v1/me", headers=worker)).json()["id"]
    for query, expected in [("flagged=true", [far]), ("flagged=false", [near]), (f"author={me}", [near, far]),
                            (f"author={other.id}", []), (f"author={me}&flagged=true&form=home_visit", [far])]:
        got = (await client.get(f"/api/v1/submissions?{query}", headers=supervisor)).json()["items"]
        assert [s["id"] for s in got] == [str(s) for s in expected], query
    assert_problem(await client.get("/api/v1/submissions?flagged=yes", headers=supervisor), 422, "/flagged")
    assert_problem(await client.get("/api/v1/submissions?author=x", headers=supervisor), 422, "/author")
    # The worker, who does not see the warnings, may not sort by them either.
    assert_problem(await client.get("/api/v1/submissions?flagged=true", headers=worker), 422, "/flagged")

    listed = {s["id"]: s for s in (await client.get("/api/v1/submissions", headers=supervisor)).json()["items"]}
    door = next(a for a in listed[str(far)]["attachments"] if a["pointer"] == "/door_photo")
    assert door["taken_at"].startswith("2008-10-22T") and door["distance_m"] > 8_000_000
    close = next(a for a in listed[str(near)]["attachments"] if a["pointer"] == "/door_photo")
    assert 100 <= close["distance_m"] <= 120  # 0.001° of latitude
    bare = next(a for a in listed[str(far)]["attachments"] if a["sha256"] == plain)
    assert bare["taken_at"] is None and bare["distance_m"] is None  # no EXIF
    assert (await client.get(f"/api/v1/submissions/{far}", headers=supervisor)).json()["attachments"] == \
        listed[str(far)]["attachments"]
    mine = (await client.get(f"/api/v1/submissions/{far}", headers=worker)).json()["attachments"]
    assert all(set(a) == {"sha256", "pointer"} for a in mine)
