"""Seed the service catalog, its resources and the provider's settings row."""

from django.db import migrations

from hostmeter.tenancy.catalog import SERVICES


def seed(apps, schema_editor):
    Service = apps.get_model("tenancy", "Service")
    Resource = apps.get_model("tenancy", "Resource")
    Provider = apps.get_model("tenancy", "Provider")
    Provider.objects.get_or_create(pk=1)
    for s_pos, (code, name, resources) in enumerate(SERVICES):
        service, _ = Service.objects.update_or_create(
            code=code, defaults={"name": name, "position": s_pos}
        )
        for r_pos, (r_code, r_name, unit, kind) in enumerate(resources):
            Resource.objects.update_or_create(
                code=r_code,
                defaults={
                    "service": service, "name": r_name, "unit": unit, "kind": kind,
                    "position": r_pos,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
