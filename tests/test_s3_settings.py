"""Choosing the photo store by settings: a bad choice stops the server at start with a zh-CN reason; the S3 store
named by the settings keeps the photos in its bucket, none on the local disk."""

import asyncio
import os
import subprocess
import sys

import httpx
import obstore
import pytest

from factories import headers_for, jpeg, make_district, make_user, sha256_of, upload
from media.s3 import S3PhotoStore
from s3_server import free_ports
from server.app import create_app
from server.intake.photos import photo_store
from server.settings import SettingsError, load_settings

S3 = {"DOORSTEP_PHOTO_STORE": "s3", "DOORSTEP_S3_BUCKET": "doorstep-photos"}
BAD = [
    ({"DOORSTEP_PHOTO_STORE": "nfs"}, "DOORSTEP_PHOTO_STORE 应为 local 或 s3"),
    ({"DOORSTEP_PHOTO_STORE": "s3"}, "必须设置 DOORSTEP_S3_BUCKET"),
    (S3 | {"DOORSTEP_S3_BUCKET": "Photos_2025"}, "不是有效的桶名"),
    (S3 | {"DOORSTEP_S3_ENDPOINT": "127.0.0.1:8333"}, "DOORSTEP_S3_ENDPOINT 应为 http:// 或 https://"),
    (S3 | {"DOORSTEP_S3_ENDPOINT": "http://s3.local/bucket"}, "不含路径"),
    (S3 | {"DOORSTEP_S3_ACCESS_KEY_ID": "key"}, "须同时设置"),
    # The other settings speak Chinese too: an operator at a station reads them.
    ({"DOORSTEP_IMAGE_MEMORY_MB": "很多"}, "DOORSTEP_IMAGE_MEMORY_MB 应为整数，而不是 '很多'"),
    ({"DOORSTEP_ENV": "staging"}, "DOORSTEP_ENV 应为 development 或 production"),
    ({"DOORSTEP_LOG_FORMAT": "xml"}, "DOORSTEP_LOG_FORMAT 应为 json 或 text"),
    ({"DOORSTEP_EXPORT_RETENTION_HOURS": "0"}, "DOORSTEP_EXPORT_RETENTION_HOURS 至少为 1"),
    ({"DOORSTEP_STATION_TIMEZONE": "Asia/Beijing"}, "不是已知的时区"),
    ({"DOORSTEP_ENV": "production", "DOORSTEP_SECRET": "short"}, "至少 32 个字符的 DOORSTEP_SECRET"),
]


@pytest.mark.parametrize("env, reason", BAD)
def test_a_bad_setting_is_refused_with_its_reason_in_chinese(env, reason):
    with pytest.raises(SettingsError) as raised:
        load_settings(env)
    assert reason in str(raised.value)


def test_the_server_does_not_start_on_a_bad_photo_store_setting(tmp_path):
    env = os.environ | {"DOORSTEP_DATA_DIR": str(tmp_path), "DOORSTEP_PHOTO_STORE": "s3", "DOORSTEP_S3_BUCKET": ""}
    done = subprocess.run([sys.executable, "-m", "server.cli", "serve", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "配置错误：" in done.stderr and "DOORSTEP_S3_BUCKET" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_settings_choose_the_store(tmp_path):
    assert type(photo_store(load_settings({"DOORSTEP_DATA_DIR": str(tmp_path)}))).__name__ == "LocalPhotoStore"
    chosen = photo_store(load_settings(S3 | {"DOORSTEP_DATA_DIR": str(tmp_path), "DOORSTEP_S3_PREFIX": "north/",
                                             "DOORSTEP_S3_ENDPOINT": "http://127.0.0.1:9"}))
    assert isinstance(chosen, S3PhotoStore) and (chosen.bucket, chosen.prefix) == ("doorstep-photos", "north")
    assert chosen.temp_dir == tmp_path / "media" / "tmp"  # uploads still arrive on the local disk first


async def test_an_app_on_s3_keeps_photos_in_its_bucket_and_none_on_disk(settings, s3_server, clean_database,
                                                                         tmp_path):
    bucket = s3_server.fresh_bucket("settings")
    app_settings = load_settings(
        s3_server.env(bucket), data_dir=settings.data_dir, database_url=settings.database_url,
        secret=settings.secret, media_dir=tmp_path / "media")
    app = create_app(app_settings, manage_database=False)
    try:
        district = await make_district()
        worker = await headers_for(settings, await make_user("worker", district.east_a))
        data = jpeg()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            assert (await upload(client, worker, data)).status_code == 201
            assert (await upload(client, worker, data)).status_code == 200  # a retry
        await app.state.thumbnails.settle()
        keys = [meta["path"] for page in obstore.list(s3_server.client(bucket)) for meta in page]
        assert f"originals/{sha256_of(data)}" in keys and f"derived/thumb/{sha256_of(data)}.jpg" in keys
        assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == []
    finally:
        await app.state.thumbnails.close()
        app.state.image_workers.shutdown(wait=True)


async def test_an_unreachable_bucket_makes_the_instance_not_ready(settings, s3_server, clean_database, tmp_path):
    nowhere = f"http://127.0.0.1:{free_ports(1)[0]}"  # nothing listens there
    app = create_app(load_settings(
        s3_server.env() | {"DOORSTEP_S3_ENDPOINT": nowhere}, data_dir=settings.data_dir,
        database_url=settings.database_url, secret=settings.secret, media_dir=tmp_path / "media"),
        manage_database=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            ready = await client.get("/readyz")
        assert ready.status_code == 503 and "storage" in ready.text
    finally:
        await app.state.thumbnails.close()
        app.state.image_workers.shutdown(wait=True)


async def test_a_doorstep_process_given_s3_env_checks_its_own_fresh_bucket(s3_env, settings, clean_database):
    env = os.environ | s3_env | {"DOORSTEP_DATA_DIR": str(settings.data_dir),
                                 "DOORSTEP_DATABASE_URL": settings.database_url}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "server.cli", "check-store"], env=env,
                                   capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"已核对 0 张登记的照片（S3 桶 {s3_env['DOORSTEP_S3_BUCKET']}）：缺失 0 张，"
                                        "内容与哈希不符 0 张；另有 0 张已存放但未登记（仅报告，未删除）。"]
