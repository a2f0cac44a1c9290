"""Queue the usage update the provider's schedule says is due."""

import logging
from datetime import datetime
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from hostmeter.tenancy.models import Provider

from ..models import UsageUpdate
from ..selectors.schedule import usage_schedule_due
from ..tasks import usage_update_task
from .updates import usage_updates_fail_stale

log = logging.getLogger(__name__)


def usage_schedule_tick(*, now: datetime | None = None) -> UsageUpdate | None:
    """Queues the update that is due, if it is not there yet; safe to run anywhere at once.

    Missed due times are not replayed one by one: the next update's counters
    cover everything since the previous cut-off, so one update catches up.
    """
    now = now or timezone.now()
    usage_updates_fail_stale(now=now)
    due = usage_schedule_due(provider=Provider.get(), now=now)
    newest = UsageUpdate.objects.order_by("-cutoff").values_list("cutoff", flat=True).first()
    if newest is not None and due <= newest:
        return None
    try:
        with transaction.atomic():
            update = UsageUpdate.objects.create(cutoff=due, trigger=UsageUpdate.Trigger.SCHEDULE)
            transaction.on_commit(partial(usage_update_task.enqueue, update_id=update.pk))
    except IntegrityError:  # another scheduler queued this due time first
        return None
    log.info("Queued the scheduled usage update as of %s", due.isoformat())
    return update
