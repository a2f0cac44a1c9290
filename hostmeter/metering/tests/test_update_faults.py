"""Usage updates that lose their worker or their task never block updates for long."""

import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from hostmeter.heartbeat import Heartbeat
from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.services.updates import (
    UsageUpdatePending,
    usage_update_request,
    usage_update_run,
    usage_update_start,
    usage_updates_fail_stale,
)
from hostmeter.metering.tasks import usage_update_task

pytestmark = pytest.mark.django_db


def _running(**fields) -> UsageUpdate:
    started = timezone.now() - timedelta(minutes=1)
    return UsageUpdate.objects.create(
        cutoff=started - timedelta(hours=1),
        trigger=UsageUpdate.Trigger.SCHEDULE,
        status=UsageUpdate.Status.RUNNING,
        started_at=started,
        **fields,
    )


def _age(update: UsageUpdate, **delta) -> None:
    UsageUpdate.objects.filter(pk=update.pk).update(created_at=timezone.now() - timedelta(**delta))


def test_a_refused_run_now_leaves_no_record():
    """run_usage_update while another update runs: refused, and no queued update is left
    behind to answer "already queued" to every update now after it."""
    busy = _running(heartbeat_at=timezone.now())
    with pytest.raises(CommandError, match="running"):
        call_command("run_usage_update")
    assert list(UsageUpdate.objects.values_list("pk", flat=True)) == [busy.pk]
    UsageUpdate.objects.filter(pk=busy.pk).update(status=UsageUpdate.Status.SUCCEEDED)
    assert usage_update_start(user=None).status == UsageUpdate.Status.QUEUED


def test_a_queued_update_whose_task_is_gone_is_failed_and_update_now_works_again():
    lost = usage_update_request(
        cutoff=timezone.now() - timedelta(hours=1), trigger="command", enqueue=False
    )
    with pytest.raises(UsageUpdatePending):
        usage_update_start(user=None)
    assert usage_updates_fail_stale() == 0  # young: its task may still be on the way
    _age(lost, minutes=2)
    assert usage_updates_fail_stale() == 1
    lost.refresh_from_db()
    assert lost.status == UsageUpdate.Status.FAILED
    assert "no worker took it" in lost.error
    assert usage_update_start(user=None).status == UsageUpdate.Status.QUEUED


def test_a_queued_update_with_its_task_waiting_stays_queued_until_the_lease(
    django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        waiting = usage_update_request(
            cutoff=timezone.now() - timedelta(hours=1), trigger="command"
        )
    _age(waiting, minutes=2)
    assert usage_updates_fail_stale() == 0
    waiting.refresh_from_db()
    assert waiting.status == UsageUpdate.Status.QUEUED
    _age(waiting, seconds=settings.HOSTMETER["UPDATE_LEASE_SECONDS"] + 1)
    assert usage_updates_fail_stale() == 1


def test_a_running_update_whose_heartbeat_fell_silent_is_failed_within_minutes():
    """Killed mid-update: failed after the heartbeat lease (2 minutes), not after the
    hour-long queue lease."""
    alive = _running(heartbeat_at=timezone.now() - timedelta(seconds=30))
    assert usage_updates_fail_stale() == 0
    UsageUpdate.objects.filter(pk=alive.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=3)
    )
    assert usage_updates_fail_stale() == 1
    alive.refresh_from_db()
    assert alive.status == UsageUpdate.Status.FAILED


def test_an_update_declared_dead_while_it_ran_does_not_complete(monkeypatch):
    from hostmeter.metering.services import updates

    update = usage_update_request(
        cutoff=timezone.now() - timedelta(hours=1), trigger="command", enqueue=False
    )
    real = updates._freeze

    def declared_dead_meanwhile(u, **kwargs):
        counts = real(u, **kwargs)
        UsageUpdate.objects.filter(pk=u.pk).update(status=UsageUpdate.Status.FAILED)
        return counts

    monkeypatch.setattr(updates, "_freeze", declared_dead_meanwhile)
    done = usage_update_run(update_id=update.pk)
    assert done.status == UsageUpdate.Status.FAILED
    assert "declared dead" in done.error
    assert not done.rows.exists()


def test_the_heartbeat_beats_until_stopped_and_survives_a_failed_beat():
    from django.db import OperationalError

    beats, enough = [], threading.Event()

    def beat():
        beats.append(1)
        if len(beats) == 1:
            raise OperationalError("database is locked")
        if len(beats) >= 3:
            enough.set()

    with Heartbeat(beat, every=0.01, name="test-heartbeat"):
        assert enough.wait(5)
    assert len(beats) >= 3


def test_the_update_task_records_a_heartbeat_when_it_claims():
    update = usage_update_request(
        cutoff=timezone.now() - timedelta(hours=1), trigger="command", enqueue=False
    )
    assert usage_update_task.call(update_id=update.pk) == UsageUpdate.Status.SUCCEEDED
    update.refresh_from_db()
    assert update.heartbeat_at is not None and update.heartbeat_at >= update.started_at
