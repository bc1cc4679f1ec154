"""Needs (需求清单) with their events and proof photos, the providers' areas served and offers, and the catalogue
items' default deadlines by urgency and retirement."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_household_merges')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Need',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('household', fields.ForeignKeyField('models.Household', source_field='household_id', db_constraint=True, to_field='id', related_name='needs', on_delete=OnDelete.RESTRICT)),
                ('member', fields.CharField(null=True, max_length=64)),
                ('item', fields.CharField(db_index=True, max_length=64)),
                ('category', fields.CharField(null=True, max_length=64)),
                ('urgency', fields.CharField(default='normal', max_length=16)),
                ('description', fields.TextField(null=True, unique=False)),
                ('submission', fields.ForeignKeyField('models.Submission', source_field='submission_id', null=True, db_constraint=True, to_field='id', related_name='needs', on_delete=OnDelete.RESTRICT)),
                ('pointer', fields.CharField(null=True, max_length=500)),
                ('raised_by', fields.ForeignKeyField('models.User', source_field='raised_by_id', null=True, db_constraint=True, to_field='id', related_name='needs_raised', on_delete=OnDelete.SET_NULL)),
                ('raised_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharField(default='raised', db_index=True, max_length=16)),
                ('version', fields.IntField(default=1)),
                ('consent', fields.BooleanField(default=False)),
                ('contact', fields.CharField(null=True, max_length=100)),
                ('provider', fields.ForeignKeyField('models.Provider', source_field='provider_id', null=True, db_constraint=True, to_field='id', related_name='needs', on_delete=OnDelete.RESTRICT)),
                ('dispatched_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rating', fields.SmallIntField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'need', 'app': 'models', 'unique_together': (('submission', 'pointer'),), 'indexes': [Index(fields=['household_id', 'raised_at']), Index(fields=['provider_id', 'status'])], 'pk_attr': 'id', 'table_description': "One demand of one household, raised by a submission's needs bindings or entered by a worker."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NeedAttachment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('need', fields.ForeignKeyField('models.Need', source_field='need_id', db_constraint=True, to_field='id', related_name='proofs', on_delete=OnDelete.CASCADE)),
                ('attachment', fields.ForeignKeyField('models.Attachment', source_field='attachment_id', db_constraint=True, to_field='sha256', related_name='need_links', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'need_attachment', 'app': 'models', 'unique_together': (('need', 'attachment'),), 'pk_attr': 'id', 'table_description': 'A photo that proves a service was done.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NeedEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('need', fields.ForeignKeyField('models.Need', source_field='need_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharField(max_length=16)),
                ('from_status', fields.CharField(null=True, max_length=16)),
                ('to_status', fields.CharField(max_length=16)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='need_events', on_delete=OnDelete.SET_NULL)),
                ('actor_name', fields.CharField(max_length=64)),
                ('provider', fields.ForeignKeyField('models.Provider', source_field='provider_id', null=True, db_constraint=True, to_field='id', related_name='need_events', on_delete=OnDelete.RESTRICT)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reason', fields.TextField(null=True, unique=False)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'need_event', 'app': 'models', 'indexes': [Index(fields=['need_id', 'at']), Index(fields=['provider_id', 'action'])], 'pk_attr': 'id', 'table_description': "Every action on a need: who, when, from which state to which, and why (a decline's or a closing's reason,"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProviderArea',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('provider', fields.ForeignKeyField('models.Provider', source_field='provider_id', db_constraint=True, to_field='id', related_name='area_links', on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('models.Area', source_field='area_id', db_constraint=True, to_field='id', related_name='provider_links', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'provider_area', 'app': 'models', 'unique_together': (('provider', 'area'),), 'pk_attr': 'id', 'table_description': 'An area a provider serves: a community, or a whole township or county.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProviderOffer',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('provider', fields.ForeignKeyField('models.Provider', source_field='provider_id', db_constraint=True, to_field='id', related_name='offers', on_delete=OnDelete.CASCADE)),
                ('item', fields.CharField(db_index=True, max_length=64)),
                ('monthly_capacity', fields.IntField()),
                ('free', fields.BooleanField(default=True)),
                ('price', fields.CharField(null=True, max_length=100)),
                ('contact', fields.CharField(max_length=100)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'provider_offer', 'app': 'models', 'unique_together': (('provider', 'item'),), 'pk_attr': 'id', 'table_description': "One line of a provider's supply list: an item, how many a month, free or at what price, whom to call."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='CatalogueItem',
            name='days_high',
            field=fields.IntField(default=7, db_default=7),
        ),
        ops.AddField(
            model_name='CatalogueItem',
            name='days_normal',
            field=fields.IntField(default=30, db_default=30),
        ),
        ops.AddField(
            model_name='CatalogueItem',
            name='days_urgent',
            field=fields.IntField(default=2, db_default=2),
        ),
        ops.AddField(
            model_name='CatalogueItem',
            name='retired_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
