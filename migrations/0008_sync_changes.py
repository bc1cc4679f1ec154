"""The change sequence offline sync reads (`server.households.sync`): one counter, and triggers that stamp every
write of a household file (the household, its members, its conflicts), of a published form version and of a form's
retirement with the counter's next value, and record a departure when a household leaves its community.

The database does it, not the app, so that no code path can write a file and forget to tell the phones: the
corrections, moves and merges of files, `doorstep load-demo`, a fix made by hand in psql. The counter is one row,
taken with a row lock until commit, so the numbers follow the order of the commits (see the module named above).
Lock every household a transaction will write before writing any (the submission path locks its one household
first; a merge must lock both): two transactions writing two households in opposite orders deadlock.

Needs joined the sequence later (migrations/0013_need_sync.py: the same touch, on the need table). On PostgreSQL
the household took its number at its first write, and held the counter's lock from there to the commit, until
migrations/0019_sync_stamp_at_commit.py moved the household's stamp (and its departure) to the commit.

SQLite note: when a later migration makes Tortoise rebuild one of these tables or the need table (removing or
altering a column), the rebuilt table has no triggers; run `install(conn)` from 0019_sync_stamp_at_commit (it installs
this module's and 0013's too) again in that migration (tests/test_sync_sequence.py checks that every trigger is in place).
"""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

POSTGRES = [
    "CREATE TABLE IF NOT EXISTS sync_counter (id SMALLINT PRIMARY KEY, value BIGINT NOT NULL)",
    "INSERT INTO sync_counter (id, value) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    # The row lock this UPDATE takes is held until commit: a second writer waits here, so a later number is never
    # committed before an earlier one. A missing row is an error, never a NULL number.
    """CREATE OR REPLACE FUNCTION doorstep_next_sync_seq() RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE taken bigint;
    BEGIN
        UPDATE sync_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO STRICT taken;
        RETURN taken;
    END $$""",
    """CREATE OR REPLACE FUNCTION doorstep_stamp_sync_seq() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.sync_seq := doorstep_next_sync_seq();
        RETURN NEW;
    END $$""",
    # A row of the file changed: the household's own trigger stamps it when it is touched.
    """CREATE OR REPLACE FUNCTION doorstep_touch_household() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'DELETE' THEN
            UPDATE household SET sync_seq = sync_seq WHERE id = NEW.household_id;
        END IF;
        IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.household_id IS DISTINCT FROM NEW.household_id) THEN
            UPDATE household SET sync_seq = sync_seq WHERE id = OLD.household_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION doorstep_household_departed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO household_departure (seq, household_id, community_id)
        VALUES (doorstep_next_sync_seq(), OLD.id, OLD.community_id);
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS household_sync_seq ON household",
    """CREATE TRIGGER household_sync_seq BEFORE INSERT OR UPDATE ON household
    FOR EACH ROW EXECUTE FUNCTION doorstep_stamp_sync_seq()""",
    "DROP TRIGGER IF EXISTS household_moved ON household",
    """CREATE TRIGGER household_moved AFTER UPDATE OF community_id ON household FOR EACH ROW
    WHEN (OLD.community_id IS DISTINCT FROM NEW.community_id) EXECUTE FUNCTION doorstep_household_departed()""",
    "DROP TRIGGER IF EXISTS household_deleted ON household",
    """CREATE TRIGGER household_deleted AFTER DELETE ON household
    FOR EACH ROW EXECUTE FUNCTION doorstep_household_departed()""",
    "DROP TRIGGER IF EXISTS member_sync_seq ON member",
    """CREATE TRIGGER member_sync_seq AFTER INSERT OR UPDATE OR DELETE ON member
    FOR EACH ROW EXECUTE FUNCTION doorstep_touch_household()""",
    "DROP TRIGGER IF EXISTS household_conflict_sync_seq ON household_conflict",
    """CREATE TRIGGER household_conflict_sync_seq AFTER INSERT OR UPDATE OR DELETE ON household_conflict
    FOR EACH ROW EXECUTE FUNCTION doorstep_touch_household()""",
    "DROP TRIGGER IF EXISTS form_version_sync_seq ON form_version",
    """CREATE TRIGGER form_version_sync_seq BEFORE INSERT ON form_version
    FOR EACH ROW EXECUTE FUNCTION doorstep_stamp_sync_seq()""",
    "DROP TRIGGER IF EXISTS form_sync_seq ON form",
    """CREATE TRIGGER form_sync_seq BEFORE UPDATE ON form
    FOR EACH ROW WHEN (OLD.retired_at IS DISTINCT FROM NEW.retired_at) EXECUTE FUNCTION doorstep_stamp_sync_seq()""",
]

# SQLite runs one writing transaction at a time, so any counter follows the commits. Its triggers cannot change the
# row being written (no BEFORE … NEW.x :=), so they update it after; a trigger does not fire itself again
# (recursive_triggers is off), which ends the chain member → household → household.
_NEXT = "UPDATE sync_counter SET value = value + 1 WHERE id = 1;"
_SEQ = "(SELECT value FROM sync_counter WHERE id = 1)"


def _stamp(table: str, event: str, when: str = "") -> tuple[str, str]:
    name = f"{table}_sync_seq_{event.split()[0].lower()}"
    return name, f"""CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {when}
    BEGIN {_NEXT} UPDATE {table} SET sync_seq = {_SEQ} WHERE id = NEW.id; END"""


def _touch(table: str, event: str, row: str, when: str = "") -> tuple[str, str]:
    """A row of the file changed: touching its household makes the household's own trigger stamp it."""
    name = f"{table}_sync_touch_{event.lower()}_{row.lower()}"
    return name, f"""CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {when}
    BEGIN UPDATE household SET sync_seq = sync_seq WHERE id = {row}.household_id; END"""


def _departure(event: str, when: str = "") -> tuple[str, str]:
    name = f"household_departed_{event.split()[0].lower()}"
    return name, f"""CREATE TRIGGER {name} AFTER {event} ON household FOR EACH ROW {when}
    BEGIN {_NEXT} INSERT INTO household_departure (seq, household_id, community_id)
    VALUES ({_SEQ}, OLD.id, OLD.community_id); END"""


SQLITE_TRIGGERS = dict([
    _stamp("household", "INSERT"),
    _stamp("household", "UPDATE"),
    _departure("UPDATE OF community_id", "WHEN OLD.community_id IS NOT NEW.community_id"),
    _departure("DELETE"),
    *(_touch(table, *how) for table in ("member", "household_conflict") for how in (
        ("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"),
        ("UPDATE", "OLD", "WHEN OLD.household_id IS NOT NEW.household_id"))),  # a member moved between files
    _stamp("form_version", "INSERT"),
    _stamp("form", "UPDATE", "WHEN OLD.retired_at IS NOT NEW.retired_at"),
])
SQLITE = [
    "CREATE TABLE IF NOT EXISTS sync_counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT INTO sync_counter (id, value) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    *(statement for name, create in SQLITE_TRIGGERS.items()
      for statement in (f"DROP TRIGGER IF EXISTS {name}", create)),
]
POSTGRES_TRIGGERS = {"household_sync_seq", "household_moved", "household_deleted", "member_sync_seq",
                     "household_conflict_sync_seq", "form_version_sync_seq", "form_sync_seq"}


async def install(conn) -> None:
    """Create (or create again) the counter and the triggers; idempotent."""
    postgres = conn.capabilities.dialect == "postgres"
    for statement in POSTGRES if postgres else SQLITE:
        await conn.execute_script(statement)


async def install_and_number(apps, schema_editor) -> None:
    """Install the triggers, then give what is already stored its place in the sequence: touching each household
    stamps it, and the published versions are numbered in the order they were published."""
    conn = schema_editor.client
    await install(conn)
    await conn.execute_query("UPDATE household SET sync_seq = sync_seq")
    rows = await conn.execute_query_dict("SELECT id FROM form_version ORDER BY published_at, id")
    postgres = conn.capabilities.dialect == "postgres"
    for row in rows:
        if postgres:
            await conn.execute_query("UPDATE form_version SET sync_seq = doorstep_next_sync_seq() WHERE id = $1",
                                     [row["id"]])
        else:
            await conn.execute_query(_NEXT)
            await conn.execute_query(f"UPDATE form_version SET sync_seq = {_SEQ} WHERE id = ?", [row["id"]])


class Migration(migrations.Migration):
    dependencies = [('models', '0007_ledger_entries')]

    initial = False

    operations = [
        ops.CreateModel(
            name='HouseholdDeparture',
            fields=[
                ('seq', fields.BigIntField(primary_key=True, generated=False, unique=True, db_index=True)),
                ('household_id', fields.UUIDField()),
                ('community_id', fields.UUIDField(db_index=True)),
            ],
            options={'table': 'household_departure', 'app': 'models', 'pk_attr': 'seq', 'table_description': 'A household that left a community: moved to another one, or deleted (merged into another file).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Form',
            name='sync_seq',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='FormVersion',
            name='sync_seq',
            field=fields.BigIntField(default=0, db_index=True, db_default=0),
        ),
        ops.AddField(
            model_name='Household',
            name='sync_seq',
            field=fields.BigIntField(default=0, db_index=True, db_default=0),
        ),
        ops.AddIndex(
            model_name='Household',
            index=Index(fields=['community_id', 'sync_seq']),
        ),
        ops.RunPython(install_and_number, ops.RunPython.noop),
    ]
