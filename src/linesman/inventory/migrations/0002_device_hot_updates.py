"""Let the Inform's update of a device row happen in place.

Every session writes `last_connection`. On PostgreSQL an update that changes no indexed
column and finds room on its page is a heap-only tuple (HOT) update: no index is touched.
So `last_connection` loses its index (the status sweep reads it through `status`), and
device pages keep a quarter free for the new row versions.
"""

from django.db import migrations, models


def _fillfactor(value: int | None):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        if value is None:
            schema_editor.execute("ALTER TABLE inventory_device RESET (fillfactor)")
        else:
            schema_editor.execute(f"ALTER TABLE inventory_device SET (fillfactor = {value})")

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="device",
            name="last_connection",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(_fillfactor(75), _fillfactor(None)),
    ]
