"""The restore drill of deploy/GUIDE.md §7, performed: data made through the API, `doorstep backup`, then
`doorstep restore` into a fresh database (on PostgreSQL a second database made by the test) and an empty photo
store (a folder, or a new bucket of a real S3 server), and a real server started on the restored copy must answer the same household file with the same photo
bytes; `doorstep verify-restore` must notice a photo gone missing."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from server.intake.photos import photo_store
from server.settings import load_settings
from factories import GPS_PHOTO, headers_for, home_visit, make_district, make_form_version, make_user, sha256_of
from test_crash import REPO, Server

DATABASE_URL = os.environ.get("DOORSTEP_TEST_DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))


def doorstep(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def environment(data_dir, database_url: str) -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")} | {
        "DOORSTEP_DATA_DIR": str(data_dir), "DOORSTEP_DATABASE_URL": database_url,
        "DOORSTEP_SECRET": "test-secret-" + "x" * 32,  # the session's: a restored server needs the same secret
        "DOORSTEP_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO)}


@pytest.fixture
async def fresh_database_url():
    """An empty database beside the test database (PostgreSQL; `./dev test` gives its role CREATEDB), dropped
    afterwards; "" on SQLite, where the fresh database is a file in a new data folder."""
    if not ON_POSTGRES:
        yield ""
        return
    parts = urlsplit(DATABASE_URL)
    name = f"{parts.path.lstrip('/')}_drill_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@pytest.fixture(params=["local", "s3"])
def fresh_store_env(request) -> dict[str, str]:
    """An empty photo store to restore into: the data folder's own, or a new bucket."""
    if request.param == "local":
        return {}
    s3 = request.getfixturevalue("s3_server")
    return s3.env(s3.fresh_bucket("restored"))


@pytest.mark.parametrize("backend", ["postgres" if ON_POSTGRES else "sqlite"])
async def test_a_backup_restored_into_a_fresh_database_and_store_serves_the_same_file_and_photo(
        client, settings, tmp_path, fresh_database_url, fresh_store_env, backend):
    # Data through the API: a household registered by its phone, a real camera photo, a home visit using it.
    district = await make_district()
    await make_form_version("home_visit")
    headers = await headers_for(settings, await make_user("worker", district.east_a))
    household = str(uuid.uuid4())
    registered = await client.put(f"/api/v1/households/{household}", headers=headers, json={
        "community": str(district.east_a.id), "address": "白竹亭社区 3 组 12 号", "head": "张秀英",
        "phone": "13807312456", "location": {"lat": 28.1941, "lon": 112.9823}})
    assert registered.status_code == 201, registered.text
    photo = GPS_PHOTO.read_bytes()
    sha = sha256_of(photo)
    stored = await client.put(f"/api/v1/attachments/{sha}", content=photo,
                              headers=headers | {"Content-Type": "image/jpeg"})
    assert stored.status_code == 201, stored.text
    sent = await client.put(f"/api/v1/submissions/{uuid.uuid4()}", headers=headers, json={
        "form": "home_visit", "version": 1, "household": household, "data": home_visit(sha, [sha]),
        "started_at": "2025-03-18T09:30:00+08:00", "finished_at": "2025-03-18T10:10:00+08:00"})
    assert sent.status_code == 201, sent.text
    file_before = (await client.get(f"/api/v1/households/{household}", headers=headers)).json()
    assert {p["sha256"] for v in file_before["visits"]["items"] for p in v["submissions"][0]["photos"]} == {sha}

    # Back up the running database and store, as the nightly job does.
    backup = tmp_path / "backup"
    made = doorstep(environment(settings.data_dir, DATABASE_URL), "backup", str(backup))
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in backup.iterdir()) == ["database." + ("dump" if ON_POSTGRES else "sqlite3"),
                                                        "manifest.json", "photos"]

    # Restore into a fresh database and an empty photo folder; the restore verifies itself.
    restored = environment(tmp_path / "restored", fresh_database_url) | fresh_store_env
    put_back = doorstep(restored, "restore", str(backup))
    assert put_back.returncode == 0, put_back.stderr
    assert "核对通过" in put_back.stdout
    restored_store = photo_store(load_settings(restored))
    assert await (await restored_store.open(sha)).read() == photo
    again = doorstep(restored, "restore", str(backup))
    assert again.returncode == 1 and "已有表" in again.stderr  # never over a database that has data
    assert doorstep(restored, "migrate").returncode == 0

    # A server on the restored copy answers the same file and the same photo bytes to the same login.
    server = Server(restored)
    try:
        await server.start()
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as restored_client:
            assert (await restored_client.get("/readyz")).status_code == 200
            file_after = await restored_client.get(f"/api/v1/households/{household}")
            assert file_after.status_code == 200, file_after.text
            assert file_after.json() == file_before
            got = await restored_client.get(f"/api/v1/attachments/{sha}")
            assert got.status_code == 200 and got.content == photo
    finally:
        server.stop()

    # The verification is not a formality: a photo lost from the restored store is reported.
    assert await restored_store.delete(sha)
    checked = doorstep(restored, "verify-restore", str(backup))
    assert checked.returncode == 1 and sha in checked.stderr
