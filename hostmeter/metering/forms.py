"""Forms of the Usage pages."""

import zoneinfo
from datetime import datetime

from cron_descriptor import Options, get_description
from django import forms
from django.utils import timezone

from hostmeter.metering.selectors.schedule import usage_schedule_next
from hostmeter.tenancy.billing import Period
from hostmeter.tenancy.models import Provider

# Region/City names and UTC; not the host-dependent "localtime", "Factory" and the like.
ZONES = sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


def describe_cron(expression: str) -> str:
    """The cron expression in words, 24-hour clock: "At 02:00"."""
    options = Options()
    options.use_24hour_time_format = True
    options.verbose = True
    return get_description(expression, options)


class UsageScheduleForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label="Time zone", choices=[(z, z.replace("_", " ")) for z in ZONES]
    )

    billing_anchor_day = forms.IntegerField(
        label="Billing period starts on day",
        required=False,
        min_value=1,
        max_value=28,
        help_text="1 to 28: counters are totalled per month from midnight of this day, "
        "in the time zone above. Left empty, it stays as it is.",
    )

    class Meta:
        model = Provider
        fields = ["usage_schedule", "time_zone", "billing_anchor_day"]
        labels = {"usage_schedule": "Cron expression"}
        help_texts = {
            "usage_schedule": "Five fields: minute, hour, day of month, month, day of week. "
            "“0 2 * * *” is every day at 02:00."
        }

    def clean_billing_anchor_day(self) -> int:
        day = self.cleaned_data.get("billing_anchor_day")
        return self.instance.billing_anchor_day if day is None else day

    def _current(self) -> Provider:
        if self.is_bound and self.is_valid():
            return self.instance
        return Provider.objects.get(pk=self.instance.pk) if self.instance.pk else self.instance

    def describe(self) -> str:
        provider = self._current()
        return f"{describe_cron(provider.usage_schedule)} ({provider.time_zone})"

    def current_period(self) -> Period:
        """The billing period now, with the settings shown (saved or being tried)."""
        return self._current().billing_period(timezone.now())

    def next_runs(self) -> list[datetime]:
        return usage_schedule_next(provider=self._current(), now=timezone.now(), count=5)
