"""Duplicates and merges of household files: the keys duplicates are found by (a household's normalised address, a
member's name and birth date), a household's `merged_into`, the merges and their undo trail.

Columns are only added to household and member (ADD COLUMN, no table rebuild): their sync triggers stay in place.
"""

import functools
import json
from json import dumps, loads

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

async def key_existing(apps, schema_editor) -> None:
    """Fill the keys duplicates are found by for the households and members stored before them."""
    from server.households import lookalikes

    conn = schema_editor.client
    postgres = conn.capabilities.dialect == "postgres"

    def sql(text: str) -> str:
        return text if postgres else text.replace("$1", "?").replace("$2", "?")

    for row in await conn.execute_query_dict(
            "SELECT h.id, h.address, a.name FROM household h JOIN area a ON a.id = h.community_id"):
        await conn.execute_query(sql("UPDATE household SET address_key = $1 WHERE id = $2"),
                                 [lookalikes.address_key(row["address"], row["name"]), str(row["id"])])
    for row in await conn.execute_query_dict("SELECT id, data FROM member"):
        data = (json.loads(row["data"]) if isinstance(row["data"], str) else row["data"]) or {}
        key = lookalikes.name_birth_key(data.get("name"), data.get("birth_date"))
        if key:
            await conn.execute_query(sql("UPDATE member SET name_birth_key = $1 WHERE id = $2"), [key, str(row["id"])])


class Migration(migrations.Migration):
    dependencies = [('models', '0009_export_jobs')]

    initial = False

    operations = [
        ops.CreateModel(
            name='HouseholdMerge',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('survivor', fields.ForeignKeyField('models.Household', source_field='survivor_id', db_constraint=True, to_field='id', related_name='merges_absorbed', on_delete=OnDelete.RESTRICT)),
                ('duplicate', fields.ForeignKeyField('models.Household', source_field='duplicate_id', db_constraint=True, to_field='id', related_name='merges_into', on_delete=OnDelete.RESTRICT)),
                ('reason', fields.TextField(unique=False)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='merges_made', on_delete=OnDelete.SET_NULL)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('before', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('undone_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('undone_by', fields.ForeignKeyField('models.User', source_field='undone_by_id', null=True, db_constraint=True, to_field='id', related_name='merges_undone', on_delete=OnDelete.SET_NULL)),
                ('undo_reason', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'household_merge', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Two files of one household merged by a supervisor: `duplicate` into `survivor`, by whom and why.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HouseholdMergeMove',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('merge', fields.ForeignKeyField('models.HouseholdMerge', source_field='merge_id', db_constraint=True, to_field='id', related_name='moves', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=16)),
                ('row_id', fields.UUIDField()),
                ('detail', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'household_merge_move', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One row a merge moved or changed (the undo trail): a visit, submission, history row, conflict or member'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Household',
            name='address_key',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Household',
            name='merged_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Household',
            name='merged_into',
            field=fields.UUIDField(null=True, db_index=True),
        ),
        ops.AddIndex(
            model_name='Household',
            index=Index(fields=['community_id', 'address_key']),
        ),
        ops.AddField(
            model_name='Member',
            name='merged_into',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='Member',
            name='name_birth_key',
            field=fields.CharField(null=True, db_index=True, max_length=100),
        ),
        ops.RunPython(key_existing, ops.RunPython.noop),
    ]
