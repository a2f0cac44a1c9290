"""Clear the model permissions given to the level groups after every migrate until the
admin took its grants from levels.py: no backend reads them any more."""

from django.db import migrations

LEVELS = ["Systems", "Operations", "Marketing", "Support", "Billing"]


def clear_permissions(apps, schema_editor):
    for group in apps.get_model("auth", "Group").objects.filter(name__in=LEVELS):
        group.permissions.clear()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_login_level_groups")]
    operations = [migrations.RunPython(clear_permissions, migrations.RunPython.noop)]
