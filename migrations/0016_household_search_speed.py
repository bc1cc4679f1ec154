"""Indexes the household search and the file need, which earlier migrations declared but never made.

`db_index=True` on a field added by `AddField` (0006: `member.id_number_key`) creates no index on either database,
so a search by ID number read every member (~50 ms for 250,000 on SQLite; bench/households.py). Members were
never indexed by household either: opening a file, the ledger rewrite and the sync triggers read every member.
"""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


async def index_id_number_keys(apps, schema_editor) -> None:
    # The model already says the column is indexed: only the index itself is missing.
    await schema_editor.client.execute_script(
        "CREATE INDEX IF NOT EXISTS idx_member_id_number_key ON member (id_number_key)")


class Migration(migrations.Migration):
    dependencies = [('models', '0015_household_tags')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Member',
            index=Index(fields=['household_id']),
        ),
        ops.RunPython(index_id_number_keys, ops.RunPython.noop),
    ]
