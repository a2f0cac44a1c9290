"""Shared test fixtures: factories for the domain and a clock; the customer bases and
logins the tests share are in hostmeter/tests/fixtures.py (a plugin, named below)."""

from datetime import UTC, datetime

import pytest
from pytest_django.fixtures import validate_django_db

from hostmeter.tests.factories import (  # noqa: F401  (fixtures re-exported)
    OrganizationFactory,
    ResellerFactory,
)

pytest_plugins = ["hostmeter.tests.fixtures"]


def _db_order(item: pytest.Item) -> int:
    """pytest-django's order: database tests in a transaction, then tests whose teardown
    flushes every table (transactional, live server), then tests without the database."""
    marker = item.get_closest_marker("django_db")
    transactional = "transactional_db" in item.fixturenames or "live_server" in item.fixturenames
    if marker:
        transaction, reset_sequences, *_ = validate_django_db(marker)
        transactional = transactional or transaction or reset_sequences
    if transactional:
        return 1
    return 0 if marker or "db" in item.fixturenames else 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Sort again after pytest's own reordering.

    pytest-django sorts first; pytest then groups tests by parametrized session fixtures
    (Playwright's browser_name), which once moved the browser tests ahead of ordinary
    ones. A transactional test's teardown empties every table, so a test after it found
    no service catalog (the one a migration seeds)."""
    items.sort(key=_db_order)


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
