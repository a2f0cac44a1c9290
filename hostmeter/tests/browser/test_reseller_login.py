"""The help text followed in Chromium by a reseller's own login (Acme Hosting's): the same
pages, for its subtree only ("the resellers you have added": Beta Web; its organizations
and Beta Web's), its summary and files, and nothing of Zeta Networks or the provider's own
organization."""

import csv
import re

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, assert_styled, sign_in, text
from .test_help_text import (
    ACME_DISK_SPACE,
    action_bar,
    assert_summary,
    click_reports_then_usage,
    click_usage_tab,
)
from .test_reports_flow import run_worker

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OUTSIDE = ["Zeta Networks", "zeta.example", "Eta Cafe", "eta.example", "Omega Direct"]


@pytest.fixture
def acme_login(usage, settings, tmp_path):
    from hostmeter.tenancy.services import reseller_login_save

    settings.MEDIA_ROOT = tmp_path / "media"
    reseller_login_save(username="acme-admin", reseller=usage.resellers["acme"], password=PASSWORD)
    return usage


def assert_nothing_outside(page) -> None:
    body = text(page.locator("body"))
    found = [w for w in OUTSIDE if re.search(rf"\b{re.escape(w)}\b", body)]  # beta ⊅ eta
    assert not found, page.url


def test_a_reseller_walks_the_help_text_and_sees_its_subtree_only(
    app, acme_login, shoot, page_problems
):
    page = app
    sign_in(page, "acme-admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Summary")
    click_reports_then_usage(page)
    assert_styled(page)
    expect(page.locator(".who .level")).to_have_text("Reseller")
    # Acme's own limit, what it allocated and its subtree's use, not the provider's 100,000 MB
    assert_summary(
        page,
        counts=["1 reseller, 0 of them sub-resellers", "3 organizations, 2 added directly"],
        disk_space=ACME_DISK_SPACE,
    )
    expect(page.get_by_role("button", name="update now")).to_have_count(0)
    expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    assert_nothing_outside(page)
    shoot(page, "20-reseller-login-summary")

    click_usage_tab(page, "Reseller usage")
    rows = page.locator("#selection tbody").get_by_role("row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Beta Web")
    assert_nothing_outside(page)
    page.get_by_role("checkbox", name="Select Beta Web").check()
    bar = action_bar(page)
    expect(bar.get_by_role("button", name="overview")).to_be_enabled()
    bar.get_by_role("button", name="generate csv report").click()
    expect(page.get_by_text("1 report queued.")).to_be_visible()
    run_worker()
    status = page.get_by_role("row").filter(has_text="Beta Web").get_by_role("cell").nth(4)
    expect(status).to_have_text("Ready", timeout=15_000)
    with page.expect_download() as info:
        bar.get_by_role("button", name="export csv report").click()
    with open(info.value.path(), encoding="utf-8-sig", newline="") as f:
        body = list(csv.reader(f))[1:]
    assert [r[1] for r in body] == ["Gamma Bakery"]
    bar.get_by_role("button", name="overview").click()
    beta = acme_login.resellers["beta"]
    expect(page).to_have_url(re.compile(rf"/reports/usage/resellers/{beta.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Beta Web"))

    click_usage_tab(page, "Organization site usage")
    names = [text(a) for a in page.locator("#selection tbody th a, #selection tbody td a").all()]
    assert {"Alpha Shop", "Delta Books", "Gamma Bakery"} <= set(names)
    expect(page.locator("#selection tbody").get_by_role("row")).to_have_count(3)
    assert_nothing_outside(page)
    shoot(page, "21-reseller-login-organizations")

    # an organization of another reseller, by address: not found
    eta = acme_login.organizations["eta.example"]
    page_problems.allowed_statuses.add(404)
    response = page.goto(page.live_server_url + f"/reports/usage/organizations/{eta.pk}/")
    assert response.status == 404
    page.go_back()

    click_usage_tab(page, "Export reports")
    whole = page.locator("#whole-reports")
    row = whole.get_by_role("row").filter(has_text="Organization site usage").filter(has_text="CSV")
    row.get_by_role("button", name=re.compile("generate", re.I)).click()
    run_worker()
    page.reload()
    row = page.locator("#whole-reports").get_by_role("row")
    row = row.filter(has_text="Organization site usage").filter(has_text="CSV")
    expect(row).to_contain_text("Ready")
    with page.expect_download() as info:
        row.get_by_role("link", name=re.compile("download", re.I)).click()
    assert info.value.suggested_filename.startswith("hostmeter-acme.example-organization-site-")
    with open(info.value.path(), encoding="utf-8-sig", newline="") as f:
        body = list(csv.reader(f))[1:]
    assert sorted(r[1] for r in body) == ["Alpha Shop", "Delta Books", "Gamma Bakery"]
    assert_nothing_outside(page)
    shoot(page, "22-reseller-login-export-reports")
