"""On PostgreSQL, a household file takes its sync number when its transaction commits, not at its first write.

The counter of migrations/0008_sync_changes.py is one row, locked from the taking of a number to the commit, so that
the numbers follow the order of the commits. Taken at a transaction's first write of a file (a BEFORE trigger), that
lock was held through the rest of the transaction — a submission's members, needs, ledger lines, photos, audit — and
every other transaction writing any household waited that long: with two instances, most busy backends waited on it
(bench/load.py). Now the household's stamp and its departure are deferred constraint triggers: they run at commit,
after all else, and the counter is locked from there to the commit only. A household's row is still locked from its
first write (a member's, need's or conflict's write touches its household at once, as before), so the stamps at
commit wait for no row another transaction holds, only for the counter: no deadlock.

An update that leaves `sync_seq` as it was (a touch, or any write of the app), or lowers it (a stale object saved),
is stamped; the stamp raises it, which ends the chain. A household written several times in a transaction is stamped
several times at its commit; the last number stands.

SQLite runs one writing transaction at a time: nothing changes there. A later migration that installs the sync
triggers again (0013's `install`, for a table SQLite rebuilt) must run this module's `install` after it.
"""

import importlib

from tortoise import migrations
from tortoise.migrations import operations as ops

NEEDS = importlib.import_module("migrations.0013_need_sync")

POSTGRES = [
    "DROP TRIGGER IF EXISTS household_sync_seq ON household",  # 0008's BEFORE trigger, stamping at the first write
    "DROP TRIGGER IF EXISTS household_moved ON household",
    "DROP TRIGGER IF EXISTS household_deleted ON household",
    """CREATE OR REPLACE FUNCTION doorstep_stamp_household_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE household SET sync_seq = doorstep_next_sync_seq() WHERE id = NEW.id;
        RETURN NULL;
    END $$""",
    """CREATE CONSTRAINT TRIGGER household_sync_seq_insert AFTER INSERT ON household
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION doorstep_stamp_household_at_commit()""",
    """CREATE CONSTRAINT TRIGGER household_sync_seq_update AFTER UPDATE ON household
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.sync_seq <= OLD.sync_seq)
    EXECUTE FUNCTION doorstep_stamp_household_at_commit()""",
    """CREATE CONSTRAINT TRIGGER household_moved AFTER UPDATE OF community_id ON household
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.community_id IS DISTINCT FROM NEW.community_id)
    EXECUTE FUNCTION doorstep_household_departed()""",
    """CREATE CONSTRAINT TRIGGER household_deleted AFTER DELETE ON household
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION doorstep_household_departed()""",
]
DEFERRED = {"household_sync_seq_insert", "household_sync_seq_update", "household_moved", "household_deleted"}
# The triggers on PostgreSQL once this has run: 0008's and 0013's, the household's own replaced by these.
POSTGRES_TRIGGERS = (NEEDS.SYNC.POSTGRES_TRIGGERS - {"household_sync_seq"}) | NEEDS.POSTGRES_TRIGGERS | DEFERRED


async def install(conn) -> None:
    """Create (or create again) every sync trigger, 0008's and 0013's included; idempotent."""
    await NEEDS.install(conn)
    if conn.capabilities.dialect == "postgres":
        for statement in POSTGRES:
            await conn.execute_script(statement)


async def install_deferred(apps, schema_editor) -> None:
    await install(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [('models', '0018_household_name_bigrams')]

    initial = False

    operations = [ops.RunPython(install_deferred, ops.RunPython.noop)]
