"""Database connection and migrations (the only way the schema is built)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

from server.settings import Settings


async def _nothing_to_reset(connection) -> None:
    """asyncpg's reset of a connection returned to the pool. The default one (advisory unlock, CLOSE ALL, UNLISTEN,
    RESET ALL) costs a round trip on every release, ~0.13 ms of this process's time per query outside a transaction;
    Doorstep sets no session settings, takes no advisory locks on pooled connections (the migration lock has a
    connection of its own), opens no cursors and listens to nothing, so there is nothing to undo. asyncpg still rolls
    back a transaction left open before it calls this."""


def tortoise_config(database_url: str) -> dict:
    connection: str | dict = database_url
    if database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        connection = expand_db_url(database_url)
        connection["credentials"]["reset"] = _nothing_to_reset
    elif database_url.startswith("sqlite://"):
        connection = expand_db_url(database_url)
        connection["engine"] = "server.core.sqlite"  # transactions that take the write lock at once
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": ["server.models"], "migrations": "migrations", "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


log = logging.getLogger("doorstep.db")
# pg_advisory_lock's key for migrations: "doorstep" in ASCII, as one bigint.
MIGRATION_LOCK = int.from_bytes(b"doorstep", "big")


async def migrate(settings: Settings) -> list[str]:
    """Bring the schema up to date; the names of the migrations this call applied.

    Instances started at the same moment (systemd units, a deployment) each run this: a lock on the database makes
    them take turns, so the first applies what is missing and the others find nothing left to do."""
    prepare_storage(settings)
    applied: list[str] = []

    def progress(event: str, app: str, name: str) -> None:
        if event == "apply_done":
            applied.append(name)

    async with migration_lock(settings.resolved_database_url):
        try:
            await run_migrations(config=tortoise_config(settings.resolved_database_url), progress=progress)
        finally:
            await Tortoise.close_connections()
    return applied


@contextlib.asynccontextmanager
async def migration_lock(database_url: str) -> AsyncIterator[None]:
    """Held by one process at a time, across instances: on PostgreSQL a session advisory lock on a connection of its
    own (released when it closes, so a killed process never leaves it held); on SQLite an exclusive lock on a file
    beside the database (the kernel releases it with the process)."""
    credentials = expand_db_url(database_url)["credentials"]
    if "file_path" in credentials:
        if credentials["file_path"] == ":memory:":
            yield
            return
        async with _file_lock(Path(f"{credentials['file_path']}.migrate-lock")):
            yield
        return
    connection = await asyncpg.connect(host=credentials["host"], port=credentials["port"], user=credentials["user"],
                                       password=credentials["password"], database=credentials["database"],
                                       **({"ssl": credentials["ssl"]} if "ssl" in credentials else {}))
    try:
        if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK):
            log.warning("另一个实例正在迁移数据库，等待它完成……")
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        yield
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def _file_lock(path: Path) -> AsyncIterator[None]:
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("另一个实例正在迁移数据库，等待它完成……")
            await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def connect(settings: Settings) -> None:
    prepare_storage(settings)
    # The global fallback lets request tasks see the connection opened in the lifespan task.
    await Tortoise.init(config=tortoise_config(settings.resolved_database_url), _enable_global_fallback=True)


async def disconnect() -> None:
    await Tortoise.close_connections()


def prepare_storage(settings: Settings) -> None:
    if settings.resolved_database_url.startswith("sqlite://"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
