import pytest

from hostmeter.metering.services import updates
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


@pytest.fixture(params=["window read once", "window by probes"])
def window_reads(request, monkeypatch):
    """Every update of the test takes its window's samples one way: read once, or by a
    probe per usage row (services.updates picks by the samples a row; both must give
    the same figures)."""
    if request.param == "as the update picks":
        return request.param
    once = request.param == "window read once"
    monkeypatch.setattr(updates, "_window_read", lambda previous, *, cutoff: once)
    return request.param
