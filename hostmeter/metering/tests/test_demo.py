"""The demo loader: believable, consistent, repeatable data, and never mixed into real data."""

from collections import defaultdict
from datetime import UTC, date, datetime, time
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import timezone

from hostmeter.accounts.levels import LoginLevel
from hostmeter.accounts.models import User
from hostmeter.accounts.services import user_save
from hostmeter.metering.demo import DEMO_PASSWORD, DemoDataExists, demo_cutoffs, demo_load
from hostmeter.metering.models import UsageRow, UsageSample, UsageUpdate
from hostmeter.tenancy.models import (
    Organization,
    Provider,
    Reseller,
    ResellerLink,
    ResellerLogin,
    Resource,
    ResourceLimit,
)
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory

pytestmark = pytest.mark.django_db

SMALL = {"resellers": 6, "organizations": 40, "days": 5, "seed": 3}
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # Five logins per load: the real hasher would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo():
    return demo_load(**SMALL)


def limits_by_holder() -> dict[tuple[str, int | None], dict[str, object]]:
    """(kind, id) → {resource code: limit}; kind is provider, reseller or organization."""
    held: dict[tuple[str, int | None], dict[str, object]] = defaultdict(dict)
    for limit in ResourceLimit.objects.select_related("resource"):
        if limit.reseller_id:
            key = ("reseller", limit.reseller_id)
        elif limit.organization_id:
            key = ("organization", limit.organization_id)
        else:
            key = ("provider", None)
        held[key][limit.resource.code] = limit.limit
    return held


def codes(obj) -> set[str]:
    return {s.code for s in obj.services.all()}


def test_every_level_has_a_login_that_authenticates(demo):
    for level in LoginLevel.values:
        user = authenticate(None, username=level, password=DEMO_PASSWORD)
        assert user is not None, level
        assert user.login_level == level
    staff = [lvl for lvl in LoginLevel.values if lvl != LoginLevel.RESELLER]
    assert demo.logins_created[: len(staff)] == staff
    # the reseller logins: the largest top-level reseller and its largest sub-reseller
    top = ResellerLogin.objects.get(user__username="reseller").reseller
    sub = ResellerLogin.objects.get(user__username="subreseller").reseller
    assert top.parent is None and sub.parent == top
    assert demo.logins_created[len(staff) :] == [
        f"reseller ({top.name})",
        f"subreseller ({sub.name})",
    ]
    subtree = ResellerLink.objects.filter(ancestor=top).values("descendant")
    largest = max(
        Reseller.objects.filter(parent__isnull=True),
        key=lambda r: Organization.objects.filter(
            reseller__in=ResellerLink.objects.filter(ancestor=r).values("descendant")
        ).count(),
    )
    assert top == largest
    assert Organization.objects.filter(reseller__in=subtree).exists()


def test_provider_settings_and_a_nested_reseller_tree(demo):
    provider = Provider.get()
    assert (provider.name, provider.time_zone, provider.usage_schedule) == (
        "Demo Hosting",
        "Europe/Amsterdam",
        "0 2 * * *",
    )
    assert Reseller.objects.count() == 6
    assert Reseller.objects.filter(parent__isnull=True).exists()
    assert Reseller.objects.filter(parent__parent__isnull=False).exists()  # two levels deep
    assert ResellerLink.objects.filter(depth=2).exists()  # the closure was rebuilt
    assert Organization.objects.count() == 40
    for reseller in Reseller.objects.all():
        assert reseller.domain.endswith(".example")
        reseller.full_clean()  # names, domains, contacts pass the model's own validation
    for org in Organization.objects.all():
        assert org.domain.endswith(".example")
        org.full_clean()


def test_limits_given_away_fit_within_the_holder_above(demo):
    held = limits_by_holder()
    given: dict[tuple[str, int | None], dict[str, object]] = defaultdict(lambda: defaultdict(int))
    for reseller in Reseller.objects.all():
        above = ("reseller", reseller.parent_id) if reseller.parent_id else ("provider", None)
        for code, limit in held[("reseller", reseller.pk)].items():
            given[above][code] += limit
    for org in Organization.objects.all():
        above = ("reseller", org.reseller_id) if org.reseller_id else ("provider", None)
        for code, limit in held[("organization", org.pk)].items():
            given[above][code] += limit
    assert given[("provider", None)]
    for holder, sums in given.items():
        for code, total in sums.items():
            assert total <= held[holder][code], (holder, code)
    assert all(v >= 0 for limits in held.values() for v in limits.values())
    assert set(held[("provider", None)]) == set(Resource.objects.values_list("code", flat=True))


def test_services_and_limits_stay_within_the_reseller_allocation(demo):
    resellers = {r.pk: r for r in Reseller.objects.prefetch_related("services")}
    held = limits_by_holder()
    for reseller in resellers.values():
        if reseller.parent_id:
            assert codes(reseller) <= codes(resellers[reseller.parent_id])
    orgs = Organization.objects.prefetch_related("services")
    assert any(o.reseller_id is None for o in orgs)  # some added by the provider directly
    for org in orgs:
        assert codes(org)
        if org.reseller_id:
            assert codes(org) <= codes(resellers[org.reseller_id])
        enabled = set(
            Resource.objects.filter(service__code__in=codes(org)).values_list("code", flat=True)
        )
        assert set(held[("organization", org.pk)]) == enabled


def test_a_succeeded_usage_update_per_day_at_two_in_the_provider_zone(demo):
    everything = list(UsageUpdate.objects.order_by("cutoff"))
    assert {u.status for u in everything} == {UsageUpdate.Status.SUCCEEDED}
    updates = [u for u in everything if u.trigger == UsageUpdate.Trigger.DEMO]
    assert len(updates) == 5
    # Each billing period the days cross is closed by an update as of its end.
    closing = [u for u in everything if u.trigger == UsageUpdate.Trigger.CLOSE]
    assert len(closing) == len({u.period_start for u in updates}) - 1
    assert all(u.closes_period for u in closing)
    assert {u.cutoff.astimezone(AMSTERDAM).time() for u in closing} <= {time(0, 0)}
    local = [u.cutoff.astimezone(AMSTERDAM) for u in updates]
    assert {c.time() for c in local} == {time(2, 0)}
    assert [(b.date() - a.date()).days for a, b in zip(local, local[1:], strict=False)] == [1] * 4
    assert updates[-1].cutoff <= timezone.now()
    assert UsageRow.objects.filter(update=updates[-1]).count() > 40


def test_daily_samples_fall_before_the_cutoff_and_counts_are_whole(demo):
    samples = UsageSample.objects.select_related("resource")
    per_series = defaultdict(int)
    for sample in samples:
        per_series[(sample.organization_id, sample.resource_id)] += 1
        assert sample.measured_at.astimezone(AMSTERDAM).time() == time(1, 0)
        assert sample.source == "demo"
        if sample.resource.unit == "count":
            assert sample.value == int(sample.value)
    assert set(per_series.values()) == {5}
    enabled = sum(
        Resource.objects.filter(service__in=org.services.all()).count()
        for org in Organization.objects.all()
    )
    assert len(per_series) == enabled == demo.samples / 5


def test_a_few_organizations_are_over_their_threshold_in_the_latest_update(demo):
    latest = UsageUpdate.objects.latest()
    over, beyond_limit = set(), set()
    for row in UsageRow.objects.filter(update=latest).select_related("resource"):
        if row.used * 100 > row.limit * row.resource.threshold_percent:
            over.add(row.organization_id)
        if row.used > row.limit:
            beyond_limit.add(row.organization_id)
    assert 1 <= len(over) <= 4  # a few of the 40, not most of them
    assert beyond_limit


def snapshot() -> dict[str, object]:
    """The data a seed decides, keyed by domains (ids and dates may differ)."""
    resellers = sorted(
        (r.name, r.domain, r.parent.domain if r.parent else "", r.contact_email, sorted(codes(r)))
        for r in Reseller.objects.select_related("parent").prefetch_related("services")
    )
    orgs = sorted(
        (o.name, o.domain, o.reseller.domain if o.reseller else "", sorted(codes(o)))
        for o in Organization.objects.select_related("reseller").prefetch_related("services")
    )
    limits = sorted(
        (
            (lim.reseller.domain if lim.reseller else "")
            + (lim.organization.domain if lim.organization else ""),
            lim.resource.code,
            lim.limit,
        )
        for lim in ResourceLimit.objects.select_related("reseller", "organization", "resource")
    )
    series = defaultdict(list)
    for s in UsageSample.objects.select_related("organization", "resource").order_by("measured_at"):
        series[(s.organization.domain, s.resource.code)].append(s.value)
    return {"resellers": resellers, "orgs": orgs, "limits": limits, "samples": dict(series)}


def wipe() -> None:
    ResellerLogin.objects.all().delete()
    UsageUpdate.objects.all().delete()
    UsageSample.objects.all().delete()
    ResourceLimit.objects.all().delete()
    Organization.objects.all().delete()
    while Reseller.objects.exists():  # leaves first: a parent is protected
        Reseller.objects.filter(children__isnull=True).delete()


def test_the_same_seed_gives_the_same_data():
    demo_load(**SMALL)
    first = snapshot()
    wipe()
    demo_load(**SMALL)
    assert snapshot() == first
    wipe()
    demo_load(**{**SMALL, "seed": 4})
    other = snapshot()
    assert other["orgs"] != first["orgs"]
    assert other["samples"] != first["samples"]


def test_cutoffs_end_with_the_last_two_oclock_that_has_passed():
    before_two = datetime(2026, 11, 25, 0, 39, tzinfo=UTC)  # 01:39 in Amsterdam
    cutoffs = demo_cutoffs(days=2, now=before_two, zone=AMSTERDAM)
    assert [c.astimezone(AMSTERDAM).date() for c in cutoffs] == [
        date(2026, 11, 23),
        date(2026, 11, 24),
    ]
    after_two = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 02:00 in Amsterdam
    assert demo_cutoffs(days=1, now=after_two, zone=AMSTERDAM) == [after_two]


def test_one_cutoff_on_the_day_the_clocks_go_back():
    cutoffs = demo_cutoffs(days=3, now=datetime(2026, 10, 26, 12, tzinfo=UTC), zone=AMSTERDAM)
    assert [c.astimezone(AMSTERDAM).day for c in cutoffs] == [24, 25, 26]


def test_an_existing_login_keeps_its_password():
    user_save(username="support", password="their-own-secret", login_level="support")
    summary = demo_load(**SMALL)
    assert summary.logins_kept == ["support"]
    assert authenticate(None, username="support", password="their-own-secret")
    assert not authenticate(None, username="support", password=DEMO_PASSWORD)
    assert authenticate(None, username="billing", password=DEMO_PASSWORD)


def test_command_loads_and_prints_the_logins():
    out = StringIO()
    call_command("load_demo", "--resellers=3", "--organizations=10", "--days=2", stdout=out)
    text = out.getvalue()
    assert "3 resellers" in text and "10 organizations" in text
    assert "systems, operations, marketing, support, billing" in text
    assert DEMO_PASSWORD in text
    assert UsageUpdate.objects.count() == 2


def test_command_if_empty_leaves_an_existing_database_untouched():
    reseller = ResellerFactory(services=["web"])
    OrganizationFactory(reseller=reseller)
    out = StringIO()
    call_command("load_demo", "--if-empty", "--organizations=10", stdout=out)
    assert "nothing loaded" in out.getvalue()
    assert len(out.getvalue().strip().splitlines()) == 1
    assert (Reseller.objects.count(), Organization.objects.count()) == (1, 1)
    assert not User.objects.exists()
    assert not UsageUpdate.objects.exists() and not ResourceLimit.objects.exists()
    assert Provider.get().name != "Demo Hosting"


def test_command_refuses_to_mix_into_existing_data():
    OrganizationFactory()
    with pytest.raises(CommandError, match=r"already has data.*1 organization\b"):
        call_command("load_demo", "--organizations=10", stdout=StringIO())
    assert Organization.objects.count() == 1 and not Reseller.objects.exists()
    assert not User.objects.exists()
    with pytest.raises(DemoDataExists):
        demo_load(**SMALL)


def test_an_earlier_usage_update_counts_as_data():
    UsageUpdate.objects.create(cutoff=timezone.now(), trigger=UsageUpdate.Trigger.SCHEDULE)
    with pytest.raises(CommandError, match=r"1 usage update\b"):
        call_command("load_demo", "--organizations=10", stdout=StringIO())


@pytest.mark.parametrize(
    "now", [datetime(2026, 7, 1, 3, tzinfo=UTC), datetime(2026, 10, 31, 23, tzinfo=UTC)]
)
def test_the_default_history_spans_two_closed_billing_periods(db, now):
    """70 days always cross two period ends (two months are at most 62 days): the period
    selector has two closed months to show, each with its totals."""
    summary = demo_load(resellers=2, organizations=6, seed=3, now=now)
    closing = UsageUpdate.objects.filter(trigger=UsageUpdate.Trigger.CLOSE).order_by("cutoff")
    assert closing.count() >= 2
    for update in closing:
        assert update.closes_period and update.status == UsageUpdate.Status.SUCCEEDED
        bandwidth = UsageRow.objects.filter(update=update, resource__code="bandwidth")
        for row in bandwidth:
            measured = UsageSample.objects.filter(
                organization=row.organization_id,
                resource=row.resource_id,
                measured_at__gt=update.period_start,
                measured_at__lte=update.cutoff,
            )
            assert row.used == sum((s.value for s in measured), 0)
    assert summary.updates == 70
