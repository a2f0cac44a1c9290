"""The reseller usage help text, followed word by word in Chromium.

"On the top navigation bar click reports, then click the usage tab. Click the reseller
usage tab." … "Login level required to view this page: Systems, Operations, or Marketing"
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from hostmeter.tests.fixtures import ORGANIZATION_COLUMNS, RESELLER_COLUMNS

from .conftest import BANDWIDTH, assert_styled, sign_in, text

pytestmark = [
    pytest.mark.browser,
    # the live server's threads must see the test's data; the catalog survives the flush
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

USAGE_LEVELS = ["systems", "operations", "marketing"]
REFUSED_LEVELS = ["support", "billing"]
RESELLER_NAMES = ["Acme Hosting", "Beta Web", "Zeta Networks"]
# Acme Hosting's disk space: its limit; allocated = its organizations' 2,000 + 1,000 and
# Beta Web's 4,000; available; used = Alpha 1,500 + Delta 950 + Gamma (Beta Web's) 500, as
# of the last update; usage %
ACME_DISK_SPACE = ["10,000 MB", "7,000 MB", "3,000 MB", "2,950 MB", "29.5 %"]


def click_reports_then_usage(page) -> None:
    """The help text: On the top navigation bar click reports, then click the usage tab."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    reports = page.get_by_role("navigation", name="Reports")
    reports.get_by_role("link", name="Usage", exact=True).click()
    expect(page).to_have_url(re.compile(r"/reports/usage/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Summary")


def click_usage_tab(page, name: str) -> None:
    """One of the tabs at the top of the page (summary, reseller usage, …)."""
    tab = page.get_by_role("navigation", name="Usage").get_by_role("link", name=name, exact=True)
    tab.click()
    expect(tab).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def list_row(page, name: str):
    """The list's row of a reseller or organization, found by its name link."""
    table = page.locator("#selection table")
    return table.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def column_headers(page) -> list[str]:
    """The list's column headers after the select-all box, without the sort arrows."""
    heads = page.locator("#selection thead").get_by_role("columnheader").all()[1:]
    return [text(h).rstrip(" ▲▼") for h in heads]


def service_names(scope) -> list[str]:
    """The service icons' alt texts (their accessible names) in a row or a box."""
    icons = scope.locator(".services").get_by_role("img")
    return [icon.evaluate("img => img.alt") for icon in icons.all()]


def period_total(usage, counter: dict) -> int:
    """A counter's total in the last update's billing period: the samples (an hour before
    each update) measured in it."""
    from hostmeter.tenancy.models import Provider

    period = Provider.get().billing_period(usage.updates[-1].cutoff)
    return sum(
        values[i]
        for values in counter.values()
        for i, update in enumerate(usage.updates)
        if update.cutoff - timedelta(hours=1) in period
    )


def figures_card(page, service: str):
    """A service's card of figures on the summary and the overviews."""
    return page.locator(".card").filter(has=page.get_by_role("heading", name=service, level=3))


def figures_row(page, service: str, resource: str) -> list[str]:
    """The figures (limit … usage %) of one resource in a service's card (the peak and
    the change since the previous period after them: test_periods.py)."""
    row = (
        figures_card(page, service)
        .get_by_role("row")
        .filter(has=page.get_by_role("rowheader", name=resource, exact=True))
    )
    expect(row).to_have_count(1)
    return [text(cell) for cell in row.get_by_role("cell").all()][:-2]


def assert_summary(page, *, counts: list[str], disk_space: list[str]) -> None:
    """The summary's counts say each of counts; its disk space row (limit … usage %)
    reads disk_space."""
    stats = text(page.get_by_role("region", name="Counts"))
    for said in counts:
        assert said in stats
    assert figures_row(page, "Web hosting", "Disk space") == disk_space


def action_bar(page):
    return page.get_by_role("toolbar", name=re.compile(r"^Actions for the selected"))


# ---------------------------------------------------------------- the help text


@pytest.mark.parametrize("level", USAGE_LEVELS)
def test_help_text_reseller_usage_to_overview(app, usage, shoot, level):
    page = app
    screenshots = level == "marketing"  # one set of pictures is enough
    page.goto(page.live_server_url + "/login/")
    assert_styled(page)
    if screenshots:
        shoot(page, "01-sign-in")
    sign_in(page, level)
    # a usage level starts on Reports → Usage → Summary
    expect(page.get_by_role("heading", level=1)).to_have_text("Summary")

    click_reports_then_usage(page)
    assert_styled(page)
    # the provider: limit, sold (top resellers' and direct organizations' limits), …
    assert_summary(
        page,
        counts=["3 resellers, 1 of them sub-resellers", "5 organizations, 1 added directly"],
        disk_space=["100,000 MB", "15,000 MB", "85,000 MB", "4,360 MB", "4.4 %"],
    )
    update_now = page.get_by_role("button", name="update now")
    expect(update_now).to_have_count(1 if level == "systems" else 0)
    if screenshots:
        shoot(page, "02-summary")

    click_usage_tab(page, "Reseller usage")
    expect(page).to_have_url(re.compile(r"/reports/usage/resellers/$"))
    expect(page.get_by_role("status").filter(has_text="Usage last updated")).to_contain_text(
        "Next update at"
    )
    assert column_headers(page) == RESELLER_COLUMNS
    rows = page.locator("#selection tbody").get_by_role("row")
    expect(rows).to_have_count(3)
    expected = {
        "Acme Hosting": ("acme.example", ["Web hosting", "Email", "Databases"]),
        "Beta Web": ("beta.example", ["Web hosting", "Email"]),
        "Zeta Networks": ("zeta.example", ["Web hosting", "DNS"]),
    }
    for name, (domain, services) in expected.items():
        cells = list_row(page, name).get_by_role("cell")
        expect(cells).to_have_count(6)
        assert text(cells.nth(1)).startswith(name)
        assert text(cells.nth(2)) == domain
        assert service_names(cells.nth(3)) == services
        for service in services:  # an icon is named for assistive technology, not just drawn
            expect(cells.nth(3).get_by_role("img", name=service, exact=True)).to_be_visible()
        assert text(cells.nth(4)) == "Not generated"
        assert text(cells.nth(5)) == "–"
    assert "sub-reseller of Acme Hosting" in text(list_row(page, "Beta Web"))

    # "Many of these links are enabled only after you select an item from the list."
    bar = action_bar(page)
    overview = bar.get_by_role("button", name="overview")
    generate = bar.get_by_role("button", name="generate csv report")
    export = bar.get_by_role("button", name="export csv report")
    for button in (overview, generate, export):
        expect(button).to_be_disabled()
    expect(bar).to_contain_text("Select one or more resellers to use the action bar.")

    # two selected: overview is for exactly one reseller
    page.get_by_role("checkbox", name="Select Acme Hosting").check()
    page.get_by_role("checkbox", name="Select Zeta Networks").check()
    expect(bar).to_contain_text("2 selected")
    expect(overview).to_be_disabled()
    expect(generate).to_be_enabled()
    page.get_by_role("checkbox", name="Select Zeta Networks").uncheck()

    # htmx swaps the action bar in for the one selected
    expect(overview).to_be_enabled()
    expect(generate).to_be_enabled()
    expect(export).to_be_disabled()  # no report is Ready
    expect(bar).to_contain_text("1 selected")
    expect(list_row(page, "Acme Hosting")).to_have_class(re.compile(r"\bselected\b"))
    if screenshots:
        shoot(page, "03-reseller-usage-selected")

    overview.click()
    acme = usage.resellers["acme"]
    expect(page).to_have_url(re.compile(rf"/reports/usage/resellers/{acme.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Acme Hosting"))
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("1 added directly, 1 in all")  # sub-resellers
    expect(facts).to_contain_text("2 added directly, 3 in all")  # organizations
    assert service_names(facts) == ["Web hosting", "Email", "Databases"]

    columns = ["Limit", "Allocated", "Available", "Used", "Usage %"]
    heads = figures_card(page, "Web hosting").locator("thead th")
    assert [text(h) for h in heads.all()] == ["Resource", *columns, "Peak this period", "Change"]
    assert figures_row(page, "Web hosting", "Disk space") == ACME_DISK_SPACE
    # a counter: the total of the last update's billing period (every update's samples
    # measured in it: Alpha 30 + 50 + 100 and Gamma 5 + 10 + 25, the three share it);
    # no limit set
    bandwidth = period_total(usage, BANDWIDTH)
    assert figures_row(page, "Web hosting", "Bandwidth") == [
        "–",
        "0 MB",
        "–",
        f"{bandwidth} MB",
        "–",
    ]
    assert figures_row(page, "Email", "Mailboxes") == ["50", "10", "40", "5", "10.0 %"]

    # the trend: one point per usage update
    chart = page.get_by_role("img", name=re.compile(r"^Disk space \(MB\)"))
    expect(chart).to_be_visible()
    points = chart.locator("polyline.line").get_attribute("points")
    assert len(points.split()) == 3

    org_rows = page.locator("#organizations + .table-wrap tbody").get_by_role("row")
    expect(org_rows).to_have_count(3)
    assert [text(r.get_by_role("cell").first) for r in org_rows.all()] == [
        "Alpha Shop",
        "Delta Books",
        "Gamma Bakery",
    ]
    gamma = org_rows.filter(has_text="Gamma Bakery")
    expect(gamma).to_contain_text("Beta Web")  # added by the sub-reseller
    expect(org_rows.filter(has_text="Delta Books").locator(".flag")).to_have_text("95.0 %")
    if screenshots:
        shoot(page, "04-reseller-overview")


# ---------------------------------------------------------------- other login levels


@pytest.mark.parametrize("level", REFUSED_LEVELS)
def test_other_levels_are_refused(app, usage, page_problems, shoot, level):
    page = app
    page_problems.allowed_statuses.add(403)
    sign_in(page, level)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Welcome, {level}")

    with page.expect_response(lambda r: r.url.endswith("/reports/")) as refused:
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    assert refused.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_role("main")).to_contain_text(f"Your login level, {level.title()}")
    expect(page.get_by_role("main")).to_contain_text("Systems, Operations, Marketing")
    assert_styled(page)
    if level == "support":
        shoot(page, "09-not-allowed")

    acme = usage.resellers["acme"]
    delta = usage.organizations["delta.example"]
    for path in [
        "/reports/usage/",
        "/reports/usage/resellers/",
        f"/reports/usage/resellers/{acme.pk}/",
        f"/reports/usage/resellers/action-bar/?selected={acme.pk}",
        "/reports/usage/organizations/",
        f"/reports/usage/organizations/{delta.pk}/",
        "/reports/usage/export/",
    ]:
        response = page.goto(page.live_server_url + path)
        assert response.status == 403, path
        body = page.locator("body").inner_text()
        for secret in [*RESELLER_NAMES, "acme.example", "Delta Books", "MB"]:
            assert secret not in body, f"{path} shows {secret!r} to {level}"


# ---------------------------------------------------------------- organization site usage


def test_organization_site_usage_lists_owner_and_opens_overview(app, usage, shoot):
    page = app
    sign_in(page, "operations")
    click_reports_then_usage(page)
    click_usage_tab(page, "Organization site usage")
    assert column_headers(page) == ORGANIZATION_COLUMNS
    expected = [
        ("Alpha Shop", "alpha.example", "Acme Hosting", ["Web hosting", "Email"]),
        ("Delta Books", "delta.example", "Acme Hosting", ["Web hosting"]),
        ("Eta Cafe", "eta.example", "Zeta Networks", ["Web hosting", "DNS"]),
        ("Gamma Bakery", "gamma.example", "Beta Web", ["Web hosting"]),
        ("Omega Direct", "omega.example", "direct", ["Web hosting"]),
    ]
    rows = page.locator("#selection tbody").get_by_role("row")
    expect(rows).to_have_count(len(expected))
    for row, (name, domain, owner, services) in zip(rows.all(), expected, strict=True):
        cells = row.get_by_role("cell")
        assert [text(cells.nth(i)) for i in (1, 2, 3, 5, 6)] == [
            name,
            domain,
            owner,
            "Not generated",
            "–",
        ]
        assert service_names(cells.nth(4)) == services
    shoot(page, "05-organization-site-usage")

    # the owning reseller's link filters the list: its organizations and its sub-resellers'
    list_row(page, "Alpha Shop").get_by_role("link", name="Acme Hosting").click()
    expect(page.locator(".banner").filter(has_text="Showing the organizations of")).to_contain_text(
        "Acme Hosting"
    )
    expect(rows).to_have_count(3)
    expect(list_row(page, "Gamma Bakery")).to_be_visible()
    expect(list_row(page, "Eta Cafe")).to_have_count(0)

    page.get_by_role("checkbox", name="Select Delta Books").check()
    overview = action_bar(page).get_by_role("button", name="overview")
    expect(overview).to_be_enabled()
    overview.click()
    delta = usage.organizations["delta.example"]
    expect(page).to_have_url(re.compile(rf"/reports/usage/organizations/{delta.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Delta Books"))
    expect(page.locator("dl.facts")).to_contain_text("Acme Hosting")
    # limit, used, usage %: 950 of 1,000 MB is above the 80 % threshold
    assert figures_row(page, "Web hosting", "Disk space") == [
        "1,000 MB",
        "950 MB",
        "95.0 % over 80 %",
    ]
    expect(page.get_by_role("img", name=re.compile(r"^Disk space \(MB\)"))).to_be_visible()
    shoot(page, "06-organization-overview")


# ---------------------------------------------------------------- keyboard


def press_until_focused(page, key: str, target, limit: int = 40) -> None:
    """Presses a key (Tab, Shift+Tab) until the target has the focus."""
    for _ in range(limit):
        page.keyboard.press(key)
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{key} × {limit} never reached {target}")


def test_reseller_usage_works_by_keyboard(app, usage):
    page = app
    sign_in(page, "marketing")
    page.goto(page.live_server_url + "/reports/usage/resellers/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    box = page.get_by_role("checkbox", name="Select Beta Web")
    press_until_focused(page, "Tab", box)
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    overview = action_bar(page).get_by_role("button", name="overview")
    expect(overview).to_be_enabled()
    expect(action_bar(page)).to_contain_text("1 selected")
    expect(box).to_be_focused()  # the swap of the action bar leaves the focus where it was

    press_until_focused(page, "Shift+Tab", overview)
    page.keyboard.press("Enter")
    beta = usage.resellers["beta"]
    expect(page).to_have_url(re.compile(rf"/reports/usage/resellers/{beta.pk}/$"))
    expect(page.locator("dl.facts")).to_contain_text("Acme Hosting (sub-reseller)")
    assert figures_row(page, "Web hosting", "Disk space") == [
        "4,000 MB",
        "1,000 MB",
        "3,000 MB",
        "500 MB",
        "12.5 %",
    ]


# ---------------------------------------------------------------- the other pages


def test_systems_export_reports_and_usage_schedule(app, usage, shoot):
    page = app
    sign_in(page, "systems")
    click_reports_then_usage(page)
    click_usage_tab(page, "Export reports")
    # the first table: the summary, reseller usage and organization site usage reports
    rows = page.get_by_role("main").get_by_role("table").first.locator("tbody").get_by_role("row")
    labels = [text(r.get_by_role("rowheader")) for r in rows.all()]
    assert (
        labels
        == ["Summary", "Summary", "Reseller usage", "Reseller usage"]
        + ["Organization site usage"] * 2
    )
    for row in rows.all():
        expect(row).to_contain_text("Not generated")
    shoot(page, "07-export-reports")

    click_usage_tab(page, "Summary")
    # the "usage schedule" button next to "update now" (the paragraph above links there too)
    page.locator("a.btn").filter(has_text="usage schedule").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Usage schedule")
    expect(page.get_by_role("heading", name="The next five updates")).to_be_visible()
    expect(page.locator("ol").last.get_by_role("listitem")).to_have_count(5)
    shoot(page, "08-usage-schedule")


def test_export_reports_rows_show_a_dash_before_generation(app, usage):
    page = app
    sign_in(page, "marketing")
    page.goto(page.live_server_url + "/reports/usage/export/")
    table = page.get_by_role("main").get_by_role("table").first
    heads = [text(h) for h in table.locator("thead th").all()]
    rows_col, size_col = heads.index("Rows"), heads.index("Size")
    for row in table.locator("tbody").get_by_role("row").all():
        cells = row.locator("th, td")
        assert text(cells.nth(size_col)) == "–"
        assert text(cells.nth(rows_col)) == "–"


def test_reseller_usage_at_a_narrow_width(app, usage, shoot):
    page = app
    page.set_viewport_size({"width": 420, "height": 900})
    sign_in(page, "marketing")
    page.goto(page.live_server_url + "/reports/usage/resellers/")
    expect(page.get_by_role("columnheader", name="Report last updated")).to_be_hidden()
    page.get_by_role("checkbox", name="Select Acme Hosting").check()
    expect(action_bar(page).get_by_role("button", name="overview")).to_be_enabled()
    shoot(page, "10-reseller-usage-narrow")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 420, f"the page is {width}px wide in a 420px window"
