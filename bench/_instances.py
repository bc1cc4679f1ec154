"""`doorstep serve` processes for the load and field benchmarks, and the one place that chooses their photo store.

Every instance of a run shares one database and one photo store, as instances behind nginx do in production.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "tests"))  # tests/s3_server.py: the SeaweedFS that the test command starts, for --store s3
from server_process import ServerProcess as Instance  # noqa: E402,F401 (the tests' way to start `doorstep serve`)

STORES = ("local", "s3")


@contextlib.contextmanager
def shared_store(store: str, folder: Path) -> Iterator[dict[str, str]]:
    """The settings (as environment) of the photo store every instance of a run shares: chosen here and nowhere else.

    local: one folder on this machine for all instances (as on one machine, or NFS across several).
    s3: the bucket that DOORSTEP_S3_ENDPOINT, DOORSTEP_S3_BUCKET and the keys name; without them a SeaweedFS of the
    run's own (tests/s3_server.py, as the test command starts it) on a fresh bucket, stopped afterwards."""
    if store == "local":
        yield {"DOORSTEP_MEDIA_DIR": str(folder / "media")}
    elif store == "s3" and os.environ.get("DOORSTEP_S3_ENDPOINT"):
        yield {"DOORSTEP_PHOTO_STORE": "s3"} | {k: v for k, v in os.environ.items() if k.startswith("DOORSTEP_S3_")}
    elif store == "s3":
        from s3_server import running_s3_server

        with running_s3_server(folder / "seaweedfs") as s3:
            yield s3.env(s3.fresh_bucket("bench"))
    else:
        raise SystemExit(f"未知的存储：{store}（{' | '.join(STORES)}）")


def store_settings(store_env: dict[str, str]) -> dict:
    """The same store as keyword arguments of `load_settings`, for the bench's own look into it."""
    return {name.removeprefix("DOORSTEP_").lower(): Path(value) if name == "DOORSTEP_MEDIA_DIR" else value
            for name, value in store_env.items()}


def server_env(database_url: str, folder: Path, store_env: dict[str, str], secret: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")} | {
        "DOORSTEP_DATABASE_URL": database_url,
        "DOORSTEP_DATA_DIR": str(folder / "data"),
        "DOORSTEP_SECRET": secret,
        "DOORSTEP_LOG_LEVEL": "WARNING",
        # Several processes share the store's temporary folder: one starting must not remove another's uploads.
        "DOORSTEP_TEMP_CLEANUP_AFTER_SECONDS": "3600",
        "PYTHONPATH": str(ROOT),
    } | store_env


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, its threads included (the image workers are threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds(name: str) -> float:
    """CPU time so far of the PostgreSQL backends serving database `name` (their titles name it)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {name} " in title:  # "postgres: 15/main: user database host …"
            total += cpu_seconds(int(entry.name))
    return total


async def sample_lock_waits(url: str, samples: list[tuple[int, int]], every: float = 0.5) -> None:
    """Until cancelled, every `every` seconds: (backends of the database waiting for a lock, backends busy), from
    pg_stat_activity. The sync counter (migrations/0008_sync_changes.py) is one row locked by every transaction that
    writes a household file, from its commit's start (migrations/0019_sync_stamp_at_commit.py) to its end: contention
    on it, or on a household's row, shows up here."""
    import asyncio

    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1).split("?", 1)[0])
    try:
        while True:
            row = await conn.fetchrow(
                "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting, "
                "count(*) FILTER (WHERE state = 'active') AS busy FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            samples.append((row["waiting"], row["busy"]))
            await asyncio.sleep(every)
    finally:
        await conn.close()


