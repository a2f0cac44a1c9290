from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "hostmeter.tenancy"
    label = "tenancy"
    verbose_name = "Resellers, organizations and services"
