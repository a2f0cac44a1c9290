"""Resellers and organizations get name_key: the name folded in Python
(tenancy.names.name_key), what lists sort by and searches match on every engine.

The key of every existing row is filled in batches before the CHECK that wants it set
and the (name_key, id) indexes that replace the ones on lower(name).
"""

from django.db import migrations, models
from django.db.models import Q

from hostmeter.fields import NameKeyField
from hostmeter.tenancy.names import name_key

BATCH = 2000


def fill(apps, schema_editor):
    for model_name in ("Reseller", "Organization"):
        model = apps.get_model("tenancy", model_name)
        manager = model.objects.using(schema_editor.connection.alias)
        last = 0
        while batch := list(manager.filter(pk__gt=last).order_by("pk").only("pk", "name")[:BATCH]):
            for row in batch:
                row.name_key = name_key(row.name)
            manager.bulk_update(batch, ["name_key"])
            last = batch[-1].pk


def key_field():
    return NameKeyField("sort and search key", max_length=255, editable=False, default="")


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0004_api_name_indexes"),
    ]

    operations = [
        migrations.AddField(model_name="reseller", name="name_key", field=key_field()),
        migrations.AddField(model_name="organization", name="name_key", field=key_field()),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="reseller",
            name="name_key",
            field=NameKeyField("sort and search key", max_length=255, editable=False),
        ),
        migrations.AlterField(
            model_name="organization",
            name="name_key",
            field=NameKeyField("sort and search key", max_length=255, editable=False),
        ),
        migrations.RemoveIndex(model_name="reseller", name="tenancy_reseller_name_idx"),
        migrations.RemoveIndex(model_name="organization", name="tenancy_org_name_idx"),
        migrations.AddIndex(
            model_name="reseller",
            index=models.Index(fields=["name_key", "id"], name="tenancy_reseller_namekey_idx"),
        ),
        migrations.AddIndex(
            model_name="organization",
            index=models.Index(fields=["name_key", "id"], name="tenancy_org_namekey_idx"),
        ),
        migrations.AddConstraint(
            model_name="reseller",
            constraint=models.CheckConstraint(
                condition=Q(name="") | ~Q(name_key=""),
                name="tenancy_reseller_name_key_set",
                violation_error_message="The name's sort key is missing.",
            ),
        ),
        migrations.AddConstraint(
            model_name="organization",
            constraint=models.CheckConstraint(
                condition=Q(name="") | ~Q(name_key=""),
                name="tenancy_organization_name_key_set",
                violation_error_message="The name's sort key is missing.",
            ),
        ),
        migrations.AlterModelOptions(
            name="reseller",
            options={"ordering": ["name_key", "id"], "verbose_name": "reseller"},
        ),
        migrations.AlterModelOptions(
            name="organization",
            options={"ordering": ["name_key", "id"], "verbose_name": "organization"},
        ),
    ]
