from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "hostmeter.reports"
    label = "reports"
    verbose_name = "Reports"
