"""What a report holds: one column definition per report kind, and the SQL that yields
its rows already formatted as text, so that writers only move bytes.

The same definitions give the CSV file (streamed by the database where it can), the
XLSX file and the column list shown on the export reports tab.
"""

from dataclasses import dataclass

from django.db import connection

from hostmeter.metering.models import ResellerSnapshot, UsageRollup, UsageRow, UsageUpdate
from hostmeter.tenancy.models import Organization, Reseller, Resource, Service

from .models import Report

TEXT, NUMBER, TIME = "text", "number", "time"


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


def _pivot(resources: list[Resource], alias: str) -> tuple[str, list[Column]]:
    """Per resource a used and a limit column: the raw MAX(…) expressions for the inner,
    grouped query, and the formatted columns the outer query selects from its alias."""
    limit = _q("limit")
    inner, columns = [], []
    for r in resources:
        unit = f" ({r.unit})" if r.unit != "count" else ""
        for label, field in (("used", "used"), ("limit", limit)):
            name = f"{label}_{int(r.pk)}"
            inner.append(f"MAX(CASE WHEN resource_id = {int(r.pk)} THEN {field} END) AS {name}")
            columns.append(
                Column(f"{r.name} {label}{unit}", qty(f"{alias}.{name}", whole=not unit), NUMBER)
            )
    return ", ".join(inner), columns


@dataclass(frozen=True)
class ReportQuery:
    columns: list[Column]
    sql: str  # SELECT … with named %(…)s parameters
    count_sql: str
    params: dict


AS_OF = Column("Usage as of", "%(as_of)s", TIME)


def report_query(*, report: Report) -> ReportQuery:
    """The columns and SQL of a report's rows (every row of its subject, in order); text
    cells carry the formula guard in CSV files only."""
    update: UsageUpdate = report.update
    params = {"update": update.pk, "as_of": _as_of(update)}
    builder = {
        Report.Kind.RESELLER: _organizations_query,
        Report.Kind.ORGANIZATION: _organizations_query,
        Report.Kind.ORGANIZATIONS: _organizations_query,
        Report.Kind.RESELLERS: _resellers_query,
        Report.Kind.SUMMARY: _summary_query,
    }[report.kind]
    return builder(report, params, guard=report.format == Report.Format.CSV)


def _as_of(update: UsageUpdate) -> str:
    from hostmeter.tenancy.models import Provider

    return update.cutoff.astimezone(Provider.get().zone).isoformat()


def _organizations_query(report: Report, params: dict, *, guard: bool) -> ReportQuery:
    """One row per organization, as frozen in the update (its reseller at that time)."""
    pivot, usage_columns = _pivot(_resources(), "p")
    columns = [
        AS_OF,
        Column("Organization", text("o.name", guard=guard)),
        Column("Domain", text("o.domain", guard=guard)),
        Column("Reseller", f"COALESCE({text('rs.name', guard=guard)}, 'direct')"),
        Column("Reseller domain", text("rs.domain", guard=guard)),
        *usage_columns,
    ]
    where, tree = "update_id = %(update)s", ""
    if report.kind == Report.Kind.RESELLER:
        # the reseller and its sub-resellers as the update froze them, not as they are now
        tree = (
            "WITH RECURSIVE tree(id) AS (SELECT CAST(%(subject)s AS BIGINT) UNION ALL "
            f"SELECT s.reseller_id FROM {_q(ResellerSnapshot)} s JOIN tree t "
            "ON s.parent_id = t.id WHERE s.update_id = %(update)s) "
        )
        where += " AND reseller_id IN (SELECT id FROM tree)"
        params["subject"] = report.reseller_id
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
        "ORDER BY o.name_key, o.id",
        count_sql=f"{tree}SELECT COUNT(DISTINCT organization_id) FROM {_q(UsageRow)} WHERE {where}",
        params=params,
    )


def _resellers_query(report: Report, params: dict, *, guard: bool) -> ReportQuery:
    """One row per reseller the update froze: its roll-up (sub-resellers included) per
    resource, and its organizations; a reseller with nothing yet has a row too."""
    pivot, usage_columns = _pivot(_resources(), "p")
    columns = [
        AS_OF,
        Column("Reseller", text("rs.name", guard=guard)),
        Column("Domain", text("rs.domain", guard=guard)),
        Column("Parent reseller", text("parent.name", guard=guard)),
        Column("Organizations", "CAST(snap.organizations_count AS TEXT)", NUMBER),
        *usage_columns,
    ]
    inner = (
        f"SELECT reseller_id, {pivot} FROM {_q(UsageRollup)} "
        "WHERE update_id = %(update)s AND reseller_id IS NOT NULL GROUP BY reseller_id"
    )
    snapshots = f"FROM {_q(ResellerSnapshot)} snap WHERE snap.update_id = %(update)s"
    select = ", ".join(c.sql for c in columns)
    return ReportQuery(
        columns=columns,
        sql=f"SELECT {select} FROM {_q(ResellerSnapshot)} snap "
        f"JOIN {_q(Reseller)} rs ON rs.id = snap.reseller_id "
        f"LEFT JOIN {_q(Reseller)} parent ON parent.id = snap.parent_id "
        f"LEFT JOIN ({inner}) p ON p.reseller_id = snap.reseller_id "
        "WHERE snap.update_id = %(update)s ORDER BY rs.name_key, rs.id",
        count_sql=f"SELECT COUNT(*) {snapshots}",
        params=params,
    )


def _summary_query(report: Report, params: dict, *, guard: bool) -> ReportQuery:
    """One row per resource: the provider's limit, sold, available, used and usage %."""
    limit = _q("limit")
    columns = [
        AS_OF,
        Column("Service", text("s.name", guard=guard)),
        Column("Resource", text("r.name", guard=guard)),
        Column("Unit", text("r.unit", guard=guard)),
        Column("Limit", qty(f"g.{limit}", whole=True), NUMBER),
        Column("Sold", qty("g.allocated", whole=True), NUMBER),
        Column("Available", qty(f"g.{limit} - g.allocated", whole=True), NUMBER),
        Column("Used", qty("g.used", whole=True), NUMBER),
        Column("Usage %", percent("g.used", f"g.{limit}"), NUMBER),
        Column("Organizations using it", "CAST(g.organizations_count AS TEXT)", NUMBER),
    ]
    source = (
        f"FROM {_q(UsageRollup)} g JOIN {_q(Resource)} r ON r.id = g.resource_id "
        f"JOIN {_q(Service)} s ON s.id = r.service_id "
        "WHERE g.update_id = %(update)s AND g.reseller_id IS NULL"
    )
    select = ", ".join(c.sql for c in columns)
    return ReportQuery(
        columns=columns,
        sql=f"SELECT {select} {source} ORDER BY s.position, r.position, r.id",
        count_sql=f"SELECT COUNT(*) {source}",
        params=params,
    )
