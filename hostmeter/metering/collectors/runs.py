"""The built-in collectors, run on the provider's schedule.

When collectors are configured (disk usage under HOSTMETER_DOCUMENT_ROOT, web traffic
in HOSTMETER_ACCESS_LOGS), the scheduler queues one run of them COLLECT_LEAD_SECONDS
before each time a usage update is due. Their samples are then measured before that
update's cut-off, so the update counts them: run inside the update they would come
after it. One run per due time, however many schedulers look (a unique due time).

The scheduled update waits while its run is still queued or running: samples measured
before the cut-off but stored after the update froze would be counted by no update
(the next one's counter window starts at this cut-off). A run that outlives the lease
(its worker died) is marked failed and waited for no longer.
"""

import logging
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hostmeter.tenancy.models import Provider

from ..models import CollectionRun, UsageUpdate
from ..selectors.schedule import usage_schedule_due, usage_schedule_next
from ..tasks import usage_collect_task
from . import CollectorBusy
from .disk import usage_collect_disk
from .weblog import usage_collect_weblog

log = logging.getLogger(__name__)
# The web-traffic collector refuses to store what another run (from cron, say) moved
# under it; reading again from the new positions loses nothing.
BUSY_ATTEMPTS, BUSY_PAUSE_SECONDS = 3, 2.0
_PENDING = [CollectionRun.Status.QUEUED, CollectionRun.Status.RUNNING]


def _lease() -> timedelta:
    return timedelta(seconds=settings.HOSTMETER["UPDATE_LEASE_SECONDS"])


def collection_runs_fail_stale(*, now: datetime | None = None) -> int:
    """Marks runs still queued or running past the lease (their worker died) as failed."""
    now = now or timezone.now()
    return CollectionRun.objects.filter(status__in=_PENDING, queued_at__lt=now - _lease()).update(
        status=CollectionRun.Status.FAILED,
        finished_at=now,
        error="The worker running the collectors stopped before they finished.",
    )


def usage_collection_pending(*, update: UsageUpdate, now: datetime | None = None) -> bool:
    """Whether a scheduled update must wait for the collectors queued ahead of it."""
    if update.trigger != UsageUpdate.Trigger.SCHEDULE:
        return False
    now = now or timezone.now()
    return CollectionRun.objects.filter(
        due_at=update.cutoff, status__in=_PENDING, queued_at__gte=now - _lease()
    ).exists()


def collectors_configured() -> list[str]:
    """The built-in collectors this installation has something for."""
    config = settings.HOSTMETER
    return [
        name
        for name, source in (("disk", config["DOCUMENT_ROOT"]), ("weblog", config["ACCESS_LOGS"]))
        if source
    ]


def usage_collection_tick(*, now: datetime | None = None) -> CollectionRun | None:
    """Queues the collectors' run for the next due update once it is near; safe to run
    anywhere at once. Nothing when no collector is configured or the lead is 0."""
    lead = timedelta(seconds=settings.HOSTMETER["COLLECT_LEAD_SECONDS"])
    if lead <= timedelta(0) or not collectors_configured():
        return None
    now = now or timezone.now()
    collection_runs_fail_stale(now=now)
    due = _next_due(Provider.get(), now)
    if due - now > lead or CollectionRun.objects.filter(due_at=due).exists():
        return None
    try:
        with transaction.atomic():
            run = CollectionRun.objects.create(due_at=due)
            transaction.on_commit(partial(usage_collect_task.enqueue, run_id=run.pk))
    except IntegrityError:  # another scheduler queued it first
        return None
    log.info("Queued the collectors for the usage update due at %s", due.isoformat())
    return run


def _next_due(provider: Provider, now: datetime) -> datetime:
    """The next time an update will be due (UTC). Inside an hour that clocks going back
    repeat, the repeat of the time just due is not one: updates run at the first only."""
    last = usage_schedule_due(provider=provider, now=now).astimezone(provider.zone)
    upcoming = usage_schedule_next(provider=provider, now=now, count=2)
    if upcoming[0].replace(tzinfo=None) == last.replace(tzinfo=None):
        return upcoming[1].astimezone(UTC)
    return upcoming[0].astimezone(UTC)


def usage_collect_run(*, run_id: int) -> CollectionRun:
    """Runs every configured collector once, each as of the moment it starts; records
    how many samples each stored, or why it failed (one failing does not stop the other)."""
    claimed = CollectionRun.objects.filter(pk=run_id, status=CollectionRun.Status.QUEUED).update(
        status=CollectionRun.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:  # run by another worker already
        return CollectionRun.objects.get(pk=run_id)
    config = settings.HOSTMETER
    counts, errors = {}, []
    if config["DOCUMENT_ROOT"]:
        try:
            result = usage_collect_disk(root=Path(config["DOCUMENT_ROOT"]), now=timezone.now())
            counts["disk_samples"] = result.stored
        except Exception as exc:  # recorded on the run, and logged
            log.exception("The disk collector failed")
            errors.append(f"Disk usage: {type(exc).__name__}: {exc}")
    if config["ACCESS_LOGS"]:
        try:
            paths = [Path(p) for p in config["ACCESS_LOGS"]]
            counts["bandwidth_samples"] = len(_weblog_when_free(paths).stored)
        except Exception as exc:
            log.exception("The web-traffic collector failed")
            errors.append(f"Web traffic: {type(exc).__name__}: {exc}")
    CollectionRun.objects.filter(pk=run_id).update(
        status=CollectionRun.Status.FAILED if errors else CollectionRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        error="\n".join(errors)[:2000],
        **counts,
    )
    return CollectionRun.objects.get(pk=run_id)


def _weblog_when_free(paths: list[Path]):
    for attempt in range(1, BUSY_ATTEMPTS + 1):
        try:
            return usage_collect_weblog(paths=paths, now=timezone.now())
        except CollectorBusy:
            if attempt == BUSY_ATTEMPTS:
                raise
            time.sleep(BUSY_PAUSE_SECONDS)
