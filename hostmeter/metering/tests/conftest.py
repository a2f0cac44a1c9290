import pytest

from hostmeter.tenancy.models import Provider
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory

from .periods import provider_with


@pytest.fixture
def provider():
    """The provider in Berlin (summer and winter time), its updates due at 02:30 daily."""
    p = Provider.get()
    p.time_zone, p.usage_schedule = "Europe/Berlin", "30 2 * * *"
    p.save()
    return p


@pytest.fixture
def site(resources):
    """The billing-period tests' customer: a reseller and its organization (web hosting),
    the provider in UTC with periods from the 1st; (organization, reseller, bandwidth,
    disk space)."""
    provider_with()
    reseller = ResellerFactory(services=["web"])
    org = OrganizationFactory(reseller=reseller, services=["web"])
    return org, reseller, resources["bandwidth"], resources["disk_space"]
