"""The panel's frame (hostmeter/views.py and the base template): the home page, the top
navigation and the Usage tabs, and every page on a fresh database, before the first
usage update.
"""

import pytest
from django.urls import reverse

from hostmeter.tests.factories import OrganizationFactory, ResellerFactory
from hostmeter.tests.pages import (
    cells,
    html,
    listed_names,
    row_of,
    status_line,
    usage_table,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- home and top navigation

USAGE_TABS = [
    ("Summary", "usage:summary"),
    ("Reseller usage", "usage:reseller-usage"),
    ("Organization site usage", "usage:organization-usage"),
    ("Export reports", "reports:export-reports"),
]


def test_top_navigation_has_reports_and_the_usage_tabs(client, login, world):
    login("operations")
    pages = {
        "Summary": reverse("usage:summary"),
        "Reseller usage": reverse("usage:reseller-usage"),
        "Organization site usage": reverse("usage:organization-usage"),
        "Export reports": reverse("reports:export-reports"),
    }
    for current, url in pages.items():
        page = html(client.get(url))
        main = page.find("nav", aria_label="Main")
        reports = [a for a in main.find_all("a") if a.text() == "Reports"]
        assert reports and reports[0].attrs["href"] == reverse("reports:index"), url
        assert reports[0].attrs.get("aria-current") == "page"

        section = page.find("nav", aria_label="Reports")
        assert [a.text() for a in section.find_all("a")] == ["Usage"]

        tabs = page.find("nav", aria_label="Usage").find_all("a")
        assert [(a.text(), a.attrs["href"]) for a in tabs] == [
            (label, reverse(name)) for label, name in USAGE_TABS
        ]
        assert [a.text() for a in tabs if a.attrs.get("aria-current") == "page"] == [current]


def test_home_page_leads_viewers_to_reports(client, login, world):
    login("marketing")
    response = client.get("/")
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200

    login("support")
    response = client.get("/")
    assert response.status_code == 200
    assert "Acme Hosting" not in response.content.decode()


# ---------------------------------------------------------------- a fresh database


def test_every_page_renders_before_the_first_usage_update(client, login, db):
    login("systems")
    for url in [
        reverse("usage:summary"),
        reverse("usage:reseller-usage"),
        reverse("usage:organization-usage"),
        reverse("reports:export-reports"),
        reverse("metering:update-status"),
        reverse("metering:usage-schedule"),
        reverse("usage:reseller-action-bar"),
        reverse("usage:organization-action-bar"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    summary = client.get(reverse("usage:summary"))
    assert "Usage last updated: never" in status_line(summary).text()
    assert "No usage figures yet" in summary.content.decode()
    assert "No resellers yet." in usage_table(client.get(reverse("usage:reseller-usage"))).text()

    reseller = ResellerFactory(name="First Reseller", services=["web"])
    org = OrganizationFactory(name="First Site", reseller=reseller)
    listed = client.get(reverse("usage:reseller-usage"))
    assert cells(row_of(listed, "First Reseller"))[4] == "Not generated"
    for url in (
        reverse("usage:reseller-overview", args=[reseller.pk]),
        reverse("usage:organization-overview", args=[org.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "No usage update yet." in response.content.decode()
        assert "No usage figures yet" in response.content.decode()
    assert listed_names(client.get(reverse("usage:organization-usage"))) == ["First Site"]
