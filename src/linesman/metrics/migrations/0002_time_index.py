"""The metric log's time index: BRIN on PostgreSQL (rows arrive in time order, so a
block-range index of a few pages serves range scans and retention's range deletes of
billions of rows), a B-tree elsewhere (SQLite has no BRIN; its tables stay small)."""

from django.db import migrations


def create(apps, schema_editor):
    table = schema_editor.quote_name("metrics_metriclog")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX metriclog_time_brin ON {table} USING brin (time) "
            "WITH (pages_per_range = 32)"
        )
    else:
        schema_editor.execute(f"CREATE INDEX metriclog_time ON {table} (time)")


def drop(apps, schema_editor):
    name = (
        "metriclog_time_brin"
        if schema_editor.connection.vendor == "postgresql"
        else ("metriclog_time")
    )
    schema_editor.execute(f"DROP INDEX {name}")


class Migration(migrations.Migration):
    dependencies = [("metrics", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
