"""Database connection and migrations (the only way the schema is built)."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

from server.settings import Settings


async def _nothing_to_reset(connection) -> None:
    """asyncpg's reset of a connection returned to the pool. The default one (advisory unlock, CLOSE ALL, UNLISTEN,
    RESET ALL) costs a round trip on every release, ~0.13 ms of this process's time per query outside a transaction;
    Doorstep sets no session settings, takes no advisory locks, opens no cursors and listens to nothing, so there is
    nothing to undo. asyncpg still rolls back a transaction left open before it calls this."""


def tortoise_config(database_url: str) -> dict:
    connection: str | dict = database_url
    if database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        connection = expand_db_url(database_url)
        connection["credentials"]["reset"] = _nothing_to_reset
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": ["server.models"], "migrations": "migrations", "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(settings: Settings) -> None:
    prepare_storage(settings)
    await run_migrations(config=tortoise_config(settings.resolved_database_url))
    await Tortoise.close_connections()


async def connect(settings: Settings) -> None:
    prepare_storage(settings)
    # The global fallback lets request tasks see the connection opened in the lifespan task.
    await Tortoise.init(config=tortoise_config(settings.resolved_database_url), _enable_global_fallback=True)


async def disconnect() -> None:
    await Tortoise.close_connections()


def prepare_storage(settings: Settings) -> None:
    if settings.resolved_database_url.startswith("sqlite://"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
