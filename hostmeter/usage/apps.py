from django.apps import AppConfig


class UsageConfig(AppConfig):
    """Reports → Usage: the summary, reseller usage and organization site usage pages."""

    name = "hostmeter.usage"
    verbose_name = "Usage pages"
