"""Database connection and migrations (the only way the schema is built)."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.migrations.api import migrate as run_migrations

from server.settings import Settings


def tortoise_config(database_url: str) -> dict:
    return {
        "connections": {"default": database_url},
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
