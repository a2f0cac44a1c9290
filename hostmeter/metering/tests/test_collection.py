"""The built-in collectors on the provider's schedule: queued once a few minutes before
each due update, run on real files, failures recorded per collector."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from hostmeter.metering.collectors import CollectorBusy
from hostmeter.metering.collectors import runs as collection
from hostmeter.metering.collectors.runs import (
    collection_runs_fail_stale,
    collectors_configured,
    usage_collect_run,
    usage_collection_pending,
    usage_collection_tick,
)
from hostmeter.metering.models import CollectionRun, UsageSample, UsageUpdate
from hostmeter.metering.selectors.schedule import usage_schedule_next
from hostmeter.metering.tasks import usage_update_task
from hostmeter.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def local(*args):
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def docroot(tmp_path, settings):
    root = tmp_path / "www"
    root.mkdir()
    settings.HOSTMETER = {**settings.HOSTMETER, "DOCUMENT_ROOT": str(root), "ACCESS_LOGS": []}
    return root


def test_nothing_is_queued_without_a_collector(provider, settings):
    settings.HOSTMETER = {**settings.HOSTMETER, "DOCUMENT_ROOT": "", "ACCESS_LOGS": []}
    assert collectors_configured() == []
    assert usage_collection_tick(now=local(2026, 6, 10, 2, 27)) is None
    assert not CollectionRun.objects.exists()


def test_queued_once_within_the_lead_of_the_next_due_time(
    provider, docroot, django_capture_on_commit_callbacks
):
    assert collectors_configured() == ["disk"]
    assert usage_collection_tick(now=local(2026, 6, 10, 2, 24)) is None  # 6 minutes ahead
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = usage_collection_tick(now=local(2026, 6, 10, 2, 25))  # 5 minutes: the lead
    assert run.due_at == local(2026, 6, 10, 2, 30)
    assert run.status == CollectionRun.Status.QUEUED
    assert len(callbacks) == 1  # the task is enqueued after commit
    # the next looks, by this scheduler or another, queue nothing more
    assert usage_collection_tick(now=local(2026, 6, 10, 2, 26)) is None
    assert usage_collection_tick(now=local(2026, 6, 10, 2, 29, 59)) is None
    # once the update is due, the next run is tomorrow's, far off
    assert usage_collection_tick(now=local(2026, 6, 10, 2, 30)) is None
    assert CollectionRun.objects.count() == 1


def test_a_lead_of_zero_turns_it_off(provider, docroot, settings):
    settings.HOSTMETER = {**settings.HOSTMETER, "COLLECT_LEAD_SECONDS": 0}
    assert usage_collection_tick(now=local(2026, 6, 10, 2, 29)) is None


def test_a_scheduler_losing_the_race_queues_nothing(provider, docroot, monkeypatch):
    def lost(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(CollectionRun.objects, "create", lost)
    assert usage_collection_tick(now=local(2026, 6, 10, 2, 28)) is None


def test_the_run_measures_real_files_before_the_cut_off(provider, tmp_path, docroot, settings):
    org = OrganizationFactory(domain="site.example", services=["web"])
    (docroot / "site.example").mkdir()
    (docroot / "site.example" / "index.html").write_bytes(b"x" * 1_500_000)
    log = tmp_path / "access.log"
    log.write_text(
        'site.example:443 203.0.113.7 - - [01/Mar/2026:01:59:59 +0000] "GET / HTTP/1.1" '
        '200 2500000 "-" "curl/8.5.0"\n'
    )
    settings.HOSTMETER = {**settings.HOSTMETER, "ACCESS_LOGS": [str(log)]}
    now = timezone.now()
    due = now + timedelta(minutes=3)  # inside the 5 minutes' lead (UTC: no DST gap)
    provider.time_zone, provider.usage_schedule = "UTC", f"{due.minute} {due.hour} * * *"
    provider.save()
    run = usage_collection_tick(now=now)
    assert run.due_at == usage_schedule_next(provider=provider, now=now)[0]

    run = usage_collect_run(run_id=run.pk)
    assert run.status == CollectionRun.Status.SUCCEEDED, run.error
    assert (run.disk_samples, run.bandwidth_samples) == (1, 1)
    samples = {s.resource.code: s for s in UsageSample.objects.filter(organization=org)}
    assert samples["disk_space"].value == Decimal("1.5")
    assert samples["bandwidth"].value == Decimal("2.5")
    # measured before the update they are for, so that update counts them
    assert all(s.measured_at < run.due_at for s in samples.values())
    # a second call (another worker) runs nothing again
    assert usage_collect_run(run_id=run.pk).disk_samples == 1
    assert UsageSample.objects.filter(organization=org).count() == 2


def test_a_failing_collector_is_recorded_and_the_other_still_runs(provider, tmp_path, settings):
    OrganizationFactory(domain="site.example", services=["web"])
    log = tmp_path / "access.log"
    log.write_text(
        'site.example:443 203.0.113.7 - - [01/Mar/2026:01:59:59 +0000] "GET / HTTP/1.1" '
        '200 1000000 "-" "curl/8.5.0"\n'
    )
    settings.HOSTMETER = {
        **settings.HOSTMETER,
        "DOCUMENT_ROOT": str(tmp_path / "no-such-folder"),
        "ACCESS_LOGS": [str(log)],
    }
    run = CollectionRun.objects.create(due_at=local(2026, 6, 10, 2, 30))
    run = usage_collect_run(run_id=run.pk)
    assert run.status == CollectionRun.Status.FAILED
    assert run.error.startswith("Disk usage: CollectorError: The document root")
    assert "no-such-folder" in run.error
    assert (run.disk_samples, run.bandwidth_samples) == (0, 1)
    assert run.finished_at is not None and run.finished_at >= run.started_at


# transaction: the command closes old connections between looks, as a long-running
# process must (inside a test's transaction that would close it for good); the catalog
# seeded by migrations survives the flush (serialized_rollback)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_scheduler_command_queues_the_update_and_the_collectors(provider, docroot):
    due = timezone.now() + timedelta(minutes=2)  # (UTC: no DST gap)
    provider.time_zone, provider.usage_schedule = "UTC", f"{due.minute} {due.hour} * * *"
    provider.save()
    out = io.StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    # the last due time (about a day ago) gets its update, the next one its collectors
    assert "Queued the usage update as of" in out.getvalue()
    assert "Queued the collectors for the update due at" in out.getvalue()
    assert CollectionRun.objects.get().due_at == due.replace(second=0, microsecond=0)


def test_when_clocks_go_back_the_repeated_hour_gets_no_run_of_its_own(provider, docroot):
    # 2026-10-25 in Berlin: 02:30 happens at 00:30 and at 01:30 UTC; the update runs at
    # the first only (services._schedule_times), so the collectors do too
    first = datetime(2026, 10, 25, 0, 26, tzinfo=UTC)
    assert usage_collection_tick(now=first).due_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert usage_collection_tick(now=datetime(2026, 10, 25, 1, 26, tzinfo=UTC)) is None
    assert CollectionRun.objects.count() == 1


def test_a_scheduled_update_waits_for_its_collectors(provider, docroot):
    due = local(2026, 6, 10, 2, 30)
    update = UsageUpdate.objects.create(cutoff=due, trigger=UsageUpdate.Trigger.SCHEDULE)
    manual = UsageUpdate.objects.create(
        cutoff=due - timedelta(hours=1), trigger=UsageUpdate.Trigger.MANUAL
    )
    run = CollectionRun.objects.create(due_at=due)
    now = due + timedelta(minutes=1)
    assert usage_collection_pending(update=update, now=now)
    assert not usage_collection_pending(update=manual, now=now)  # asked for now: no wait
    CollectionRun.objects.filter(pk=run.pk).update(status=CollectionRun.Status.RUNNING)
    assert usage_collection_pending(update=update, now=now)
    # the task puts itself back in the queue instead of freezing too early
    assert usage_update_task.call(update_id=update.pk) == "waiting for the collectors"
    assert UsageUpdate.objects.get(pk=update.pk).status == UsageUpdate.Status.QUEUED
    CollectionRun.objects.filter(pk=run.pk).update(status=CollectionRun.Status.FAILED)
    assert not usage_collection_pending(update=update, now=now)


def test_a_run_whose_worker_died_is_failed_and_no_longer_waited_for(provider, docroot):
    due = local(2026, 6, 10, 2, 30)
    update = UsageUpdate.objects.create(cutoff=due, trigger=UsageUpdate.Trigger.SCHEDULE)
    CollectionRun.objects.create(due_at=due, status=CollectionRun.Status.RUNNING)
    later = timezone.now() + timedelta(hours=2)  # past the lease (an hour)
    assert not usage_collection_pending(update=update, now=later)
    assert collection_runs_fail_stale(now=later) == 1
    run = CollectionRun.objects.get()
    assert run.status == CollectionRun.Status.FAILED
    assert "stopped before they finished" in run.error


def test_the_web_traffic_collector_is_read_again_when_another_run_moved_it(
    provider, tmp_path, settings, monkeypatch
):
    settings.HOSTMETER = {**settings.HOSTMETER, "DOCUMENT_ROOT": "", "ACCESS_LOGS": ["x.log"]}
    calls = []

    def busy_once(*, paths, now):
        calls.append(now)
        if len(calls) == 1:
            raise CollectorBusy("another run moved the positions")
        return SimpleNamespace(stored={"site.example": Decimal("1")})

    monkeypatch.setattr(collection, "usage_collect_weblog", busy_once)
    monkeypatch.setattr(collection, "BUSY_PAUSE_SECONDS", 0)
    run = CollectionRun.objects.create(due_at=local(2026, 6, 10, 2, 30))
    run = usage_collect_run(run_id=run.pk)
    assert run.status == CollectionRun.Status.SUCCEEDED, run.error
    assert run.bandwidth_samples == 1 and len(calls) == 2


def test_the_admin_lists_runs_read_only(admin_client, provider):
    CollectionRun.objects.create(due_at=local(2026, 6, 10, 2, 30))
    response = admin_client.get("/admin/metering/collectionrun/")
    assert response.status_code == 200
    assert b"Queued" in response.content
    assert admin_client.get("/admin/metering/collectionrun/add/").status_code == 403
