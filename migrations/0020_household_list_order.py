"""The list of households in the order it is paged (`created_at`, `id`), indexed: a county bureau's list with no
filter read and sorted all 100,000 households of the county for each page (bench/households.py, "no filter")."""

from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0019_sync_stamp_at_commit')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Household',
            index=Index(fields=['created_at', 'id']),
        ),
    ]
