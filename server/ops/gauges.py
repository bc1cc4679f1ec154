"""What /metrics reads at scrape time from the shared state: export jobs by state (from the database, so every
instance shows the same figures) and this instance's database connections."""

from __future__ import annotations

from tortoise import connections
from tortoise.functions import Count

from server.models import EXPORT_STATES, ExportJob


async def export_jobs_by_state() -> dict[str, int]:
    """Every state, those with no job at 0."""
    counted = await ExportJob.all().group_by("state").annotate(n=Count("id")).values_list("state", "n")
    return {state: 0 for state in EXPORT_STATES} | dict(counted)


def pool_use() -> dict[str, int]:
    """This process's connections to the database: `in_use` (lent to a query or transaction now), `open` and `max`.

    Tortoise exposes no public figures, so they are read from its client: on PostgreSQL asyncpg's pool; on SQLite
    the one connection, in use while its lock is held (every query and transaction holds it)."""
    client = connections.get("default")
    pool = getattr(client, "_pool", None)
    if pool is not None:
        return {"in_use": pool.get_size() - pool.get_idle_size(), "open": pool.get_size(), "max": pool.get_max_size()}
    lock = getattr(client, "_lock", None)
    opened = getattr(client, "_connection", None) is not None
    return {"in_use": int(bool(lock is not None and lock.locked())), "open": int(opened), "max": 1}
