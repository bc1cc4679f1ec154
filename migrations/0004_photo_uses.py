from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_households_submissions')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='SubmissionAttachment',
            index=Index(fields=['attachment_id']),
        ),
    ]
