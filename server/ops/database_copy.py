"""The database half of a backup: a consistent copy with the row counts and recorded photos of that same copy, and
its restore into an empty database.

PostgreSQL: `pg_dump -Fc` run on a snapshot exported by a read-only REPEATABLE READ transaction, in which the
counts are taken too, so that the manifest describes exactly what the dump holds; `pg_restore` puts it back. The
client tools must be of the server's major version or newer (Debian's postgresql-client-15 for PostgreSQL 15).
SQLite: sqlite3's online backup API (a consistent copy while the server writes), counted in the copy.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg

POSTGRES_SCHEMES = ("postgres://", "postgresql://", "asyncpg://")
DUMP_FILE = {"postgres": "database.dump", "sqlite": "database.sqlite3"}


class CopyFailed(Exception):
    """A tool failed or the target is not what a restore needs; the message is for the operator."""


@dataclass(frozen=True)
class Contents:
    """What a database (or a copy of it) holds: rows per table and the photos it has recorded."""

    tables: dict[str, int]
    photos: list[str]  # sha256 of every recorded attachment, sorted


def kind_of(url: str) -> str:
    if url.startswith(POSTGRES_SCHEMES):
        return "postgres"
    if url.startswith("sqlite://"):
        return "sqlite"
    raise CopyFailed(f"不支持的数据库地址：{url.split('://')[0]}")


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite://").split("?", 1)[0])


def libpq_env(url: str) -> dict[str, str]:
    """The URL as PG* variables for pg_dump and pg_restore: the password never shows in `ps`, and the query options
    that only Tortoise knows (?minsize=…) are left out."""
    parts = urlsplit(url)
    return os.environ | {"PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432),
                         "PGUSER": unquote(parts.username or ""), "PGPASSWORD": unquote(parts.password or ""),
                         "PGDATABASE": unquote(parts.path.lstrip("/"))}


def asyncpg_url(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(scheme="postgresql", query="").geturl()


async def dump(url: str, dest: Path) -> Contents:
    """Copy the database into `dest` (a folder); returns what the copy holds."""
    if kind_of(url) == "sqlite":
        return await asyncio.to_thread(_copy_sqlite, sqlite_path(url), dest / DUMP_FILE["sqlite"])
    target = dest / DUMP_FILE["postgres"]
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            contents = await _postgres_contents(conn)
            partial = target.with_suffix(".partial")
            await _tool(["pg_dump", "--format=custom", "--no-password", f"--snapshot={snapshot}",
                         f"--file={partial}"], libpq_env(url))
    finally:
        await conn.close()
    await _tool(["pg_restore", "--list", str(partial)], os.environ)  # readable before it takes the real name
    partial.replace(target)
    return contents


async def restore(url: str, source: Path) -> None:
    """Put the copy in `source` into the empty database `url` names (refused if it has tables)."""
    if kind_of(url) == "sqlite":
        await asyncio.to_thread(_restore_sqlite, source / DUMP_FILE["sqlite"], sqlite_path(url))
        return
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        existing = await conn.fetchval("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
    finally:
        await conn.close()
    if existing:
        raise CopyFailed("目标数据库已有表（public 模式）：请恢复到新建的空数据库")
    # No owners and grants of the old server: everything belongs to the role restoring, the one the server uses.
    await _tool(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                 "--no-password", f"--dbname={libpq_env(url)['PGDATABASE']}", str(source / DUMP_FILE["postgres"])],
                libpq_env(url))


async def contents(url: str) -> Contents:
    """What the database `url` names holds now."""
    if kind_of(url) == "sqlite":
        return await asyncio.to_thread(_sqlite_contents, sqlite_path(url))
    conn = await asyncpg.connect(asyncpg_url(url))
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await _postgres_contents(conn)
    finally:
        await conn.close()


async def _postgres_contents(conn) -> Contents:
    names = await conn.fetch("SELECT table_name FROM information_schema.tables "
                             "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name")
    tables = {}
    for row in names:
        name = row["table_name"]
        tables[name] = await conn.fetchval(f'SELECT count(*) FROM "{name}"')
    photos = [r["sha256"] for r in await conn.fetch("SELECT sha256 FROM attachment ORDER BY sha256")] \
        if "attachment" in tables else []
    return Contents(tables, photos)


def _copy_sqlite(source: Path, target: Path) -> Contents:
    if not source.is_file():
        raise CopyFailed(f"找不到 SQLite 数据库文件 {source}")
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # one step: a read lock for the copy, so it is one moment of the database
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, not one leaning on a -wal beside it
    finally:
        dst.close()
        src.close()
    copied = _sqlite_contents(partial)
    partial.replace(target)
    return copied


def _restore_sqlite(source: Path, target: Path) -> None:
    if target.exists() and _sqlite_contents(target).tables:
        raise CopyFailed(f"目标数据库 {target} 已有表：请恢复到新的数据目录")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    _sqlite_contents(partial)  # a readable database, or the restore stops here
    partial.replace(target)


def _sqlite_contents(path: Path) -> Contents:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        tables = {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
        photos = [r[0] for r in conn.execute("SELECT sha256 FROM attachment ORDER BY sha256")] \
            if "attachment" in tables else []
        return Contents(tables, photos)
    except sqlite3.DatabaseError as exc:
        raise CopyFailed(f"{path} 不是可读的 SQLite 数据库：{exc}") from None
    finally:
        conn.close()


async def _tool(command: list[str], env: dict[str, str]) -> None:
    if not shutil.which(command[0]):
        raise CopyFailed(f"找不到 {command[0]}（Debian：apt-get install postgresql-client-15）")
    process = await asyncio.create_subprocess_exec(*command, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                   stderr=asyncio.subprocess.PIPE)
    _, err = await process.communicate()
    if process.returncode != 0:
        raise CopyFailed(f"{command[0]} 失败（退出码 {process.returncode}）：{err.decode(errors='replace').strip()}")
