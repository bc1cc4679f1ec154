"""The tags of each household in a table of their own, for the household search's `tag=` filter; filled for the
households stored before it, by the rule the app keeps them with (`server.households.ledgers.sync`). Only the new
table is written: no household is stamped for offline sync."""

import json
import re
from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


async def fill_tags(apps, schema_editor) -> None:
    from server.households import ledgers

    conn = schema_editor.client
    insert = "INSERT INTO household_tag (id, household_id, tag) VALUES ($1, $2, $3)"
    if conn.capabilities.dialect != "postgres":
        insert = re.sub(r"\$\d+", "?", insert)
    members: dict[str, list] = {}
    for row in await conn.execute_query_dict("SELECT household_id, data FROM member WHERE removed_at IS NULL"):
        members.setdefault(str(row["household_id"]), []).append(_json(row["data"]) or {})
    for row in await conn.execute_query_dict("SELECT id, situation FROM household"):
        hid = str(row["id"])
        for tag in sorted(ledgers.tags_of(_json(row["situation"]) or {}, members.get(hid, []))):
            await conn.execute_query(insert, [str(uuid4()), hid, tag])


class Migration(migrations.Migration):
    dependencies = [('models', '0014_subsistence_standards')]

    initial = False

    operations = [
        ops.CreateModel(
            name='HouseholdTag',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('household', fields.ForeignKeyField('models.Household', source_field='household_id', db_constraint=True, to_field='id', related_name='tags', on_delete=OnDelete.CASCADE)),
                ('tag', fields.CharField(max_length=32)),
            ],
            options={'table': 'household_tag', 'app': 'models', 'unique_together': (('household_id', 'tag'),), 'indexes': [Index(fields=['tag', 'household_id'])], 'pk_attr': 'id', 'table_description': 'A tag of a household: one its living members carry (独居, 残疾, 留守…), or its 救助类型 (低保, 特困).'},
            bases=['Model'],
        ),
        ops.RunPython(fill_tags, ops.RunPython.noop),
    ]
