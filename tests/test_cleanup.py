"""Start-up clean-up: temporary uploads left by a crash go; photos no submission refers to are reported, not deleted."""

import dataclasses
import os
import subprocess
import sys
import uuid

import pytest

from factories import (assert_problem, headers_for, home_visit, jpeg, make_district, make_form_version,
                       make_household, make_user, sha256_of, submission_body, upload)
from server.app import create_app
from server.intake.photos import orphans
from s3_server import store_env


@pytest.fixture
def app_settings(either_store_settings, tmp_path):
    """The report walks the store's listing in hash order: on the local store and on S3, each test's own."""
    return dataclasses.replace(either_store_settings, media_dir=tmp_path / "media")


async def test_the_server_removes_temporary_uploads_left_by_a_crash_when_it_starts(settings, clean_database):
    app = create_app(settings, manage_database=False)
    store = app.state.photos
    for _ in range(3):
        fd, _path = store.make_temp()
        os.write(fd, b"half a photo")
        os.close(fd)
    assert len(list(store.temp_dir.iterdir())) == 3
    async with app.router.lifespan_context(app):
        assert list(store.temp_dir.iterdir()) == []


async def test_stored_photos_no_submission_uses_are_reported_and_kept(client, app, settings, app_settings):
    district = await make_district()
    await make_form_version("home_visit")
    household = await make_household(district.east_a)
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    admin = await headers_for(settings, await make_user("admin"))
    used, unused = jpeg(), jpeg()
    for data in (used, unused):
        await upload(client, worker, data)
    body = submission_body(household, home_visit(sha256_of(used), [sha256_of(used)]))
    assert (await client.put(f"/api/v1/submissions/{uuid.uuid4()}", json=body, headers=worker)).status_code == 201

    report = (await client.get("/api/v1/orphan-photos?hours=0", headers=admin)).json()["items"]
    listed = {item["sha256"]: item for item in report}
    assert sha256_of(unused) in listed and sha256_of(used) not in listed
    assert listed[sha256_of(unused)]["recorded"] is True and listed[sha256_of(unused)]["id"] == sha256_of(unused)
    # Not yet old enough under the configured time.
    later = (await client.get("/api/v1/orphan-photos", headers=admin)).json()["items"]
    assert sha256_of(unused) not in {item["sha256"] for item in later}
    assert (await client.get("/api/v1/orphan-photos", headers=worker)).status_code == 403

    env = os.environ | {"DOORSTEP_DATA_DIR": str(settings.data_dir), "DOORSTEP_DATABASE_URL": settings.database_url}
    env |= store_env(app_settings)
    done = subprocess.run([sys.executable, "-m", "server.cli", "orphans", "--hours", "0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sha256_of(unused) in done.stdout and sha256_of(used) not in done.stdout and "未删除" in done.stdout
    assert await app.state.photos.exists(sha256_of(unused))


def test_the_orphan_report_on_the_command_line_refuses_hours_it_cannot_use():
    for hours in ("-5", "abc", "99999999"):
        done = subprocess.run([sys.executable, "-m", "server.cli", "orphans", "--hours", hours],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stderr
        assert "小时数" in done.stderr and "Traceback" not in done.stderr


async def test_the_orphan_report_pages_by_hash(client, app, settings):
    district = await make_district()
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    admin = await headers_for(settings, await make_user("admin"))
    photos = [jpeg() for _ in range(5)]
    for data in photos:
        await upload(client, worker, data)
    ours = sorted(sha256_of(p) for p in photos)
    # A page of 2 (the route's is 500) shows the cursor at work; the route then gives the rest.
    first, cursor = await orphans(app.state.photos, 0, None, 2)
    rest = (await client.get("/api/v1/orphan-photos", params={"hours": "0", "cursor": cursor}, headers=admin)).json()
    listed = [item["sha256"] for item in first + rest["items"]]
    assert rest["next_cursor"] is None and listed == sorted(listed) and len(listed) == len(set(listed))
    assert [sha for sha in listed if sha in ours] == ours
    for bad in ("garbage", "../" + ours[0]):
        assert_problem(await client.get("/api/v1/orphan-photos", params={"cursor": bad}, headers=admin), 422, "/cursor")
