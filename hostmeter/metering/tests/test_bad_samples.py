"""Samples dated where no hosting was ever measured are refused with a clear reason,
whatever the route (file, API, collector tuples go through the same parse)."""

import pytest

from hostmeter.metering.models import UsageSample
from hostmeter.metering.services.samples import usage_samples_ingest
from hostmeter.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "measured_at, reason",
    [
        ("0001-01-01T00:00:00+01:00", "before 2000-01-01"),  # before year 1 in UTC
        ("0001-01-01T00:00:00+00:00", "before 2000-01-01"),
        ("1999-12-31T23:59:59+00:00", "before 2000-01-01"),
        ("0000-01-01T00:00:00+00:00", "not an ISO 8601"),
        ("9999-12-31T23:59:59-12:00", "in the future"),  # past year 9999 in UTC
        ("9999-12-31T23:59:59+00:00", "in the future"),
    ],
)
def test_a_sample_outside_the_sane_range_is_refused(measured_at, reason):
    org = OrganizationFactory(domain="shop.example", services=["web"])
    row = {"organization": org.domain, "resource": "disk_space", "measured_at": measured_at}
    result = usage_samples_ingest(rows=[(2, row | {"value": "1"})], default_source="test")
    assert result.stored == 0
    assert [e.line for e in result.errors] == [2]
    assert reason in result.errors[0].reason
    assert not UsageSample.objects.exists()


def test_the_first_day_of_2000_is_accepted():
    org = OrganizationFactory(domain="shop.example", services=["web"])
    row = {"organization": org.domain, "resource": "disk_space", "value": "1"}
    row["measured_at"] = "2000-01-01T00:00:00Z"
    assert usage_samples_ingest(rows=[(2, row)], default_source="test").stored == 1


def test_an_update_cannot_be_asked_for_before_2000():
    from datetime import UTC, datetime

    from hostmeter.metering.models import UsageUpdate
    from hostmeter.metering.services.updates import UsageUpdateError, usage_update_request

    with pytest.raises(UsageUpdateError, match="before 2000-01-01"):
        usage_update_request(cutoff=datetime(1, 1, 2, tzinfo=UTC), trigger="command")
    assert not UsageUpdate.objects.exists()
