"""Create a group for each login level (their permissions are granted after migrate)."""

from django.db import migrations

LEVELS = ["Systems", "Operations", "Marketing", "Support", "Billing"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in LEVELS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=LEVELS).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_groups, remove_groups)]
