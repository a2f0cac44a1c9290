"""WHAT-IF, not the shipped code: the fixes proposed for the Usage pages, applied by
monkeypatching hostmeter.reports.selectors inside the benchmark's own process (and one
index created in its throw-away database), so `python -m bench.pages --what-if` can
measure their effect next to the shipped code. Nothing here changes the application.

1. Sort keys that cannot be NULL (names, ids, the status rank) are ordered without
   NULLS FIRST / NULLS LAST: PostgreSQL can then walk the (lower(name), id) indexes
   instead of sorting every row (ASC NULLS FIRST matches neither direction of a
   default b-tree index).
2. A row's report is one LEFT JOIN (FilteredRelation; the unique constraints allow at
   most one CSV report per subject and update) instead of five correlated subqueries,
   four of them repeated inside the status rank's CASE, which PostgreSQL evaluates for
   every row an OFFSET skips or a status sort ranks. The page count is taken from the
   filtered queryset before that join, which Django's count() would otherwise keep.
3. The summary's top resellers per resource come from one small index range per
   resource (LIMIT 5 each, UNION ALL) through an index on (update, resource, used
   DESC, reseller), instead of ranking every reseller × resource roll-up with a window
   function.
"""

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F, FilteredRelation, Q
from django.db.models.expressions import RawSQL

TOP_INDEX = "bench_whatif_rollup_top"
NULLABLE_SORTS = {"updated", "reseller"}  # report_generated_at, the reseller's name


def _order(qs, sorts, sort):
    key = sort.lstrip("-")
    if key not in sorts:
        sort, key = "name", "name"
    descending = sort.startswith("-")
    order = []
    for i, f in enumerate((*sorts[key], "pk")):
        expr = f if hasattr(f, "resolve_expression") else F(f)
        if i == 0 and key in NULLABLE_SORTS:
            order.append(expr.desc(nulls_last=True) if descending else expr.asc(nulls_first=True))
        else:
            order.append(expr.desc() if descending else expr.asc())
    return qs.order_by(*order), sort


def _with_report(qs, *, kind, update, holder):
    from hostmeter.reports import selectors

    base = qs
    qs = qs.annotate(
        this_report=FilteredRelation(
            "reports",
            condition=Q(reports__kind=kind, reports__update=update, reports__format="csv"),
        )
    ).annotate(
        report_id=F("this_report__id"),
        report_status=F("this_report__status"),
        report_progress=F("this_report__progress"),
        report_generated_at=F("this_report__generated_at"),
        report_error=F("this_report__error"),
    )
    qs = qs.annotate(report_rank=selectors.STATUS_RANK)
    # Query.clone() copies attributes, so the page can count the rows without the join.
    qs.query.bench_count_source = base
    return qs


def _page(qs, page, per_page):
    paginator = Paginator(qs, per_page)
    if (source := getattr(qs.query, "bench_count_source", None)) is not None:
        paginator.count = source.count()  # count is a cached_property
    return paginator.get_page(page)


def top_resellers(*, update, per_resource: int = 5) -> dict[int, list]:
    from hostmeter.metering.models import UsageRollup
    from hostmeter.tenancy.models import Resource

    if update is None:
        return {}
    ids = list(Resource.objects.order_by("pk").values_list("pk", flat=True))
    table = connection.ops.quote_name(UsageRollup._meta.db_table)
    part = (
        f"SELECT id FROM (SELECT id FROM {table} WHERE update_id = %s AND resource_id = %s "
        "AND reseller_id IS NOT NULL AND used > 0 ORDER BY used DESC, reseller_id LIMIT %s) t{}"
    )
    sql = " UNION ALL ".join(part.format(i) for i in range(len(ids)))
    params = [v for rid in ids for v in (update.pk, rid, per_resource)]
    top: dict[int, list] = {}
    ranked = (
        UsageRollup.objects.filter(pk__in=RawSQL(sql, params))
        .select_related("reseller")
        .order_by("resource_id", "-used", "reseller_id")
    )
    for rollup in ranked:
        top.setdefault(rollup.resource_id, []).append(rollup)
    return top


def apply() -> None:
    """Patches the selectors and adds the index (to this throw-away database only)."""
    from hostmeter.metering.models import UsageRollup
    from hostmeter.reports import selectors

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {TOP_INDEX} ON "
            f"{connection.ops.quote_name(UsageRollup._meta.db_table)} "
            "(update_id, resource_id, used DESC, reseller_id)"
        )
        cursor.execute("ANALYZE")
    selectors._order = _order
    selectors._with_report = _with_report
    selectors._page = _page
    selectors.top_resellers = top_resellers


def remove_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {TOP_INDEX}")
