"""Store usage samples: validated rows from files and the API, or collectors' tuples."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from hostmeter.fields import QuantityError, QuantityProblem, quantity_parse
from hostmeter.readers import RowError
from hostmeter.tenancy.models import Organization, Resource

from ..models import UsageSample
from ..selectors.updates import usage_update_latest

# No hosting usage was measured before this; a sample dated earlier is a mistake
# (a clock at its epoch, a typo) and would make every date list span millennia.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# Clocks of collectors drift; a sample a little ahead of ours is still believed.
FUTURE_TOLERANCE = timedelta(minutes=5)
INGEST_BATCH = 1000


@dataclass
class IngestResult:
    received: int = 0
    stored: int = 0
    errors: list[RowError] = field(default_factory=list)
    # Of the stored: measured at or before the latest usage update's cut-off, so the
    # next update counts them as late (or as a closed period's adjustment).
    late: int = 0
    late_before: datetime | None = None  # that cut-off

    @property
    def duplicates(self) -> int:
        return self.received - self.stored - len(self.errors)


# (organization id, resource id, measured at, value in thousandths, source)
Sample = tuple[int, int, datetime, int, str]


def usage_samples_store(samples: Iterable[Sample]) -> int:
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
    try:
        when = when.astimezone(UTC)
    except OverflowError:  # before year 1 or after 9999 once in UTC
        far = "in the future" if when.year > 1 else f"before {EARLIEST:%Y-%m-%d}"
        raise ValueError(f"measured_at “{text}” is {far}") from None
    if when < EARLIEST:
        raise ValueError(f"measured_at “{text}” is before {EARLIEST:%Y-%m-%d}")
    if when > timezone.now() + FUTURE_TOLERANCE:
        raise ValueError(f"measured_at “{text}” is in the future")
    return when


def _parse_value(text: object) -> int:
    try:
        return quantity_parse(str(text).strip())[1]
    except QuantityError as exc:
        store = " to store" if exc.problem is QuantityProblem.TOO_LARGE else ""
        raise ValueError(f"value {exc.problem.about(text)}{store}") from None


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
    latest = usage_update_latest()
    result.late_before = latest.cutoff if latest else None
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
        good: list[Sample] = []
        for line, fields in batch:
            try:
                good.append(_sample_from_fields(fields, orgs, resources, enabled, default_source))
            except ValueError as exc:
                result.errors.append(RowError(line, str(exc)))
        with transaction.atomic():
            if result.late_before is None:
                result.stored += usage_samples_store(good)
            else:  # stored apart, to count the late ones without reading them back
                late = [g for g in good if g[2] <= result.late_before]
                on_time = [g for g in good if g[2] > result.late_before]
                stored_late = usage_samples_store(late)
                result.late += stored_late
                result.stored += stored_late + usage_samples_store(on_time)
    return result


def _sample_from_fields(
    fields: Mapping[str, object],
    orgs: dict[str, int],
    resources: dict[str, Resource],
    enabled: set[tuple[int, int]],
    default_source: str,
) -> Sample:
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
