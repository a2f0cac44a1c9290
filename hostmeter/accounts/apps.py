from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "hostmeter.accounts"
    label = "accounts"
    verbose_name = "Staff and login levels"
