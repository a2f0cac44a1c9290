from django.apps import AppConfig


class MeteringConfig(AppConfig):
    name = "hostmeter.metering"
    label = "metering"
    verbose_name = "Usage collection and updates"
