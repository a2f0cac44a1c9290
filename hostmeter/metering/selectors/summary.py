"""The summary tab's figures: customer counts, per-service figures with their
subscribers, and the resellers using most of each resource (of the provider, or of
the subtree of a reseller login)."""

from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Count,
    Q,
)
from django.db.models.expressions import RawSQL

from hostmeter.tenancy.models import Organization, Reseller, ResellerLink

from ..models import UsageRollup, UsageUpdate
from ..scope import subtree_at
from .figures import _NO_RESOURCE, rollup_figures

_FEW_SUB_RESELLERS = 100  # top_resellers: a subtree this small goes in as a list of ids


def provider_summary(
    *, update: UsageUpdate | None, compare: ZoneInfo | None = None
) -> dict[str, Any]:
    """Counts, per-service figures and top resellers for the summary tab (compare: as in
    rollup_figures)."""
    return _summary(update=update, reseller=None, counts=_customer_counts(), compare=compare)


def _summary(
    *,
    update: UsageUpdate | None,
    reseller: Reseller | None,
    counts: dict[str, int],
    compare: ZoneInfo | None,
) -> dict[str, Any]:
    """A summary tab's parts: the roll-up's figures per service with its subscribers, the
    customer counts given plus subscriptions and services, and the top resellers (below
    the reseller, when one is given)."""
    services = rollup_figures(update=update, reseller=reseller, compare=compare)
    # Every resource of an enabled service has a row per organization, so the
    # roll-up already counts each service's subscribers as of the update.
    for group in services:
        group.subscribers = max((f.organizations or 0 for f in group.resources), default=0)
    counts = counts | {
        "subscriptions": sum(g.subscribers or 0 for g in services),
        "services": sum(1 for g in services if g.subscribers),
    }
    resource_ids = [f.resource.pk for group in services for f in group.resources]
    top = top_resellers(update=update, resource_ids=resource_ids, below=reseller)
    return {"counts": counts, "services": services, "top": top}


def subtree_counts(reseller: Reseller) -> dict[str, int]:
    """A reseller's sub-resellers at every depth, those at depth 1, its organizations and
    those it added directly."""
    below = ResellerLink.objects.filter(ancestor=reseller)
    counts = below.aggregate(
        direct_sub_resellers=Count("pk", filter=Q(depth=1)),
        sub_resellers=Count("pk", filter=Q(depth__gt=0)),
    )
    counts |= Organization.objects.filter(reseller_id__in=below.values("descendant_id")).aggregate(
        direct_organizations=Count("pk", filter=Q(reseller=reseller)),
        organizations=Count("pk"),
    )
    return counts


def reseller_summary(
    *, reseller: Reseller, update: UsageUpdate | None, compare: ZoneInfo | None = None
) -> dict[str, Any]:
    """The summary tab of a reseller login: provider_summary's parts for the reseller's
    subtree (its limits and what it allocated, not the provider's capacity; its
    sub-resellers as the resellers, those below its own as their sub-resellers; the top
    resellers among those below it)."""
    below = subtree_counts(reseller)
    counts = {
        "resellers": below["sub_resellers"],
        "sub_resellers": below["sub_resellers"] - below["direct_sub_resellers"],
        "organizations": below["organizations"],
        "direct": below["direct_organizations"],
    }
    return _summary(update=update, reseller=reseller, counts=counts, compare=compare)


def _customer_counts() -> dict[str, int]:
    """Resellers, sub-resellers, organizations and those added directly: four plain
    counts. Two aggregates with FILTER read and tested every row (~17 ms of PostgreSQL
    at 100,000 organizations), a bare count and one through the parent or reseller
    index take ~6 (docs/benchmarks.md, Load). On PostgreSQL they are one statement, one
    round trip; SQLite counts a whole table from its b-tree alone only in a statement
    of its own (inside one it reads every row, ~3 ms)."""
    if connection.vendor != "postgresql":
        return {
            "resellers": Reseller.objects.count(),
            "sub_resellers": Reseller.objects.filter(parent__isnull=False).count(),
            "organizations": Organization.objects.count(),
            "direct": Organization.objects.filter(reseller__isnull=True).count(),
        }
    q = connection.ops.quote_name
    resellers, organizations = q(Reseller._meta.db_table), q(Organization._meta.db_table)
    parent = q(Reseller._meta.get_field("parent").column)
    owner = q(Organization._meta.get_field("reseller").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT COUNT(*) FROM {resellers}), "
            f"(SELECT COUNT(*) FROM {resellers} WHERE {parent} IS NOT NULL), "
            f"(SELECT COUNT(*) FROM {organizations}), "
            f"(SELECT COUNT(*) FROM {organizations} WHERE {owner} IS NULL)"
        )
        found = cursor.fetchone()
    names = ("resellers", "sub_resellers", "organizations", "direct")
    return {name: int(n) for name, n in zip(names, found, strict=True)}


def top_resellers(
    *,
    update: UsageUpdate | None,
    resource_ids: list[int],
    per_resource: int = 5,
    below: Reseller | None = None,
) -> dict[int, list[UsageRollup]]:
    """Per resource id, the resellers using most of it (sub-resellers are resellers too;
    below: only those under that reseller).

    One short range of the (update, resource, used DESC, reseller) index per resource,
    glued with UNION ALL: ranking every reseller's roll-up with a window function was
    the summary's slowest statement (docs/benchmarks.md, Usage pages, "Where the time
    goes"). The ORM refuses LIMIT inside a compound statement on SQLite, so the parts
    are the ORM's own SQL, each wrapped in a sub-select.
    """
    if update is None or not resource_ids:
        return {}
    subtree: Any = None
    if below is not None:  # those below it as the update froze the tree
        tree = subtree_at(below, update).reseller_ids()
        # A few sub-resellers go in as their ids, so that the database reads their own
        # roll-ups: given the subtree as a subquery it cannot tell how few it holds, and
        # walks the index of every reseller's roll-ups by use looking for them.
        few = list(
            Reseller.objects.filter(pk__in=tree)
            .exclude(pk=below.pk)
            .order_by()
            .values_list("pk", flat=True)[: _FEW_SUB_RESELLERS + 1]
        )
        if not few:
            return {}
        subtree = few if len(few) <= _FEW_SUB_RESELLERS else tree

    def leaders_sql(resource_id: int) -> tuple[str, list[Any]]:
        rollups = UsageRollup.objects.filter(
            update=update, resource_id=resource_id, reseller__isnull=False, used__gt=0
        )
        if below is not None:
            rollups = rollups.filter(reseller_id__in=subtree).exclude(reseller_id=below.pk)
        leaders = rollups.order_by("-used", "reseller_id").values("pk")[:per_resource]
        sql, params = leaders.query.get_compiler(using=leaders.db).as_sql()
        return str(sql), list(params)

    # The parts differ in their resource only: one is compiled (with an id no resource
    # has) and its resource parameter replaced, not one compiled a resource (~0.4 ms each)
    sql, shape = leaders_sql(_NO_RESOURCE)
    at = [i for i, value in enumerate(shape) if value == _NO_RESOURCE]
    parts: list[str] = []
    params: list[Any] = []
    for n, resource_id in enumerate(resource_ids):
        if len(at) == 1:
            part_sql, part_params = (
                sql,
                [resource_id if i in at else v for i, v in enumerate(shape)],
            )
        else:  # the parameters did not say where the resource goes
            part_sql, part_params = leaders_sql(resource_id)
        parts.append(f"SELECT * FROM ({part_sql}) leaders_{n}")
        params.extend(part_params)
    ranked = (
        UsageRollup.objects.filter(pk__in=RawSQL(" UNION ALL ".join(parts), params))
        .select_related("reseller")
        .order_by("resource_id", "-used", "reseller_id")
    )
    top: dict[int, list[UsageRollup]] = {}
    for rollup in ranked:
        top.setdefault(rollup.resource_id, []).append(rollup)
    return top
