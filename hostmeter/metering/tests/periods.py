"""Helpers of the billing-period tests (test_periods.py, test_late_samples.py): store a
sample, run an update, read a row, set the provider's period, sum samples by hand. The
`site` fixture (one reseller, one organization with web hosting) is in conftest.py."""

from datetime import timedelta
from decimal import Decimal

from hostmeter.fields import to_thousandths
from hostmeter.metering.models import UsageRow, UsageSample, UsageUpdate
from hostmeter.metering.services.samples import usage_samples_store
from hostmeter.metering.services.updates import usage_update_request, usage_update_run
from hostmeter.tenancy.models import Provider


def store(org, resource, at, value) -> None:
    usage_samples_store([(org.pk, resource.pk, at, to_thousandths(Decimal(value)), "test")])


def run(cutoff) -> UsageUpdate:
    update = usage_update_request(cutoff=cutoff, trigger="command", enqueue=False)
    update = usage_update_run(update_id=update.pk)
    assert update.status == UsageUpdate.Status.SUCCEEDED, update.error
    return update


def row(update, org, resource) -> UsageRow:
    return UsageRow.objects.get(update=update, organization=org, resource=resource)


def provider_with(*, zone="UTC", anchor=1) -> Provider:
    provider = Provider.get()
    provider.time_zone, provider.billing_anchor_day = zone, anchor
    provider.full_clean()
    provider.save()
    return provider


def periods_between(earlier, later, provider):
    """The periods that end after `earlier` and before `later` (none without `earlier`)."""
    if earlier is None:
        return []
    found, period = [], provider.billing_period(earlier)
    while period.end < later:
        if period.end > earlier:
            found.append(period)
        period = provider.billing_period(period.end + timedelta(microseconds=1))
    return found


def sample_sum(org, resource, after, upto) -> Decimal:
    """The reference: samples with after < measured_at ≤ upto, summed here."""
    values = UsageSample.objects.filter(
        organization=org, resource=resource, measured_at__gt=after, measured_at__lte=upto
    ).values_list("value", flat=True)
    return sum(values, Decimal(0))
