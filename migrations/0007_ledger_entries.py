import json
import re
from datetime import datetime, timedelta, timezone
from uuid import uuid4
from zoneinfo import ZoneInfo

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _time(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


async def fill_ledgers(apps, schema_editor) -> None:
    """Put the households stored before ledgers existed on them, by the rules the app keeps them with
    (`server.households.ledgers.sync`), counting their visit plans from their last visit."""
    from server.households import ledger_rules
    from server.settings import load_settings

    today = datetime.now(ZoneInfo(load_settings().station_timezone)).date()
    conn = schema_editor.client
    postgres = conn.capabilities.dialect == "postgres"
    members: dict[str, list] = {}
    for row in await conn.execute_query_dict("SELECT id, household_id, data FROM member WHERE removed_at IS NULL"):
        members.setdefault(str(row["household_id"]), []).append((str(row["id"]), _json(row["data"]) or {}))
    last = {str(row["household_id"]): _time(row["last"]) for row in await conn.execute_query_dict(
        "SELECT household_id, MAX(observed_at) AS last FROM visit GROUP BY household_id")}
    insert = ("INSERT INTO ledger_entry (id, household_id, member_id, kind, plan, every_days, birth_date, "
              "last_visit_at, due_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
    if not postgres:
        insert = re.sub(r"\$\d+", "?", insert)
    stamp = datetime.now(timezone.utc)
    for row in await conn.execute_query_dict("SELECT id, situation FROM household"):
        hid = str(row["id"])
        visited = last.get(hid).astimezone(timezone.utc) if last.get(hid) else None
        lines = ledger_rules.entries_for(_json(row["situation"]) or {}, members.get(hid, []), today)
        for line in lines.values():
            due = (visited or stamp) + timedelta(days=line.plan.every_days)
            await conn.execute_query(insert, [str(uuid4()), hid, line.member, line.kind, line.plan.code,
                                              line.plan.every_days, line.birth_date, visited, due, stamp, stamp])


class Migration(migrations.Migration):
    dependencies = [('models', '0006_household_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LedgerEntry',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('household', fields.ForeignKeyField('models.Household', source_field='household_id', db_constraint=True, to_field='id', related_name='ledger_entries', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', null=True, db_constraint=True, to_field='id', related_name='ledger_entries', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=16)),
                ('plan', fields.CharField(max_length=32)),
                ('every_days', fields.IntField()),
                ('birth_date', fields.DateField(null=True)),
                ('last_visit_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ledger_entry', 'app': 'models', 'indexes': [Index(fields=['household_id']), Index(fields=['kind', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One line of a ledger (台账): a person or a household of one kind, with its visit plan.'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Visit',
            index=Index(fields=['household_id', 'observed_at']),
        ),
        ops.RunPython(fill_ledgers, ops.RunPython.noop),
    ]
