"""Needs in the change sequence offline sync reads: every write of a need (raised, acted on, withdrawn, moved to
another household by a merge or its undo) touches its household, as a member's or a conflict's does, so the file
goes to the phones again with its needs (`server.households.sync`). Same triggers and function as
migrations/0008_sync_changes.py; read its docstring on lock order: a need write now takes the counter's lock too, so
a transaction locks the household before it writes a need (`server.needs.lifecycle`).

The households that already have needs are touched once, so that the phones get their needs at the next sync.

SQLite note: a later migration that rebuilds the need table (or one of 0008's) runs `install(conn)` from
0019_sync_stamp_at_commit again, which installs 0008's and this module's triggers too (tests/test_sync_sequence.py checks that every trigger is in place).
"""

import importlib

from tortoise import migrations
from tortoise.migrations import operations as ops

SYNC = importlib.import_module("migrations.0008_sync_changes")

POSTGRES = [
    "DROP TRIGGER IF EXISTS need_sync_seq ON need",
    """CREATE TRIGGER need_sync_seq AFTER INSERT OR UPDATE OR DELETE ON need
    FOR EACH ROW EXECUTE FUNCTION doorstep_touch_household()""",
]
POSTGRES_TRIGGERS = {"need_sync_seq"}
SQLITE_TRIGGERS = dict(SYNC._touch("need", *how) for how in (
    ("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"),
    ("UPDATE", "OLD", "WHEN OLD.household_id IS NOT NEW.household_id")))  # a need moved by a merge or its undo
SQLITE = [statement for name, create in SQLITE_TRIGGERS.items()
          for statement in (f"DROP TRIGGER IF EXISTS {name}", create)]


async def install(conn) -> None:
    """Create (or create again) 0008's counter and triggers and the need's; idempotent."""
    await SYNC.install(conn)
    for statement in POSTGRES if conn.capabilities.dialect == "postgres" else SQLITE:
        await conn.execute_script(statement)


async def install_and_touch(apps, schema_editor) -> None:
    conn = schema_editor.client
    await install(conn)
    await conn.execute_query("UPDATE household SET sync_seq = sync_seq WHERE id IN (SELECT household_id FROM need)")


class Migration(migrations.Migration):
    dependencies = [('models', '0012_needs_months')]

    initial = False

    operations = [
        ops.RunPython(install_and_touch, ops.RunPython.noop),
    ]
