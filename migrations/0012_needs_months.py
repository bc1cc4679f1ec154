"""Closed months of needs: a township's report frozen when it approved it, then approved by the county."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0011_needs')]

    initial = False

    operations = [
        ops.CreateModel(
            name='NeedsMonth',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('area', fields.ForeignKeyField('models.Area', source_field='area_id', db_constraint=True, to_field='id', related_name='needs_months', on_delete=OnDelete.RESTRICT)),
                ('month', fields.CharField(max_length=7)),
                ('report', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('state', fields.CharField(max_length=32)),
                ('township_by', fields.ForeignKeyField('models.User', source_field='township_by_id', null=True, db_constraint=True, to_field='id', related_name='months_closed', on_delete=OnDelete.SET_NULL)),
                ('township_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('county_by', fields.ForeignKeyField('models.User', source_field='county_by_id', null=True, db_constraint=True, to_field='id', related_name='months_approved', on_delete=OnDelete.SET_NULL)),
                ('county_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'needs_month', 'app': 'models', 'unique_together': (('area', 'month'),), 'pk_attr': 'id', 'table_description': "A township's month of needs, closed: its report frozen when the township approved it, then approved by the"},
            bases=['Model'],
        ),
    ]
