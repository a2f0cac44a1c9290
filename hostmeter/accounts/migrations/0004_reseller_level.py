"""The Reseller login level (a reseller's own login; tenancy.ResellerLogin says whose),
with its group like every level's (migration 0002: the groups grant nothing)."""

from django.db import migrations, models


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="Reseller")


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Reseller").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_level_groups_without_permissions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="login_level",
            field=models.CharField(
                blank=True,
                choices=[
                    ("systems", "Systems"),
                    ("operations", "Operations"),
                    ("marketing", "Marketing"),
                    ("support", "Support"),
                    ("billing", "Billing"),
                    ("reseller", "Reseller"),
                ],
                help_text="Decides which pages and actions the login may use.",
                max_length=20,
                verbose_name="login level",
            ),
        ),
        migrations.RunPython(create_group, remove_group),
    ]
