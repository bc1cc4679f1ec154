"""The indexes the models declare (`db_index=True`) on fields an `AddField` added, which Tortoise never made.

0016 made the search's; these are the rest: the sync sequences that every phone's sync reads after a cursor
(`household.sync_seq`, `form_version.sync_seq`, from 0008), the pointer to a merged file's survivor and the
name-and-birth key of the duplicate warnings (0010). tests/test_indexes.py checks every declared index exists.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = {
    "idx_household_sync_seq": "household (sync_seq)",
    "idx_form_version_sync_seq": "form_version (sync_seq)",
    "idx_household_merged_into": "household (merged_into)",
    "idx_member_name_birth_key": "member (name_birth_key)",
}


async def make_indexes(apps, schema_editor) -> None:
    for name, target in INDEXES.items():
        await schema_editor.client.execute_script(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


class Migration(migrations.Migration):
    dependencies = [('models', '0016_household_search_speed')]

    initial = False

    operations = [ops.RunPython(make_indexes, ops.RunPython.noop)]
