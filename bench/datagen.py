"""A generated customer base and two days of usage samples, inserted in bulk.

Everything is a pure function of the organization count, so two runs (and two
engines) get the same data. Rows are produced lazily: nothing here holds a
table in memory, which is what lets the benchmark show flat peak memory.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from bench.bulk import DAY, insert_rows, reset_sequences
from hostmeter.metering.models import UsageSample
from hostmeter.tenancy.models import (
    Organization,
    Provider,
    Reseller,
    ResourceLimit,
    Service,
)
from hostmeter.tenancy.names import name_key
from hostmeter.tenancy.services import reseller_links_rebuild

# Four services with eight resources between them: disk_space, bandwidth (web);
# mailboxes, mail_storage, emails_sent (mail); databases, db_storage (db); dns_zones.
SERVICES = ("web", "mail", "db", "dns")
LIMITED = ("disk_space", "mailboxes")


def _three_days_ago() -> datetime:
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - 3 * DAY


@dataclass(frozen=True)
class Plan:
    """The shape of the generated data."""

    orgs: int
    samples_per_day: int = 3
    days: int = 2
    ingest_orgs: int = 50_000
    # Fixed once, so that a run crossing midnight keeps its dates: every sample and
    # cut-off is in the past (ingest and update requests refuse future times).
    start: datetime = field(default_factory=_three_days_ago)

    # The provider's billing anchor day; by default one that puts every cut-off of the
    # plan in one billing period (the period starts the day before the samples do).
    anchor: int | None = None

    @property
    def anchor_day(self) -> int:
        return self.anchor or min(28, (self.start - DAY).day)

    @property
    def resellers(self) -> int:
        return max(10, self.orgs // 100)

    @property
    def rounds(self) -> int:
        """Collection rounds: every organization × resource is measured once a round."""
        return self.days * self.samples_per_day

    def cutoff(self, day: int) -> datetime:
        """The cut-off at the end of day `day` (1-based)."""
        return self.start + day * DAY


def _reseller_parent(i: int, total: int) -> int | None:
    """70 % top-level resellers, 20 % their sub-resellers, 10 % one level further down."""
    top, middle = int(total * 0.7), int(total * 0.9)
    if i <= top:
        return None
    if i <= middle:
        return (i * 7) % top + 1
    return top + (i * 13) % (middle - top) + 1


def org_reseller(i: int, resellers: int) -> int | None:
    """One organization in ten is added by the provider directly."""
    return None if i % 10 == 0 else (i * 31) % resellers + 1


def tenancy_generate(plan: Plan) -> dict[str, int]:
    """The provider's billing anchor, resellers (with sub-resellers), organizations,
    their services and limits."""
    Provider.objects.update_or_create(pk=1, defaults={"billing_anchor_day": plan.anchor_day})
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    service_ids = dict(Service.objects.filter(code__in=SERVICES).values_list("code", "id"))
    resources = resource_ids()
    n_res, n_org = plan.resellers, plan.orgs
    counts = {}
    counts["resellers"] = insert_rows(
        Reseller._meta.db_table,
        ["id", "name", "name_key", "domain", "parent_id", "contact_name", "contact_email"]
        + ["is_suspended", "created_at"],
        (
            (i, f"Reseller {i}", name_key(f"Reseller {i}"), f"reseller{i}.bench.example")
            + (_reseller_parent(i, n_res), "", "", False, now)
            for i in range(1, n_res + 1)
        ),
    )
    insert_rows(
        Reseller.services.through._meta.db_table,
        ["reseller_id", "service_id"],
        ((i, service_ids[s]) for i in range(1, n_res + 1) for s in SERVICES),
    )
    counts["reseller_links"] = reseller_links_rebuild()
    counts["organizations"] = insert_rows(
        Organization._meta.db_table,
        ["id", "name", "name_key", "domain", "reseller_id", "is_suspended", "created_at"],
        (
            (i, f"Organization {i}", name_key(f"Organization {i}"), f"org{i}.bench.example")
            + (org_reseller(i, n_res), False, now)
            for i in range(1, n_org + 1)
        ),
    )
    insert_rows(
        Organization.services.through._meta.db_table,
        ["organization_id", "service_id"],
        ((i, service_ids[s]) for i in range(1, n_org + 1) for s in SERVICES),
    )
    limits = [(resources[code], None, None, 10**12) for code in resources]
    limits += [(resources[c], i, None, 10**9) for i in range(1, n_res + 1) for c in LIMITED]
    counts["limits"] = insert_rows(
        ResourceLimit._meta.db_table,
        ["resource_id", "reseller_id", "organization_id", "limit"],
        limits + [(resources[c], None, i, 10**7) for i in range(4, n_org + 1, 4) for c in LIMITED],
    )
    reset_sequences([Reseller, Organization])
    return counts


def resource_ids() -> dict[str, int]:
    """Code → id of the eight resources of SERVICES, in catalog order."""
    from hostmeter.tenancy.models import Resource

    return dict(
        Resource.objects.filter(service__code__in=SERVICES)
        .order_by("service__position", "position")
        .values_list("code", "id")
    )


def samples(plan: Plan, rounds: Iterable[int]) -> Iterator[tuple[int, int, datetime, int, str]]:
    """(organization id, resource id, measured at, thousandths, source) of the given
    collection rounds (0 … plan.rounds - 1), in time order as collectors deliver them:
    every organization's readings of one round, then the next round.

    Rounds are spread over each day, the day's last one on its cut-off for one
    organization in sixty (the boundary belongs to that day). One organization ×
    resource pair in fifty has no samples at all: its row must still say 0.
    """
    # Queried now, not when the first row is asked for: a consumer may be in the
    # middle of a COPY on the same connection by then.
    resources = list(resource_ids().values())
    return _samples(plan, list(rounds), resources)


def _samples(plan, rounds, resources):
    step = DAY / plan.samples_per_day
    jitters = [timedelta(minutes=m) for m in range(60)]
    for seq in rounds:
        day, k = divmod(seq, plan.samples_per_day)
        base = plan.start + day * DAY + (k + 1) * step
        times = [base - j for j in jitters]
        for org in range(1, plan.orgs + 1):
            at = times[(org * 7) % 60]
            for ri, res in enumerate(resources):
                if (org + ri) % 50:
                    value = (org * 7919 + res * 104729 + seq * 15485863) % 10**7
                    yield org, res, at, value, "bench"


def samples_bulk_load(rows: Iterable[tuple[int, int, datetime, int, str]]) -> int:
    """The database's own bulk path, to build the data quickly: one COPY on PostgreSQL,
    multi-row INSERTs on SQLite (each its own transaction, so the WAL is checkpointed
    as it goes). Returns the rows loaded."""
    columns = ["organization_id", "resource_id", "measured_at", "value", "source", "created_at"]
    now = timezone.now()
    if connection.vendor != "postgresql":
        # Not cursor.executemany(): Django's SQLite wrapper tees its parameter
        # iterator to peek at the first row, which keeps every row in memory.
        adapt = connection.ops.adapt_datetimefield_value
        stamp = adapt(now)
        return insert_rows(
            UsageSample._meta.db_table,
            columns,
            ((org, res, adapt(at), value, src, stamp) for org, res, at, value, src in rows),
            atomic=False,
        )
    count = 0
    with transaction.atomic():
        table = connection.ops.quote_name(UsageSample._meta.db_table)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row((*row, now))
                count += 1
        return count


def ingest_rows(plan: Plan) -> Iterator[tuple[int, dict[str, str]]]:
    """One extra reading per organization (up to plan.ingest_orgs of them) in the middle
    of the last day, as the import formats give them (domain, resource code, ISO 8601
    text, decimal text)."""
    codes = list(resource_ids())
    at = (plan.start + (plan.days - 1) * DAY + timedelta(hours=12, minutes=30)).isoformat()
    for org in range(1, min(plan.orgs, plan.ingest_orgs) + 1):
        yield (
            org,
            {
                "organization": f"org{org}.bench.example",
                "resource": codes[org % len(codes)],
                "measured_at": at,
                "value": f"{org % 10000}.{org % 1000:03d}",
                "source": "ingest",
            },
        )
