"""What a report holds: one column definition per report kind, and the SQL that yields
its rows already formatted as text, so that writers only move bytes.

The same definitions give the CSV file (streamed by the database where it can), the
XLSX file and the column list shown on the export reports tab.
"""

from dataclasses import dataclass

from django.db import connection

from hostmeter.metering.models import (
    ResellerSnapshot,
    UsageAdjustment,
    UsageRollup,
    UsageRow,
    UsageUpdate,
)
from hostmeter.metering.selectors.updates import usage_period_of
from hostmeter.tenancy.models import Organization, Provider, Reseller, Resource, Service

from .models import Report

TEXT, NUMBER = "text", "number"


@dataclass(frozen=True)
class Column:
    header: str
    sql: str
    kind: str = TEXT


# Dialect pieces: thousandths as a decimal text, a guard for spreadsheet formulas.
# Every query runs with parameters, so a literal % is written %%.
def _dialect() -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {
            "qty": "(({x}) / 1000)::text || '.' || lpad((({x}) %% 1000)::text, 3, '0')",
            "tenths": "(({x}) / 10)::text || '.' || (({x}) %% 10)::text",
            "tab": "chr(9)",
            "cr": "chr(13)",
            "lf": "chr(10)",
        }
    return {
        "qty": "printf('%%d.%%03d', ({x}) / 1000, ({x}) %% 1000)",
        "tenths": "printf('%%d.%%d', ({x}) / 10, ({x}) %% 10)",
        "tab": "char(9)",
        "cr": "char(13)",
        "lf": "char(10)",
    }


def qty(expr: str, *, whole: bool = False) -> str:
    """Whole thousandths → "12.500" (or "-0.500"; with whole, "3" when it is whole);
    NULL stays NULL (an empty cell). expr should be a column, not a computation."""
    fmt = _dialect()["qty"]
    whole_case = f"WHEN ({expr}) %% 1000 = 0 THEN CAST(({expr}) / 1000 AS TEXT) " if whole else ""
    return (
        f"CASE WHEN ({expr}) IS NULL THEN NULL {whole_case}"
        f"WHEN ({expr}) < 0 THEN '-' || {fmt.format(x=f'-({expr})')} "
        f"ELSE {fmt.format(x=expr)} END"
    )


def percent(used: str, limit: str) -> str:
    """used ÷ limit as a percentage with one decimal, rounded half up; NULL without a limit."""
    tenths = f"(({used}) * 1000 + ({limit}) / 2) / ({limit})"
    return f"CASE WHEN ({limit}) > 0 THEN {_dialect()['tenths'].format(x=tenths)} END"


def text(expr: str, *, guard: bool = True) -> str:
    """A text cell: line breaks folded to spaces, and (with guard, for CSV) a leading
    = + - @ tab or CR neutralised with an apostrophe so spreadsheets never run it as a
    formula. XLSX needs no guard: its cells are typed, a string is never a formula."""
    d = _dialect()
    clean = f"REPLACE(REPLACE({expr}, {d['cr']}, ' '), {d['lf']}, ' ')"
    if not guard:
        return clean
    return (
        f"CASE WHEN substr({expr}, 1, 1) IN ('=', '+', '-', '@', {d['tab']}, {d['cr']}) "
        f"THEN '''' || {clean} ELSE {clean} END"
    )


def _q(model_or_name) -> str:
    name = model_or_name if isinstance(model_or_name, str) else model_or_name._meta.db_table
    return connection.ops.quote_name(name)


def _resources() -> list[Resource]:
    return list(
        Resource.objects.select_related("service").order_by("service__position", "position")
    )


def _unit(resource: Resource) -> str:
    return f" ({resource.unit})" if resource.unit != "count" else ""


def _pivot(resources: list[Resource], alias: str) -> tuple[str, list[Column]]:
    """Per resource a used and a limit column, and for a gauge the period's peak: the raw
    MAX(…) expressions for the inner, grouped query, and the formatted columns the outer
    query selects from its alias."""
    limit = _q("limit")
    inner, columns = [], []
    for r in resources:
        unit = _unit(r)
        figures = [("used", "used", "used"), ("limit", limit, "limit")]
        if r.kind == Resource.Kind.GAUGE:
            figures.append(("peak", "peak", "peak this period"))
        for label, field, header in figures:
            name = f"{label}_{int(r.pk)}"
            inner.append(f"MAX(CASE WHEN resource_id = {int(r.pk)} THEN {field} END) AS {name}")
            columns.append(
                Column(f"{r.name} {header}{unit}", qty(f"{alias}.{name}", whole=not unit), NUMBER)
            )
    return ", ".join(inner), columns


LATE_HEADER = "late usage after close"


def _late_pivot(resources: list[Resource], alias: str, used: str) -> tuple[str, list[Column]]:
    """Per counter a "late usage after close" column: the SUM(…) expressions for a query
    grouped like the adjustments it reads, and the formatted columns, 0 where the row has
    the counter but nothing arrived late (used: the alias of the row's used figures)."""
    inner, columns = [], []
    for r in resources:
        if r.kind != Resource.Kind.COUNTER:
            continue
        unit, name = _unit(r), f"late_{int(r.pk)}"
        # BIGINT: PostgreSQL sums a bigint as numeric, which qty would not divide whole
        sums = f"SUM(CASE WHEN resource_id = {int(r.pk)} THEN value END)"
        inner.append(f"CAST({sums} AS BIGINT) AS {name}")
        cell = f"COALESCE({alias}.{name}, CASE WHEN {used}.used_{int(r.pk)} IS NOT NULL THEN 0 END)"
        columns.append(Column(f"{r.name} {LATE_HEADER}{unit}", qty(cell, whole=not unit), NUMBER))
    return ", ".join(inner), columns


# The adjustments of the report's billing period: late usage found after it closed. Only
# a closed period's report lists them; they are few (late samples of a closed month).
ADJUSTED = (
    f"{_q(UsageAdjustment)} a WHERE a.period_start = "
    f"(SELECT u.period_start FROM {_q(UsageUpdate)} u WHERE u.id = %(update)s)"
)


@dataclass(frozen=True)
class ReportQuery:
    columns: list[Column]
    sql: str  # SELECT … with named %(…)s parameters
    count_sql: str
    params: dict


AS_OF = Column("Usage as of", "%(as_of)s")


def report_query(*, report: Report) -> ReportQuery:
    """The columns and SQL of a report's rows (every row of its subject, in order); text
    cells carry the formula guard in CSV files only. A closed period's report also has
    the late usage found after the period closed."""
    update: UsageUpdate = report.update
    params = {"update": update.pk, "as_of": usage_as_of(update)}
    builder = {
        Report.Kind.RESELLER: _organizations_query,
        Report.Kind.ORGANIZATION: _organizations_query,
        Report.Kind.ORGANIZATIONS: _organizations_query,
        Report.Kind.RESELLERS: _resellers_query,
        Report.Kind.SUMMARY: _summary_query,
    }[report.kind]
    return builder(report, params, guard=report.format == Report.Format.CSV)


def usage_as_of(update: UsageUpdate) -> str:
    """The "Usage as of" cell: "November 2026 (closed)" for a period's closing update,
    "December 2026 to date (as of 2026-12-04 02:00 CET)" otherwise (the provider's zone).
    No comma, so that a cell of a comma-separated file needs no quotes."""
    zone = Provider.get().zone
    when = f"{update.cutoff.astimezone(zone):%Y-%m-%d %H:%M %Z}"
    found = usage_period_of(update=update, zone=zone)
    if found is None:
        return f"as of {when}"
    if found.closed:
        return f"{found.period.label} (closed)"
    return f"{found.period.label} to date (as of {when})"


def _tree(subject: str) -> str:
    """The CTE `tree(id)`: the reseller `subject` names and its sub-resellers at every
    depth, as the update froze them (its snapshots), not as they are now."""
    return (
        f"tree(id) AS (SELECT CAST(%({subject})s AS BIGINT) UNION ALL "
        f"SELECT s.reseller_id FROM {_q(ResellerSnapshot)} s JOIN tree t "
        "ON s.parent_id = t.id WHERE s.update_id = %(update)s)"
    )


def _with(*ctes: str) -> str:
    found = [c for c in ctes if c]
    return f"WITH RECURSIVE {', '.join(found)} " if found else ""


def _organizations_query(report: Report, params: dict, *, guard: bool) -> ReportQuery:
    """One row per organization, as frozen in the update (its reseller at that time), and
    for a closed period the late usage of each counter found after it closed."""
    resources = _resources()
    pivot, usage_columns = _pivot(resources, "p")
    late_columns: list[Column] = []
    late_join = ""
    if report.update.closes_period:
        late_pivot, late_columns = _late_pivot(resources, "adj", "p")
        if late_columns:
            late_join = (
                f"LEFT JOIN (SELECT organization_id, {late_pivot} FROM {ADJUSTED} "
                "GROUP BY organization_id) adj ON adj.organization_id = p.organization_id "
            )
    columns = [
        AS_OF,
        Column("Organization", text("o.name", guard=guard)),
        Column("Domain", text("o.domain", guard=guard)),
        Column("Reseller", f"COALESCE({text('rs.name', guard=guard)}, 'direct')"),
        Column("Reseller domain", text("rs.domain", guard=guard)),
        *usage_columns,
        *late_columns,
    ]
    where, tree = "update_id = %(update)s", ""
    if report.kind == Report.Kind.RESELLER or report.subtree_id:
        # a reseller's organizations (a reseller login's: its subtree's), with its
        # sub-resellers' as the update froze them
        tree = _with(_tree("subject"))
        where += " AND reseller_id IN (SELECT id FROM tree)"
        params["subject"] = report.reseller_id or report.subtree_id
    elif report.kind == Report.Kind.ORGANIZATION:
        where += " AND organization_id = %(subject)s"
        params["subject"] = report.organization_id
    inner = (
        f"SELECT organization_id, reseller_id, {pivot} FROM {_q(UsageRow)} WHERE {where} "
        "GROUP BY organization_id, reseller_id"
    )
    select = ", ".join(c.sql for c in columns)
    return ReportQuery(
        columns=columns,
        sql=f"{tree}SELECT {select} FROM ({inner}) p JOIN {_q(Organization)} o "
        f"ON o.id = p.organization_id LEFT JOIN {_q(Reseller)} rs ON rs.id = p.reseller_id "
        f"{late_join}ORDER BY o.name_key, o.id",
        count_sql=f"{tree}SELECT COUNT(DISTINCT organization_id) FROM {_q(UsageRow)} WHERE {where}",
        params=params,
    )


def _resellers_query(report: Report, params: dict, *, guard: bool) -> ReportQuery:
    """One row per reseller the update froze: its roll-up (sub-resellers included) per
    resource, and its organizations; a reseller with nothing yet has a row too. For a
    closed period, the late usage found after it closed, summed the same way."""
    resources = _resources()
    pivot, usage_columns = _pivot(resources, "p")
    late_columns: list[Column] = []
    up = late_join = ""
    if report.update.closes_period:
        late_pivot, late_columns = _late_pivot(resources, "adj", "p")
        if late_columns:
            # each reseller of the update's tree with itself and every reseller above it,
            # so that an organization's late usage counts for each of them, as roll-ups do
            up = (
                "up(reseller_id, ancestor_id) AS ("
                f"SELECT reseller_id, reseller_id FROM {_q(ResellerSnapshot)} "
                "WHERE update_id = %(update)s UNION ALL "
                f"SELECT up.reseller_id, s.parent_id FROM up JOIN {_q(ResellerSnapshot)} s "
                "ON s.reseller_id = up.ancestor_id AND s.update_id = %(update)s "
                "WHERE s.parent_id IS NOT NULL)"
            )
            # an organization's reseller at the update (any of its rows holds it)
            held_by = (
                f"(SELECT r.reseller_id FROM {_q(UsageRow)} r WHERE r.update_id = %(update)s "
                "AND r.organization_id = a.organization_id LIMIT 1)"
            )
            adjusted = f"SELECT a.resource_id, a.value, {held_by} AS held_by FROM {ADJUSTED}"
            late_join = (
                f"LEFT JOIN (SELECT up.ancestor_id AS reseller_id, {late_pivot} "
                f"FROM ({adjusted}) l JOIN up ON up.reseller_id = l.held_by "
                "GROUP BY up.ancestor_id) adj ON adj.reseller_id = snap.reseller_id "
            )
    columns = [
        AS_OF,
        Column("Reseller", text("rs.name", guard=guard)),
        Column("Domain", text("rs.domain", guard=guard)),
        Column("Parent reseller", text("parent.name", guard=guard)),
        Column("Organizations", "CAST(snap.organizations_count AS TEXT)", NUMBER),
        *usage_columns,
        *late_columns,
    ]
    inner = (
        f"SELECT reseller_id, {pivot} FROM {_q(UsageRollup)} "
        "WHERE update_id = %(update)s AND reseller_id IS NOT NULL GROUP BY reseller_id"
    )
    where, tree = "snap.update_id = %(update)s", ""
    if report.subtree_id:
        # a reseller login's: its sub-resellers, as the update froze them
        tree = _tree("subtree")
        where += (
            " AND snap.reseller_id IN (SELECT id FROM tree) AND snap.reseller_id <> %(subtree)s"
        )
        params["subtree"] = report.subtree_id
    select = ", ".join(c.sql for c in columns)
    return ReportQuery(
        columns=columns,
        sql=f"{_with(tree, up)}SELECT {select} FROM {_q(ResellerSnapshot)} snap "
        f"JOIN {_q(Reseller)} rs ON rs.id = snap.reseller_id "
        f"LEFT JOIN {_q(Reseller)} parent ON parent.id = snap.parent_id "
        f"LEFT JOIN ({inner}) p ON p.reseller_id = snap.reseller_id "
        f"{late_join}WHERE {where} ORDER BY rs.name_key, rs.id",
        count_sql=f"{_with(tree)}SELECT COUNT(*) FROM {_q(ResellerSnapshot)} snap WHERE {where}",
        params=params,
    )


def _summary_query(report: Report, params: dict, *, guard: bool) -> ReportQuery:
    """One row per resource: the provider's limit, sold, available, used, usage % and the
    period's peak of a gauge; for a closed period, a counter's late usage after it closed.
    A reseller login's (subtree): its reseller's limit, what it allocated, and the usage
    and late usage of its subtree."""
    limit = _q("limit")
    late_columns, late_join, tree = [], "", ""
    holder = "g.reseller_id IS NULL"
    adjusted = ADJUSTED
    if report.subtree_id:
        holder = "g.reseller_id = %(subtree)s"
        params["subtree"] = report.subtree_id
        tree = _tree("subtree")
        adjusted += (
            f" AND a.organization_id IN (SELECT r.organization_id FROM {_q(UsageRow)} r "
            "WHERE r.update_id = %(update)s AND r.reseller_id IN (SELECT id FROM tree))"
        )
    if report.update.closes_period:
        late = "CASE WHEN r.kind = 'counter' THEN COALESCE(adj.late, 0) END"
        late_columns = [Column(LATE_HEADER.capitalize(), qty(late, whole=True), NUMBER)]
        late_join = (
            f"LEFT JOIN (SELECT resource_id, CAST(SUM(value) AS BIGINT) AS late FROM {adjusted} "
            "GROUP BY resource_id) adj ON adj.resource_id = g.resource_id "
        )
    columns = [
        AS_OF,
        Column("Service", text("s.name", guard=guard)),
        Column("Resource", text("r.name", guard=guard)),
        Column("Unit", text("r.unit", guard=guard)),
        Column("Limit", qty(f"g.{limit}", whole=True), NUMBER),
        Column(
            "Allocated" if report.subtree_id else "Sold", qty("g.allocated", whole=True), NUMBER
        ),
        Column("Available", qty(f"g.{limit} - g.allocated", whole=True), NUMBER),
        Column("Used", qty("g.used", whole=True), NUMBER),
        Column("Usage %", percent("g.used", f"g.{limit}"), NUMBER),
        Column("Peak this period", qty("g.peak", whole=True), NUMBER),
        *late_columns,
        Column("Organizations using it", "CAST(g.organizations_count AS TEXT)", NUMBER),
    ]
    source = (
        f"FROM {_q(UsageRollup)} g JOIN {_q(Resource)} r ON r.id = g.resource_id "
        f"JOIN {_q(Service)} s ON s.id = r.service_id "
    )
    where = f"WHERE g.update_id = %(update)s AND {holder}"
    select = ", ".join(c.sql for c in columns)
    # the tree only when the late join reads it
    tree = tree if late_join else ""
    return ReportQuery(
        columns=columns,
        sql=f"{_with(tree)}SELECT {select} {source}{late_join}{where} "
        "ORDER BY s.position, r.position, r.id",
        count_sql=f"SELECT COUNT(*) {source}{where}",
        params=params,
    )
