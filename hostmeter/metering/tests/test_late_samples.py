"""Late samples: stored after the update whose window they were measured in. Each is
counted once, by the next update (in the open period's total, or as a closed period's
adjustment), and the ingest answer says how many arrived late."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from hostmeter.fields import to_thousandths
from hostmeter.metering.models import UsageAdjustment, UsageSample, UsageUpdate
from hostmeter.metering.services import updates
from hostmeter.metering.services.samples import usage_samples_ingest, usage_samples_store

from .periods import row, run, store

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("window_reads")]


def test_a_late_sample_of_the_open_period_is_counted_once_by_the_next_update(site):
    org, _, bandwidth, _ = site
    store(org, bandwidth, datetime(2026, 11, 9, tzinfo=UTC), "5")
    first = run(datetime(2026, 11, 10, tzinfo=UTC))
    store(org, bandwidth, datetime(2026, 11, 8, tzinfo=UTC), "7")  # arrives late
    store(org, bandwidth, datetime(2026, 11, 10, 12, tzinfo=UTC), "1")
    second = run(datetime(2026, 11, 11, tzinfo=UTC))
    third = run(datetime(2026, 11, 12, tzinfo=UTC))
    got = [row(u, org, bandwidth) for u in (first, second, third)]
    assert [r.used for r in got] == [5, 13, 13]
    assert [r.increment for r in got] == [5, 8, 0]
    assert [r.late for r in got] == [0, 7, 0]
    assert not UsageAdjustment.objects.exists()
    assert third.samples_through == UsageSample.objects.order_by("-id").first().pk


def test_a_late_sample_of_a_closed_period_is_its_adjustment_not_the_current_periods(site):
    org, _, bandwidth, _ = site
    store(org, bandwidth, datetime(2026, 11, 20, tzinfo=UTC), "40")
    november = run(datetime(2026, 11, 30, tzinfo=UTC))
    store(org, bandwidth, datetime(2026, 12, 1, 1, tzinfo=UTC), "3")
    december = run(datetime(2026, 12, 1, 2, tzinfo=UTC))
    store(org, bandwidth, datetime(2026, 11, 15, tzinfo=UTC), "6")  # November, late
    store(org, bandwidth, datetime(2026, 10, 15, tzinfo=UTC), "2")  # October, later still
    store(org, bandwidth, datetime(2026, 11, 16, tzinfo=UTC), "4")
    later = run(datetime(2026, 12, 2, tzinfo=UTC))
    again = run(datetime(2026, 12, 3, tzinfo=UTC))
    assert row(november, org, bandwidth).used == 40
    assert row(december, org, bandwidth).used == 3
    found = row(later, org, bandwidth)
    assert (found.used, found.late, found.increment) == (3, 12, 12)
    assert row(again, org, bandwidth).used == 3
    assert row(november, org, bandwidth).used == 40  # a closed period's figures stay
    adjustments = {
        (a.period_start, a.period_end): (a.value, a.samples, a.update_id)
        for a in UsageAdjustment.objects.filter(organization=org, resource=bandwidth)
    }
    assert adjustments == {
        (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)): (10, 2, later.pk),
        (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)): (2, 1, later.pk),
    }


def test_a_sample_committed_while_an_update_ran_is_counted_late_by_the_next(site, monkeypatch):
    """Samples stored after an update took its watermark (in flight as it started) are
    outside its figures, and the next update counts them, once."""
    org, _, bandwidth, _ = site
    store(org, bandwidth, datetime(2026, 11, 9, tzinfo=UTC), "5")
    store(org, bandwidth, datetime(2026, 11, 9, 1, tzinfo=UTC), "9")
    in_flight = UsageSample.objects.order_by("-id").first().pk
    real = updates._samples_watermark
    monkeypatch.setattr(updates, "_samples_watermark", lambda: real() - 1)
    first = run(datetime(2026, 11, 10, tzinfo=UTC))
    monkeypatch.setattr(updates, "_samples_watermark", real)
    second = run(datetime(2026, 11, 11, tzinfo=UTC))
    assert first.samples_through == in_flight - 1
    assert (row(first, org, bandwidth).used, row(first, org, bandwidth).late) == (5, 0)
    assert (row(second, org, bandwidth).used, row(second, org, bandwidth).late) == (14, 9)


def test_the_ingest_answer_says_how_many_samples_arrived_late(site):
    org, _, bandwidth, _ = site
    run(datetime(2026, 11, 10, tzinfo=UTC))
    rows = [
        (
            1,
            {
                "organization": org.domain,
                "resource": "bandwidth",
                "value": "1",
                "measured_at": "2026-11-09T12:00:00Z",
            },
        ),
        (
            2,
            {
                "organization": org.domain,
                "resource": "bandwidth",
                "value": "1",
                "measured_at": "2026-11-10T12:00:00Z",
            },
        ),
    ]
    result = usage_samples_ingest(rows=rows, default_source="test")
    assert (result.stored, result.late) == (2, 1)
    again = usage_samples_ingest(
        rows=rows, default_source="test"
    )  # already stored: neither new nor late
    assert (again.stored, again.late) == (0, 0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no sequence cache")
def test_sample_ids_are_handed_out_in_order_across_sessions():
    """The watermark an update counts up to (samples_through) takes every lower id as
    committed once in-flight writers are done; a cached sequence would hand a later
    writer a lower id than one already counted, and that sample would never be."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.cache_size FROM pg_sequences s "
            "WHERE s.schemaname || '.' || s.sequencename = "
            "pg_get_serial_sequence(%s, 'id')",
            [UsageSample._meta.db_table],
        )
        assert cursor.fetchone() == (1,)


# ---------------------------------------------------------------- a gauge's level


def _store_from(org, resource, at, value, source) -> None:
    usage_samples_store([(org.pk, resource.pk, at, to_thousandths(Decimal(value)), source)])


def test_a_gauge_without_a_new_sample_keeps_its_level_and_a_late_one_can_change_it(site):
    org, _, _, disk = site
    store(org, disk, datetime(2026, 11, 9, 6, tzinfo=UTC), "300")
    first = run(datetime(2026, 11, 10, tzinfo=UTC))
    second = run(datetime(2026, 11, 11, tzinfo=UTC))  # no sample since: the level stays
    # late: measured before the first update's cut-off, stored after it; the later one
    # is the latest measured at or before every cut-off since, the earlier one is not
    store(org, disk, datetime(2026, 11, 9, 18, tzinfo=UTC), "250")
    store(org, disk, datetime(2026, 11, 9, 1, tzinfo=UTC), "900")
    third = run(datetime(2026, 11, 12, tzinfo=UTC))
    fourth = run(datetime(2026, 11, 13, tzinfo=UTC))
    got = [row(u, org, disk) for u in (first, second, third, fourth)]
    assert [r.used for r in got] == [300, 300, 250, 250]
    assert [r.peak for r in got] == [300, 300, 300, 300]


def test_a_gauges_latest_sample_is_by_time_then_by_the_order_stored(site):
    org, _, _, disk = site
    # a whole second is stored without microseconds: still before the same second's .5
    _store_from(org, disk, datetime(2026, 11, 9, 12, 0, 0, 500000, tzinfo=UTC), "20", "a")
    _store_from(org, disk, datetime(2026, 11, 9, 12, 0, 0, tzinfo=UTC), "70", "b")
    first = run(datetime(2026, 11, 10, tzinfo=UTC))
    # two at the same time from two sources: the one stored later
    _store_from(org, disk, datetime(2026, 11, 10, 12, tzinfo=UTC), "40", "zz")
    _store_from(org, disk, datetime(2026, 11, 10, 12, tzinfo=UTC), "30", "aa")
    second = run(datetime(2026, 11, 11, tzinfo=UTC))
    assert row(first, org, disk).used == 20
    assert row(second, org, disk).used == 30


def test_after_a_period_closes_a_gauge_keeps_its_level_but_not_its_peak(site):
    org, _, bandwidth, disk = site
    store(org, disk, datetime(2026, 11, 25, tzinfo=UTC), "800")
    store(org, bandwidth, datetime(2026, 11, 25, tzinfo=UTC), "5")
    run(datetime(2026, 11, 26, tzinfo=UTC))  # the period's peak so far: 800
    store(org, disk, datetime(2026, 11, 28, tzinfo=UTC), "300")
    november = run(datetime(2026, 11, 29, tzinfo=UTC))
    december = run(datetime(2026, 12, 2, tzinfo=UTC))  # closes November first
    closing = UsageUpdate.objects.get(cutoff=datetime(2026, 12, 1, tzinfo=UTC))
    assert [(row(u, org, disk).used, row(u, org, disk).peak) for u in (november, closing)] == [
        (300, 800),
        (300, 800),
    ]
    # no sample since the close: the level goes on, December's peak and total start anew
    assert (row(december, org, disk).used, row(december, org, disk).peak) == (300, 300)
    assert row(december, org, bandwidth).used == 0


@pytest.mark.parametrize("window_reads", ["as the update picks"], indirect=True)
def test_the_window_is_read_once_when_it_holds_few_samples_a_row(site, monkeypatch):
    org, _, bandwidth, _ = site
    monkeypatch.setattr(updates, "WINDOW_READ_SAMPLES_PER_ROW", 2)
    assert not updates._window_read(None, cutoff=datetime(2026, 11, 9, tzinfo=UTC))  # the first
    first = run(datetime(2026, 11, 10, tzinfo=UTC))
    most = 2 * first.rows_count
    for minute in range(most):
        store(org, bandwidth, datetime(2026, 11, 10, 1, minute, tzinfo=UTC), "1")
    store(org, bandwidth, datetime(2026, 11, 12, tzinfo=UTC), "1")  # after the cut-off
    store(org, bandwidth, datetime(2026, 11, 9, 12, tzinfo=UTC), "1")  # late: not in it
    assert updates._window_read(first, cutoff=datetime(2026, 11, 11, tzinfo=UTC))
    store(org, bandwidth, datetime(2026, 11, 10, 3, tzinfo=UTC), "1")
    assert not updates._window_read(first, cutoff=datetime(2026, 11, 11, tzinfo=UTC))
    # after an update from before late samples were told apart: probes
    first.samples_through = None
    assert not updates._window_read(first, cutoff=datetime(2026, 11, 10, 2, tzinfo=UTC))
