import json
from types import SimpleNamespace

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


async def index_existing(apps, schema_editor) -> None:
    """Fill the new search columns of the households and members stored before them, as the app keeps them."""
    from server.households import search
    from server.settings import load_settings

    settings = load_settings()
    conn = schema_editor.client
    postgres = conn.capabilities.dialect == "postgres"

    def sql(text: str) -> str:
        return text if postgres else text.replace("$1", "?").replace("$2", "?").replace("$3", "?")

    members: dict[str, list] = {}
    for row in await conn.execute_query_dict("SELECT id, household_id, data, removed_at FROM member"):
        member = SimpleNamespace(data=_json(row["data"]) or {}, removed_at=row["removed_at"])
        members.setdefault(str(row["household_id"]), []).append(member)
        number = member.data.get("id_number")
        if isinstance(number, str) and number:
            await conn.execute_query(sql("UPDATE member SET id_number_key = $1 WHERE id = $2"),
                                     [search.id_number_key(settings, number), str(row["id"])])
    for row in await conn.execute_query_dict("SELECT id, head, address, phone, situation FROM household"):
        household = SimpleNamespace(head=row["head"], address=row["address"], phone=row["phone"],
                                    situation=_json(row["situation"]) or {})
        search.index(household, members.get(str(row["id"]), []))
        await conn.execute_query(sql("UPDATE household SET search_text = $1, search_pinyin = $2 WHERE id = $3"),
                                 [household.search_text, household.search_pinyin, str(row["id"])])


class Migration(migrations.Migration):
    dependencies = [('models', '0005_photo_holders')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Household',
            name='search_pinyin',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Household',
            name='search_text',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
        ops.AddField(
            model_name='Member',
            name='id_number_key',
            field=fields.CharField(null=True, db_index=True, max_length=64),
        ),
        ops.RunPython(index_existing, ops.RunPython.noop),
    ]
