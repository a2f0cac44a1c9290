"""The customer base of the Usage pages benchmark: nested resellers, organizations with
services and limits, two completed usage updates and report records, inserted in bulk.

Everything is a pure function of (resellers, organizations), so two runs and two
engines get the same data, and the small data set has the same shape as the large one.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from bench.bulk import (
    analyze,
    cutoffs,
    insert_rows,
    log,
    now_value,
    reset_sequences,
    resources_by_service,
    samples,
    samples_store,
    service_ids,
    update_run,
)
from hostmeter.tenancy.names import name_key

ADJECTIVES = (
    "Acme", "Blue", "Northern", "Rapid", "Silver", "Green", "Bright", "Prime", "Urban",
    "Alpine", "Coastal", "Digital", "Metro", "Nova", "Pacific", "Summit", "Vertex", "Zenith",
    "Orbit", "Pixel", "Müller", "Café",
)  # fmt: skip
KINDS = (
    "Hosting", "Web Services", "Cloud", "Networks", "Media", "Systems", "Data", "IT",
    "Solutions", "Internet",
)  # fmt: skip
TRADES = (
    "Bakery", "Law Office", "Dental Care", "Garage", "Bookshop", "Florist", "Studio",
    "Consulting", "Brewery", "Pharmacy", "Architects", "Yoga", "Plumbing", "Gallery",
    "Vineyard", "School", "Clinic", "Hotel", "Kitchen", "Travel",
)  # fmt: skip
# Reseller services: web and mail always, the others for some.
RESELLER_EXTRA = {"db": 2, "dns": 3, "ftp": 4, "ssl": 5, "backup": 6}
# Organization services: web always, the others for some, so that organizations differ
# in what they have and the usage rows per organization vary.
ORG_EXTRA = {"mail": 3, "db": 2, "dns": 4, "ftp": 5, "ssl": 6, "backup": 7}
LIMITED_RESELLER = ("disk_space", "bandwidth", "mailboxes")
LIMITED_ORG = ("disk_space", "mailboxes")
SEARCH = "cloud"  # one reseller in ten is a "… Cloud …"


@dataclass(frozen=True)
class Plan:
    resellers: int
    orgs: int
    # organizations added by reseller 1 itself (one in four, from the first): the customer
    # base of a reseller login's benchmark
    heavy: int = 0

    @property
    def big(self) -> int:
        """Resellers 1 … big (top-level ones) share a third of the organizations."""
        return max(1, self.resellers // 100)


def reseller_parent(i: int, total: int) -> int | None:
    """70 % top-level resellers, 20 % their sub-resellers, 10 % one level further down."""
    top, middle = max(1, int(total * 0.7)), int(total * 0.9)
    if i <= top:
        return None
    if i <= middle:
        return (i * 7) % top + 1
    return top + (i * 13) % max(1, middle - top) + 1


def reseller_name(i: int) -> tuple[str, str]:
    adjective = ADJECTIVES[(i // len(KINDS) * 7) % len(ADJECTIVES)]
    kind = KINDS[i % len(KINDS)]
    slug = f"{adjective}-{kind}".lower().replace(" ", "-").replace("ü", "u").replace("é", "e")
    return f"{adjective} {kind} {i}", f"{slug}-{i}.example"


def org_name(i: int) -> tuple[str, str]:
    h = (i * 2654435761) % 2**32  # names not in id order
    adjective, trade = ADJECTIVES[h % len(ADJECTIVES)], TRADES[(h >> 8) % len(TRADES)]
    slug = f"{adjective}-{trade}".lower().replace(" ", "-").replace("ü", "u").replace("é", "e")
    return f"{adjective} {trade} {i}", f"{slug}-{i}.example"


def keyed(named: tuple[str, str]) -> tuple[str, str, str]:
    """(name, domain) → (name, its sort key, domain), as the models store them."""
    name, domain = named
    return name, name_key(name), domain


def org_reseller(i: int, plan: Plan) -> int | None:
    """With `heavy`, one in four goes to reseller 1 first. Then one organization in ten is
    added directly; a third go to the first `big` resellers (all top-level); the rest are
    spread over every reseller."""
    if i % 4 == 1 and i // 4 < plan.heavy:
        return 1
    if i % 10 == 0:
        return None
    if i % 3 == 0:
        return (i * 31) % plan.big + 1
    return (i * 7919) % plan.resellers + 1


def org_services(i: int) -> list[str]:
    return ["web"] + [code for code, every in ORG_EXTRA.items() if i % every != 0]


def reseller_services(i: int) -> list[str]:
    return ["web", "mail"] + [code for code, every in RESELLER_EXTRA.items() if i % every == 0]


def pairs(plan: Plan, services: dict[str, int], resources: dict[int, list[int]]):
    """A callable giving every (organization, resource) pair of the enabled services."""

    def each() -> Iterator[tuple[int, int]]:
        for org in range(1, plan.orgs + 1):
            for code in org_services(org):
                for res in resources[services[code]]:
                    yield org, res

    return each


def generate(plan: Plan) -> dict:
    """The whole data set; returns counts."""
    from hostmeter.metering.models import UsageUpdate
    from hostmeter.tenancy.models import Organization, Reseller, Resource, ResourceLimit
    from hostmeter.tenancy.services import reseller_links_rebuild

    now = now_value()
    services = service_ids()
    resources = resources_by_service()
    codes = dict(Resource.objects.values_list("code", "id"))
    counts = {}
    counts["resellers"] = insert_rows(
        Reseller._meta.db_table,
        ["id", "name", "name_key", "domain", "parent_id", "contact_name", "contact_email"]
        + ["is_suspended", "created_at"],
        (
            (i, *keyed(reseller_name(i)), reseller_parent(i, plan.resellers), "", "", False, now)
            for i in range(1, plan.resellers + 1)
        ),
    )
    insert_rows(
        Reseller.services.through._meta.db_table,
        ["reseller_id", "service_id"],
        ((i, services[s]) for i in range(1, plan.resellers + 1) for s in reseller_services(i)),
    )
    counts["reseller_links"] = reseller_links_rebuild()
    counts["organizations"] = insert_rows(
        Organization._meta.db_table,
        ["id", "name", "name_key", "domain", "reseller_id", "is_suspended", "created_at"],
        (
            (i, *keyed(org_name(i)), org_reseller(i, plan), False, now)
            for i in range(1, plan.orgs + 1)
        ),
    )
    counts["organization_services"] = insert_rows(
        Organization.services.through._meta.db_table,
        ["organization_id", "service_id"],
        ((i, services[s]) for i in range(1, plan.orgs + 1) for s in org_services(i)),
    )
    limits = [(rid, None, None, 10**15) for rid in codes.values()]
    limits += [
        (codes[c], i, None, 10**11) for i in range(1, plan.resellers + 1) for c in LIMITED_RESELLER
    ]
    limits += [(codes[c], None, i, 10**8) for i in range(4, plan.orgs + 1, 4) for c in LIMITED_ORG]
    counts["limits"] = insert_rows(
        ResourceLimit._meta.db_table,
        ["resource_id", "reseller_id", "organization_id", "limit"],
        limits,
    )
    reset_sequences([Reseller, Organization])
    log(f"tenancy: {counts}")

    days = cutoffs(2)
    counts["samples"] = samples_store(samples(pairs(plan, services, resources), days, per_day=1))
    log(f"{counts['samples']:,} samples stored")
    analyze()
    updates = []
    for cutoff in days:
        updates.append(update_run(cutoff))
        log(f"usage update as of {cutoff:%Y-%m-%d %H:%M}: {updates[-1].rows_count:,} rows")
    counts["usage_rows"] = updates[-1].rows_count
    counts["reports"] = reports_generate(plan, updates)
    analyze()
    counts["updates"] = UsageUpdate.objects.count()
    return counts


STATUSES = ["ready"] * 7 + ["queued", "generating", "failed"]


def reports_generate(plan: Plan, updates) -> int:
    """Report records in every status for the latest update (a reseller in three, an
    organization in seven), and Ready ones of the previous update (every other reseller)."""
    from hostmeter.reports.models import Report

    now = now_value()
    columns = ["kind", "reseller_id", "organization_id", "update_id", "format", "status"]
    columns += ["progress", "error", "requested_at", "started_at", "heartbeat_at"]
    columns += ["generated_at", "file", "row_count", "size", "sha256"]

    def row(kind, reseller, org, update, status):
        done = status == "ready"
        return (
            kind, reseller, org, update.pk, "csv", status,
            100 if done else (40 if status == "generating" else 0),
            "OperationalError: disk full" if status == "failed" else "",
            now, None if status == "queued" else now, None if status == "queued" else now,
            now if done else None, "", 120 if done else None, 48_000 if done else None, "",
        )  # fmt: skip

    latest, previous = updates[-1], updates[0]

    def rows():
        for i in range(2, plan.resellers + 1, 2):
            yield row("reseller", i, None, previous, "ready")
        for i in range(3, plan.resellers + 1, 3):
            yield row("reseller", i, None, latest, STATUSES[(i // 3) % len(STATUSES)])
        for i in range(7, plan.orgs + 1, 7):
            yield row("organization", None, i, latest, STATUSES[(i // 7) % len(STATUSES)])

    return insert_rows(Report._meta.db_table, columns, rows())
