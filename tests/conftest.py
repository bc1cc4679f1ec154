"""Plumbing for the HTTP tests: a migrated real database (a SQLite file, or PostgreSQL when
DOORSTEP_TEST_DATABASE_URL names one), emptied between tests, and the app behind an ASGI client."""

from __future__ import annotations

import dataclasses
import os
import uuid

import asyncpg
import httpx
import pytest
from tortoise import Tortoise, connections

from server.core import db
from server.app import create_app
from server.settings import load_settings
from s3_server import S3Server, running_s3_server

DATABASE_URL = os.environ.get("DOORSTEP_TEST_DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))
if os.environ.get("CI") and os.environ.get("DOORSTEP_TEST_LEG") == "postgres" and not ON_POSTGRES:
    raise pytest.UsageError("CI 的 PostgreSQL 测试轮次没有拿到 DOORSTEP_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("doorstep")
    return load_settings(
        {},
        data_dir=data_dir,
        database_url=DATABASE_URL,
        secret="test-secret-" + "x" * 32,
        login_max_failures_user=3,
        login_max_failures_address=10,
    )


@pytest.fixture(scope="session")
async def database(settings):
    if ON_POSTGRES:
        await _reset_postgres_schema(DATABASE_URL)
    await db.migrate(settings)
    await db.connect(settings)
    yield
    await db.disconnect()


async def _reset_postgres_schema(url: str) -> None:
    """A fresh schema per test session, so a run never sees leftovers of an earlier one."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture
async def clean_database(database):
    yield
    tables = [model._meta.db_table for model in Tortoise.apps.get_models_iterable()]
    conn = connections.get("default")
    if ON_POSTGRES:
        await conn.execute_script(f"TRUNCATE {', '.join(tables)} CASCADE")
    else:
        await conn.execute_script("PRAGMA foreign_keys = OFF;" + "".join(f"DELETE FROM {t};" for t in tables) + "PRAGMA foreign_keys = ON;")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> S3Server:
    """A SeaweedFS of this session (tests/s3_server.py), started when a test first asks for it."""
    with running_s3_server(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture
def s3_env(s3_server) -> dict[str, str]:
    """The environment of a `doorstep` process (serve, check-store, …) whose photos go to a fresh bucket of this
    test's own: DOORSTEP_PHOTO_STORE=s3, the endpoint, the bucket and the keys."""
    return s3_server.env(s3_server.fresh_bucket())


@pytest.fixture(params=["local", "s3"])
def either_store_settings(request, settings):
    """The session's settings with each photo store in turn: a module whose photos must work on both makes its
    `app_settings` this. The S3 store of each test has a key prefix of its own in the shared test bucket."""
    if request.param == "local":
        return settings
    s3 = request.getfixturevalue("s3_server")
    return dataclasses.replace(settings, **s3.settings_overrides(prefix=f"t-{uuid.uuid4().hex}"))


@pytest.fixture
def app_settings(settings):
    """The settings the test's app is made with: the session's; a test module overrides this to change some."""
    return settings


@pytest.fixture
async def app(app_settings, clean_database):
    app = create_app(app_settings, manage_database=False)
    yield app
    # No thumbnail of this test's photos is made while the next test runs (the lifespan would do this in a server).
    await app.state.thumbnails.close()
    app.state.image_workers.shutdown(wait=True)
    app.state.archives.renderer.close(wait=True)  # its worker processes, started if the test made an archive


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://doorstep.test") as c:
        yield c


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report on the test, for fixtures that keep evidence of a failure (the browsers' screenshots)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)
