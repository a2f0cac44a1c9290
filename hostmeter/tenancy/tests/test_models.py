"""Constraints that keep the customer base and usage data consistent."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hostmeter.metering.models import UsageRow, UsageSample
from hostmeter.metering.services.updates import usage_update_request, usage_update_run
from hostmeter.tenancy.models import Provider, ResellerLink, ResourceLimit
from hostmeter.tenancy.services import limit_set, organization_save, reseller_save
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory

pytestmark = pytest.mark.django_db


def test_reseller_cannot_be_its_own_ancestor():
    top = reseller_save(name="Top", domain="top.example")
    mid = reseller_save(name="Mid", domain="mid.example", parent=top)
    low = reseller_save(name="Low", domain="low.example", parent=mid)
    with pytest.raises(ValidationError, match="own ancestor"):
        reseller_save(reseller=top, name="Top", domain="top.example", parent=low)
    with pytest.raises(ValidationError, match="own ancestor"):
        reseller_save(reseller=top, name="Top", domain="top.example", parent=top)
    top.refresh_from_db()
    assert top.parent is None


def test_reseller_own_parent_is_refused_by_the_database_too():
    top = ResellerFactory()
    top.parent_id = top.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        top.save()


def test_tree_closure_follows_the_tree():
    top = reseller_save(name="Top", domain="top.example")
    mid = reseller_save(name="Mid", domain="mid.example", parent=top)
    low = reseller_save(name="Low", domain="low.example", parent=mid)
    pairs = set(ResellerLink.objects.values_list("ancestor__domain", "descendant__domain", "depth"))
    assert ("top.example", "low.example", 2) in pairs
    assert ("low.example", "low.example", 0) in pairs
    reseller_save(reseller=low, name="Low", domain="low.example", parent=None)
    assert not ResellerLink.objects.filter(ancestor=top, descendant=low).exists()


def test_domains_are_lower_case_and_unique():
    org = organization_save(name="Café Zoë", domain=" Cafe.Example ", services=["web"])
    assert org.domain == "cafe.example"
    with pytest.raises(ValidationError, match="domain"):
        organization_save(name="Other", domain="cafe.example")
    with pytest.raises(ValidationError, match="domain"):
        organization_save(name="Bad", domain="not a domain")


def test_unknown_service_code_is_refused():
    with pytest.raises(ValidationError, match="nosuch"):
        organization_save(name="X", domain="x.example", services=["web", "nosuch"])


def test_sample_value_cannot_be_negative(resources):
    org = OrganizationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageSample.objects.create(
            organization=org,
            resource=resources["disk_space"],
            measured_at=datetime(2026, 1, 1, tzinfo=UTC),
            value=-1,
        )


def test_one_usage_row_per_organization_resource_and_update(resources):
    org = OrganizationFactory(services=["web"])
    # rows come from an update (on PostgreSQL they are its partition: migration 0006)
    update = usage_update_request(
        cutoff=datetime(2026, 1, 1, tzinfo=UTC), trigger="command", enqueue=False
    )
    update = usage_update_run(update_id=update.pk)
    assert UsageRow.objects.filter(
        update=update, organization=org, resource=resources["disk_space"]
    ).exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageRow.objects.create(
            update=update, organization=org, resource=resources["disk_space"], used=2
        )


def test_one_limit_per_holder_and_resource(resources):
    reseller = ResellerFactory()
    limit_set(resource=resources["disk_space"], limit=5, reseller=reseller)
    limit_set(resource=resources["disk_space"], limit=7, reseller=reseller)  # updates it
    assert ResourceLimit.objects.get(reseller=reseller).limit == 7
    with pytest.raises(IntegrityError), transaction.atomic():
        ResourceLimit.objects.create(resource=resources["disk_space"], reseller=reseller, limit=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ResourceLimit.objects.create(
            resource=resources["disk_space"],
            reseller=reseller,
            organization=OrganizationFactory(),
            limit=1,
        )
    with pytest.raises(ValidationError):
        limit_set(resource=resources["disk_space"], limit=-1)


def test_provider_settings_validate_zone_and_schedule():
    provider = Provider.get()
    provider.time_zone, provider.usage_schedule = "Mars/Olympus", "every day"
    with pytest.raises(ValidationError) as info:
        provider.full_clean()
    assert set(info.value.message_dict) == {"time_zone", "usage_schedule"}


def test_catalog_is_seeded(resources):
    assert len(resources) == 11
    assert resources["bandwidth"].kind == "counter"
    assert resources["disk_space"].unit == "MB"
