"""Knowing a photo's hash opens nothing: a caller may use a photo only after sending its bytes, or when it may already
see a submission that uses it. A worker of another township who learns a hash (from a screenshot, an export, a log)
gets the same answers as for a photo that does not exist."""

import uuid

import pytest

from factories import (assert_problem, headers_for, home_visit, jpeg, make_area, make_district, make_form_version,
                       make_household, make_user, sha256_of, submission_body, upload)
from server.models import PhotoHolder, Submission

ATTACHMENTS = "/api/v1/attachments"


@pytest.fixture
async def two_townships(client, settings):
    """A photo sent by a worker of east_a and used in its household's visit; a worker of west_a with a household."""
    district = await make_district()
    await make_form_version("home_visit")
    east_home, west_home = await make_household(district.east_a), await make_household(district.west_a)
    east = await headers_for(settings, await make_user("worker", district.east_a))
    west_worker = await make_user("worker", district.west_a)
    west = await headers_for(settings, west_worker)
    photo = jpeg()
    sha = sha256_of(photo)
    assert (await upload(client, east, photo)).status_code == 201
    body = submission_body(east_home, home_visit(sha, [sha]))
    assert (await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=east)).status_code == 201
    return district, photo, sha, east, west, west_worker, west_home


async def test_the_hash_alone_opens_nothing_and_the_bytes_open_everything(client, settings, two_townships):
    district, photo, sha, east, west, west_worker, west_home = two_townships
    assert (await client.head(f"{ATTACHMENTS}/{sha}", headers=west)).status_code == 404
    assert_problem(await client.get(f"{ATTACHMENTS}/{sha}", headers=west), 404)
    sid = uuid.uuid4()
    body = submission_body(west_home, home_visit(sha, [sha]))
    refused = await client.put(f"/api/v1/submissions/{sid}", json=body, headers=west)
    assert_problem(refused, 422, "/data/door_photo", "/data/photos/0")
    assert refused.json()["missing"] == [sha]
    assert not await Submission.exists(id=sid)

    # The phone that really holds the photo sends its bytes: stored already, so 200, and now this worker holds it.
    assert (await upload(client, west, photo)).status_code == 200
    assert await PhotoHolder.exists(attachment_id=sha, user_id=west_worker.id)
    assert (await client.head(f"{ATTACHMENTS}/{sha}", headers=west)).status_code == 200
    assert (await client.put(f"/api/v1/submissions/{sid}", json=body, headers=west)).status_code == 201
    opened = await client.get(f"{ATTACHMENTS}/{sha}", headers=west)
    assert opened.status_code == 200 and opened.content == photo


async def test_the_sender_may_ask_whether_it_must_send_again(client, settings, two_townships):
    """HEAD answers 200 to whoever sent the bytes, before any submission uses them: the phone skips the upload."""
    district, *_ = two_townships
    worker = await headers_for(settings, await make_user("worker", district.east_b))
    photo = jpeg()
    assert (await client.head(f"{ATTACHMENTS}/{sha256_of(photo)}", headers=worker)).status_code == 404
    assert (await upload(client, worker, photo)).status_code == 201
    assert (await client.head(f"{ATTACHMENTS}/{sha256_of(photo)}", headers=worker)).status_code == 200


async def test_whoever_sees_a_submission_using_it_may_use_it_without_the_bytes(client, settings, two_townships):
    """The supervisor of east, correcting or re-using what its worker sent, need not hold the bytes."""
    district, photo, sha, *_ = two_townships
    supervisor = await headers_for(settings, await make_user("supervisor", district.east))
    assert (await client.head(f"{ATTACHMENTS}/{sha}", headers=supervisor)).status_code == 200
    body = submission_body(await make_household(district.east_b), home_visit(sha, [sha]))
    assert (await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=supervisor)).status_code == 201


async def test_the_bureau_head_and_get_agree(client, settings, two_townships):
    district, photo, sha, *_ = two_townships
    home = await headers_for(settings, await make_user("bureau", district.county))
    other = await headers_for(settings, await make_user("bureau", await make_area("county", name="君山区")))
    for headers, status in ((home, 200), (other, 404)):
        assert (await client.head(f"{ATTACHMENTS}/{sha}", headers=headers)).status_code == status
        assert (await client.get(f"{ATTACHMENTS}/{sha}", headers=headers)).status_code == status
