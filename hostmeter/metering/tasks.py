"""Background entry points for usage updates and the collectors run ahead of them.

Services enqueue these; each task imports the service it calls inside its body, so
that services can import tasks at the top (HackSoft's rule, no import cycle at load).
"""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

# Updates run one at a time (each depends on the previous cut-off); a second
# one that finds the first still running tries again this much later.
BUSY_RETRY = timedelta(seconds=30)


@task()
def usage_update_task(update_id: int) -> str:
    """Runs one queued usage update; returns its final status."""
    from .collectors.runs import usage_collection_pending
    from .models import UsageUpdate
    from .services.updates import UsageUpdateBusy, usage_update_run

    update = UsageUpdate.objects.filter(pk=update_id).first()
    if update is not None and usage_collection_pending(update=update):
        # its collectors are still storing samples measured before its cut-off
        return _again(update_id, "waiting for the collectors")
    try:
        return usage_update_run(update_id=update_id).status
    except UsageUpdateBusy:
        return _again(update_id, "waiting")


def _again(update_id: int, why: str) -> str:
    """Queues the update to be tried again BUSY_RETRY from now; returns why."""
    usage_update_task.using(run_after=timezone.now() + BUSY_RETRY).enqueue(update_id=update_id)
    return why


@task()
def usage_collect_task(run_id: int) -> str:
    """Runs the collectors queued ahead of a scheduled update; returns the run's status."""
    from .collectors.runs import usage_collect_run

    return usage_collect_run(run_id=run_id).status
