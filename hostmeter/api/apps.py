from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "hostmeter.api"
    label = "api"
    verbose_name = "API and tokens"

    def ready(self):
        # drf-spectacular finds the token scheme through this registered extension.
        from . import schema  # noqa: F401
