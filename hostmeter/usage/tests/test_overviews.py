"""The reseller and organization overviews: counts, services, the figures (limit,
allocated, available, used, usage %) and the rows flagged over the threshold or the limit.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from hostmeter.tenancy.services import limit_set
from hostmeter.tests.factories import OrganizationFactory
from hostmeter.tests.fixtures import (
    run_update,
    store_sample,
)
from hostmeter.tests.pages import (
    cells,
    facts,
    figure_rows,
    html,
    service_icons,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- overviews


def test_reseller_overview_shows_counts_services_and_five_figures(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:reseller-overview", args=[world.acme.pk]))
    assert response.status_code == 200
    found = facts(response)
    assert found["Sub-resellers"] == "1 added directly, 2 in all"
    assert found["Organizations"].startswith("2 added directly, 3 in all")
    assert found["Added by"] == "the provider"
    page = html(response)
    services = [n for n in page.find_all("dd") if n.find("img")][0]
    assert service_icons(services) == [("Web hosting", "Web hosting"), ("Email", "Email")]

    head = cells(page.find("table", cls="figures").find("thead").find("tr"))
    assert head == [
        "Resource",
        "Limit",
        "Allocated",
        "Available",
        "Used",
        "Usage %",
        "Peak this period",
        "Change",
    ]
    figures = figure_rows(response)
    # gauges' peak: their level at the period's only update; no previous period to compare
    assert figures["Disk space"] == [
        "1,000 MB",
        "500 MB",
        "500 MB",
        "240 MB",
        "24.0 %",
        "240 MB",
        "",
    ]
    assert figures["Bandwidth"] == [
        "100 MB",
        "0 MB",
        "100 MB",
        "95 MB",
        "95.0 % over 80 %",
        "",
        "",
    ]
    assert figures["Mailboxes"] == ["–", "0", "–", "0", "–", "0", ""]
    flagged = [
        cells(tr)[0]
        for tr in page.find_all("tr", cls="flagged")
        if tr.parent.parent.attrs.get("class") == "figures"
    ]
    assert flagged == ["Bandwidth"]

    # its organizations, sub-resellers' included
    orgs = page.find("h2", id="organizations")
    table = [t for t in page.find_all("table") if "Added by" in t.find("thead").text()][0]
    assert orgs is not None
    rows = {cells(tr)[0]: cells(tr)[1:3] for tr in table.find("tbody").find_all("tr")}
    assert rows == {
        "Eta Blog": ["eta.example", "Beta Web"],
        "Theta Mail": ["theta.example", "this reseller"],
        "Zeta Shop": ["zeta.example", "this reseller"],
    }


def test_sub_reseller_overview(client, login, world):
    login("operations")
    response = client.get(reverse("usage:reseller-overview", args=[world.beta.pk]))
    found = facts(response)
    assert found["Added by"] == "Acme Hosting (sub-reseller)"
    assert found["Sub-resellers"] == "1 added directly, 1 in all"
    assert found["Organizations"].startswith("1 added directly, 1 in all")
    assert figure_rows(response)["Disk space"] == [
        "400 MB",
        "300 MB",
        "100 MB",
        "150 MB",
        "37.5 %",
        "150 MB",
        "",
    ]


def test_usage_beyond_the_limit_is_flagged_as_over_limit(client, login, world, resources, t0):
    login("marketing")
    store_sample(world.zeta, resources["disk_space"], t0 + timedelta(hours=1), "120")
    run_update(t0 + timedelta(hours=2))
    response = client.get(reverse("usage:organization-overview", args=[world.zeta.pk]))
    assert figure_rows(response)["Disk space"] == [
        "100 MB",
        "120 MB",
        "120.0 % over limit",
        "120 MB",
        "",
    ]


def test_organization_overview_shows_limit_used_and_usage(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:organization-overview", args=[world.zeta.pk]))
    assert response.status_code == 200
    page = html(response)
    head = cells(page.find("table", cls="figures").find("thead").find("tr"))
    assert head == ["Resource", "Limit", "Used", "Usage %", "Peak this period", "Change"]
    figures = figure_rows(response)
    assert figures == {
        "Disk space": ["100 MB", "90 MB", "90.0 % over 80 %", "90 MB", ""],
        "Bandwidth": ["–", "95 MB", "–", "", ""],
    }
    found = facts(response)
    assert found["Added by"] == "Acme Hosting"
    assert found["Usage as of"] == "1 Mar 2026, 02:00 UTC"
    services = [n for n in page.find_all("dd") if n.find("img")][0]
    assert service_icons(services) == [("Web hosting", "Web hosting")]

    direct = client.get(reverse("usage:organization-overview", args=[world.direct.pk]))
    assert facts(direct)["Added by"] == "the provider (direct)"
    assert figure_rows(direct)["Disk space"] == ["–", "10 MB", "–", "10 MB", ""]


def test_usage_percent_rounds_half_up_as_in_the_report_files(client, login, resources, t0):
    login("marketing")
    org = OrganizationFactory(name="Half Way", domain="half.example")
    disk = resources["disk_space"]
    limit_set(resource=disk, limit=Decimal(16), organization=org)
    store_sample(org, disk, t0 - timedelta(hours=1), "1")  # 1 of 16 MB: 6.25 %
    run_update(t0)
    response = client.get(reverse("usage:organization-overview", args=[org.pk]))
    assert figure_rows(response)["Disk space"][:3] == ["16 MB", "1 MB", "6.3 %"]


def test_overview_of_an_unknown_subject_is_not_found(client, login, world):
    login("marketing")
    assert client.get(reverse("usage:reseller-overview", args=[987654])).status_code == 404
    assert client.get(reverse("usage:organization-overview", args=[987654])).status_code == 404
