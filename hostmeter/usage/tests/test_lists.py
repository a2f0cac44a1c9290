"""The reseller usage and organization site usage lists: the help text's columns, report
status and last updated, the services column's icons, and the status line above them.

Sorting: test_sorting.py; search, pages and the reseller filter:
test_search_and_paging.py; the action bar: test_action_bar.py.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.selectors.schedule import usage_schedule_next
from hostmeter.reports.models import Report
from hostmeter.tenancy.models import Provider, Reseller
from hostmeter.tests.factories import ResellerFactory
from hostmeter.tests.fixtures import (
    ORGANIZATION_COLUMNS,
    RESELLER_COLUMNS,
    run_update,
    table_counts,
)
from hostmeter.tests.pages import (
    cells,
    column_headers,
    listed_names,
    listed_rows,
    messages_of,
    row_of,
    service_icons,
    status_line,
    usage_table,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- the help text's columns


def test_reseller_usage_lists_the_help_texts_columns_with_a_checkbox_per_row(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:reseller-usage"))
    assert column_headers(response) == ["", *RESELLER_COLUMNS]
    assert listed_names(response) == ["Acme Hosting", "Beta Web", "Gamma Net", "Omega Cloud"]
    for row in listed_rows(response):
        box = row.find("input", type="checkbox")
        assert box.attrs["name"] == "selected"
        assert Reseller.objects.get(pk=box.attrs["value"]).name == row.find("a").text()
        assert box.attrs.get("aria-label")  # a label for screen readers
    acme = cells(row_of(response, "Acme Hosting"))
    assert acme[2] == "acme.example"
    assert acme[4] == "Not generated"
    assert acme[5] in ("–", "")
    assert "sub-reseller of Acme Hosting" in cells(row_of(response, "Beta Web"))[1]
    assert row_of(response, "Acme Hosting").find("a").attrs["href"] == reverse(
        "usage:reseller-overview", args=[world.acme.pk]
    )


def test_organization_site_usage_lists_the_owning_reseller(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:organization-usage"))
    assert column_headers(response) == ["", *ORGANIZATION_COLUMNS]
    assert cells(row_of(response, "Eta Blog"))[3] == "Beta Web"
    assert cells(row_of(response, "Direct Site"))[3] == "direct"
    assert cells(row_of(response, "Zeta Shop"))[2] == "zeta.example"


def test_report_status_and_last_updated_columns(client, login, world, t0):
    login("marketing")
    generated = t0 + timedelta(hours=5, minutes=7)
    Report.objects.create(
        kind="reseller",
        reseller=world.acme,
        update=world.update,
        status="ready",
        generated_at=generated,
    )
    Report.objects.create(
        kind="reseller",
        reseller=world.beta,
        update=world.update,
        status="failed",
        error="disk full",
    )
    response = client.get(reverse("usage:reseller-usage"))
    acme = cells(row_of(response, "Acme Hosting"))
    assert acme[4] == "Ready"
    assert acme[5] == "1 Mar 2026, 07:07"
    assert cells(row_of(response, "Beta Web"))[4].startswith("Failed")
    assert cells(row_of(response, "Beta Web"))[5] in ("–", "")
    assert cells(row_of(response, "Omega Cloud"))[4] == "Not generated"
    # a report of an earlier usage update does not count for the most recent one
    run_update(t0 + timedelta(days=1))
    response = client.get(reverse("usage:reseller-usage"))
    assert cells(row_of(response, "Acme Hosting"))[4] == "Not generated"


def test_lists_show_reports_in_progress(client, login, world, t0):
    login("marketing")
    Report.objects.create(kind="reseller", reseller=world.beta, update=world.update)
    Report.objects.create(
        kind="reseller", reseller=world.gamma, update=world.update, status="generating", progress=40
    )
    Report.objects.create(kind="organization", organization=world.zeta, update=world.update)
    response = client.get(reverse("usage:reseller-usage"))
    assert response.status_code == 200
    assert cells(row_of(response, "Beta Web"))[4] == "Queued"
    assert cells(row_of(response, "Gamma Net"))[4].startswith("Generating")
    assert "40 %" in cells(row_of(response, "Gamma Net"))[4]
    # the report's life: not generated, queued, generating, ready, failed
    response = client.get(reverse("usage:reseller-usage"), {"sort": "status"})
    assert listed_names(response) == ["Acme Hosting", "Omega Cloud", "Beta Web", "Gamma Net"]
    response = client.get(reverse("usage:organization-usage"))
    assert response.status_code == 200
    assert cells(row_of(response, "Zeta Shop"))[5] == "Queued"
    poll = client.get(
        reverse("usage:reseller-report-status"), {"ids": [world.beta.pk, world.gamma.pk]}
    )
    assert poll.status_code == 200


def test_after_generate_the_list_shows_the_reports_queued(client, login, world):
    login("marketing")
    response = client.post(
        reverse("usage:reseller-actions"),
        {"action": "generate", "selected": [world.acme.pk, world.omega.pk]},
    )
    page = client.get(response.url)
    assert page.status_code == 200
    assert "2 reports queued." in messages_of(page)
    assert cells(row_of(page, "Acme Hosting"))[4] == "Queued"
    assert cells(row_of(page, "Beta Web"))[4] == "Not generated"


def test_reloading_the_reseller_usage_tab_changes_no_data(client, login, world):
    login("marketing")
    Report.objects.create(kind="reseller", reseller=world.acme, update=world.update, status="ready")
    before = table_counts()
    first = client.get(reverse("usage:reseller-usage"))
    again = client.get(reverse("usage:reseller-usage"))
    assert first.status_code == again.status_code == 200
    assert table_counts() == before
    assert [cells(r) for r in listed_rows(first)] == [cells(r) for r in listed_rows(again)]
    assert list(UsageUpdate.objects.values_list("pk", "status")) == [(world.update.pk, "succeeded")]
    assert Report.objects.get().status == "ready"


# ---------------------------------------------------------------- services column


def test_services_column_has_an_icon_per_allocated_service_with_name_and_tooltip(
    client, login, world
):
    login("marketing")
    ResellerFactory(name="Nothing Yet", domain="nothing.example")
    response = client.get(reverse("usage:reseller-usage"))
    icons = {name: service_icons(row_of(response, name)) for name in listed_names(response)}
    assert icons["Acme Hosting"] == [("Web hosting", "Web hosting"), ("Email", "Email")]
    assert icons["Omega Cloud"] == [("Databases", "Databases")]
    assert icons["Gamma Net"] == [("Web hosting", "Web hosting")]
    assert icons["Nothing Yet"] == []
    assert "none" in cells(row_of(response, "Nothing Yet"))[3]
    for img in usage_table(response).find("tbody").find_all("img"):
        assert img.attrs["src"].endswith(".svg")

    response = client.get(reverse("usage:organization-usage"))
    assert service_icons(row_of(response, "Theta Mail")) == [
        ("Web hosting", "Web hosting"),
        ("Email", "Email"),
    ]


# ---------------------------------------------------------------- status line


def test_status_line_says_when_usage_was_last_updated_and_the_next_update(client, login, world):
    login("marketing")
    for tab in ("usage:summary", "usage:reseller-usage", "usage:organization-usage"):
        line = status_line(client.get(reverse(tab)))
        assert "Usage last updated: 1 Mar 2026, 02:00 UTC" in line.text(), tab
        times = line.find_all("time")
        assert datetime.fromisoformat(times[0].attrs["datetime"]) == world.update.cutoff
        expected = usage_schedule_next(provider=Provider.get(), now=timezone.now())[0]
        assert "Next update at:" in line.text()
        assert datetime.fromisoformat(times[1].attrs["datetime"]) == expected
        assert expected > timezone.now()


def test_status_line_shows_the_next_update_in_the_providers_time_zone(client, login, world):
    provider = Provider.get()
    provider.time_zone, provider.usage_schedule = "Asia/Kolkata", "30 4 * * *"
    provider.save()
    login("marketing")
    line = status_line(client.get(reverse("usage:reseller-usage")))
    assert "Usage last updated: 1 Mar 2026, 07:30 IST" in line.text()
    nxt = datetime.fromisoformat(line.find_all("time")[1].attrs["datetime"])
    local = nxt.astimezone(ZoneInfo("Asia/Kolkata"))
    assert (local.hour, local.minute) == (4, 30)
    assert f"{local:%-d %b %Y}, 04:30 IST" in line.text()


def test_status_line_names_the_billing_period_of_the_figures(client, login, world):
    login("marketing")
    line = status_line(client.get(reverse("usage:summary"))).text()
    assert "Billing period: March 2026 (counters to date)" in line
    # An update as of the period's last instant holds the month's totals.
    run_update(datetime(2026, 4, 1, tzinfo=UTC))
    line = status_line(client.get(reverse("usage:summary"))).text()
    assert "Billing period: March 2026 (closed: counters are the period's totals)" in line
    provider = Provider.get()
    provider.billing_anchor_day = 15
    provider.save()
    run_update(datetime(2026, 4, 20, tzinfo=UTC))
    line = status_line(client.get(reverse("usage:summary"))).text()
    assert "Billing period: 15 Apr 2026 – 14 May 2026 (counters to date)" in line
