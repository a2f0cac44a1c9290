from django.apps import AppConfig


class MeteringConfig(AppConfig):
    name = "hostmeter.metering"
    label = "metering"
    verbose_name = "Usage collection and updates"

    def ready(self):
        from hostmeter.housekeeping import housekeeping_register

        from .services.updates import usage_updates_fail_stale

        housekeeping_register("usage_updates_failed", usage_updates_fail_stale)
