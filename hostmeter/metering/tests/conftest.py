import pytest

from hostmeter.tenancy.models import Provider


@pytest.fixture
def provider():
    """The provider in Berlin (summer and winter time), its updates due at 02:30 daily."""
    p = Provider.get()
    p.time_zone, p.usage_schedule = "Europe/Berlin", "30 2 * * *"
    p.save()
    return p
