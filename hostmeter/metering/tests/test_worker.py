"""The real task worker runs queued usage updates end to end."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from hostmeter.fields import to_thousandths
from hostmeter.metering.models import UsageRow, UsageUpdate
from hostmeter.metering.services.samples import usage_samples_store
from hostmeter.metering.services.schedule import usage_schedule_tick
from hostmeter.metering.services.updates import usage_update_request
from hostmeter.tenancy.models import Provider, Resource
from hostmeter.tests.factories import OrganizationFactory

# serialized_rollback: the catalog seeded by migrations survives the flush
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def drain_queue():
    call_command("db_worker", batch=True, startup_delay=False, reload=False, queue_name="*")


def test_worker_runs_a_requested_update():
    org = OrganizationFactory(services=["web"])
    disk = Resource.objects.get(code="disk_space")
    now = timezone.now().replace(microsecond=0)
    usage_samples_store([(org.pk, disk.pk, now - timedelta(hours=1), to_thousandths("42.5"), "t")])
    update = usage_update_request(cutoff=now, trigger=UsageUpdate.Trigger.MANUAL)
    assert UsageUpdate.objects.get(pk=update.pk).status == UsageUpdate.Status.QUEUED
    drain_queue()
    update.refresh_from_db()
    assert update.status == UsageUpdate.Status.SUCCEEDED, update.error
    assert UsageRow.objects.get(update=update, resource=disk).used == Decimal("42.5")


def test_worker_runs_the_scheduled_update():
    provider = Provider.get()
    provider.usage_schedule = "*/5 * * * *"
    provider.save()
    OrganizationFactory(services=["dns"])
    update = usage_schedule_tick()
    assert update is not None
    drain_queue()
    update.refresh_from_db()
    assert update.status == UsageUpdate.Status.SUCCEEDED, update.error
    assert update.rows_count == 1
