"""The billing period selector, in Chromium: on reseller usage, pick the closed month and
see its report in the list and its figures in an overview; the links keep the month."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import PASSWORD, assert_styled, sign_in, text

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCREENSHOT = "/tmp/period-selector.png"


@pytest.fixture
def closed_month(transactional_db):
    """Acme Hosting's Alpha Shop at 450 MB of disk space when last month closed and 900 MB
    now (UTC, anchor day 1), with a Ready report of the closed month; last month's and
    this month's keys and labels."""
    from hostmeter.accounts.services import user_save
    from hostmeter.metering.models import UsageUpdate
    from hostmeter.reports.models import Report
    from hostmeter.tenancy.models import Provider, Resource
    from hostmeter.tenancy.services import limit_set
    from hostmeter.tests.factories import OrganizationFactory, ResellerFactory
    from hostmeter.tests.fixtures import run_update, store_sample

    provider = Provider.get()
    now = timezone.now()
    current = provider.billing_period(now)
    last = provider.billing_period(current.start)
    disk = Resource.objects.get(code="disk_space")
    acme = ResellerFactory(name="Acme Hosting", domain="acme.example", services=["web"])
    alpha = OrganizationFactory(name="Alpha Shop", domain="alpha.example", reseller=acme)
    limit_set(resource=disk, limit=Decimal(2000), organization=alpha)

    store_sample(alpha, disk, last.start + timedelta(days=2), "300")
    run_update(last.start + timedelta(days=3))
    store_sample(alpha, disk, current.start - timedelta(days=1), "450")
    # this month: a sample and an update between its start and now (the update first
    # closes last month, as of its end)
    store_sample(alpha, disk, current.start + (now - current.start) / 3, "900")
    run_update(current.start + (now - current.start) * 2 / 3)
    closing = UsageUpdate.objects.get(cutoff=current.start)
    assert closing.closes_period
    Report.objects.create(
        kind="reseller", reseller=acme, update=closing, status="ready", generated_at=now
    )
    user_save(username="marketing", password=PASSWORD, login_level="marketing")
    return {"last": last, "current": current}


def test_pick_a_closed_period_on_reseller_usage(app, closed_month):
    page = app
    last, current = closed_month["last"], closed_month["current"]
    sign_in(page, "marketing")
    page.goto(page.live_server_url + "/reports/usage/resellers/")
    assert_styled(page)
    picker = page.get_by_label("Billing period")
    expect(picker).to_have_value(current.key)
    options = [text(o) for o in picker.locator("option").all()]
    assert options == [f"{current.label}, to date", last.label]
    acme = page.get_by_role("row").filter(has_text="Acme Hosting")
    expect(acme.get_by_role("cell").nth(4)).to_have_text("Not generated")
    # with JavaScript the selector reloads the page itself; its button is for pages without
    expect(page.get_by_role("button", name="Show")).to_be_hidden()

    with page.expect_navigation():
        picker.select_option(label=last.label)
    expect(page).to_have_url(re.compile(rf"/reports/usage/resellers/\?period={last.key}$"))
    expect(page.get_by_label("Billing period")).to_have_value(last.key)
    status = page.locator("#status-line")
    expect(status).to_contain_text(f"Showing {last.label} (closed), usage as of")
    # the closed month's report, in the list
    acme = page.get_by_role("row").filter(has_text="Acme Hosting")
    expect(acme.get_by_role("cell").nth(4)).to_have_text("Ready")
    page.screenshot(path=SCREENSHOT, full_page=True, animations="disabled")

    # its overview: the closed month's figure, in the figures and in the organizations
    acme.get_by_role("link", name="Acme Hosting").click()
    expect(page).to_have_url(re.compile(rf"/reports/usage/resellers/\d+/\?period={last.key}$"))
    disk = page.locator("table.figures tr").filter(has_text="Disk space")
    cells = disk.locator("td")
    expect(cells.nth(3)).to_have_text(re.compile(r"^450\sMB$"))  # used
    expect(cells.nth(5)).to_have_text(re.compile(r"^450\sMB$"))  # peak this period
    expect(cells.nth(6)).to_have_text("")  # no month before it to compare with
    alpha = page.get_by_role("row").filter(has_text="Alpha Shop")
    expect(alpha).to_contain_text("450")
    page.screenshot(path="/tmp/period-overview.png", full_page=True, animations="disabled")

    # back to the current month: 900 MB, twice the closed month's
    page.get_by_role("link", name="Show the latest").click()
    expect(cells.nth(3)).to_have_text(re.compile(r"^900\sMB$"))
    expect(cells.nth(6)).to_have_text(f"+100.0 % vs {last.label}")
    expect(page.get_by_label("Billing period")).to_have_value(current.key)

    # the trend by period: the closed month's figure, then this month's to date
    page.get_by_role("navigation", name="Trend charts").get_by_role(
        "link", name="by period"
    ).click()
    expect(page.get_by_role("heading", name="Usage by billing period")).to_be_visible()
    chart = page.get_by_role("img", name=re.compile(r"^Disk space"))
    expect(chart.locator("desc")).to_have_text(
        re.compile(rf"from {last.first_day:%b %Y} to {current.first_day:%b %Y}: latest 900")
    )
    page.screenshot(path="/tmp/period-trend.png", full_page=True, animations="disabled")
