"""Hand-written SQL for the few statements every request or submission runs, where building the query through
the ORM costs several times what the database takes to answer it (~0.2 ms of Python against ~0.06 ms).

Statements are written once, in PostgreSQL's numbered placeholders (`$1`), and given to SQLite as `?1`. Values go
in and rows come back through the model fields' own conversions (`insert`, `load`), so both databases give the same
Python values.
Everything else goes through the ORM: use this only where a profile says so, and test the statement on both.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

M = TypeVar("M", bound=Model)

_NUMBERED = re.compile(r"\$(\d+)")


def connection() -> BaseDBAsyncClient:
    """The default connection, or the transaction this task is in."""
    return connections.get("default")


def is_postgres(conn: BaseDBAsyncClient) -> bool:
    return conn.capabilities.dialect == "postgres"


async def insert(*instances: Model, conn: BaseDBAsyncClient | None = None) -> None:
    """Insert instances of one model in one statement, every value converted by its field as the ORM's `save`
    converts it (no signals; keys are made by the caller or the field's default, as on every model here)."""
    meta = type(instances[0])._meta
    names = list(meta.fields_db_projection)
    params: list[Any] = []
    rows = ", ".join(
        f"({placeholders([meta.fields_map[n].to_db_value(getattr(obj, n), obj) for n in names], params)})"
        for obj in instances
    )
    quoted = ", ".join(f'"{meta.fields_db_projection[n]}"' for n in names)
    await execute(f'INSERT INTO "{meta.db_table}" ({quoted}) VALUES {rows}', params, conn)
    for obj in instances:
        obj._saved_in_db = True


async def execute(sql: str, params: Sequence[Any] = (), conn: BaseDBAsyncClient | None = None) -> None:
    """Run a statement that returns no rows, written with $n placeholders."""
    conn = conn or connection()
    await conn.execute_query(_in_dialect(conn, sql), list(params))


async def fetch(sql: str, params: Sequence[Any] = (), conn: BaseDBAsyncClient | None = None) -> list[dict]:
    """Rows of a statement written with $n placeholders; uuids go in as strings, datetimes as they are."""
    conn = conn or connection()
    return await conn.execute_query_dict(_in_dialect(conn, sql), list(params))


def _in_dialect(conn: BaseDBAsyncClient, sql: str) -> str:
    return sql if is_postgres(conn) else _NUMBERED.sub(r"?\1", sql)


def placeholders(values: Iterable[Any], params: list[Any]) -> str:
    """`$n, $n+1, …` for `values`, appended to `params`: for IN lists of any length."""
    start = len(params)
    params.extend(values)
    return ", ".join(f"${i}" for i in range(start + 1, len(params) + 1))


@functools.cache
def columns(model: type[Model], alias: str, prefix: str = "") -> str:
    """Every column of `model` from table `alias`, named `prefix` + column, for `load`. The columns are known only
    once the ORM has started, so this is called at a statement's first use, never at import."""
    return ", ".join(f'{alias}."{c}" AS "{prefix}{c}"' for c in model._meta.db_fields)


def load(model: type[M], row: dict, prefix: str = "") -> M:
    """A model instance from the columns `columns(model, …, prefix)` selected, made by the classmethod the ORM's own
    queries (and its `Model.raw`) make instances with."""
    if prefix:
        row = {c: row[prefix + c] for c in model._meta.db_fields}
    return model._init_from_db(**row)


def as_uuid(value: Any) -> uuid.UUID | None:
    """A uuid column's value as read outside a model: text on SQLite, asyncpg's own UUID on PostgreSQL."""
    return None if value is None else uuid.UUID(str(value))
