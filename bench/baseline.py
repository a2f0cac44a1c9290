"""Hand-written SQL computing a usage update's per-organization figures: the yardstick.

Each candidate writes one row per organization × resource of its enabled services
(organization, resource, reseller, used, limit) into the table BASELINE_TABLE, the
same figures the update writes to its UsageRow table: a gauge's level at the cut-off,
a counter's billing-period total to the cut-off. The benchmark runs every candidate the
engine supports and measures the update against the fastest one. Counters are summed
over the period (the plain way) or carried on from the previous update's rows plus the
samples since (the update's own way, written by hand).
"""

from django.db import connection

from hostmeter.jit import without_jit
from hostmeter.metering.models import UsageRow, UsageSample
from hostmeter.tenancy.models import Organization, Resource, ResourceLimit

BASELINE_TABLE = "bench_baseline"


def _names() -> dict[str, str]:
    q = connection.ops.quote_name
    return {
        "out": q(BASELINE_TABLE),
        "sample": q(UsageSample._meta.db_table),
        "row": q(UsageRow._meta.db_table),
        "org": q(Organization._meta.db_table),
        "org_services": q(Organization.services.through._meta.db_table),
        "resource": q(Resource._meta.db_table),
        "lim": q(ResourceLimit._meta.db_table),
        "limit": q("limit"),
    }


# Every (organization, resource) pair with its owner and limit; {gauge} and {counter}
# are derived tables of (organization_id, resource_id, used).
_PAIRS = """
CREATE TABLE {out} AS
SELECT o.id AS organization_id, r.id AS resource_id, o.reseller_id,
  COALESCE(CASE WHEN r.kind = 'gauge' THEN g.used ELSE c.used END, 0) AS used,
  l.{limit} AS {limit}
FROM {org} o
JOIN {org_services} os ON os.organization_id = o.id
JOIN {resource} r ON r.service_id = os.service_id
LEFT JOIN ({gauge}) g ON g.organization_id = o.id AND g.resource_id = r.id
LEFT JOIN ({counter}) c ON c.organization_id = o.id AND c.resource_id = r.id
LEFT JOIN {lim} l ON l.organization_id = o.id AND l.resource_id = r.id
"""

_COUNTER_GROUPED = """
SELECT s.organization_id, s.resource_id, SUM(s.value) AS used
  FROM {sample} s JOIN {resource} cr ON cr.id = s.resource_id AND cr.kind = 'counter'
 WHERE s.measured_at > %(period_start)s AND s.measured_at <= %(cutoff)s
 GROUP BY s.organization_id, s.resource_id
"""

# Gauges: rank each pair's samples at or before the cut-off, newest first (the
# later-stored one first on equal times), and keep the first.
_GAUGE_WINDOW = """
SELECT organization_id, resource_id, value AS used FROM (
  SELECT s.organization_id, s.resource_id, s.value,
         ROW_NUMBER() OVER (PARTITION BY s.organization_id, s.resource_id
                            ORDER BY s.measured_at DESC, s.id DESC) AS n
    FROM {sample} s JOIN {resource} gr ON gr.id = s.resource_id AND gr.kind = 'gauge'
   WHERE s.measured_at <= %(cutoff)s
) ranked WHERE n = 1
"""

# PostgreSQL's own idiom for "the first row of each group".
_GAUGE_DISTINCT_ON = """
SELECT DISTINCT ON (s.organization_id, s.resource_id)
       s.organization_id, s.resource_id, s.value AS used
  FROM {sample} s JOIN {resource} gr ON gr.id = s.resource_id AND gr.kind = 'gauge'
 WHERE s.measured_at <= %(cutoff)s
 ORDER BY s.organization_id, s.resource_id, s.measured_at DESC, s.id DESC
"""

# One index probe per pair, through the unique (organization, resource, measured_at,
# source) index: the per-pair lookups a person would write first.
_CORRELATED = """
CREATE TABLE {out} AS
SELECT o.id AS organization_id, r.id AS resource_id, o.reseller_id,
  CASE WHEN r.kind = 'gauge' THEN
    COALESCE((SELECT s.value FROM {sample} s
               WHERE s.organization_id = o.id AND s.resource_id = r.id
                 AND s.measured_at <= %(cutoff)s
               ORDER BY s.measured_at DESC, s.id DESC LIMIT 1), 0)
  ELSE
    {counter_before} + COALESCE((SELECT SUM(s.value) FROM {sample} s
               WHERE s.organization_id = o.id AND s.resource_id = r.id
                 AND s.measured_at > {since} AND s.measured_at <= %(cutoff)s), 0)
  END AS used,
  l.{limit} AS {limit}
FROM {org} o
JOIN {org_services} os ON os.organization_id = o.id
JOIN {resource} r ON r.service_id = os.service_id
LEFT JOIN {lim} l ON l.organization_id = o.id AND l.resource_id = r.id{previous_rows}
"""


def candidates() -> dict[str, str]:
    """Name → statement of the baselines this engine can run."""
    found = {
        "window": _PAIRS.replace("{gauge}", _GAUGE_WINDOW).replace("{counter}", _COUNTER_GROUPED),
        "correlated": _CORRELATED.replace("{counter_before}", "0")
        .replace("{since}", "%(period_start)s")
        .replace("{previous_rows}", ""),
        "carried": _CORRELATED.replace("{counter_before}", "COALESCE(p.used, 0)")
        .replace("{since}", "%(previous)s")
        .replace(
            "{previous_rows}",
            "\nLEFT JOIN {row} p ON p.update_id = %(previous_update)s"
            " AND p.organization_id = o.id AND p.resource_id = r.id",
        ),
    }
    if connection.vendor == "postgresql":
        found["distinct_on"] = _PAIRS.replace("{gauge}", _GAUGE_DISTINCT_ON).replace(
            "{counter}", _COUNTER_GROUPED
        )
    return found


def baseline_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(BASELINE_TABLE)}")


def baseline_run(statement: str, *, cutoff, previous, period_start, previous_update) -> None:
    """Computes the figures into BASELINE_TABLE, which must not exist (baseline_drop()).

    previous_update: the completed update as of `previous`, in the same billing period."""
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "cutoff": adapt(cutoff),
        "previous": adapt(previous),
        "period_start": adapt(period_start),
        "previous_update": previous_update,
    }
    # the update runs without PostgreSQL's JIT (it only adds compile time to these
    # statements): the yardstick gets the same setting, or it would carry that cost
    with without_jit(), connection.cursor() as cursor:
        cursor.execute(statement.format(**_names()), params)


def baseline_differences(*, update_id: int) -> dict[str, int]:
    """Compares BASELINE_TABLE with the update's rows: counts, sums and mismatches."""
    n = _names()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COALESCE(SUM(used), 0) FROM {row} WHERE update_id = %s".format(**n),
            [update_id],
        )
        update_rows, update_sum = cursor.fetchone()
        cursor.execute("SELECT COUNT(*), COALESCE(SUM(used), 0) FROM {out}".format(**n))
        baseline_rows, baseline_sum = cursor.fetchone()
        cursor.execute(
            """
            SELECT COUNT(*) FROM {out} b
            LEFT JOIN {row} u ON u.update_id = %s
              AND u.organization_id = b.organization_id AND u.resource_id = b.resource_id
            WHERE u.id IS NULL OR u.used <> b.used
               OR COALESCE(u.reseller_id, -1) <> COALESCE(b.reseller_id, -1)
               OR COALESCE(u.{limit}, -1) <> COALESCE(b.{limit}, -1)
            """.format(**n),
            [update_id],
        )
        (mismatched,) = cursor.fetchone()
    return {
        "update_rows": update_rows,
        "baseline_rows": baseline_rows,
        "update_sum": int(update_sum),
        "baseline_sum": int(baseline_sum),
        "mismatched": mismatched,
    }
