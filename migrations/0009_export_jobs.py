"""Export jobs: an area's household files made into one ZIP in the background, claimable by any instance
(`server.households.export_runner`)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_sync_changes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ExportJob',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('state', fields.CharField(default='queued', db_index=True, max_length=16)),
                ('area', fields.ForeignKeyField('models.Area', source_field='area_id', db_constraint=True, to_field='id', related_name='export_jobs', on_delete=OnDelete.RESTRICT)),
                ('period_from', fields.DateField()),
                ('period_to', fields.DateField()),
                ('requested_by', fields.ForeignKeyField('models.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name='export_jobs', on_delete=OnDelete.SET_NULL)),
                ('owner', fields.CharField(null=True, max_length=100)),
                ('attempt', fields.IntField(default=0)),
                ('heartbeat_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('households_total', fields.IntField(default=0)),
                ('households_done', fields.IntField(default=0)),
                ('bytes_written', fields.BigIntField(default=0)),
                ('size', fields.BigIntField(null=True)),
                ('sha256', fields.CharField(null=True, max_length=64)),
                ('blob', fields.CharField(null=True, max_length=200)),
                ('error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'export_job', 'app': 'models', 'indexes': [Index(fields=['state', 'created_at'])], 'pk_attr': 'id', 'table_description': 'The ZIP of every household file of an area with visits in a period, made in the background.'},
            bases=['Model'],
        ),
    ]
