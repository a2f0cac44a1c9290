"""PostgreSQL: usage-row ids drawn a thousand at a time.

A usage update draws one id per organization × resource in a single statement (800,000
at 100,000 organizations); without a cache every draw locks and updates the sequence's
page. Ids carry no meaning, so the gaps a session leaves when it ends are harmless.
SQLite has no sequence cache: nothing to do there.
"""

from django.db import migrations


def _identity_cache(size: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(apps.get_model("metering", "UsageRow")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN id SET CACHE {size}")

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0004_rollup_top_index"),
    ]

    operations = [
        migrations.RunPython(_identity_cache(1000), _identity_cache(1)),
    ]
