"""Request, start and run usage updates: freeze every organization's usage as of a cut-off."""

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypedDict

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from hostmeter.accounts.models import User
from hostmeter.heartbeat import Heartbeat
from hostmeter.tenancy.models import Provider, Reseller, Resource
from hostmeter.tenancy.services import reseller_links_rebuild

from .. import sql
from ..models import UsageAdjustment, UsageRow, UsageSample, UsageUpdate
from ..selectors.updates import usage_update_latest
from ..tasks import usage_update_task
from .samples import EARLIEST, FUTURE_TOLERANCE

log = logging.getLogger(__name__)

# The lower bound of the first update's counter window: "every sample so far".
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How often a running update writes its heartbeat (more often when the lease is short).
HEARTBEAT_SECONDS = 10
# A queued update this young may still have its task on the way (enqueued on commit).
QUEUE_GRACE = timedelta(minutes=1)


class UsageUpdateError(Exception):
    """A usage update cannot be requested or run as asked."""


class UsageUpdateBusy(UsageUpdateError):
    """Another usage update is running; this one has to wait its turn."""


class UsageUpdatePending(UsageUpdateError):
    """An update is already queued or running: a new one is not started."""

    def __init__(self, update: "UsageUpdate"):
        super().__init__(
            f"A usage update (as of {update.cutoff.isoformat()}) is already "
            f"{update.get_status_display().lower()}; wait for it to finish."
        )
        self.update = update


def usage_update_request(
    *, cutoff: datetime, trigger: str, requested_by: User | None = None, enqueue: bool = True
) -> UsageUpdate:
    """Records an update for a cut-off (or returns the one that exists) and queues it.

    Idempotent for a cut-off: a completed or queued update is returned as it is;
    a failed one is queued again.
    """
    update, fresh = _record(cutoff=cutoff, trigger=trigger, requested_by=requested_by)
    if fresh and enqueue:
        transaction.on_commit(partial(usage_update_task.enqueue, update_id=update.pk))
    return update


def usage_update_run_now(*, cutoff: datetime, trigger: str) -> UsageUpdate:
    """Records the update for a cut-off and runs it in this process (the command line,
    the demo). Refused while another update runs, and then it leaves no record behind:
    a queued update without a task would block "update now" until housekeeping."""
    update, fresh = _record(cutoff=cutoff, trigger=trigger, requested_by=None)
    try:
        return usage_update_run(update_id=update.pk)
    except UsageUpdateError:
        if fresh:
            _unrecord(update, fresh)
        raise


def _record(
    *, cutoff: datetime, trigger: str, requested_by: User | None
) -> tuple[UsageUpdate, str]:
    """The update for a cut-off and what this call did to it: "created", "requeued" (it
    had failed) or "" (it was there already, queued, running or completed)."""
    if cutoff.tzinfo is None:
        raise UsageUpdateError("The cut-off needs a time zone.")
    if cutoff > timezone.now() + FUTURE_TOLERANCE:
        raise UsageUpdateError("The cut-off is in the future: its usage is not known yet.")
    if cutoff < EARLIEST:
        raise UsageUpdateError(f"The cut-off is before {EARLIEST:%Y-%m-%d}: no usage is that old.")
    cutoff = cutoff.astimezone(UTC).replace(microsecond=0)
    latest = usage_update_latest()
    if latest and cutoff < latest.cutoff:
        raise UsageUpdateError(
            f"A later usage update (as of {latest.cutoff:%Y-%m-%d %H:%M %Z}) is already "
            "completed; completed updates are never rewritten."
        )
    with transaction.atomic():
        update, created = UsageUpdate.objects.get_or_create(
            cutoff=cutoff, defaults={"trigger": trigger, "requested_by": requested_by}
        )
        if created:
            return update, "created"
        if update.status != UsageUpdate.Status.FAILED:
            return update, ""
        update.status, update.trigger = UsageUpdate.Status.QUEUED, trigger
        update.requested_by, update.error = requested_by, ""
        update.save(update_fields=["status", "trigger", "requested_by", "error"])
        return update, "requeued"


def _unrecord(update: UsageUpdate, fresh: str) -> None:
    """Takes back what _record did, if the update is still only queued."""
    still = UsageUpdate.objects.filter(pk=update.pk, status=UsageUpdate.Status.QUEUED)
    if fresh == "created":
        still.delete()
    else:
        still.update(status=UsageUpdate.Status.FAILED, error=update.error or "Refused.")


def usage_update_start(*, user: User | None, cutoff: datetime | None = None) -> UsageUpdate:
    """ "Update now" (page, API): queues an update as of now (or a past cut-off); refused
    while another one is queued or running, so that they do not pile up."""
    busy = UsageUpdate.objects.filter(
        status__in=[UsageUpdate.Status.QUEUED, UsageUpdate.Status.RUNNING]
    ).first()
    if busy:
        raise UsageUpdatePending(busy)
    return usage_update_request(
        cutoff=cutoff or timezone.now(), trigger=UsageUpdate.Trigger.MANUAL, requested_by=user
    )


def usage_update_run(*, update_id: int) -> UsageUpdate:
    """Freezes usage as of the update's cut-off: all rows and roll-ups, or nothing.

    Returns the update with its final status; a failure is recorded on it and
    leaves the previous completed update the most recent. While it runs, a heartbeat
    shows it alive; one that falls silent (its worker killed) is failed by housekeeping.
    """
    update = UsageUpdate.objects.get(pk=update_id)
    if update.status == UsageUpdate.Status.SUCCEEDED:
        return update
    try:
        _close_periods_before(update)
    except UsageUpdateBusy:
        raise
    except UsageUpdateError as exc:
        UsageUpdate.objects.filter(
            pk=update.pk, status__in=[UsageUpdate.Status.QUEUED, UsageUpdate.Status.FAILED]
        ).update(status=UsageUpdate.Status.FAILED, finished_at=timezone.now(), error=str(exc))
        update.refresh_from_db()
        return update
    # started_at is this run's claim: a run declared dead cannot complete afterwards
    claim = timezone.now()
    try:
        with transaction.atomic():
            claimed = UsageUpdate.objects.filter(
                pk=update.pk, status__in=[UsageUpdate.Status.QUEUED, UsageUpdate.Status.FAILED]
            ).update(
                status=UsageUpdate.Status.RUNNING, started_at=claim, heartbeat_at=claim, error=""
            )
    except IntegrityError:
        raise UsageUpdateBusy("Another usage update is running.") from None
    if not claimed:
        raise UsageUpdateError(f"The usage update is {update.get_status_display().lower()}.")
    mine = UsageUpdate.objects.filter(
        pk=update.pk, status=UsageUpdate.Status.RUNNING, started_at=claim
    )

    def beat() -> None:
        mine.update(heartbeat_at=timezone.now())

    try:
        heartbeat = Heartbeat(beat, every=_beat_seconds(), name=f"update-{update.pk}-heartbeat")
        with heartbeat:
            through = _samples_watermark()
            with transaction.atomic():
                counts = _freeze(update, through=through)
                if not mine.update(
                    status=UsageUpdate.Status.SUCCEEDED, finished_at=timezone.now(), **counts
                ):
                    raise UsageUpdateError("The update was declared dead while it ran.")
    except Exception as exc:
        log.exception("Usage update %s as of %s failed", update.pk, update.cutoff)
        mine.update(
            status=UsageUpdate.Status.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
    update.refresh_from_db()
    return update


def _close_periods_before(update: UsageUpdate) -> None:
    """Closes every billing period that ended after the latest completed update and
    before this update's cut-off: an update as of the period's end (trigger "period
    close") freezes its totals first, so a window that crosses a boundary is split
    there by measured_at and each month keeps its own figures, pages and files."""
    latest = usage_update_latest()
    if latest is None or latest.cutoff >= update.cutoff:
        return
    provider = Provider.get()
    # The period after the latest's cut-off (its own, or the next when it closed it).
    period = provider.billing_period(latest.cutoff + timedelta(microseconds=1))
    while period.end < update.cutoff:
        closing = usage_update_run_now(cutoff=period.end, trigger=UsageUpdate.Trigger.CLOSE)
        if closing.status != UsageUpdate.Status.SUCCEEDED:
            raise UsageUpdateError(
                f"Closing the billing period {period.label} (an update as of its end) "
                f"failed: {closing.error}"
            )
        period = provider.billing_period(period.end + timedelta(microseconds=1))


def _silence() -> timedelta:
    """How long a running update may go without a heartbeat before it counts as dead."""
    return timedelta(seconds=settings.HOSTMETER["UPDATE_HEARTBEAT_LEASE_SECONDS"])


def _beat_seconds() -> float:
    return min(HEARTBEAT_SECONDS, _silence().total_seconds() / 4)


class _Bounds(TypedDict):
    """The parameters of the statements that write an update's usage rows."""

    update: int
    cutoff: datetime
    previous: datetime  # the previous completed update's cut-off (or EPOCH)
    previous_update: int | None  # that update, when of the same billing period
    last_update: int | None  # that update, of any period (its gauges' levels carry on)
    period_start: datetime  # the start of the cut-off's billing period
    through: int  # the newest sample id this update counts (_samples_watermark)
    previous_through: int  # the previous update's; samples after it may be late


def _samples_watermark() -> int:
    """The newest sample id an update may count: every sample up to it is committed.

    On PostgreSQL ids are handed out before their rows commit, so a lower id may still
    be in flight; a SHARE lock waits for every transaction writing samples to finish and
    is released at once (ingest goes on during the update; what it stores has higher
    ids, and the next update counts it). That needs the ids' sequence without a cache
    (as it is): with one, another session could store a lower id later, and no update
    would count it (test_periods checks it). SQLite has one writer: the highest id it
    shows is committed with all below it."""
    table = connection.ops.quote_name(UsageSample._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        return int(cursor.fetchone()[0])


def _freeze(update: UsageUpdate, *, through: int) -> dict[str, object]:
    later = UsageUpdate.objects.filter(
        status=UsageUpdate.Status.SUCCEEDED, cutoff__gt=update.cutoff
    ).exists()
    if later:
        raise UsageUpdateError("A later usage update is already completed.")
    previous = (
        UsageUpdate.objects.filter(status=UsageUpdate.Status.SUCCEEDED, cutoff__lt=update.cutoff)
        .order_by("-cutoff")
        .only("pk", "cutoff", "period_start", "samples_through", "rows_count")
        .first()
    )
    period = Provider.get().billing_period(update.cutoff)
    # The previous update's totals go on within a period; the period's first update
    # sums its counters from the period's start.
    carried = previous is not None and previous.period_start == period.start
    # Right after its period's close, the window is the period so far: nothing to carry,
    # and the samples since the previous cut-off are the period's total.
    fresh = previous is not None and previous.cutoff == period.start
    if connection.vendor == "postgresql":
        # These statements are costed as one subquery per organization × resource, so
        # PostgreSQL would JIT-compile them; the work is short index lookups and sums,
        # which compiling only slows down (docs/benchmarks.md, Usage update, "Closing in
        # on 1.5×").
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
    bounds: _Bounds = {
        "update": update.pk,
        "cutoff": update.cutoff,
        "previous": previous.cutoff if previous else EPOCH,
        "previous_update": previous.pk if previous is not None and carried else None,
        "last_update": previous.pk if previous is not None else None,
        "period_start": period.start,
        "through": through,
        # An update from before late samples were told apart: none are looked for.
        "previous_through": (
            previous.samples_through
            if previous is not None and previous.samples_through is not None
            else (0 if previous is None else through)
        ),
    }
    totals = "carried" if carried else "window" if fresh else "summed"
    window_read = _window_read(previous, cutoff=update.cutoff)
    rows = _freeze_rows(update, bounds, totals=totals, window_read=window_read)
    _record_closed_late(update, bounds)
    # The rows do not read the reseller tree; the snapshots and roll-ups do. Rebuilt
    # after the long statement, its rows stay locked the shortest time.
    reseller_links_rebuild()
    sql.run_statement(sql.RESELLER_SNAPSHOTS, update=update.pk)
    sql.run_statement(sql.ROLLUPS, update=update.pk, previous_update=bounds["previous_update"])
    return {
        "previous_cutoff": previous.cutoff if previous else None,
        "period_start": period.start,
        "period_end": period.end,
        "samples_through": through,
        "rows_count": rows,
        "organizations_count": UsageRow.objects.filter(update=update)
        .values("organization_id")
        .distinct()
        .count(),
        "resellers_count": Reseller.objects.count(),
    }


def _record_closed_late(update: UsageUpdate, bounds: _Bounds) -> None:
    """Late counter samples of closed periods become those periods' adjustments: stored
    since the previous update took its samples, measured before both its cut-off and
    this update's period. Few, and only the ids since the previous update are read."""
    if bounds["previous_through"] >= bounds["through"]:
        return
    late = (
        UsageSample.objects.filter(
            id__gt=bounds["previous_through"],
            id__lte=bounds["through"],
            measured_at__lte=min(bounds["previous"], bounds["period_start"]),
            resource__kind=Resource.Kind.COUNTER,
        )
        .order_by("organization_id", "resource_id", "measured_at")
        .values_list("organization_id", "resource_id", "measured_at", "value")
    )
    provider = Provider.get()
    totals: dict[tuple[int, int, datetime], list[Any]] = {}
    period = None
    for org, resource, measured_at, value in late.iterator(chunk_size=2000):
        if period is None or measured_at not in period:
            period = provider.billing_period(measured_at)
        entry = totals.setdefault((org, resource, period.start), [period.end, Decimal(0), 0])
        entry[1] += value
        entry[2] += 1
    UsageAdjustment.objects.bulk_create(
        [
            UsageAdjustment(
                update=update,
                organization_id=org,
                resource_id=resource,
                period_start=start,
                period_end=end,
                value=value,
                samples=count,
            )
            for (org, resource, start), (end, value, count) in totals.items()
        ],
        batch_size=1000,
    )


# Samples a usage row in the window up to which the update reads the window's samples
# once rather than probe for each row's (sql.py, "Both take the window's samples"): at
# one a row (the collectors on the update's schedule) the read costs about what the
# probes cost on a short history and stays flat as it grows; at three the probes are
# faster (docs/benchmarks.md, "The window read once").
WINDOW_READ_SAMPLES_PER_ROW = 2


def _window_read(previous: UsageUpdate | None, *, cutoff: datetime) -> bool:
    """Whether the window is sparse enough to be read once: the samples measured in it
    against the previous update's usage rows, counted by the samples' time index no
    further than the limit (so never more than the read itself would take). The first
    update ever probes, and so does one after an update from before late samples were
    told apart (its gauges' levels cannot be checked against late samples)."""
    if previous is None or previous.samples_through is None or not previous.rows_count:
        return False
    most = WINDOW_READ_SAMPLES_PER_ROW * previous.rows_count
    window = UsageSample.objects.filter(measured_at__gt=previous.cutoff, measured_at__lte=cutoff)
    return window.order_by()[: most + 1].count() <= most


def _freeze_rows(update: UsageUpdate, bounds: _Bounds, *, totals: str, window_read: bool) -> int:
    """Writes the update's usage rows (totals: as in sql._TOTALS; window_read: how the
    window's samples are read); returns how many."""
    if connection.vendor != "postgresql":
        statement = sql.organization_rows(totals=totals, window_read=window_read)
        return sql.run_statement(statement, **bounds)
    partition = sql.partition_name(update.pk)
    table = UsageRow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass(%s), pg_get_serial_sequence(%s, 'id')", [partition, table]
        )
        leftover, sequence = cursor.fetchone()
        if leftover:
            # Only an earlier update of the same id (since deleted, its sequence reset)
            # leaves one behind, and empty: rows of this update would be a bug.
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(partition)})")
            if cursor.fetchone()[0]:
                raise UsageUpdateError(f"Usage rows of update {update.pk} already exist.")
            cursor.execute(f"DROP TABLE {connection.ops.quote_name(partition)}")
    rows = sql.run_statement(
        sql.organization_rows_partition(totals=totals, window_read=window_read),
        names={"partition": partition},
        literals={"sequence": sequence},
        **bounds,
    )
    names = {
        "partition": partition,
        "bound": f"{partition}_bound",
        "unique": f"{partition}_unique",
        "pkey": f"{partition}_pkey",
    }
    for statement in sql.PARTITION_SEAL:
        sql.run_statement(statement, names=names, literals={"update_id": str(update.pk)})
    return rows


def usage_updates_fail_stale(*, now: datetime | None = None) -> int:
    """Fails updates that will never finish: running ones whose heartbeat fell silent
    (their worker died), and queued ones whose task is gone or that waited past the lease
    (a queued update blocks "update now" and the scheduler's next one)."""
    now = now or timezone.now()
    silent = now - _silence()
    dead = UsageUpdate.objects.filter(
        Q(heartbeat_at__lt=silent) | Q(heartbeat_at__isnull=True, started_at__lt=silent),
        status=UsageUpdate.Status.RUNNING,
    ).update(
        status=UsageUpdate.Status.FAILED,
        finished_at=now,
        error="The worker running this update stopped before it finished; run it again.",
    )
    lease = timedelta(seconds=settings.HOSTMETER["UPDATE_LEASE_SECONDS"])
    queued = UsageUpdate.objects.filter(
        status=UsageUpdate.Status.QUEUED, created_at__lt=now - QUEUE_GRACE
    )
    waiting = set(
        DBTaskResult.objects.filter(
            task_path=usage_update_task.module_path,
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
        ).values_list("args_kwargs__kwargs__update_id", flat=True)
    )
    lost = [
        u.pk
        for u in queued.only("pk", "created_at")
        if u.pk not in waiting or u.created_at < now - lease
    ]
    lost_count = UsageUpdate.objects.filter(pk__in=lost, status=UsageUpdate.Status.QUEUED).update(
        status=UsageUpdate.Status.FAILED,
        finished_at=now,
        error="This update was queued but no worker took it (its task was lost); run it again.",
    )
    return dead + lost_count
