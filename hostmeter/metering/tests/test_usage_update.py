"""Usage update semantics, checked against figures computed here from the samples."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hostmeter.fields import to_thousandths
from hostmeter.metering.models import UsageRollup, UsageRow, UsageUpdate
from hostmeter.metering.selectors.updates import usage_update_latest
from hostmeter.metering.services.samples import usage_samples_store
from hostmeter.metering.services.updates import (
    UsageUpdateError,
    usage_update_request,
    usage_update_run,
)
from hostmeter.tenancy.services import limit_set
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory
from hostmeter.tests.fixtures import run_update as run

pytestmark = pytest.mark.django_db


def store(samples):
    """samples: (org, resource, when, Decimal value, source)."""
    return usage_samples_store(
        (o.pk, r.pk, at, to_thousandths(v), src) for o, r, at, v, src in samples
    )


def rows_of(update):
    return {
        (row.organization_id, row.resource_id): row.used
        for row in UsageRow.objects.filter(update=update)
    }


def increments_of(update):
    return {
        (row.organization_id, row.resource_id): row.increment
        for row in UsageRow.objects.filter(update=update)
    }


def month_start(instant):
    """The start of the calendar month (UTC) an instant counts in: midnight of the 1st
    belongs to the month before."""
    start = datetime(instant.year, instant.month, 1, tzinfo=UTC)
    if instant == start:
        start = datetime(
            instant.year - (instant.month == 1), (instant.month - 2) % 12 + 1, 1, tzinfo=UTC
        )
    return start


def expected_used(samples, org, resource, cutoff, previous):
    """Independent reference: DESIGN.md's definition, in plain Python: a gauge's level
    at the cut-off, a counter's sum over its calendar month up to the cut-off."""
    mine = [(at, v) for o, r, at, v, _ in samples if o == org and r == resource]
    if resource.kind == "gauge":
        before = [(at, v) for at, v in mine if at <= cutoff]
        return max(before, key=lambda p: p[0])[1] if before else Decimal(0)
    start = month_start(cutoff)
    return sum((v for at, v in mine if start < at <= cutoff), Decimal(0))


def expected_increment(samples, org, resource, cutoff, previous):
    """A counter's sum since the previous cut-off (every sample so far, at the first)."""
    mine = [(at, v) for o, r, at, v, _ in samples if o == org and r == resource]
    if resource.kind == "gauge":
        return None
    return sum(
        (v for at, v in mine if (previous is None or at > previous) and at <= cutoff), Decimal(0)
    )


def test_gauge_takes_latest_sample_at_or_before_cutoff(resources, t0):
    org = OrganizationFactory(services=["web"])
    disk = resources["disk_space"]
    store(
        [
            (org, disk, t0 - timedelta(hours=5), Decimal("10"), "a"),
            (org, disk, t0, Decimal("12.345"), "a"),  # exactly at the cut-off: counts
            (org, disk, t0 + timedelta(seconds=1), Decimal("99"), "a"),  # after: does not
        ]
    )
    update = run(t0)
    assert update.status == UsageUpdate.Status.SUCCEEDED
    assert rows_of(update)[(org.pk, disk.pk)] == Decimal("12.345")


def test_counter_sums_window_after_previous_cutoff(resources, t0):
    org = OrganizationFactory(services=["web"])
    bw = resources["bandwidth"]
    day = timedelta(days=1)
    store(
        [
            (org, bw, t0 - timedelta(hours=1), Decimal("1.5"), "log"),
            (org, bw, t0, Decimal("2"), "log"),  # on the first cut-off: first window
            (org, bw, t0 + timedelta(hours=3), Decimal("4.001"), "log"),
            (org, bw, t0 + day, Decimal("0.999"), "log"),  # on the second cut-off: second window
            (org, bw, t0 + day + timedelta(seconds=1), Decimal("100"), "log"),  # neither
        ]
    )
    first, second = run(t0), run(t0 + day)
    assert increments_of(first)[(org.pk, bw.pk)] == Decimal("3.5")
    assert increments_of(second)[(org.pk, bw.pk)] == Decimal("5.000")
    assert second.previous_cutoff == first.cutoff
    # Both windows are in March (t0 is 1 March, 02:00 UTC): the period's total goes on.
    assert rows_of(first)[(org.pk, bw.pk)] == Decimal("3.5")
    assert rows_of(second)[(org.pk, bw.pk)] == Decimal("8.500")


def test_every_enabled_resource_gets_a_row_and_limits_are_frozen(resources, t0):
    org = OrganizationFactory(services=["web", "mail"])
    limit_set(resource=resources["mailboxes"], limit=Decimal("25"), organization=org)
    update = run(t0)
    rows = UsageRow.objects.filter(update=update, organization=org)
    assert {r.resource.code for r in rows} == {
        "disk_space",
        "bandwidth",
        "mailboxes",
        "mail_storage",
        "emails_sent",
    }
    assert {r.resource.code: r.limit for r in rows}["mailboxes"] == Decimal("25")
    limit_set(resource=resources["mailboxes"], limit=Decimal("50"), organization=org)
    assert (
        UsageRow.objects.get(update=update, organization=org, resource__code="mailboxes").limit
        == 25
    )


def test_random_timelines_match_reference(resources, t0):
    """Many organizations, resources and sources at random: every row equals the reference."""
    rnd = random.Random(7)
    parent = ResellerFactory(services=["web", "mail", "db"])
    child = ResellerFactory(parent=parent, services=["web", "mail"])
    owners = [None, parent, child]
    orgs = [
        OrganizationFactory(reseller=rnd.choice(owners), services=["web", "mail", "db"])
        for _ in range(12)
    ]
    res = [
        resources[c] for c in ("disk_space", "bandwidth", "mailboxes", "emails_sent", "db_storage")
    ]
    samples = []
    for org in orgs:
        for r in res:
            for _ in range(rnd.randint(0, 8)):
                at = t0 + timedelta(minutes=rnd.randint(-3000, 3000))
                value = Decimal(rnd.randint(0, 10**7)) / 1000
                samples.append((org, r, at, value, rnd.choice(["a", "b"])))
    # one value per unique key, as the store keeps the first
    unique = {}
    for s in samples:
        unique.setdefault((s[0].pk, s[1].pk, s[2], s[4]), s)
    samples = list(unique.values())
    # gauges tie-break on equal times is by id; avoid ambiguous equal-time gauge pairs here
    store(samples)
    cutoffs = [t0 - timedelta(hours=10), t0, t0 + timedelta(hours=20)]
    previous = None
    for cutoff in cutoffs:
        update = run(cutoff)
        # t0 is 02:00 on 1 March: an update as of midnight closed February first.
        previous = update.previous_cutoff
        got, increments = rows_of(update), increments_of(update)
        for org in orgs:
            for r in res:
                assert got[(org.pk, r.pk)] == expected_used(samples, org, r, cutoff, previous), (
                    org,
                    r.code,
                    cutoff,
                )
                assert increments[(org.pk, r.pk)] == expected_increment(
                    samples, org, r, cutoff, previous
                ), (org, r.code, cutoff)
        # roll-ups: parent includes its sub-reseller's organizations
        for reseller in (parent, child):
            below = {reseller.pk} | ({child.pk} if reseller == parent else set())
            for r in res:
                want = sum((got[(o.pk, r.pk)] for o in orgs if o.reseller_id in below), Decimal(0))
                rollup = UsageRollup.objects.get(update=update, reseller=reseller, resource=r)
                assert rollup.used == want
        for r in res:
            provider = UsageRollup.objects.get(update=update, reseller=None, resource=r)
            assert provider.used == sum((got[(o.pk, r.pk)] for o in orgs), Decimal(0))
            assert provider.organizations_count == len(orgs)
        previous = cutoff


def test_rollup_limit_allocated_and_sold(resources, t0):
    disk = resources["disk_space"]
    top = ResellerFactory(services=["web"])
    sub = ResellerFactory(parent=top, services=["web"])
    own = OrganizationFactory(reseller=top)
    subs_org = OrganizationFactory(reseller=sub)
    direct = OrganizationFactory(reseller=None)
    limit_set(resource=disk, limit=Decimal("10000"))  # provider capacity
    limit_set(resource=disk, limit=Decimal("3000"), reseller=top)
    limit_set(resource=disk, limit=Decimal("1000"), reseller=sub)
    limit_set(resource=disk, limit=Decimal("200"), organization=own)
    limit_set(resource=disk, limit=Decimal("100"), organization=subs_org)
    limit_set(resource=disk, limit=Decimal("50"), organization=direct)
    store(
        [(o, disk, t0, Decimal(v), "x") for o, v in ((own, "20"), (subs_org, "30"), (direct, "5"))]
    )
    update = run(t0)
    top_r = UsageRollup.objects.get(update=update, reseller=top, resource=disk)
    assert (top_r.used, top_r.limit, top_r.allocated, top_r.available) == (50, 3000, 1200, 1800)
    sub_r = UsageRollup.objects.get(update=update, reseller=sub, resource=disk)
    assert (sub_r.used, sub_r.limit, sub_r.allocated) == (30, 1000, 100)
    provider = UsageRollup.objects.get(update=update, reseller=None, resource=disk)
    assert (provider.used, provider.limit, provider.allocated) == (55, 10000, 3050)


def test_idempotent_for_a_cutoff(resources, t0):
    org = OrganizationFactory()
    store([(org, resources["disk_space"], t0, Decimal("1"), "x")])
    first = run(t0)
    again = usage_update_request(cutoff=t0, trigger="command", enqueue=False)
    assert again.pk == first.pk
    assert usage_update_run(update_id=again.pk).status == UsageUpdate.Status.SUCCEEDED
    assert UsageRow.objects.filter(update=first).count() == 2


def test_earlier_cutoff_than_a_completed_update_is_refused(t0):
    run(t0)
    with pytest.raises(UsageUpdateError, match="later usage update"):
        usage_update_request(cutoff=t0 - timedelta(hours=1), trigger="command", enqueue=False)


def test_future_cutoff_is_refused():
    from django.utils import timezone

    with pytest.raises(UsageUpdateError, match="future"):
        usage_update_request(
            cutoff=timezone.now() + timedelta(hours=1), trigger="command", enqueue=False
        )


def test_failed_update_writes_nothing_and_keeps_previous(resources, t0, monkeypatch):
    org = OrganizationFactory()
    store([(org, resources["disk_space"], t0, Decimal("1"), "x")])
    good = run(t0)

    from hostmeter.metering import sql

    def explode(template, **params):
        if template is sql.ROLLUPS:  # the last statement: rows and snapshots are written
            raise RuntimeError("disk full")
        return real(template, **params)

    real = sql.run_statement
    monkeypatch.setattr(sql, "run_statement", explode)
    bad = run(t0 + timedelta(days=1))
    assert bad.status == UsageUpdate.Status.FAILED
    assert "disk full" in bad.error
    assert not UsageRow.objects.filter(update=bad).exists()
    assert not UsageRollup.objects.filter(update=bad).exists()
    assert usage_update_latest() == good
    # and it can be run again once the cause is gone
    monkeypatch.setattr(sql, "run_statement", real)
    retried = usage_update_request(cutoff=bad.cutoff, trigger="command", enqueue=False)
    assert usage_update_run(update_id=retried.pk).status == UsageUpdate.Status.SUCCEEDED
