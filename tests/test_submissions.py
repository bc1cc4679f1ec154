"""Submissions from the field: stored exactly once, checked against their form version, all or nothing."""

import asyncio
import io
import uuid

import pytest
from PIL import Image

from factories import (GPS_PHOTO, GPS_PHOTO_PLACE, assert_problem, economic_survey, headers_for, home_visit, jpeg,
                       make_district, make_field, make_form_version, make_household, make_user, sha256_of,
                       submission_body, upload)
from server.households import observations
from server.models import (AuditEvent, Household, HouseholdChange, Member, Submission, SubmissionAttachment,
                           Visit)


@pytest.fixture
async def field(client, settings):
    """A district, the home-visit form, a household of east_a, its worker with two photos uploaded."""
    field = await make_field(client, settings, photos=2)
    return field.district, field.household, field.worker, field.headers, field.photos


async def nothing_written(household: Household) -> bool:
    fresh = await Household.get(id=household.id)
    return (
        await Submission.all().count() == 0 and await Visit.all().count() == 0
        and await SubmissionAttachment.all().count() == 0 and await HouseholdChange.all().count() == 0
        and await Member.all().count() == 0 and fresh.situation == {}
        and not await AuditEvent.filter(action="submission.created").exists()
    )


async def test_a_home_visit_is_stored_with_its_visit_and_applied_to_the_household(client, field):
    district, household, worker, headers, shas = field
    sid = uuid.uuid4()
    body = submission_body(household, home_visit(shas[0], shas),
                           attachments=[{"sha256": shas[0], "pointer": "/door_photo"}],
                           location={"lat": 28.1941, "lon": 112.9823})
    response = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    reply = response.json()
    assert reply["id"] == str(sid) and reply["form"] == "home_visit" and reply["version"] == 1
    assert reply["review"]["state"] == "pending" and reply["replaces"] is None and reply["replaced_by"] is None
    assert reply["attachments"] == sorted(
        [{"sha256": shas[0], "pointer": "/door_photo"}, {"sha256": shas[0], "pointer": "/photos/0"},
         {"sha256": shas[1], "pointer": "/photos/1"}], key=lambda a: a["pointer"])
    assert "flags" not in reply  # evidence warnings are for supervisors
    visit = await Visit.get(id=reply["visit"])
    assert visit.household_id == household.id and visit.worker_id == worker.id
    fresh = await Household.get(id=household.id)
    assert fresh.situation == {"health": "fair", "care": "neighbours"}
    assert fresh.situation_meta["health"]["at"] == "2025-03-18T02:10:00+00:00"  # the visit's end, in UTC
    assert (await Submission.get(id=sid)).changes["needs"][0]["item"] == "elderly.safety_check"

    # The phone did not get the answer and sends the same thing again, keys in another order.
    again = await client.put(f"/api/v1/submissions/{sid}", json=dict(reversed(list(body.items()))), headers=headers)
    assert again.status_code == 200 and again.json() == reply
    assert await Submission.all().count() == 1 and await Visit.all().count() == 1
    assert await HouseholdChange.all().count() == 2
    assert await AuditEvent.filter(action="submission.created").count() == 1
    got = await client.get(f"/api/v1/submissions/{sid}", headers=headers)
    assert got.status_code == 200 and got.json() == reply


async def test_another_body_or_another_worker_under_the_same_id_is_a_conflict(client, settings, field):
    district, household, worker, headers, shas = field
    sid = uuid.uuid4()
    body = submission_body(household, home_visit(shas[0], shas))
    assert (await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)).status_code == 201
    changed = submission_body(household, home_visit(shas[0], shas, health="poor"))
    assert_problem(await client.put(f"/api/v1/submissions/{sid}", json=changed, headers=headers), 409)
    colleague = await headers_for(settings, await make_user("worker", district.east_a))
    assert_problem(await client.put(f"/api/v1/submissions/{sid}", json=body, headers=colleague), 409)
    assert await Submission.all().count() == 1
    assert (await Household.get(id=household.id)).situation["health"] == "fair"


async def test_the_same_id_sent_twice_at_once_is_stored_once(client, settings, field):
    district, household, worker, headers, shas = field
    colleague = await headers_for(settings, await make_user("worker", district.east_a))
    body = submission_body(household, home_visit(shas[0], shas))

    async def together(*senders):
        sid = uuid.uuid4()
        return await asyncio.gather(*(client.put(f"/api/v1/submissions/{sid}", json=body, headers=h) for h in senders))

    # A retry racing its first attempt: both answered alike, one stored.
    first, retry = await together(headers, headers)
    assert sorted([first.status_code, retry.status_code]) == [200, 201] and first.json() == retry.json()
    # Two workers with one id: one stored, the other refused.
    assert sorted(r.status_code for r in await together(headers, colleague)) == [201, 409]
    assert await Submission.all().count() == 2 and await Visit.all().count() == 2


async def test_data_invalid_for_the_version_is_refused_with_a_pointer_per_error(client, field):
    district, household, worker, headers, shas = field
    data = home_visit(shas[0], shas, health="excellent", observations="短")
    del data["care"]
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=submission_body(household, data),
                                headers=headers)
    assert_problem(response, 422, "/data/health", "/data/observations", "/data/care")
    assert await nothing_written(household)


@pytest.mark.parametrize("form, version, pointer", [("no_such_form", 1, "/form"), ("home_visit", 7, "/version")])
async def test_an_unknown_form_or_version_is_refused(client, field, form, version, pointer):
    district, household, worker, headers, shas = field
    body = submission_body(household, home_visit(shas[0], shas), form=form, version=version)
    assert_problem(await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers), 422, pointer)
    assert await nothing_written(household)


async def test_a_retired_form_takes_no_new_submissions_but_answers_a_retry_of_one_it_took(client, settings, field):
    district, household, worker, headers, shas = field
    body = submission_body(household, home_visit(shas[0], shas))
    taken = uuid.uuid4()
    first = await client.put(f"/api/v1/submissions/{taken}", json=body, headers=headers)
    assert first.status_code == 201
    admin = await headers_for(settings, await make_user("admin"))
    assert (await client.post("/api/v1/forms/home_visit/retire", headers=admin)).json()["retired"] is True
    assert_problem(await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers), 422, "/form")
    # The phone that never got the first answer is not told its stored visit is refused.
    again = await client.put(f"/api/v1/submissions/{taken}", json=body, headers=headers)
    assert again.status_code == 200 and again.json() == first.json()
    assert await Submission.all().count() == 1


async def test_a_household_of_another_community_is_refused(client, field):
    district, household, worker, headers, shas = field
    elsewhere = await make_household(district.east_b)
    for target in (str(elsewhere.id), str(uuid.uuid4()), "not-a-uuid"):
        body = submission_body(household, home_visit(shas[0], shas)) | {"household": target}
        response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)
        assert_problem(response, 422, "/household")
    assert await nothing_written(household)


async def test_missing_photos_are_listed_and_the_same_put_succeeds_once_they_are_uploaded(client, field):
    district, household, worker, headers, shas = field
    door, later = jpeg(), jpeg()
    sid = uuid.uuid4()
    body = submission_body(household, home_visit(sha256_of(door), [shas[0], sha256_of(later)]),
                           attachments=[{"sha256": sha256_of(door), "pointer": "/door_photo"}])
    response = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)
    problem = assert_problem(response, 422, "/attachments/0/sha256", "/data/photos/1")
    assert sorted(problem["missing"]) == sorted([sha256_of(door), sha256_of(later)])
    assert await nothing_written(household)
    for data in (door, later):
        assert (await upload(client, headers, data)).status_code == 201
    assert (await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)).status_code == 201


async def test_an_attachment_at_a_pointer_that_is_not_a_photo_question_is_refused(client, field):
    district, household, worker, headers, shas = field
    body = submission_body(household, home_visit(shas[0], shas),
                           attachments=[{"sha256": shas[0], "pointer": "/observations"},
                                        {"sha256": shas[1], "pointer": "/door_photo"}])
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)
    assert_problem(response, 422, "/attachments/0/pointer", "/attachments/1/sha256")
    assert await nothing_written(household)


@pytest.mark.parametrize("started, finished, pointer", [
    ("2025-03-18T10:00:00+08:00", "2025-03-18T09:00:00+08:00", "/finished_at"),
    ("2025-03-18T10:00:00+08:00", "2099-01-01T00:00:00+08:00", "/finished_at"),
    ("2025-03-18 10:00", "2025-03-18T11:00:00+08:00", "/started_at"),
])
async def test_impossible_visit_times_are_refused(client, field, started, finished, pointer):
    district, household, worker, headers, shas = field
    body = submission_body(household, home_visit(shas[0], shas), started_at=started, finished_at=finished)
    assert_problem(await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers), 422, pointer)
    assert await nothing_written(household)


async def test_visit_times_in_lower_case_rfc_3339_are_read(client, field):
    """RFC 3339 allows "t" and "z"; Python's fromisoformat does not read them (this was a 500)."""
    district, household, worker, headers, shas = field
    body = submission_body(household, home_visit(shas[0], shas), started_at="2025-03-18t01:30:00z",
                           finished_at="2025-03-18t02:10:00.5z")
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["started_at"] == "2025-03-18T01:30:00+00:00"
    assert response.json()["finished_at"] == "2025-03-18T02:10:00.500000+00:00"


async def test_a_failure_half_way_leaves_nothing_written(settings, field, monkeypatch):
    import httpx

    from server.app import create_app

    district, household, worker, headers, shas = field

    async def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(observations, "apply", fail)
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        body = submission_body(household, home_visit(shas[0], shas))
        assert_problem(await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers), 500)
    assert await nothing_written(household)


async def test_bureau_and_providers_may_not_submit(client, settings, field):
    district, household, worker, headers, shas = field
    for user in (await make_user("bureau", district.county), await make_user("provider")):
        body = submission_body(household, home_visit(shas[0], shas))
        response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body,
                                    headers=await headers_for(settings, user))
        assert_problem(response, 403)


async def test_members_are_bound_by_id_and_a_retry_adds_none(client, settings):
    district = await make_district()
    await make_form_version("economic_survey")
    household = await make_household(district.east_a)
    headers = await headers_for(settings, await make_user("worker", district.east_a))
    known = "5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10"
    photo = jpeg()
    await upload(client, headers, photo)
    data = economic_survey(known) | {"house_photos": [sha256_of(photo)]}
    sid = uuid.uuid4()
    body = submission_body(household, data, form="economic_survey")
    first = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert (await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)).status_code == 200
    members = {str(m.id): m for m in await Member.filter(household_id=household.id)}
    assert len(members) == 2 and members[known].data["name"] == "李桂兰"
    fresh = await Household.get(id=household.id)
    assert fresh.situation["head_name"] == "李桂兰" and fresh.situation["household_size"] == 2

    file = (await client.get(f"/api/v1/households/{household.id}", headers=headers)).json()
    assert sorted(m["name"] for m in file["members"]) == ["李桂兰", "王建国"]

    # A member id already in another household is refused.
    other = await make_household(district.east_a)
    body = submission_body(other, data, form="economic_survey")
    response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)
    assert_problem(response, 422, "/data/members/0")


async def test_submissions_are_seen_only_within_the_callers_areas(client, settings, field):
    district, household, worker, headers, shas = field
    sid = uuid.uuid4()
    body = submission_body(household, home_visit(shas[0], shas))
    assert (await client.put(f"/api/v1/submissions/{sid}", json=body, headers=headers)).status_code == 201
    expected = {
        await make_user("worker", district.east_a): 200,
        await make_user("worker", district.east_b): 404,
        await make_user("supervisor", district.east): 200,
        await make_user("supervisor", district.west): 404,
        await make_user("bureau", district.county): 200,
        await make_user("provider"): 404,
    }
    for user, status in expected.items():
        h = await headers_for(settings, user)
        assert (await client.get(f"/api/v1/submissions/{sid}", headers=h)).status_code == status, user.role
        listed = (await client.get("/api/v1/submissions", headers=h)).json()["items"]
        assert [s["id"] for s in listed] == ([str(sid)] if status == 200 else [])
        for size in ("", "?size=thumb", "?size=large"):
            photo = await client.get(f"/api/v1/attachments/{shas[0]}{size}", headers=h)
            assert photo.status_code == status, (user.role, size)
    # Only those who could open the original are in the log as having opened it.
    readers = set(await AuditEvent.filter(action="attachment.read").values_list("actor_id", flat=True))
    assert readers == {user.id for user, status in expected.items() if status == 200}


async def test_photos_are_served_whole_and_thumbnails_without_exif(client, settings, field):
    district, household, worker, headers, shas = field
    data = GPS_PHOTO.read_bytes()
    await upload(client, headers, data)
    gps = sha256_of(data)
    body = submission_body(household, home_visit(gps, shas))
    assert (await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)).status_code == 201
    whole = await client.get(f"/api/v1/attachments/{gps}", headers=headers)
    assert whole.status_code == 200 and whole.content == data and whole.headers["content-type"] == "image/jpeg"
    assert whole.headers["etag"] == f'"{gps}"'
    for size, side in (("thumb", 320), ("large", 1280)):
        thumb = await client.get(f"/api/v1/attachments/{gps}?size={size}", headers=headers)
        image = Image.open(io.BytesIO(thumb.content))
        assert max(image.size) <= side and not image.getexif()
    assert_problem(await client.get(f"/api/v1/attachments/{gps}?size=huge", headers=headers), 422, "/size")
    # Opening the original (its EXIF places the family's home) is logged; thumbnails, which carry no EXIF, are not.
    reads = await AuditEvent.filter(action="attachment.read").values("actor_id", "target_id", "household_id")
    assert reads == [{"actor_id": worker.id, "target_id": gps, "household_id": household.id}]


async def test_an_iphone_heic_photo_goes_through_upload_submission_and_thumbnails(client, field):
    district, household, worker, headers, shas = field
    out = io.BytesIO()
    with Image.open(GPS_PHOTO) as photo:
        photo.save(out, "HEIF", exif=photo.getexif().tobytes(), quality=80)
    heic = out.getvalue()
    stored = await upload(client, headers, heic, content_type="image/heic")
    assert stored.status_code == 201, stored.text
    assert stored.json()["media_type"] == "image/heic" and stored.json()["taken_at"].startswith("2008-10-22")
    assert stored.json()["location"]["lat"] == pytest.approx(GPS_PHOTO_PLACE[0], abs=1e-5)
    body = submission_body(household, home_visit(sha256_of(heic), shas))
    assert (await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)).status_code == 201
    original = await client.get(f"/api/v1/attachments/{sha256_of(heic)}", headers=headers)
    assert original.content == heic and original.headers["content-type"] == "image/heic"
    thumb = await client.get(f"/api/v1/attachments/{sha256_of(heic)}?size=thumb", headers=headers)
    assert thumb.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(thumb.content))
    assert image.format == "JPEG" and max(image.size) == 320 and not image.getexif()


async def test_each_size_of_a_photo_has_its_own_tag_and_a_phone_that_has_it_gets_304(client, settings, field):
    district, household, worker, headers, shas = field
    body = submission_body(household, home_visit(shas[0], shas))
    assert (await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)).status_code == 201
    url = f"/api/v1/attachments/{shas[0]}"
    tags = {size: (await client.get(url + size, headers=headers)).headers["etag"] for size in ("", "?size=thumb",
                                                                                              "?size=large")}
    assert tags == {"": f'"{shas[0]}"', "?size=thumb": f'W/"{shas[0]}-thumb"', "?size=large": f'W/"{shas[0]}-large"'}
    for size, tag in tags.items():
        again = await client.get(url + size, headers=headers | {"If-None-Match": f'"other", {tag}'})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    # A tag of another size is not this one, and knowing the tag opens nothing outside the caller's areas.
    assert (await client.get(url + "?size=thumb", headers=headers | {"If-None-Match": tags[""]})).status_code == 200
    stranger = await headers_for(settings, await make_user("worker", district.east_b))
    assert_problem(await client.get(url, headers=stranger | {"If-None-Match": tags[""]}), 404)


async def test_a_phone_that_has_the_photo_is_answered_without_reading_the_store(client, app, field):
    # On an S3 store every read is a request: a 304 must not cost one. With the photo gone from the store, only an
    # answer that never opened it can be a 304 (an opened one would be a 404).
    district, household, worker, headers, shas = field
    body = submission_body(household, home_visit(shas[0], shas))
    assert (await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)).status_code == 201
    await app.state.thumbnails.settle()
    assert await app.state.photos.delete(shas[0])
    url = f"/api/v1/attachments/{shas[0]}"
    for size, tag in (("", f'"{shas[0]}"'), ("?size=thumb", f'W/"{shas[0]}-thumb"')):
        assert (await client.get(url + size, headers=headers | {"If-None-Match": tag})).status_code == 304
    assert_problem(await client.get(url, headers=headers), 404)


async def test_a_thumbnail_never_made_is_made_when_first_asked_for(client, app, field):
    # What a crash right after an upload's answer leaves: the photo stored and recorded, no thumbnails.
    district, household, worker, headers, shas = field
    body = submission_body(household, home_visit(shas[0], shas))
    assert (await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)).status_code == 201
    store = app.state.photos
    await app.state.thumbnails.settle()
    for variant in ("thumb", "large"):
        store.derived_path(shas[0], variant).unlink()

    thumb = await client.get(f"/api/v1/attachments/{shas[0]}?size=thumb", headers=headers)

    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.content == await (await store.open_derived(shas[0], "thumb")).read()
    assert await store.exists_derived(shas[0], "large")  # both from the one decoding


async def test_a_photo_that_cannot_be_decoded_is_kept_but_has_no_thumbnail(client, app, field):
    # Whole in structure, so the upload is accepted as the evidence the phone holds; but its scan names a
    # colour component the frame does not have, which the decoder cannot get past.
    district, household, worker, headers, shas = field
    damaged = bytearray(jpeg())
    damaged[damaged.index(b"\xff\xda") + 5] = 9
    damaged = bytes(damaged)
    assert (await upload(client, headers, damaged)).status_code == 201
    sha = sha256_of(damaged)
    body = submission_body(household, home_visit(sha, shas))
    assert (await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=headers)).status_code == 201
    await app.state.thumbnails.settle()

    assert (await client.get(f"/api/v1/attachments/{sha}", headers=headers)).content == damaged
    assert_problem(await client.get(f"/api/v1/attachments/{sha}?size=thumb", headers=headers), 404)


async def test_who_may_submit_for_a_household_and_with_which_form(client, settings, app, field):
    """Every role against a household of east_a, with a built-in form and with forms of the townships east and west."""
    district, household, worker, headers, shas = field
    photos = [b"".join([chunk async for chunk in await app.state.photos.open(sha)]) for sha in shas]
    for township in (district.east, district.west):
        await make_form_version("home_visit", as_slug=f"visit-{township.code}", area=township)
    east_form, west_form = f"visit-{district.east.code}", f"visit-{district.west.code}"
    cases = [
        ("worker", district.east_a, "home_visit", 201, None),
        ("worker", district.east_a, east_form, 201, None),
        ("worker", district.east_a, west_form, 422, "/form"),
        ("worker", district.east_b, "home_visit", 422, "/household"),
        ("supervisor", district.east, east_form, 201, None),
        ("supervisor", district.west, west_form, 422, "/household"),
        ("admin", None, west_form, 201, None),
        ("bureau", district.county, "home_visit", 403, None),
        ("provider", None, "home_visit", 403, None),
    ]
    for role, area, form, status, pointer in cases:
        h = await headers_for(settings, await make_user(role, *([area] if area else [])))
        for data in photos:  # each sends the photos' bytes, as its phone would: a hash alone opens nothing
            await upload(client, h, data)
        body = submission_body(household, home_visit(shas[0], shas), form=form)
        response = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=h)
        if status == 201:
            assert response.status_code == 201, (role, form, response.text)
        else:
            assert_problem(response, status, *([pointer] if pointer else []))
