"""Usage updates count counters per billing period: the increment since the previous
update, and the period's total to the cut-off, checked against sums of the samples
computed here; gauges keep the period's peak."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostmeter.fields import to_thousandths
from hostmeter.metering.models import (
    UsageAdjustment,
    UsageRollup,
    UsageRow,
    UsageSample,
    UsageUpdate,
)
from hostmeter.metering.services import updates
from hostmeter.metering.services.updates import usage_update_request, usage_update_run
from hostmeter.tenancy.models import Resource
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory

from .periods import periods_between, provider_with, row, run, sample_sum, store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("window_reads")]

BERLIN = ZoneInfo("Europe/Berlin")


def test_counters_total_the_period_to_date_and_keep_the_increment(site):
    org, reseller, bandwidth, _ = site
    day = timedelta(days=1)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for n, value in enumerate(["10", "20", "30"]):
        store(org, bandwidth, start + n * day + timedelta(hours=1), value)
    first, second, third = (run(start + n * day + timedelta(hours=2)) for n in range(3))
    assert [row(u, org, bandwidth).used for u in (first, second, third)] == [10, 30, 60]
    assert [row(u, org, bandwidth).increment for u in (first, second, third)] == [10, 20, 30]
    assert [row(u, org, bandwidth).peak for u in (first, second, third)] == [None] * 3
    assert (third.period_start, third.period_end) == (start, datetime(2026, 12, 1, tzinfo=UTC))
    rollup = UsageRollup.objects.get(update=third, reseller=reseller, resource=bandwidth)
    provider = UsageRollup.objects.get(update=third, reseller=None, resource=bandwidth)
    assert (rollup.used, rollup.increment, rollup.peak) == (60, 30, None)
    assert (provider.used, provider.increment) == (60, 30)


def test_the_first_update_after_the_boundary_closes_the_period_first(site):
    """Its window crosses the boundary: an update as of the boundary freezes November's
    totals (the samples up to midnight), and the update itself counts December's."""
    org, _, bandwidth, _ = site
    boundary = datetime(2026, 12, 1, tzinfo=UTC)
    store(org, bandwidth, boundary - timedelta(hours=5), "7")
    before = run(boundary - timedelta(hours=4))
    store(org, bandwidth, boundary - timedelta(hours=1), "11")  # November, after `before`
    store(org, bandwidth, boundary, "13")  # midnight itself: still November
    store(org, bandwidth, boundary + timedelta(hours=1), "17")  # December
    after = run(boundary + timedelta(hours=2))
    closing = UsageUpdate.objects.get(cutoff=boundary)
    assert (closing.trigger, closing.closes_period) == (UsageUpdate.Trigger.CLOSE, True)
    assert row(before, org, bandwidth).used == 7
    assert (row(closing, org, bandwidth).used, row(closing, org, bandwidth).increment) == (31, 24)
    crossing = row(after, org, bandwidth)
    assert (crossing.used, crossing.increment) == (17, 17)
    assert after.period_start == boundary
    assert after.previous_cutoff == boundary
    assert not before.closes_period and not after.closes_period


def test_an_update_exactly_at_the_boundary_is_the_closing_periods_last(site):
    org, _, bandwidth, _ = site
    boundary = datetime(2026, 12, 1, tzinfo=UTC)
    store(org, bandwidth, boundary - timedelta(days=2), "5")
    store(org, bandwidth, boundary, "6")
    update = run(boundary)
    assert update.period_end == boundary
    assert row(update, org, bandwidth).used == 11


def test_a_schedule_that_skips_a_whole_period_still_closes_it(site):
    org, _, bandwidth, _ = site
    store(org, bandwidth, datetime(2026, 9, 30, tzinfo=UTC), "1")
    september = run(datetime(2026, 9, 30, 1, tzinfo=UTC))
    store(org, bandwidth, datetime(2026, 10, 15, tzinfo=UTC), "100")  # October: no update
    store(org, bandwidth, datetime(2026, 11, 2, tzinfo=UTC), "3")
    november = run(datetime(2026, 11, 3, tzinfo=UTC))
    closing = {
        u.cutoff: row(u, org, bandwidth).used
        for u in UsageUpdate.objects.filter(trigger=UsageUpdate.Trigger.CLOSE)
    }
    assert closing == {
        datetime(2026, 10, 1, tzinfo=UTC): 1,  # September's total
        datetime(2026, 11, 1, tzinfo=UTC): 100,  # October's, though no update ran in it
    }
    assert row(september, org, bandwidth).used == 1
    assert row(november, org, bandwidth).increment == 3
    assert row(november, org, bandwidth).used == 3


def test_a_failed_period_close_fails_the_update_and_a_retry_closes_it(site, monkeypatch):
    org, _, bandwidth, _ = site
    store(org, bandwidth, datetime(2026, 11, 30, tzinfo=UTC), "5")
    run(datetime(2026, 11, 30, 1, tzinfo=UTC))
    real = updates._freeze

    def failing_at_the_boundary(update, **kwargs):
        if update.cutoff == datetime(2026, 12, 1, tzinfo=UTC):
            raise RuntimeError("disk full")
        return real(update, **kwargs)

    monkeypatch.setattr(updates, "_freeze", failing_at_the_boundary)
    update = usage_update_request(
        cutoff=datetime(2026, 12, 2, tzinfo=UTC), trigger="command", enqueue=False
    )
    failed = usage_update_run(update_id=update.pk)
    assert failed.status == UsageUpdate.Status.FAILED
    assert "Closing the billing period November 2026" in failed.error
    assert "disk full" in failed.error
    assert not UsageRow.objects.filter(update=failed).exists()
    monkeypatch.setattr(updates, "_freeze", real)
    again = usage_update_run(update_id=update.pk)
    assert again.status == UsageUpdate.Status.SUCCEEDED, again.error
    assert (
        row(UsageUpdate.objects.get(cutoff=datetime(2026, 12, 1, tzinfo=UTC)), org, bandwidth).used
        == 5
    )


def test_gauges_keep_their_level_and_the_periods_peak(site):
    org, reseller, _, disk = site
    start = datetime(2026, 11, 28, tzinfo=UTC)
    levels = ["50", "80", "60"]  # 28, 29, 30 November
    updates = []
    for n, level in enumerate(levels):
        store(org, disk, start + timedelta(days=n, hours=1), level)
        updates.append(run(start + timedelta(days=n, hours=2)))
    store(org, disk, datetime(2026, 12, 1, 1, tzinfo=UTC), "40")
    december = run(datetime(2026, 12, 1, 2, tzinfo=UTC))
    got = [row(u, org, disk) for u in [*updates, december]]
    assert [r.used for r in got] == [50, 80, 60, 40]
    assert [r.peak for r in got] == [50, 80, 80, 40]  # a new period, a new peak
    assert [r.increment for r in got] == [None] * 4
    rollups = [
        UsageRollup.objects.get(update=u, reseller=reseller, resource=disk)
        for u in [*updates, december]
    ]
    assert [r.peak for r in rollups] == [50, 80, 80, 40]
    provider = UsageRollup.objects.get(update=updates[2], reseller=None, resource=disk)
    assert (provider.used, provider.peak, provider.increment) == (60, 80, None)


def test_periods_follow_the_providers_zone_and_anchor_day(site):
    org, _, bandwidth, _ = site
    provider_with(zone="Europe/Berlin", anchor=15)
    # 14 November 23:30 UTC is 15 November 00:30 in Berlin: the new period.
    store(org, bandwidth, datetime(2026, 11, 14, 22, 30, tzinfo=UTC), "2")  # 23:30 local
    store(org, bandwidth, datetime(2026, 11, 14, 23, 30, tzinfo=UTC), "3")
    update = run(datetime(2026, 11, 15, 1, tzinfo=UTC))
    assert update.period_start == datetime(2026, 11, 14, 23, tzinfo=UTC)
    assert update.period_end == datetime(2026, 12, 14, 23, tzinfo=UTC)
    assert row(update, org, bandwidth).used == 3


def test_a_period_across_the_clock_change_totals_every_day(site):
    """Berlin's October 2026 has 25 hours on the 25th: daily updates at 02:00 local count
    each sample once, and the month's last update holds the sum of all of them."""
    org, _, bandwidth, _ = site
    provider_with(zone="Europe/Berlin")
    cutoffs = []
    for day in range(1, 32):
        local = datetime(2026, 10, day, 2, tzinfo=BERLIN)
        store(org, bandwidth, local - timedelta(hours=1), str(day))
        cutoffs.append(local)
    store(org, bandwidth, datetime(2026, 11, 1, 0, 30, tzinfo=BERLIN), "1000")  # November
    updates = [run(c) for c in cutoffs]
    november = run(datetime(2026, 11, 1, 2, tzinfo=BERLIN))
    start = datetime(2026, 10, 1, tzinfo=BERLIN)
    for update in updates:
        got = row(update, org, bandwidth)
        assert got.used == sample_sum(org, bandwidth, start, update.cutoff)
    assert row(updates[-1], org, bandwidth).used == sum(range(1, 32))
    assert row(november, org, bandwidth).used == 1000
    assert row(november, org, bandwidth).increment == 1000


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    anchor=st.integers(min_value=1, max_value=28),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
    # (hours after the origin it was measured, value in thousandths, stored before
    # update number …: after earlier updates ran, so possibly late)
    samples=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=120 * 24),
            st.integers(0, 10**6),
            st.integers(min_value=0, max_value=7),
        ),
        max_size=30,
    ),
    gaps=st.lists(st.integers(min_value=1, max_value=15 * 24), min_size=1, max_size=8),
)
def test_period_totals_always_equal_the_samples_sums(site, anchor, zone, samples, gaps):
    """Random samples, stored at random moments (some after the update whose window
    they belong to), and random update times over four months: every update's counter
    total is the sum of the samples stored so far after its period's start up to its
    cut-off; its increment holds each sample exactly once, in the first update after it
    arrived; late ones of a closed period are that period's adjustments; and the gauge's
    peak is the highest level the period's updates froze."""
    org, _, bandwidth, disk = site
    UsageUpdate.objects.all().delete()
    UsageSample.objects.all().delete()
    provider = provider_with(zone=zone, anchor=anchor)
    origin = datetime(2026, 6, 1, tzinfo=UTC)
    arrivals: dict[int, list[tuple[datetime, Decimal]]] = {}
    seen = set()
    for hours, thousandths, before in samples:
        at = origin + timedelta(hours=hours)
        if at not in seen:
            seen.add(at)
            arrivals.setdefault(min(before, len(gaps) - 1), []).append(
                (at, Decimal(thousandths) / 1000)
            )
    cutoff, froze, waiting, closed_late = origin, [], [], Decimal(0)
    for number, gap in enumerate(gaps):
        for at, value in arrivals.get(number, []):
            store(org, bandwidth, at, value)
            store(org, disk, at, value)
            waiting.append((at, value))
        previous_cutoff = cutoff if number else None
        cutoff += timedelta(hours=gap)
        run(cutoff)
        # The update, and before it an update as of each period end it crossed.
        ran = UsageUpdate.objects.filter(cutoff__lte=cutoff).order_by("cutoff")
        if previous_cutoff:
            ran = ran.filter(cutoff__gt=previous_cutoff)
        ran = list(ran)
        assert [u.cutoff for u in ran[:-1]] == [
            p.end for p in periods_between(previous_cutoff, cutoff, provider)
        ]
        for update in ran:
            at_cutoff = update.cutoff
            period = provider.billing_period(at_cutoff)  # checked on its own in test_billing
            got, gauge = row(update, org, bandwidth), row(update, org, disk)
            assert got.used == sample_sum(org, bandwidth, period.start, at_cutoff)
            counted = [(at, value) for at, value in waiting if at <= at_cutoff]
            waiting = [(at, value) for at, value in waiting if at > at_cutoff]
            assert got.increment == sum((value for _, value in counted), Decimal(0))
            closed_late += sum(
                (v for at, v in counted if at <= period.start and froze and at <= froze[-1][0]),
                Decimal(0),
            )
            latest = (
                UsageSample.objects.filter(
                    organization=org, resource=disk, measured_at__lte=at_cutoff
                )
                .order_by("-measured_at", "-id")
                .values_list("value", flat=True)
                .first()
            )
            assert gauge.used == (latest or 0)
            froze.append((at_cutoff, period.start, gauge.used))
            assert gauge.peak == max(level for _, start, level in froze if start == period.start)
    adjusted = UsageAdjustment.objects.filter(organization=org, resource=bandwidth)
    assert sum((a.value for a in adjusted), Decimal(0)) == closed_late


# serialized_rollback: the catalog seeded by migrations survives the flush
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_recounts_earlier_updates_by_period(resources):
    """Updates frozen before billing periods existed held counters since the previous
    update: migration 0009 gives them the period totals an update computes now, and
    going back restores the increments."""
    provider_with()
    reseller = ResellerFactory(services=["web"])
    child = ResellerFactory(parent=reseller, services=["web"])
    orgs = [OrganizationFactory(reseller=r, services=["web"]) for r in (reseller, child, None)]
    bandwidth, disk = resources["bandwidth"], resources["disk_space"]
    start = datetime(2026, 11, 29, tzinfo=UTC)
    for n in range(4):  # 29 and 30 November, 1 and 2 December
        for i, org in enumerate(orgs):
            store(org, bandwidth, start + timedelta(days=n, hours=1), str(10 * n + i + 1))
            store(org, disk, start + timedelta(days=n, hours=1), str([5, 9, 3, 4][n] + i))
        run(start + timedelta(days=n, hours=2))

    def figures():
        return {
            "rows": sorted(
                UsageRow.objects.values_list(
                    "update_id", "organization_id", "resource_id", "used", "increment", "peak"
                )
            ),
            "rollups": sorted(
                UsageRollup.objects.values_list(
                    "update_id", "reseller_id", "resource_id", "used", "increment", "peak"
                ),
                key=str,
            ),
            "periods": sorted(UsageUpdate.objects.values_list("id", "period_start", "period_end")),
        }

    computed = figures()
    increments = {(u, o, r): inc for u, o, r, _, inc, _ in computed["rows"] if inc is not None}
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([("metering", "0008_update_heartbeat")])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT update_id, organization_id, resource_id, used FROM metering_usagerow"
            )
            before = {(u, o, r): used for u, o, r, used in cursor.fetchall()}
        assert all(before[key] == to_thousandths(inc) for key, inc in increments.items())
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert figures() == computed
    assert Resource.objects.filter(code="bandwidth").exists()


# ---------------------------------------------------------------- which period is shown


def test_the_periods_with_figures_are_the_current_one_and_each_closed_one(site):
    from hostmeter.metering.selectors import UnknownPeriod, usage_period_named, usage_periods

    org, _, bandwidth, _ = site
    assert usage_periods(zone=UTC) == []
    assert usage_period_named(key=None, zone=UTC) is None
    for day in (datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)):
        store(org, bandwidth, day, "1")
        run(day + timedelta(hours=1))
    latest = run(datetime(2026, 12, 2, tzinfo=UTC))
    periods = usage_periods(zone=UTC)
    assert [(p.key, p.closed, p.label) for p in periods] == [
        ("2026-12", False, "December 2026, to date"),
        ("2026-11", True, "November 2026"),
        ("2026-10", True, "October 2026"),  # closed by the update of 20 November
    ]
    assert usage_period_named(key=None, zone=UTC).update == latest
    november = usage_period_named(key="2026-11", zone=UTC)
    assert november.update.cutoff == datetime(2026, 12, 1, tzinfo=UTC)
    for key in ("2026-09", "2026-13", "garbage", "2026-11-01", "x" * 500):
        with pytest.raises(UnknownPeriod, match="known: 2026-12, 2026-11, 2026-10"):
            usage_period_named(key=key, zone=UTC)
