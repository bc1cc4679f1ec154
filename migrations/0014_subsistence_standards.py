"""Subsistence standards of the areas (server.people.standards): one row per area, kind and date it took effect."""

from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0013_need_sync')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SubsistenceStandard',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('area', fields.ForeignKeyField('models.Area', source_field='area_id', db_constraint=True, to_field='id', related_name='standards', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=24)),
                ('amount', fields.DecimalField(max_digits=10, decimal_places=2)),
                ('effective_from', fields.DateField()),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='standards_set', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'subsistence_standard', 'app': 'models', 'unique_together': (('area_id', 'kind', 'effective_from'),), 'pk_attr': 'id', 'table_description': 'A subsistence standard (低保标准) or the extreme-hardship standard (特困供养标准) of an area, per person per'},
            bases=['Model'],
        ),
    ]
