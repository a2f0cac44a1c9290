"""The built-in collectors, run on the provider's schedule.

When collectors are configured (disk usage under HOSTMETER_DOCUMENT_ROOT, web traffic
in HOSTMETER_ACCESS_LOGS), the scheduler queues one run of them COLLECT_LEAD_SECONDS
before each time a usage update is due. Their samples are then measured before that
update's cut-off, so the update counts them: run inside the update they would come
after it. One run per due time, however many schedulers look (a unique due time).
"""

import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hostmeter.tenancy.models import Provider

from .collectors.disk import usage_collect_disk
from .collectors.weblog import usage_collect_weblog
from .models import CollectionRun
from .services import usage_schedule_next

log = logging.getLogger(__name__)


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
    due = usage_schedule_next(provider=Provider.get(), now=now)[0].astimezone(UTC)
    if due - now > lead or CollectionRun.objects.filter(due_at=due).exists():
        return None
    try:
        with transaction.atomic():
            run = CollectionRun.objects.create(due_at=due)
            from .tasks import usage_collect_task

            transaction.on_commit(partial(usage_collect_task.enqueue, run_id=run.pk))
    except IntegrityError:  # another scheduler queued it first
        return None
    log.info("Queued the collectors for the usage update due at %s", due.isoformat())
    return run


def usage_collect_run(*, run_id: int) -> CollectionRun:
    """Runs every configured collector once, as of now; records how many samples each
    stored, or why it failed (one failing does not stop the other)."""
    claimed = CollectionRun.objects.filter(pk=run_id, status=CollectionRun.Status.QUEUED).update(
        status=CollectionRun.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:  # run by another worker already
        return CollectionRun.objects.get(pk=run_id)
    config = settings.HOSTMETER
    now = timezone.now()
    counts, errors = {}, []
    if config["DOCUMENT_ROOT"]:
        try:
            result = usage_collect_disk(root=Path(config["DOCUMENT_ROOT"]), now=now)
            counts["disk_samples"] = result.stored
        except Exception as exc:  # recorded on the run, and logged
            log.exception("The disk collector failed")
            errors.append(f"Disk usage: {type(exc).__name__}: {exc}")
    if config["ACCESS_LOGS"]:
        try:
            paths = [Path(p) for p in config["ACCESS_LOGS"]]
            counts["bandwidth_samples"] = len(usage_collect_weblog(paths=paths, now=now).stored)
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
