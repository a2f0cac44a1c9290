"""Every admin change list, after samples and updates at the bounds ingest allows and
with hostile filters in the address, answers with a page or a redirect, never a server
error; a filter it cannot use is refused with a message saying why."""

import zoneinfo
from datetime import UTC, timedelta

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hostmeter.metering.models import UsageSample, UsageUpdate
from hostmeter.metering.services.samples import EARLIEST, FUTURE_TOLERANCE, usage_samples_ingest
from hostmeter.metering.services.updates import usage_update_request
from hostmeter.tenancy.models import Provider
from hostmeter.tests.factories import OrganizationFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    # Django's date drill-down at the years' ends (1 and 9999) builds naive bounds: the
    # page still answers, the warning is Django's own.
    pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime:RuntimeWarning"),
]

HUGE = "9" * 20  # past a 64-bit id
# the viewer's time zone (app.js's cookie): the far ends of the clock
ZONES = [None, "Etc/GMT-14", "Etc/GMT+12"]
OUT_OF_RANGE = "a date or number in it is out of range"


def _date_fields(model) -> list[str]:
    return [
        f.name
        for f in model._meta.get_fields()
        if isinstance(f, models.DateField) and not f.is_relation
    ]


def hostile_queries(model, model_admin) -> list[str]:
    """Query strings no list should fall over on: bad sorting, paging, searching, ids,
    and the year/month/day filters of every date field (the date hierarchy's too)."""
    queries = [
        "o=abc",
        "o=99999999999999999999",
        "o=1.-1.abc",
        "p=-1",
        f"p={HUGE}",
        "p=abc",
        "q=%00",
        "q=" + "x" * 5000,
        "q=%FF%FE",
        f"id__in={HUGE},{HUGE}",
        "id__in=" + ",".join(str(i) for i in range(900)),
        "id__in=abc",
        "id__in=",
        f"id={HUGE}",
        "id__gt=-99999999999999999999",
        "e=1",
        "all=",
        "_to_field=password",
        "nosuchfield=1",
    ]
    for name in _date_fields(model):
        queries += [
            f"{name}__year=99999999999",
            f"{name}__year=abc",
            f"{name}__year=0",
            f"{name}__year=1",
            f"{name}__year=-1",
            f"{name}__year=9999",
            f"{name}__year=2020&{name}__month=13",
            f"{name}__year=2020&{name}__month=0",
            f"{name}__year=2020&{name}__month={HUGE}",
            f"{name}__year=2020&{name}__month=2&{name}__day=0",
            f"{name}__year=2020&{name}__month=2&{name}__day=30",
            f"{name}__year=9999&{name}__month=12&{name}__day=31",
            f"{name}__year=1&{name}__month=1&{name}__day=1",
            f"{name}__gte=abc",
            f"{name}__gte=0001-01-01",
            f"{name}__lt=9999-12-31+23:59:59",
            f"{name}__isnull=maybe",
        ]
    return queries


@pytest.fixture
def bounds_world():
    """A sample at each end of the range ingest takes (README: 2000-01-01T00:00:00Z to
    five minutes past the server's clock) and an update at the earliest cut-off."""
    org = OrganizationFactory(domain="shop.example", services=["web"])
    latest = timezone.now() + FUTURE_TOLERANCE - timedelta(seconds=1)
    rows = [
        (n, {"organization": org.domain, "resource": "disk_space", "value": "1", "measured_at": at})
        for n, at in enumerate([EARLIEST.isoformat(), latest.isoformat()], start=2)
    ]
    result = usage_samples_ingest(rows=rows, default_source="test")
    assert result.stored == 2, result.errors
    usage_update_request(cutoff=EARLIEST, trigger=UsageUpdate.Trigger.COMMAND, enqueue=False)


@pytest.fixture
def systems_client():
    client = Client(raise_request_exception=False)  # a 500 is a status here, not a raise
    client.force_login(UserFactory(login_level="systems"))
    return client


def _changelists():
    return [
        pytest.param(model, model_admin, id=model._meta.label)
        for model, model_admin in admin.site._registry.items()
    ]


@pytest.mark.parametrize("model, model_admin", _changelists())
def test_no_change_list_fails_on_a_hostile_filter(bounds_world, systems_client, model, model_admin):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    failures = []
    for zone in ZONES:
        if zone:
            systems_client.cookies["hostmeter_tz"] = zone
        for query in hostile_queries(model, model_admin):
            response = systems_client.get(f"{url}?{query}")
            if response.status_code >= 500:
                failures.append((zone, query, response.status_code))
            elif response.status_code == 302:
                assert response["Location"] == f"{url}?e=1", (query, response["Location"])
    assert not failures


def test_every_admin_with_dates_is_fuzzed_on_them():
    """The loop above takes the date fields from the models: a model that gains one (or a
    date hierarchy) is covered without anyone adding it."""
    for model, model_admin in admin.site._registry.items():
        if model_admin.date_hierarchy:
            assert model_admin.date_hierarchy in _date_fields(model), model._meta.label


@pytest.mark.parametrize(
    "url_name, query, reason",
    [
        ("admin:metering_usagesample_changelist", "measured_at__year=0", "year 0 is out of range"),
        (
            "admin:metering_usagesample_changelist",
            "measured_at__year=99999999999",
            OUT_OF_RANGE,
        ),
        (
            "admin:metering_usageupdate_changelist",
            "cutoff__year=9999&cutoff__month=12&cutoff__day=31",
            OUT_OF_RANGE,
        ),
        ("admin:metering_usageupdate_changelist", "cutoff__year=9999", OUT_OF_RANGE),
        (
            "admin:metering_collectionrun_changelist",
            f"due_at__year=2020&due_at__month={HUGE}",
            OUT_OF_RANGE,
        ),
        ("admin:tenancy_organization_changelist", f"id__in={HUGE}", "past 64 bits"),
        ("admin:tenancy_organization_changelist", "created_at__gte=abc", "invalid format"),
    ],
)
def test_a_filter_that_cannot_be_used_is_refused_with_the_reason(
    bounds_world, systems_client, url_name, query, reason
):
    url = reverse(url_name)
    response = systems_client.get(f"{url}?{query}")
    assert response.status_code == 302
    assert response["Location"] == f"{url}?e=1"
    page = systems_client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "The filter in the address cannot be used (" in text
    assert reason in text


def test_the_year_filter_finds_samples_at_both_bounds(bounds_world, systems_client):
    url = reverse("admin:metering_usagesample_changelist")
    earliest = EARLIEST.astimezone(UTC)
    for sample in UsageSample.objects.all():
        at = timezone.localtime(sample.measured_at, UTC)
        response = systems_client.get(url, {"measured_at__year": at.year})
        assert response.status_code == 200
        assert response.context["cl"].result_count >= 1
    response = systems_client.get(url, {"measured_at__year": earliest.year - 1})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0


@pytest.mark.parametrize("zone", ZONES)
def test_the_date_hierarchy_drills_down_to_the_earliest_update(bounds_world, systems_client, zone):
    """The earliest cut-off is 1999-12-31 in a zone behind UTC: the hierarchy offers that
    year and its day, and neither fails."""
    if zone:
        systems_client.cookies["hostmeter_tz"] = zone
    url = reverse("admin:metering_usageupdate_changelist")
    assert systems_client.get(url).status_code == 200
    local = EARLIEST.astimezone(zoneinfo.ZoneInfo(zone) if zone else Provider.get().zone)
    for query in [
        {"cutoff__year": local.year},
        {"cutoff__year": local.year, "cutoff__month": local.month},
        {"cutoff__year": local.year, "cutoff__month": local.month, "cutoff__day": local.day},
    ]:
        response = systems_client.get(url, query)
        assert response.status_code == 200, query
        assert response.context["cl"].result_count == 1, query


@pytest.mark.parametrize(
    "url_name, query",
    [
        ("admin:tenancy_resourcelimit_add", "reseller=%20"),  # found by test_fuzz_pages
        ("admin:tenancy_resourcelimit_add", "resource=abc"),
        ("admin:tenancy_resourcelimit_add", f"organization={HUGE}"),
        ("admin:tenancy_organization_add", "reseller=x"),
        ("admin:tenancy_reseller_add", "parent=%00"),
        ("admin:tenancy_organization_add", "services=x,1"),
    ],
)
def test_an_add_forms_initial_id_that_is_none_is_left_empty(systems_client, url_name, query):
    response = systems_client.get(f"{reverse(url_name)}?{query}")
    assert response.status_code == 200
    assert "is not an id of one: left empty." in response.content.decode()


def test_an_add_forms_initial_id_that_is_one_is_kept(systems_client):
    org = OrganizationFactory(domain="shop.example")
    response = systems_client.get(
        reverse("admin:tenancy_resourcelimit_add"), {"organization": org.pk}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.initial["organization"] == str(org.pk)
    assert "left empty" not in response.content.decode()
