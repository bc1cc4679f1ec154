"""Every index the models declare exists in the migrated database, on SQLite and on PostgreSQL.

Tortoise makes no index for `db_index=True` on a field that an `AddField` migration added: the model then promises
an index the database lacks, and the queries that lean on it read whole tables (0016, 0017)."""

from tortoise import Tortoise, connections
from tortoise.fields.relational import RelationalField

from server.core import sql


async def _indexed_columns(table: str) -> set[tuple[str, ...]]:
    """The column lists of the table's indexes (primary keys and unique constraints included)."""
    if sql.is_postgres(connections.get("default")):
        rows = await sql.fetch(
            """SELECT array_agg(a.attname ORDER BY k.n) AS columns FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE t.relname = $1 GROUP BY i.indexrelid""", [table])
        return {tuple(r["columns"]) for r in rows}
    names = [r["name"] for r in await sql.fetch(f"SELECT name FROM pragma_index_list('{table}')")]
    return {tuple(r["name"] for r in await sql.fetch(f"SELECT name FROM pragma_index_info('{n}') ORDER BY seqno"))
            for n in names}


def _declared(model) -> list[tuple[str, ...]]:
    meta = model._meta
    declared = [(field.source_field or name,) for name, field in meta.fields_map.items()
                if getattr(field, "index", False) and not isinstance(field, RelationalField)]
    for index in meta.indexes or ():
        names = index if isinstance(index, (tuple, list)) else index.fields
        declared.append(tuple(meta.fields_map[n].source_field or n if n in meta.fields_map else n for n in names))
    return declared


async def test_every_declared_index_exists(database):
    missing = []
    for model in Tortoise.apps.get_models_iterable():
        have = await _indexed_columns(model._meta.db_table)
        missing += [(model._meta.db_table, columns) for columns in _declared(model)
                    if not any(found[:len(columns)] == columns for found in have)]
    assert missing == []
