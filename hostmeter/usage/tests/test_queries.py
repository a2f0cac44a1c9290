"""The number of SQL queries of each Usage page does not grow with the rows listed."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hostmeter.fields import to_thousandths
from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.services.samples import usage_samples_store
from hostmeter.reports.models import Report
from hostmeter.tenancy.models import Organization, Reseller, Service
from hostmeter.tenancy.services import reseller_links_rebuild
from hostmeter.tests.fixtures import (
    run_update,
)
from hostmeter.tests.pages import (
    listed_names,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- SQL queries per page


def _grow(world, resources, t0, count: int) -> None:
    """count more resellers (under Acme) and organizations (Acme's), with usage and reports
    of a new update two hours after t0."""
    web_mail = list(Service.objects.filter(code__in=["web", "mail"]))
    resellers = Reseller.objects.bulk_create(
        Reseller(name=f"Grown Reseller {i:02}", domain=f"grown{i:02}.example", parent=world.acme)
        for i in range(count)
    )
    orgs = Organization.objects.bulk_create(
        Organization(name=f"Grown Site {i:02}", domain=f"site{i:02}.example", reseller=world.acme)
        for i in range(count)
    )
    Reseller.services.through.objects.bulk_create(
        Reseller.services.through(reseller_id=r.pk, service_id=s.pk)
        for r in resellers
        for s in web_mail
    )
    Organization.services.through.objects.bulk_create(
        Organization.services.through(organization_id=o.pk, service_id=s.pk)
        for o in orgs
        for s in web_mail
    )
    reseller_links_rebuild()
    disk = resources["disk_space"]
    usage_samples_store(
        (o.pk, disk.pk, t0 + timedelta(hours=1), to_thousandths(i + 1), "test")
        for i, o in enumerate(orgs)
    )
    update = run_update(t0 + timedelta(hours=2))
    Report.objects.bulk_create(
        [Report(kind="reseller", reseller=r, update=update, status="ready") for r in resellers]
        + [Report(kind="organization", organization=o, update=update) for o in orgs[::2]]
    )
    Report.objects.filter(update=update, organization__isnull=False).update(status="failed")
    Report.objects.filter(update=world.update).update(update=update)


# A ceiling, in case a page's count grows with a constant: what the test asserts is that
# the count stays the same with more rows. The billing period a page shows (the periods to
# choose from, the previous period's figures) takes three or four.
MAX_QUERIES = 25


def _queries(client, url: str, ceiling) -> int:
    """The SQL queries of one page view (after a first view), at most MAX_QUERIES."""
    client.get(url)  # warm up what a first request may load once
    with ceiling(MAX_QUERIES) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_queries_per_page_do_not_grow_with_the_rows(
    client, login, world, resources, t0, django_assert_max_num_queries
):
    login("marketing")
    Report.objects.create(
        kind="reseller", reseller=world.acme, update=world.update, status="failed"
    )
    Report.objects.create(
        kind="reseller", reseller=world.omega, update=world.update, status="ready"
    )
    Report.objects.create(
        kind="organization", organization=world.zeta, update=world.update, status="ready"
    )
    urls = [
        reverse("usage:reseller-usage"),
        reverse("usage:reseller-usage") + "?sort=services&q=e",
        reverse("usage:reseller-usage") + "?sort=-status",
        reverse("usage:organization-usage"),
        reverse("usage:organization-usage") + f"?reseller={world.acme.pk}&sort=reseller",
        reverse("usage:organization-usage") + "?sort=status",
        reverse("usage:organization-usage") + "?sort=-updated&q=e",
        reverse("usage:summary"),
        reverse("usage:reseller-overview", args=[world.acme.pk]),
        reverse("usage:organization-overview", args=[world.zeta.pk]),
        reverse("reports:export-reports"),
    ]
    small = {url: _queries(client, url, django_assert_max_num_queries) for url in urls}
    assert len(listed_names(client.get(urls[0]))) == 4

    _grow(world, resources, t0, 40)
    large = {url: _queries(client, url, django_assert_max_num_queries) for url in urls}
    assert len(listed_names(client.get(urls[0]))) == 25
    assert len(listed_names(client.get(urls[3]))) == 25
    assert large == small


def test_queries_of_a_closed_periods_pages_do_not_grow_with_the_rows(
    client, login, months, resources, django_assert_max_num_queries
):
    """March 2026 closed, with the change against nothing, April with the change against
    March, May (to date, then closed by the update that grows the rows), and the trend by
    period."""
    login("marketing")
    march = UsageUpdate.objects.get(cutoff=datetime(2026, 4, 1, tzinfo=UTC))
    Report.objects.create(kind="reseller", reseller=months.acme, update=march, status="ready")
    urls = []
    for key in ("2026-03", "2026-04", "2026-05"):
        urls += [
            reverse("usage:reseller-usage") + f"?period={key}&sort=-status",
            reverse("usage:organization-usage") + f"?period={key}&sort=status&q=e",
            reverse("usage:summary") + f"?period={key}&trend=period",
            reverse("usage:reseller-overview", args=[months.acme.pk]) + f"?period={key}",
            reverse("usage:reseller-overview", args=[months.acme.pk])
            + f"?period={key}&trend=period",
            reverse("usage:organization-overview", args=[months.zeta.pk])
            + f"?period={key}&trend=period",
        ]
    small = {url: _queries(client, url, django_assert_max_num_queries) for url in urls}
    # May closes at 1 June, with the grown organizations' rows
    _grow(months, resources, datetime(2026, 6, 2, tzinfo=UTC), 40)
    large = {url: _queries(client, url, django_assert_max_num_queries) for url in urls}
    assert len(listed_names(client.get(urls[0]))) == 25
    assert large == small


def test_the_action_bar_of_no_selection_reads_no_usage_update(client, login, world):
    """A list asks for its action bar every time it loads; with nothing selected the bar
    offers nothing whatever the update, so no update is read (a period asked for is
    still checked, and a selection's bar reads it)."""
    login("marketing")
    url = reverse("usage:organization-action-bar")
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Select one or more organizations to use the action bar." in response.content.decode()
    assert not [q for q in captured if "metering_usageupdate" in q["sql"]]
    assert client.get(url, {"period": "1999-01"}).status_code == 404
    with CaptureQueriesContext(connection) as captured:
        client.get(url, {"selected": world.zeta.pk})
    assert [q for q in captured if "metering_usageupdate" in q["sql"]]
