"""Shared test fixtures: factories for the domain and a clock."""

from datetime import UTC, datetime

import pytest

from hostmeter.tests.factories import (  # noqa: F401  (fixtures re-exported)
    OrganizationFactory,
    ResellerFactory,
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def resources(db):
    from hostmeter.tenancy.models import Resource

    return {r.code: r for r in Resource.objects.all()}


@pytest.fixture
def t0():
    """A fixed, past instant to build sample timelines on."""
    return datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
