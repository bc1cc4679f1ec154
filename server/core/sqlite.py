"""Tortoise's SQLite client, with transactions that take the write lock when they begin (BEGIN IMMEDIATE).

Several processes on one SQLite file (two instances, or a command beside the server): a transaction begun with a
plain BEGIN reads from a snapshot, and when it then writes after another process has committed, SQLite refuses at
once ("database is locked", SQLITE_BUSY_SNAPSHOT): no busy timeout helps. Taken at BEGIN, the lock makes a
transaction wait its turn (up to the busy timeout) and then read and write the latest data. Within one process the
client's own lock already lets one transaction run at a time, so nothing is lost."""

from __future__ import annotations

import sqlite3

from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> SqliteTransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)


# What Tortoise looks for in an engine module (the "engine" of a connection's configuration).
client_class = ImmediateSqliteClient
