"""The set-based SQL of a usage update, the same text for SQLite and PostgreSQL but for
the window's latest gauge value (_WINDOW).

Quantities are whole thousandths (BIGINT), so every SUM here is exact.
"""

from django.db import connection

from hostmeter.metering.models import ResellerSnapshot, UsageRollup, UsageRow, UsageSample
from hostmeter.tenancy.models import (
    Organization,
    Reseller,
    ResellerLink,
    Resource,
    ResourceLimit,
)


def _tables() -> dict[str, str]:
    q = connection.ops.quote_name
    return {
        "sample": q(UsageSample._meta.db_table),
        "row": q(UsageRow._meta.db_table),
        "rollup": q(UsageRollup._meta.db_table),
        "snapshot": q(ResellerSnapshot._meta.db_table),
        "org": q(Organization._meta.db_table),
        "org_services": q(Organization.services.through._meta.db_table),
        "reseller": q(Reseller._meta.db_table),
        "reseller_services": q(Reseller.services.through._meta.db_table),
        "link": q(ResellerLink._meta.db_table),
        "resource": q(Resource._meta.db_table),
        "lim": q(ResourceLimit._meta.db_table),
        "limit": q("limit"),
    }


# One row per organization and resource of each service enabled on it. Gauges take
# the latest sample at or before the cut-off; their peak is the higher of that and the
# peak at the previous update of the same billing period. Counters take the sum over
# (previous cut-off, cut-off] as the increment, and the period's total to the cut-off
# is the previous update's total plus that increment, so an update costs the same on
# the last day of a period as on the first (it never re-reads the period's samples).
# Both take the window's samples in one of two ways (services.updates picks): read once
# in time order (`w`, _WINDOW), or by a probe per organization and resource into the
# samples' index (_VALUE_PROBED). The probes get slower as the history grows (deeper
# trees), the read does not, but it sorts the window's samples: with several samples a
# row in the window the probes are faster (docs/benchmarks.md, Billing periods, "The
# window read once").
# The first update ever instead sums the samples over (period start, cut-off] for the
# total ({counter_total} picks the form); later windows never cross a period's start,
# as the update as of that start closes the period first (services.updates).
# Organization by organization, as the unique index on (update, organization, resource)
# is ordered: SQLite's index pages fill one after another instead of splitting all over,
# PostgreSQL's index build gets its input nearly sorted. Both engines read the
# organizations in that order anyway, so this costs no sort; ordering by resource too
# made each engine sort every organization's rows.
_ROWS_SELECT = """
SELECT {id}{update} AS update_id, t.organization_id, t.resource_id, t.reseller_id,
  {used} AS used, {increment} AS increment, {peak} AS peak, {late} AS late,
  t.{limit} AS {limit}
FROM (
  SELECT o.id AS organization_id, r.id AS resource_id, o.reseller_id AS reseller_id,
    r.kind AS kind, l.{limit} AS {limit}, {value} AS value, {counter_total} AS total,
    {previous_peak} AS previous_peak, COALESCE(lt.late, 0) AS late,
    COALESCE(lt.late_open, 0) AS late_open
  FROM {org} o
  JOIN {org_services} os ON os.organization_id = o.id
  JOIN {resource} r ON r.service_id = os.service_id
  LEFT JOIN {lim} l ON l.organization_id = o.id AND l.resource_id = r.id
  LEFT JOIN {row} p ON p.update_id = %(last_update)s
   AND p.organization_id = o.id AND p.resource_id = r.id
{window}  LEFT JOIN (
    SELECT organization_id, resource_id, SUM(value) AS late,
      SUM(CASE WHEN measured_at > %(period_start)s THEN value ELSE 0 END) AS late_open
      FROM {sample}
     WHERE id > %(previous_through)s AND id <= %(through)s AND measured_at <= %(previous)s
     GROUP BY organization_id, resource_id
  ) lt ON lt.organization_id = o.id AND lt.resource_id = r.id
  ORDER BY o.id {fence}
) t
"""
# Late samples (`lt`): stored after the previous update took its samples (their ids are
# past its samples_through) but measured at or before its cut-off, so no window will
# ever hold them. They are counted here, once: in the increment, and in the period's
# total when measured in this period (`late_open`); a closed period's are recorded as
# its adjustments (services.updates._record_closed_late). Only the samples stored since
# the previous update are read for this (a range of ids), never the history.


def _counted_since(since: str) -> str:
    """A counter's samples measured after the `since` parameter, up to the cut-off."""
    return f"""COALESCE((SELECT SUM(s.value) FROM {{sample}} s
              WHERE s.organization_id = o.id AND s.resource_id = r.id
                AND s.measured_at > %({since})s AND s.measured_at <= %(cutoff)s
                AND s.id <= %(through)s), 0)"""


# The window's samples per organization and resource: their sum (a counter's increment)
# and the latest one's value (a gauge's level: the latest measured, of two at the same
# time the later stored). SQLite takes the value from the row of the one max() (its
# documented "bare column" rule), by a key of time and id that sorts as they do: a time
# without microseconds is stored without them, so it is padded first. PostgreSQL numbers
# the window's rows instead; it sorts them faster than SQLite does.
_WINDOW_WHERE = """FROM {sample}
     WHERE measured_at > %(previous)s AND measured_at <= %(cutoff)s AND id <= %(through)s"""
_WINDOW = {
    "sqlite": f"""
    SELECT organization_id, resource_id, SUM(value) AS total, value AS latest,
      MAX(substr(measured_at || '.000000', 1, 26) || printf('%%020d', id)) AS latest_key
      {_WINDOW_WHERE}
     GROUP BY organization_id, resource_id
  """,
    "postgresql": f"""
    SELECT organization_id, resource_id, SUM(value) AS total,
      MAX(CASE WHEN n = 1 THEN value END) AS latest
      FROM (SELECT organization_id, resource_id, value, ROW_NUMBER() OVER (
                   PARTITION BY organization_id, resource_id ORDER BY measured_at DESC, id DESC
                 ) AS n
              {_WINDOW_WHERE}) ws
     GROUP BY organization_id, resource_id
  """,
}
_WINDOW_JOIN = "  LEFT JOIN ({window}) w ON w.organization_id = o.id AND w.resource_id = r.id\n"

# A gauge's latest sample at or before the cut-off, by a probe of the samples' index.
_GAUGE_PROBE = """COALESCE((SELECT s.value FROM {sample} s
              WHERE s.organization_id = o.id AND s.resource_id = r.id
                AND s.measured_at <= %(cutoff)s AND s.id <= %(through)s
              ORDER BY s.measured_at DESC, s.id DESC LIMIT 1), 0)"""

# The level of a gauge at the cut-off: its latest sample in the window; without one, its
# level at the previous update (`p`, of any period), unless a late sample came since (or
# there is no previous row): then the latest sample at or before the cut-off, by a probe.
# A counter's value: its sum over the window.
_VALUE = f"""CASE WHEN r.kind = 'gauge' THEN
    CASE WHEN w.organization_id IS NOT NULL THEN w.latest
      WHEN p.used IS NOT NULL AND lt.organization_id IS NULL THEN p.used
      ELSE {_GAUGE_PROBE}
    END
  ELSE
    COALESCE(w.total, 0)
  END"""
# ... or, without `w`: the latest sample at or before the cut-off, the window's sum.
_VALUE_PROBED = f"""CASE WHEN r.kind = 'gauge' THEN
    {_GAUGE_PROBE}
  ELSE
    {_counted_since("previous")}
  END"""
# A counter's period total before the window, and a gauge's period peak before it, by
# how the previous update stands to the cut-off's billing period (_rows_select's totals):
# "carried", of the same period: its total and peak go on; "window", the update as of the
# period's start: none before the window; "summed", neither (the first update, or one
# from before billing periods): the counters' samples since the period's start, whose
# total holds this period's late samples already.
_TOTALS = {
    "carried": ("COALESCE(p.used, 0)", "p.peak"),
    "window": ("0", "CAST(NULL AS BIGINT)"),
    "summed": (
        f"""CASE WHEN r.kind = 'gauge' THEN 0 ELSE
    {_counted_since("period_start")}
  END""",
        "CAST(NULL AS BIGINT)",
    ),
}
_USED = "CASE WHEN t.kind = 'gauge' THEN t.value ELSE t.total{plus_value} END"
_INCREMENT = "CASE WHEN t.kind = 'gauge' THEN NULL ELSE t.value + t.late END"
_LATE = "CASE WHEN t.kind = 'gauge' THEN NULL ELSE t.late END"
_PEAK = """CASE WHEN t.kind <> 'gauge' THEN NULL
  WHEN t.previous_peak > t.value THEN t.previous_peak ELSE t.value END"""


# The outer query uses each per-row figure of `t` several times; merged into it (SQLite
# flattens the subquery, PostgreSQL pulls it up) every use ran its correlated subquery
# again. An OFFSET keeps `t` a subquery of its own on both engines, computed once a row.
_FENCE = {"sqlite": "LIMIT -1 OFFSET 0", "postgresql": "OFFSET 0"}


def _rows_select(*, totals: str, window_read: bool, id_: str, update: str, cast: bool) -> str:
    summed = totals == "summed"
    used = _USED.replace("{plus_value}", "" if summed else " + t.value + t.late_open")
    parts = {"{used}": used, "{increment}": _INCREMENT, "{peak}": _PEAK, "{late}": _LATE}
    if cast:  # the partition's columns take the parent's type (SUM of BIGINT is NUMERIC)
        parts = {k: f"CAST({v} AS BIGINT)" for k, v in parts.items()}
    text = _ROWS_SELECT.replace("{id}", id_).replace("{update}", update)
    text = text.replace("{fence}", _FENCE.get(connection.vendor, "OFFSET 0"))
    window = _WINDOW.get(connection.vendor, _WINDOW["postgresql"])
    text = text.replace("{window}", _WINDOW_JOIN.replace("{window}", window) if window_read else "")
    for placeholder, expression in parts.items():
        text = text.replace(placeholder, expression)
    total, previous_peak = _TOTALS[totals]
    text = text.replace("{previous_peak}", previous_peak)
    value = _VALUE if window_read else _VALUE_PROBED
    return text.replace("{value}", value).replace("{counter_total}", total)


_ROW_COLUMNS = "update_id, organization_id, resource_id, reseller_id, used, increment, peak, late"


def organization_rows(*, totals: str, window_read: bool) -> str:
    """SQLite: straight into the table (which converts the values to its columns' types).

    totals: "carried", "window" or "summed" (_TOTALS); window_read: the window's samples
    read once (`w`), else by probes."""
    return f"INSERT INTO {{row}} ({_ROW_COLUMNS}, {{limit}})" + _rows_select(
        totals=totals, window_read=window_read, id_="", update="%(update)s", cast=False
    )


def organization_rows_partition(*, totals: str, window_read: bool) -> str:
    """PostgreSQL: the usage rows are partitioned by update (migration 0006). An update's
    rows go into a new table of their own, written like the hand-written baseline's
    (CREATE TABLE AS, through a bulk-write ring and without an index to maintain row by
    row); PARTITION_SEAL then indexes it in bulk and attaches it as the update's
    partition. Kept up row by row, the two indexes were much of the INSERT's time
    (docs/benchmarks.md, Usage update, "Closing in on 1.5×" and "a partition per update").
    {sequence} is the ids' sequence as a literal (a constant: no lookup per row).
    The new table takes its columns' types from the SELECT: they are cast to the
    parent's, or ATTACH refuses it."""
    return "CREATE TABLE {partition} AS" + _rows_select(
        totals=totals,
        window_read=window_read,
        id_="nextval({sequence}::regclass) AS id, ",
        update="CAST(%(update)s AS BIGINT)",
        cast=True,
    )


# The columns NOT NULL as in the parent table, and a CHECK that proves the partition
# bound, so ATTACH need not read the rows again (one scan here for all of them); the
# two constraints are the parent's, built once each from the finished table, and
# ATTACH adopts them instead of building its own.
PARTITION_SEAL = (
    """
ALTER TABLE {partition}
  ALTER COLUMN id SET NOT NULL,
  ALTER COLUMN update_id SET NOT NULL,
  ALTER COLUMN organization_id SET NOT NULL,
  ALTER COLUMN resource_id SET NOT NULL,
  ALTER COLUMN used SET NOT NULL,
  ADD CONSTRAINT {bound} CHECK (update_id = {update_id}),
  ADD CONSTRAINT {unique} UNIQUE (update_id, organization_id, resource_id),
  ADD CONSTRAINT {pkey} PRIMARY KEY (id, update_id)
""",
    "ALTER TABLE {row} ATTACH PARTITION {partition} FOR VALUES IN ({update_id})",
    "ALTER TABLE {partition} DROP CONSTRAINT {bound}",
)


def partition_name(update_id: int) -> str:
    """The table holding a usage update's rows on PostgreSQL (see migration 0006)."""
    return f"{UsageRow._meta.db_table}_u{int(update_id)}"


# Every reseller as it stands now, frozen with the update: its parent, and how many
# organizations (its own and its sub-resellers') and sub-resellers it has.
RESELLER_SNAPSHOTS = """
INSERT INTO {snapshot} (update_id, reseller_id, parent_id, organizations_count,
                        direct_organizations_count, sub_resellers_count)
SELECT %(update)s, r.id, r.parent_id,
  COALESCE(below.n, 0), COALESCE(direct.n, 0), COALESCE(subs.n, 0)
FROM {reseller} r
LEFT JOIN (
  SELECT reseller_id AS id, COUNT(*) AS n FROM {org}
   WHERE reseller_id IS NOT NULL GROUP BY reseller_id
) direct ON direct.id = r.id
LEFT JOIN (
  SELECT k.ancestor_id AS id, SUM(d.n) AS n
    FROM (SELECT reseller_id, COUNT(*) AS n FROM {org}
           WHERE reseller_id IS NOT NULL GROUP BY reseller_id) d
    JOIN {link} k ON k.descendant_id = d.reseller_id
   GROUP BY k.ancestor_id
) below ON below.id = r.id
LEFT JOIN (
  SELECT ancestor_id AS id, COUNT(*) - 1 AS n FROM {link} GROUP BY ancestor_id
) subs ON subs.id = r.id
"""

# Per reseller and resource: the usage of every organization below it (sub-resellers
# included, through the closure table: counters' period totals and increments, gauges'
# levels, and their peak over the billing period, carried on from the previous
# update's roll-up as the rows' is), its own limit, and what it allocated to its
# own organizations and direct sub-resellers. Pairs come from its allocated services,
# its limits and its organizations' usage, so none of them is left out.
# Then the provider, per resource: everyone's usage, its capacity, and what it sold
# (limits of the resellers it added and of the organizations it added directly).
# Every figure is grouped once and joined, never looked up per pair: per-pair
# subqueries over the limits made this statement grow with resellers × limits. The
# update's rows are read once (`own`, per reseller and resource, the provider's own
# organizations under a NULL reseller): the resellers' sums meet the closure table,
# the provider's add them all up. Reading them a second time for the provider cost
# as much again (a scan and a sort of every row on SQLite; docs/benchmarks.md, Usage
# update, "Closing in on 1.5×").
ROLLUPS = """
INSERT INTO {rollup}
  (update_id, reseller_id, resource_id, used, increment, peak, {limit}, allocated,
   organizations_count)
WITH own AS (
  SELECT reseller_id, resource_id, SUM(used) AS used, SUM(increment) AS increment,
         COUNT(*) AS n
    FROM {row} WHERE update_id = %(update)s
   GROUP BY reseller_id, resource_id
), agg AS (
  SELECT k.ancestor_id AS reseller_id, own.resource_id, SUM(own.used) AS used,
         SUM(own.increment) AS increment, SUM(own.n) AS n
    FROM own JOIN {link} k ON k.descendant_id = own.reseller_id
   GROUP BY k.ancestor_id, own.resource_id
), everyone AS (
  SELECT resource_id, SUM(used) AS used, SUM(increment) AS increment, SUM(n) AS n
    FROM own GROUP BY resource_id
)
SELECT %(update)s, p.reseller_id, p.resource_id,
  COALESCE(agg.used, 0),
  CASE WHEN rk.kind = 'gauge' THEN NULL ELSE COALESCE(agg.increment, 0) END,
  CASE WHEN rk.kind <> 'gauge' THEN NULL
       WHEN pr.peak > COALESCE(agg.used, 0) THEN pr.peak ELSE COALESCE(agg.used, 0) END,
  rl.{limit},
  COALESCE(to_orgs.total, 0) + COALESCE(to_subs.total, 0),
  COALESCE(agg.n, 0)
FROM (
  SELECT rs.reseller_id, r.id AS resource_id
    FROM {reseller_services} rs JOIN {resource} r ON r.service_id = rs.service_id
  UNION
  SELECT reseller_id, resource_id FROM {lim} WHERE reseller_id IS NOT NULL
  UNION
  SELECT reseller_id, resource_id FROM agg
) p
JOIN {resource} rk ON rk.id = p.resource_id
LEFT JOIN {rollup} pr ON pr.update_id = %(previous_update)s
  AND pr.reseller_id = p.reseller_id AND pr.resource_id = p.resource_id
LEFT JOIN {lim} rl ON rl.reseller_id = p.reseller_id AND rl.resource_id = p.resource_id
LEFT JOIN agg ON agg.reseller_id = p.reseller_id AND agg.resource_id = p.resource_id
LEFT JOIN (
  SELECT o2.reseller_id, l2.resource_id, SUM(l2.{limit}) AS total
    FROM {lim} l2 JOIN {org} o2 ON o2.id = l2.organization_id
   WHERE o2.reseller_id IS NOT NULL
   GROUP BY o2.reseller_id, l2.resource_id
) to_orgs ON to_orgs.reseller_id = p.reseller_id AND to_orgs.resource_id = p.resource_id
LEFT JOIN (
  SELECT c.parent_id AS reseller_id, l3.resource_id, SUM(l3.{limit}) AS total
    FROM {lim} l3 JOIN {reseller} c ON c.id = l3.reseller_id
   WHERE c.parent_id IS NOT NULL
   GROUP BY c.parent_id, l3.resource_id
) to_subs ON to_subs.reseller_id = p.reseller_id AND to_subs.resource_id = p.resource_id
UNION ALL
SELECT %(update)s, NULL, r.id,
  COALESCE(everyone.used, 0),
  CASE WHEN r.kind = 'gauge' THEN NULL ELSE COALESCE(everyone.increment, 0) END,
  CASE WHEN r.kind <> 'gauge' THEN NULL
       WHEN pp.peak > COALESCE(everyone.used, 0) THEN pp.peak
       ELSE COALESCE(everyone.used, 0) END,
  pl.{limit},
  COALESCE((SELECT SUM(l2.{limit}) FROM {lim} l2 JOIN {reseller} c ON c.id = l2.reseller_id
            WHERE c.parent_id IS NULL AND l2.resource_id = r.id), 0)
  + COALESCE((SELECT SUM(l3.{limit}) FROM {lim} l3 JOIN {org} o3 ON o3.id = l3.organization_id
              WHERE o3.reseller_id IS NULL AND l3.resource_id = r.id), 0),
  COALESCE(everyone.n, 0)
FROM {resource} r
LEFT JOIN {lim} pl
  ON pl.resource_id = r.id AND pl.reseller_id IS NULL AND pl.organization_id IS NULL
LEFT JOIN everyone ON everyone.resource_id = r.id
LEFT JOIN {rollup} pp ON pp.update_id = %(previous_update)s
  AND pp.reseller_id IS NULL AND pp.resource_id = r.id
"""


def run_statement(
    template: str,
    *,
    names: dict[str, str] | None = None,
    literals: dict[str, str] | None = None,
    **params,
) -> int:
    """Runs one statement of this module; returns the rows it wrote.

    names: more table or constraint names the template refers to (quoted here);
    literals: strings it holds as SQL constants (quoted here).
    """
    adapt = connection.ops.adapt_datetimefield_value
    params = {k: adapt(v) if hasattr(v, "tzinfo") else v for k, v in params.items()}
    extra = {k: connection.ops.quote_name(v) for k, v in (names or {}).items()}
    extra |= {k: "'" + v.replace("'", "''") + "'" for k, v in (literals or {}).items()}
    with connection.cursor() as cursor:
        cursor.execute(template.format(**_tables(), **extra), params)
        return cursor.rowcount
