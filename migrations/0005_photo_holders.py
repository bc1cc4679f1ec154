from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_photo_uses')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PhotoHolder',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('attachment', fields.ForeignKeyField('models.Attachment', source_field='attachment_id', db_constraint=True, to_field='sha256', related_name='holders', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='photos_held', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'photo_holder', 'app': 'models', 'unique_together': (('attachment', 'user'),), 'pk_attr': 'id', 'table_description': "A user who has sent a photo's bytes, and so may use and open it."},
            bases=['Model'],
        ),
    ]
