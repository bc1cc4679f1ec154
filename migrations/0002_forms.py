from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_foundation')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CatalogueCategory',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('name', fields.CharField(max_length=100)),
                ('position', fields.IntField()),
            ],
            options={'table': 'catalogue_category', 'app': 'models', 'pk_attr': 'code', 'table_description': 'A category of the service catalogue (社会工作服务项目清单), e.g. 养老服务.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CatalogueItem',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('name', fields.CharField(max_length=100)),
                ('category', fields.ForeignKeyField('models.CatalogueCategory', source_field='category_id', db_constraint=True, to_field='code', related_name='items', on_delete=OnDelete.RESTRICT)),
                ('position', fields.IntField()),
            ],
            options={'table': 'catalogue_item', 'app': 'models', 'pk_attr': 'code', 'table_description': 'One service a household may need and a provider may offer, e.g. 居家探视巡访.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Form',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('slug', fields.CharField(unique=True, max_length=64)),
                ('area', fields.ForeignKeyField('models.Area', source_field='area_id', null=True, db_constraint=True, to_field='id', related_name='forms', on_delete=OnDelete.RESTRICT)),
                ('draft_title', fields.CharField(max_length=200)),
                ('draft_schema', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('draft_ui', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('draft_updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('latest_version', fields.IntField(default=0)),
                ('retired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='forms_created', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'form', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A survey form and its editable draft. What workers fill is always a published FormVersion.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FormVersion',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('form', fields.ForeignKeyField('models.Form', source_field='form_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.RESTRICT)),
                ('version', fields.IntField()),
                ('title', fields.CharField(max_length=200)),
                ('schema', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('ui', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('etag', fields.CharField(max_length=64)),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('published_by', fields.ForeignKeyField('models.User', source_field='published_by_id', null=True, db_constraint=True, to_field='id', related_name='versions_published', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'form_version', 'app': 'models', 'unique_together': (('form', 'version'),), 'pk_attr': 'id', 'table_description': 'A published version of a form. Never changed after publishing: phones offline for a week still'},
            bases=['Model'],
        ),
    ]
