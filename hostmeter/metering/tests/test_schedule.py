"""The usage schedule: due times in the provider's zone, DST, missed runs, two schedulers."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError

from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.selectors.schedule import usage_schedule_due, usage_schedule_next
from hostmeter.metering.services.schedule import usage_schedule_tick
from hostmeter.metering.services.updates import usage_updates_fail_stale

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def local(*args):
    return datetime(*args, tzinfo=BERLIN)


def test_due_is_in_provider_time_zone(provider):
    now = local(2026, 6, 10, 12, 0)
    assert usage_schedule_due(provider=provider, now=now) == local(2026, 6, 10, 2, 30)
    assert usage_schedule_due(provider=provider, now=local(2026, 6, 10, 2, 29)) == local(
        2026, 6, 9, 2, 30
    )
    # exactly on the due time: due now
    assert usage_schedule_due(provider=provider, now=local(2026, 6, 10, 2, 30)) == local(
        2026, 6, 10, 2, 30
    )
    assert usage_schedule_due(provider=provider, now=now).tzinfo == UTC


def test_next_runs_in_words_of_the_zone(provider):
    runs = usage_schedule_next(provider=provider, now=local(2026, 6, 10, 12, 0), count=3)
    assert runs == [local(2026, 6, d, 2, 30) for d in (11, 12, 13)]


def test_spring_forward_runs_after_the_gap(provider):
    # 2026-03-29: 02:00 → 03:00 in Berlin; 02:30 does not exist that day
    runs = usage_schedule_next(provider=provider, now=local(2026, 3, 28, 12, 0), count=2)
    assert runs[0] == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert runs[1] == local(2026, 3, 30, 2, 30)


def test_fall_back_runs_once(provider):
    # 2026-10-25: 03:00 → 02:00 in Berlin; 02:30 happens twice, the update runs once
    runs = usage_schedule_next(provider=provider, now=local(2026, 10, 24, 12, 0), count=2)
    # (an ambiguous local time never compares equal across zones: compare in UTC)
    assert runs[0].astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # CEST, first
    assert runs[1] == local(2026, 10, 26, 2, 30)
    after_second = datetime(2026, 10, 25, 1, 45, tzinfo=UTC)  # 02:45 CET
    assert usage_schedule_due(provider=provider, now=after_second) == runs[0].astimezone(UTC)


def test_tick_queues_once_per_due_time(provider, django_capture_on_commit_callbacks):
    now = local(2026, 6, 10, 3, 0)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = usage_schedule_tick(now=now)
    assert first.cutoff == local(2026, 6, 10, 2, 30)
    assert first.status == UsageUpdate.Status.QUEUED
    assert first.trigger == UsageUpdate.Trigger.SCHEDULE
    assert len(callbacks) == 1  # the task is enqueued after commit
    assert usage_schedule_tick(now=now + timedelta(minutes=5)) is None
    assert UsageUpdate.objects.count() == 1


def test_missed_runs_catch_up_with_one_update(provider):
    usage_schedule_tick(now=local(2026, 6, 1, 3, 0))
    # the scheduler was down for four days
    caught_up = usage_schedule_tick(now=local(2026, 6, 5, 9, 0))
    assert caught_up.cutoff == local(2026, 6, 5, 2, 30)
    assert UsageUpdate.objects.count() == 2


def test_two_schedulers_cannot_queue_the_same_due_time(provider):
    due = usage_schedule_due(provider=provider, now=local(2026, 6, 10, 3, 0))
    UsageUpdate.objects.create(cutoff=due, trigger=UsageUpdate.Trigger.SCHEDULE)
    with pytest.raises(IntegrityError):
        UsageUpdate.objects.create(cutoff=due, trigger=UsageUpdate.Trigger.SCHEDULE)


def test_tick_losing_the_race_queues_nothing(provider, monkeypatch):
    """Another scheduler commits the same due time between our look and our insert."""
    from hostmeter.metering.services import schedule as services

    now = local(2026, 6, 10, 3, 0)
    real_filter = UsageUpdate.objects.order_by

    def racing_order_by(*args):
        # our look sees nothing, then the other scheduler's row lands
        qs = real_filter(*args)
        if not UsageUpdate.objects.exists():
            UsageUpdate.objects.create(
                cutoff=local(2026, 6, 10, 2, 30), trigger=UsageUpdate.Trigger.SCHEDULE
            )
            return qs.none()
        return qs

    monkeypatch.setattr(services.UsageUpdate.objects, "order_by", racing_order_by)
    assert usage_schedule_tick(now=now) is None
    assert UsageUpdate.objects.count() == 1


def test_stale_running_update_is_failed(settings):
    # silent since it started: no heartbeat at all
    settings.HOSTMETER = {**settings.HOSTMETER, "UPDATE_HEARTBEAT_LEASE_SECONDS": 60}
    started = datetime(2026, 6, 1, tzinfo=UTC)
    update = UsageUpdate.objects.create(
        cutoff=started, trigger="command", status="running", started_at=started
    )
    assert usage_updates_fail_stale(now=started + timedelta(seconds=30)) == 0
    assert usage_updates_fail_stale(now=started + timedelta(seconds=61)) == 1
    update.refresh_from_db()
    assert update.status == UsageUpdate.Status.FAILED
    assert "worker" in update.error
