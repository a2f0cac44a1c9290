"""Fixtures for the API tests: logins of every level with tokens, and a small customer
base of their own (`api_world`) with one completed usage update."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from hostmeter.accounts.levels import LoginLevel
from hostmeter.api.models import ApiToken
from hostmeter.api.services import api_token_create
from hostmeter.fields import to_thousandths
from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.services.samples import usage_samples_store
from hostmeter.metering.services.updates import usage_update_request, usage_update_run
from hostmeter.tenancy.models import Resource
from hostmeter.tenancy.services import limit_set
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory, UserFactory


@pytest.fixture(autouse=True)
def _report_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def make_client(db):
    """make_client(level, scope="full") → an APIClient with a token of a new login."""

    def make(level: str | None, scope: str = ApiToken.Scope.FULL) -> APIClient:
        client = APIClient()
        if level is None:
            return client
        user = UserFactory(
            login_level=level, username=f"{level}-{scope}-{UserFactory._meta.model.objects.count()}"
        )
        token, raw = api_token_create(user=user, name="tests", scope=scope)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        client.user, client.token, client.raw_token = user, token, raw
        return client

    return make


def level_client(level: LoginLevel):
    """A fixture named for the level: an APIClient with a full-scope token of a new login
    of that level."""

    @pytest.fixture(name=level.value)
    def client_of_level(make_client):
        return make_client(level)

    return client_of_level


systems = level_client(LoginLevel.SYSTEMS)
operations = level_client(LoginLevel.OPERATIONS)
marketing = level_client(LoginLevel.MARKETING)
support = level_client(LoginLevel.SUPPORT)


@dataclass
class World:
    acme: object
    sub: object
    shop: object
    blog: object
    direct: object
    update: UsageUpdate


@pytest.fixture
def api_world(db) -> World:
    """acme.example (web, mail) with sub-reseller sub.acme.example; shop.example under
    acme, blog.example under sub, direct.example added directly; one completed update.

    The API tests' own, not the shared `world` of the pages (hostmeter/tests/fixtures.py):
    they address these domains and check these figures (42.5 MB, 1.25 MB …), and the
    update's cut-off is an hour ago, not a fixed past instant."""
    acme = ResellerFactory(name="Acme Hosting", domain="acme.example", services=["web", "mail"])
    sub = ResellerFactory(name="Sub of Acme", domain="sub.acme.example", parent=acme)
    shop = OrganizationFactory(
        name="Shop", domain="shop.example", reseller=acme, services=["web", "mail"]
    )
    blog = OrganizationFactory(name="Blog", domain="blog.example", reseller=sub)
    direct = OrganizationFactory(name="Direct", domain="direct.example")
    disk = Resource.objects.get(code="disk_space")
    limit_set(resource=disk, limit=1000)
    limit_set(resource=disk, limit=500, reseller=acme)
    limit_set(resource=disk, limit=100, organization=shop)
    now = timezone.now().replace(microsecond=0)
    usage_samples_store(
        [
            (shop.pk, disk.pk, now - timedelta(hours=2), to_thousandths("42.5"), "t"),
            (blog.pk, disk.pk, now - timedelta(hours=2), to_thousandths("7"), "t"),
            (direct.pk, disk.pk, now - timedelta(hours=2), to_thousandths("1.25"), "t"),
        ]
    )
    update = usage_update_request(
        cutoff=now - timedelta(hours=1), trigger=UsageUpdate.Trigger.COMMAND, enqueue=False
    )
    update = usage_update_run(update_id=update.pk)
    assert update.status == UsageUpdate.Status.SUCCEEDED, update.error
    return World(acme, sub, shop, blog, direct, update)


@pytest.fixture
def ready_report(api_world):
    """The acme.example reseller report of the api_world's update, generated in-process."""
    from hostmeter.reports.models import Report
    from hostmeter.reports.services import report_generate, report_request

    report, _ = report_request(
        kind=Report.Kind.RESELLER, subject=api_world.acme, update=api_world.update
    )
    report = report_generate(report_id=report.pk)
    assert report.status == Report.Status.READY, report.error
    return report
