"""Functions that change usage data: store samples, run and schedule usage updates."""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import islice

from croniter import croniter
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from hostmeter.fields import to_thousandths
from hostmeter.tenancy.models import Organization, Provider, Reseller, Resource
from hostmeter.tenancy.services import reseller_links_rebuild

from . import sql
from .models import UsageRow, UsageSample, UsageUpdate

log = logging.getLogger(__name__)

# The lower bound of the first update's counter window: "every sample so far".
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Clocks of collectors drift; a sample a little ahead of ours is still believed.
FUTURE_TOLERANCE = timedelta(minutes=5)
INGEST_BATCH = 1000


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


# ---------------------------------------------------------------- samples


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class IngestResult:
    received: int = 0
    stored: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.received - self.stored - len(self.errors)


def usage_samples_store(samples: Iterable[tuple[int, int, datetime, int, str]]) -> int:
    """Inserts (organization id, resource id, measured at, value in thousandths,
    source) tuples that are already valid; returns how many were new.

    One multi-row INSERT … ON CONFLICT DO NOTHING per batch: duplicates of the
    unique measurement are skipped by the database itself on both engines.
    """
    table = connection.ops.quote_name(UsageSample._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    now = adapt(timezone.now())
    stored = 0
    iterator = iter(samples)
    while batch := list(islice(iterator, INGEST_BATCH)):
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(batch))
        params = [
            p
            for org, res, at, value, source in batch
            for p in (org, res, adapt(at), value, source, now)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (organization_id, resource_id, measured_at, value, "
                f"source, created_at) VALUES {values} "
                "ON CONFLICT (organization_id, resource_id, measured_at, source) DO NOTHING",
                params,
            )
            stored += cursor.rowcount
    return stored


def _parse_measured_at(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"measured_at “{text}” is not an ISO 8601 date and time") from None
    if when.tzinfo is None:
        raise ValueError(f"measured_at “{text}” has no UTC offset (add +00:00 or Z)")
    if when > timezone.now() + FUTURE_TOLERANCE:
        raise ValueError(f"measured_at “{text}” is in the future")
    return when


MAX_THOUSANDTHS = 2**63 - 1  # a BIGINT column


def _parse_value(text) -> int:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"value “{text}” is not a number") from None
    if not value.is_finite():
        raise ValueError(f"value “{text}” is not a number")
    if value < 0:
        raise ValueError(f"value {text} is negative")
    try:
        thousandths = to_thousandths(value)
    except ValueError:
        raise ValueError(f"value {text} has more than three decimal places") from None
    if thousandths > MAX_THOUSANDTHS:
        raise ValueError(f"value {text} is too large to store")
    return thousandths


def usage_samples_ingest(
    *, rows: Iterable[tuple[int, Mapping[str, object]]], default_source: str
) -> IngestResult:
    """Validates and stores usage samples given as (line number, fields) pairs.

    Fields: organization (domain), resource (code), measured_at (ISO 8601 with
    offset), value, source (optional). Good rows are stored, bad ones reported
    with their line and reason; a sample already stored is skipped.
    """
    result = IngestResult()
    resources = {r.code: r for r in Resource.objects.all()}
    iterator = iter(rows)
    while batch := list(islice(iterator, INGEST_BATCH)):
        result.received += len(batch)
        domains = {str(f.get("organization") or "").strip().lower() for _, f in batch}
        orgs = dict(Organization.objects.filter(domain__in=domains).values_list("domain", "id"))
        enabled = set(
            Organization.services.through.objects.filter(
                organization_id__in=orgs.values()
            ).values_list("organization_id", "service_id")
        )
        good = []
        for line, fields in batch:
            try:
                good.append(_sample_from_fields(fields, orgs, resources, enabled, default_source))
            except ValueError as exc:
                result.errors.append(RowError(line, str(exc)))
        with transaction.atomic():
            result.stored += usage_samples_store(good)
    return result


def _sample_from_fields(fields, orgs, resources, enabled, default_source):
    missing = [
        k
        for k in ("organization", "resource", "measured_at", "value")
        if fields.get(k) is None or not str(fields[k]).strip()
    ]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    if any("\x00" in str(fields.get(k) or "") for k in fields):
        raise ValueError("contains a NUL character")
    domain = str(fields["organization"]).strip().lower()
    if (org_id := orgs.get(domain)) is None:
        raise ValueError(f"no organization with the domain “{domain}”")
    code = str(fields["resource"]).strip()
    if (resource := resources.get(code)) is None:
        raise ValueError(f"no resource with the code “{code}”")
    if (org_id, resource.service_id) not in enabled:
        raise ValueError(f"{domain} does not have the service of “{code}” enabled")
    source = str(fields.get("source") or default_source).strip()[:100]
    return (
        org_id,
        resource.id,
        _parse_measured_at(str(fields["measured_at"])),
        _parse_value(fields["value"]),
        source,
    )


# ---------------------------------------------------------------- updates


def usage_update_request(
    *, cutoff: datetime, trigger: str, requested_by=None, enqueue: bool = True
) -> UsageUpdate:
    """Records an update for a cut-off (or returns the one that exists) and queues it.

    Idempotent for a cut-off: a completed or queued update is returned as it is;
    a failed one is queued again.
    """
    if cutoff.tzinfo is None:
        raise UsageUpdateError("The cut-off needs a time zone.")
    if cutoff > timezone.now() + FUTURE_TOLERANCE:
        raise UsageUpdateError("The cut-off is in the future: its usage is not known yet.")
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
        if not created and update.status == UsageUpdate.Status.FAILED:
            update.status, update.trigger = UsageUpdate.Status.QUEUED, trigger
            update.requested_by, update.error = requested_by, ""
            update.save(update_fields=["status", "trigger", "requested_by", "error"])
        elif not created:
            return update
        if enqueue:
            from .tasks import usage_update_task

            transaction.on_commit(partial(usage_update_task.enqueue, update_id=update.pk))
    return update


def usage_update_start(*, user, cutoff: datetime | None = None) -> UsageUpdate:
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


def usage_update_latest() -> UsageUpdate | None:
    """The most recent completed update: the one pages and reports show."""
    return (
        UsageUpdate.objects.filter(status=UsageUpdate.Status.SUCCEEDED).order_by("-cutoff").first()
    )


def usage_update_run(*, update_id: int) -> UsageUpdate:
    """Freezes usage as of the update's cut-off: all rows and roll-ups, or nothing.

    Returns the update with its final status; a failure is recorded on it and
    leaves the previous completed update the most recent.
    """
    update = UsageUpdate.objects.get(pk=update_id)
    if update.status == UsageUpdate.Status.SUCCEEDED:
        return update
    try:
        with transaction.atomic():
            claimed = UsageUpdate.objects.filter(
                pk=update.pk, status__in=[UsageUpdate.Status.QUEUED, UsageUpdate.Status.FAILED]
            ).update(status=UsageUpdate.Status.RUNNING, started_at=timezone.now(), error="")
    except IntegrityError:
        raise UsageUpdateBusy("Another usage update is running.") from None
    if not claimed:
        raise UsageUpdateError(f"The usage update is {update.get_status_display().lower()}.")
    try:
        with transaction.atomic():
            counts = _freeze(update)
            UsageUpdate.objects.filter(pk=update.pk).update(
                status=UsageUpdate.Status.SUCCEEDED, finished_at=timezone.now(), **counts
            )
    except Exception as exc:
        log.exception("Usage update %s as of %s failed", update.pk, update.cutoff)
        UsageUpdate.objects.filter(pk=update.pk).update(
            status=UsageUpdate.Status.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
    update.refresh_from_db()
    return update


def _freeze(update: UsageUpdate) -> dict[str, object]:
    later = UsageUpdate.objects.filter(
        status=UsageUpdate.Status.SUCCEEDED, cutoff__gt=update.cutoff
    ).exists()
    if later:
        raise UsageUpdateError("A later usage update is already completed.")
    previous = (
        UsageUpdate.objects.filter(status=UsageUpdate.Status.SUCCEEDED, cutoff__lt=update.cutoff)
        .order_by("-cutoff")
        .values_list("cutoff", flat=True)
        .first()
    )
    if connection.vendor == "postgresql":
        # These statements are costed as one subquery per organization × resource, so
        # PostgreSQL would JIT-compile them; the work is short index lookups and sums,
        # and compiling cost 0.2–0.3 s per statement at 100,000 organizations.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
    bounds = {"update": update.pk, "cutoff": update.cutoff, "previous": previous or EPOCH}
    rows = _freeze_rows(update, bounds)
    # The rows do not read the reseller tree; the snapshots and roll-ups do. Rebuilt
    # after the long statement, its rows stay locked the shortest time.
    reseller_links_rebuild()
    sql.run_statement(sql.RESELLER_SNAPSHOTS, update=update.pk)
    sql.run_statement(sql.ROLLUPS, update=update.pk)
    return {
        "previous_cutoff": previous,
        "rows_count": rows,
        "organizations_count": UsageRow.objects.filter(update=update)
        .values("organization_id")
        .distinct()
        .count(),
        "resellers_count": Reseller.objects.count(),
    }


def _freeze_rows(update: UsageUpdate, bounds: dict[str, object]) -> int:
    """Writes the update's usage rows; returns how many."""
    if connection.vendor != "postgresql":
        return sql.run_statement(sql.ORGANIZATION_ROWS, **bounds)
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
        sql.ORGANIZATION_ROWS_PARTITION,
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
    """Marks updates whose worker stopped (running past the lease) as failed."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.HOSTMETER["UPDATE_LEASE_SECONDS"])
    return UsageUpdate.objects.filter(
        status=UsageUpdate.Status.RUNNING, started_at__lt=now - lease
    ).update(
        status=UsageUpdate.Status.FAILED,
        finished_at=now,
        error="The worker running this update stopped before it finished; run it again.",
    )


# ---------------------------------------------------------------- schedule


def _schedule_times(provider: Provider, start: datetime, *, backwards: bool = False):
    """Due times of the provider's cron schedule from start, in its time zone.

    When clocks go back, a wall-clock time happens twice; an update is due at
    the first of the two only (counters lose nothing: the next window is longer).
    A time skipped when clocks go forward is due at the first time after the gap.
    """
    itr = croniter(provider.usage_schedule, start.astimezone(provider.zone))
    step = itr.get_prev if backwards else itr.get_next
    pending = step(datetime)
    while True:
        following = step(datetime)
        if following.replace(tzinfo=None) == pending.replace(tzinfo=None):
            if backwards:  # going back, the later-found one is the first occurrence
                pending = following
            continue
        yield pending
        pending = following


def usage_schedule_due(*, provider: Provider, now: datetime) -> datetime:
    """The latest time at or before now when the schedule says an update is due (UTC)."""
    due = next(_schedule_times(provider, now + timedelta(seconds=1), backwards=True))
    return due.astimezone(UTC)


def usage_schedule_next(*, provider: Provider, now: datetime, count: int = 1) -> list[datetime]:
    """The next `count` times an update is due after now, in the provider's time zone."""
    times = _schedule_times(provider, now)
    return [next(times) for _ in range(count)]


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
            from .tasks import usage_update_task

            transaction.on_commit(partial(usage_update_task.enqueue, update_id=update.pk))
    except IntegrityError:  # another scheduler queued this due time first
        return None
    log.info("Queued the scheduled usage update as of %s", due.isoformat())
    return update
