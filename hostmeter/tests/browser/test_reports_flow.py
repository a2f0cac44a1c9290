"""The report lifecycle of the help text, in Chromium: "Reports must be generated before
they can be downloaded or exported", then "export csv report" once the status shows Ready.
"""

import csv
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def run_worker() -> None:
    """The task worker takes the queued reports (in this process, so that it sees the
    test's database on every engine)."""
    call_command("db_worker", batch=True, startup_delay=False, reload=False, queue_name="*")


def read_csv(download) -> list[list[str]]:
    with open(download.path(), encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize("level", ["systems", "operations", "marketing"])
def test_generate_then_export_a_reseller_report(app, usage, media, level):
    page = app
    sign_in(page, level)
    page.goto(page.live_server_url + "/reports/usage/resellers/")
    bar = page.get_by_role("toolbar", name=re.compile(r"^Actions for the selected"))
    row = page.get_by_role("row").filter(has_text="Acme Hosting")
    expect(row.get_by_role("cell").nth(4)).to_have_text("Not generated")

    page.get_by_role("checkbox", name="Select Acme Hosting").check()
    export = bar.get_by_role("button", name="export csv report")
    expect(bar.get_by_role("button", name="generate csv report")).to_be_enabled()
    expect(export).to_be_disabled()  # "only after they have been generated"
    bar.get_by_role("button", name="generate csv report").click()
    expect(page.get_by_text("1 report queued.")).to_be_visible()
    status = page.get_by_role("row").filter(has_text="Acme Hosting").get_by_role("cell").nth(4)
    expect(status).to_have_text("Queued")

    run_worker()
    # the page follows the status on its own: no reload
    expect(status).to_have_text("Ready", timeout=15_000)
    expect(export).to_be_enabled()
    with page.expect_download() as info:
        export.click()
    download = info.value
    assert re.fullmatch(
        r"hostmeter-reseller-acme\.example-\d{4}-\d{2}-to-date-\d{8}-\d{4}\.csv",
        download.suggested_filename,
    )
    rows = read_csv(download)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Usage as of", "Organization", "Domain"]
    # every organization of Acme Hosting and of its sub-reseller Beta Web
    assert sorted(r[1] for r in body) == ["Alpha Shop", "Delta Books", "Gamma Bakery"]
    disk = header.index("Disk space used (MB)")
    assert {r[1]: r[disk] for r in body}["Gamma Bakery"] == "500.000"  # its latest sample


def test_export_reports_tab_generates_and_downloads_each_report(app, usage, media):
    page = app
    sign_in(page, "operations")
    page.goto(page.live_server_url + "/reports/usage/")
    tabs = page.get_by_role("navigation", name="Usage")
    tabs.get_by_role("link", name="Export reports", exact=True).click()
    for label in ("summary", "reseller usage", "organization site usage"):
        page.get_by_role("button", name=f"Generate the {label} report as CSV").click()
        expect(page.get_by_role("status").filter(has_text="queued")).to_be_visible()
    run_worker()
    expected_rows = {"summary": 11, "reseller usage": 3, "organization site usage": 5}
    for label, count in expected_rows.items():
        link = page.get_by_role("link", name=f"Download the {label} report as CSV")
        expect(link).to_be_visible(timeout=15_000)  # the tab polls while they generate
        with page.expect_download() as info:
            link.click()
        rows = read_csv(info.value)
        assert rows[0][0] == "Usage as of"
        assert len(rows) - 1 == count, label
