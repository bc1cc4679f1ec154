"""On PostgreSQL, the substring search of households (`search_text`) looks up an index instead of reading them all.

Names are two or three characters, too short for pg_trgm's trigrams. `doorstep_bigrams(text)` gives the distinct
2-character pieces of a text, and a GIN index holds them for every household: a text holding a query holds each of
its pieces, so `doorstep_bigrams(search_text) @> doorstep_bigrams(q)` narrows the households to a few candidates
that the LIKE then checks exactly (server/households/search.py). The index follows every write by itself; no write
path changes. SQLite reads every row as before (it meets the goal of bench/households.py): nothing is made there.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

FUNCTION = """CREATE OR REPLACE FUNCTION doorstep_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}')
    FROM generate_series(1, char_length(t) - 1) AS i
$$"""
INDEX = "CREATE INDEX IF NOT EXISTS idx_household_search_bigrams ON household USING gin (doorstep_bigrams(search_text))"


async def make_index(apps, schema_editor) -> None:
    conn = schema_editor.client
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script(FUNCTION)
        await conn.execute_script(INDEX)


async def drop_index(apps, schema_editor) -> None:
    conn = schema_editor.client
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script("DROP INDEX IF EXISTS idx_household_search_bigrams")
        await conn.execute_script("DROP FUNCTION IF EXISTS doorstep_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [('models', '0017_declared_indexes')]

    initial = False

    operations = [ops.RunPython(make_index, drop_index)]
