"""`doorstep check-store` on the local store and on S3: a missing photo and a damaged one fail the check, a stored
photo without a record is reported and kept; a sound store passes."""

import asyncio
import dataclasses
import os
import subprocess
import sys

import obstore
import pytest

from factories import headers_for, jpeg, make_district, make_user, sha256_of, upload
from media.s3 import S3PhotoStore
from s3_server import store_env
from server.intake.store_check import check_store


@pytest.fixture
def app_settings(either_store_settings, tmp_path):
    return dataclasses.replace(either_store_settings, media_dir=tmp_path / "media")


async def damage(app, request, sha256: str) -> None:
    """Change a stored photo's bytes behind the store's back, as a failing disk or a careless hand would."""
    store = app.state.photos
    if isinstance(store, S3PhotoStore):
        client = request.getfixturevalue("s3_server").client(store.bucket)
        await obstore.put_async(client, f"{store.prefix}/originals/{sha256}", b"\xff\xd8\xff not the photo")
    else:
        path = store.original_path(sha256)
        os.chmod(path, 0o644)
        path.write_bytes(path.read_bytes()[:-1] + b"\x00")


def run_check(settings, app_settings) -> subprocess.CompletedProcess:
    env = os.environ | store_env(app_settings) | {"DOORSTEP_DATA_DIR": str(settings.data_dir),
                                                  "DOORSTEP_DATABASE_URL": settings.database_url}
    return subprocess.run([sys.executable, "-m", "server.cli", "check-store"], env=env, capture_output=True,
                          text=True, timeout=120)


async def test_missing_and_damaged_photos_fail_the_check_and_unrecorded_ones_are_reported_and_kept(
        client, app, settings, app_settings, request):
    district = await make_district()
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    sound, gone, damaged = jpeg(), jpeg(), jpeg()
    for data in (sound, gone, damaged):
        assert (await upload(client, worker, data)).status_code == 201
    store = app.state.photos
    unrecorded = jpeg()
    fd, path = store.make_temp()
    with open(fd, "wb") as f:
        f.write(unrecorded)
    assert await store.put(sha256_of(unrecorded), path)  # stored, its row never written (a crash in between)
    await app.state.thumbnails.settle()
    assert await store.delete(sha256_of(gone))
    await damage(app, request, sha256_of(damaged))

    report = await check_store(store)

    assert report.checked == 3 and not report.sound
    assert report.missing == [sha256_of(gone)] and report.corrupt == [sha256_of(damaged)]
    assert report.unrecorded == [sha256_of(unrecorded)]
    done = await asyncio.to_thread(run_check, settings, app_settings)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert f"缺失  {sha256_of(gone)}" in lines and f"损坏  {sha256_of(damaged)}" in lines
    assert f"未登记  {sha256_of(unrecorded)}" in lines and sha256_of(sound) not in done.stdout
    assert "已核对 3 张" in done.stdout and "仅报告，未删除" in done.stdout and "备份" in done.stderr
    assert await store.exists(sha256_of(unrecorded))  # reported, not deleted


async def test_a_sound_store_passes_the_check(client, app, settings, app_settings):
    district = await make_district()
    worker = await headers_for(settings, await make_user("worker", district.east_a))
    photos = [jpeg() for _ in range(3)]
    for data in photos:
        assert (await upload(client, worker, data)).status_code == 201

    report = await check_store(app.state.photos)

    assert report.checked == 3 and report.sound and report.unrecorded == []
    done = await asyncio.to_thread(run_check, settings, app_settings)
    assert done.returncode == 0, done.stderr
    assert "已核对 3 张" in done.stdout and "缺失 0 张" in done.stdout and "不符 0 张" in done.stdout
