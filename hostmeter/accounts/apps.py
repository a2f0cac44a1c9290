from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "hostmeter.accounts"
    label = "accounts"
    verbose_name = "Staff and login levels"

    def ready(self):
        from .signals import level_groups_grant_permissions

        post_migrate.connect(level_groups_grant_permissions, dispatch_uid="hostmeter-levels")
