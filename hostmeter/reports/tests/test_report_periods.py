"""Report files of a billing period: a closed month's hold its totals (each the sum of the
samples measured in the month), the current one's the totals to date; the file name and
the "Usage as of" cell say which; a gauge's peak of the period; late usage found after a
month closed in that month's files only; the export reports tab's filter by period."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from hostmeter.metering.models import UsageAdjustment
from hostmeter.metering.selectors.updates import usage_period_for_key
from hostmeter.reports.models import Report
from hostmeter.reports.selectors import earlier_reports
from hostmeter.reports.services import report_generate, report_request
from hostmeter.tests.fixtures import (
    NOVEMBER_END,
    NOVEMBER_START,
    run_update,
    sample_level,
    sample_sum,
    store_sample,
)
from hostmeter.tests.pages import cells, html

from .reportdata import read_csv, read_xlsx, stored_bytes

pytestmark = pytest.mark.django_db

COUNTERS = {"bandwidth": "Bandwidth", "emails_sent": "Emails sent"}
GAUGES = {"disk_space": "Disk space", "mailboxes": "Mailboxes"}
UNITS = {"bandwidth": " (MB)", "disk_space": " (MB)", "emails_sent": "", "mailboxes": ""}
MEASURED = {
    "alpha": ["disk_space", "bandwidth", "mailboxes", "emails_sent"],
    "bravo": ["disk_space", "bandwidth"],
    "charlie": ["disk_space", "bandwidth"],
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def generate(kind, update, *, subject=None, fmt="csv", regenerate=False) -> Report:
    report, _ = report_request(
        kind=kind, subject=subject, update=update, format=fmt, regenerate=regenerate
    )
    report = report_generate(report_id=report.pk)
    assert report.status == Report.Status.READY, report.error
    return report


def rows_of(report: Report) -> tuple[list[str], list[dict]]:
    data = stored_bytes(report)
    if report.format == "xlsx":
        header, rows, _ = read_xlsx(data)
        return header, [{k: ("" if v is None else str(v)) for k, v in r.items()} for r in rows]
    return read_csv(data)


def cell(row: dict, header: str) -> Decimal | None:
    value = row[header]
    return None if value == "" else Decimal(value)


def download_name(client, report: Report) -> str:
    response = client.get(reverse("reports:report-download", args=[report.pk]))
    assert response.status_code == 200
    return response["Content-Disposition"].split('filename="')[1].rstrip('"')


# ---------------------------------------------------------------- totals of a period


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_closed_months_file_holds_its_totals(period_world, resources, fmt):
    """Each counter cell is the sum of the samples measured in November (the one at
    midnight of 1 December, local time, included; October's and December's not), each
    gauge the level at the period's end, and its peak the highest level November's
    updates froze."""
    report = generate("organizations", period_world.november, fmt=fmt)
    header, rows = rows_of(report)
    by_domain = {r["Domain"]: r for r in rows}
    assert sorted(by_domain) == ["alpha.example", "bravo.example", "charlie.example"]
    assert {r["Usage as of"] for r in rows} == {"November 2026 (closed)"}
    checked = 0
    for key, codes in MEASURED.items():
        org = getattr(period_world, key)
        row = by_domain[org.domain]
        for code in codes:
            resource, name, unit = resources[code], (COUNTERS | GAUGES)[code], UNITS[code]
            used = cell(row, f"{name} used{unit}")
            if code in COUNTERS:
                expected = sample_sum(org, resource, NOVEMBER_START, NOVEMBER_END)
                assert expected > 0
                assert used == expected, (org.domain, code)
                assert f"{name} peak this period{unit}" not in header
            else:
                level = sample_level(org, resource, NOVEMBER_END)
                assert used == level, (org.domain, code)
                at_mid = sample_level(org, resource, period_world.mid.cutoff)
                peak = cell(row, f"{name} peak this period{unit}")
                assert peak == max(level, at_mid), (org.domain, code)
            checked += 1
    assert checked == 8
    # nothing arrived late yet: 0 where the organization has the counter, empty where not
    assert cell(by_domain["alpha.example"], "Bandwidth late usage after close (MB)") == 0
    assert by_domain["bravo.example"]["Emails sent late usage after close"] == ""


def test_the_current_periods_file_holds_the_totals_to_date(period_world, resources):
    report = generate("organizations", period_world.december)
    header, rows = rows_of(report)
    december = period_world.december
    assert {r["Usage as of"] for r in rows} == {
        "December 2026 to date (as of 2026-12-04 02:00 CET)"
    }
    assert not [h for h in header if "late usage" in h]
    for row in rows:
        org = next(o for o in period_world.orgs if o.domain == row["Domain"])
        bandwidth = sample_sum(org, resources["bandwidth"], NOVEMBER_END, december.cutoff)
        assert bandwidth > 0
        assert cell(row, "Bandwidth used (MB)") == bandwidth
        disk = sample_level(org, resources["disk_space"], december.cutoff)
        assert cell(row, "Disk space used (MB)") == disk
        assert cell(row, "Disk space peak this period (MB)") == disk  # December's one update


def test_the_summary_and_reseller_files_of_a_closed_month(period_world, resources):
    november = period_world.november
    summary = generate("summary", november)
    header, rows = rows_of(summary)
    assert header[-3:] == ["Peak this period", "Late usage after close", "Organizations using it"]
    by_resource = {r["Resource"]: r for r in rows}
    total = sum(
        (
            sample_sum(o, resources["bandwidth"], NOVEMBER_START, NOVEMBER_END)
            for o in period_world.orgs
        ),
        Decimal(0),
    )
    assert cell(by_resource["Bandwidth"], "Used") == total
    assert cell(by_resource["Bandwidth"], "Peak this period") is None  # a counter has none
    assert cell(by_resource["Bandwidth"], "Late usage after close") == 0
    assert cell(by_resource["Disk space"], "Late usage after close") is None

    resellers = generate("resellers", november)
    _, rows = rows_of(resellers)
    top = next(r for r in rows if r["Domain"] == "top.example")
    below_top = [period_world.alpha, period_world.bravo]
    assert cell(top, "Bandwidth used (MB)") == sum(
        (sample_sum(o, resources["bandwidth"], NOVEMBER_START, NOVEMBER_END) for o in below_top),
        Decimal(0),
    )
    assert cell(top, "Bandwidth late usage after close (MB)") == 0


# ---------------------------------------------------------------- names and "Usage as of"


def test_file_names_say_which_period(period_world, login, client):
    login("marketing")
    names = {
        download_name(client, generate("reseller", update, subject=period_world.top)): update
        for update in (period_world.november, period_world.december, period_world.mid)
    }
    assert set(names) == {
        "hostmeter-reseller-top.example-2026-11.csv",
        "hostmeter-reseller-top.example-2026-12-to-date-20261204-0200.csv",
        "hostmeter-reseller-top.example-2026-11-to-date-20261115-0200.csv",
    }
    summary = generate("summary", period_world.november, fmt="xlsx")
    assert download_name(client, summary) == "hostmeter-summary-2026-11.xlsx"
    # the stored files differ by report, whatever their names
    stored = {r.file.name for r in Report.objects.all()}
    assert len(stored) == Report.objects.count()


# ---------------------------------------------------------------- late usage after close


def test_late_usage_of_a_closed_month_is_in_its_files_not_the_current_ones(period_world, resources):
    """November samples stored after November closed: the next update records them as
    November's adjustments; November's file (generated again) lists them beside the
    frozen totals, summed for the resellers above and the provider (not October's late
    sample), and the current period's file neither lists nor counts them."""
    bandwidth = resources["bandwidth"]
    alpha, bravo = period_world.alpha, period_world.bravo
    frozen = sample_sum(alpha, bandwidth, NOVEMBER_START, NOVEMBER_END)
    store_sample(alpha, bandwidth, datetime(2026, 11, 25, 8, tzinfo=UTC), "7.25")
    store_sample(bravo, bandwidth, NOVEMBER_END, "0.5", source="late-file")  # its last instant
    store_sample(alpha, bandwidth, datetime(2026, 11, 28, tzinfo=UTC), "1")
    store_sample(alpha, bandwidth, datetime(2026, 10, 15, tzinfo=UTC), "100")  # October's
    later = run_update(datetime(2026, 12, 4, 9, tzinfo=UTC))
    assert later.status == "succeeded", later.error
    late = {
        a.organization_id: a.value
        for a in UsageAdjustment.objects.filter(period_start=NOVEMBER_START, resource=bandwidth)
    }
    assert late == {alpha.pk: Decimal("8.25"), bravo.pk: Decimal("0.5")}
    assert UsageAdjustment.objects.exclude(period_start=NOVEMBER_START).count() == 1

    november = generate("organizations", period_world.november, regenerate=True)
    _, rows = rows_of(november)
    by_domain = {r["Domain"]: r for r in rows}
    header = "Bandwidth late usage after close (MB)"
    assert cell(by_domain["alpha.example"], "Bandwidth used (MB)") == frozen  # stays frozen
    assert cell(by_domain["alpha.example"], header) == Decimal("8.25")
    assert cell(by_domain["bravo.example"], header) == Decimal("0.5")
    assert cell(by_domain["charlie.example"], header) == 0

    _, rows = rows_of(generate("resellers", period_world.november))
    by_domain = {r["Domain"]: r for r in rows}
    assert cell(by_domain["top.example"], header) == Decimal("8.75")  # Alpha's and Sub's
    assert cell(by_domain["sub.example"], header) == Decimal("0.5")
    _, rows = rows_of(generate("summary", period_world.november))
    bw = next(r for r in rows if r["Resource"] == "Bandwidth")
    assert cell(bw, "Late usage after close") == Decimal("8.75")

    current = generate("organizations", later)
    header_now, rows = rows_of(current)
    assert not [h for h in header_now if "late usage" in h]
    alpha_now = next(r for r in rows if r["Domain"] == "alpha.example")
    assert cell(alpha_now, "Bandwidth used (MB)") == sample_sum(
        alpha, bandwidth, NOVEMBER_END, later.cutoff
    )


# ---------------------------------------------------------------- the export reports tab


def file_rows(response) -> list[list[str]]:
    table = html(response).find("table", id="generated-files")
    return [cells(r) for r in table.find("tbody").children("tr")]


def test_the_export_tab_filters_files_by_period(period_world, login, client):
    login("operations")
    generate("reseller", period_world.november, subject=period_world.top)
    generate("summary", period_world.november, fmt="xlsx")
    generate("reseller", period_world.december, subject=period_world.top)
    generate("summary", period_world.mid)
    url = reverse("reports:export-reports")

    page = client.get(url)
    assert page.status_code == 200
    select = html(page).find("select", id="id_period")
    options = [(o.attrs["value"], o.text()) for o in select.find_all("option")]
    assert options == [
        ("", "All periods"),
        ("2026-12", "December 2026, to date"),
        ("2026-11", "November 2026"),
    ]
    every = file_rows(page)
    assert len(every) == 4
    assert [r[1] for r in every] == [
        "December 2026, to date",
        "November 2026",
        "November 2026",
        "November 2026, to date",  # made on 15 November, before the month closed
    ]

    closed = file_rows(client.get(url, {"period": "2026-11"}))
    assert sorted((r[0], r[1], r[3]) for r in closed) == [
        ("Reseller: Top Hosting", "November 2026", "CSV"),
        ("Summary", "November 2026", "XLSX"),
        ("Summary", "November 2026, to date", "CSV"),
    ]
    current = file_rows(client.get(url, {"period": "2026-12"}))
    assert [(r[0], r[1]) for r in current] == [("Reseller: Top Hosting", "December 2026, to date")]
    # download works from the filtered list as before
    table = html(client.get(url, {"period": "2026-11"})).find("table", id="generated-files")
    hrefs = [a.attrs["href"] for a in table.find_all("a")]
    assert len(hrefs) == 3 and all(client.get(h).status_code == 200 for h in hrefs)

    wrong = client.get(url, {"period": "2026-10"})
    assert wrong.status_code == 200
    assert "2026-10 is not a billing period with figures." in html(wrong).text()
    assert len(file_rows(wrong)) == 4  # all of them, with the reason


def test_the_export_tabs_files_are_paged_newest_update_first(period_world):
    """Page after page, the generated files in the order of their update's cut-off
    (newest first; the update that closed November was made after December's), then
    newest generated first, then newest record; files not Ready are not listed. With a
    period, its updates' files in the same order."""
    at = datetime(2026, 12, 5, tzinfo=UTC)
    made = 0
    for update in (period_world.december, period_world.mid, period_world.november):
        for kind in ("summary", "resellers", "organizations"):
            for fmt in ("csv", "xlsx"):
                generated = at - timedelta(minutes=made % 4)  # ties inside an update
                Report.objects.create(
                    kind=kind, update=update, format=fmt, status="ready", generated_at=generated
                )
                made += 1
    Report.objects.create(
        kind="reseller", reseller=period_world.top, update=period_world.mid, status="failed"
    )
    Report.objects.create(
        kind="reseller", reseller=period_world.top, update=period_world.december, status="queued"
    )
    ready = Report.objects.filter(status="ready")
    order = ("-update__cutoff", "-generated_at", "-pk")
    november = usage_period_for_key("2026-11")
    for period, expected in (
        (None, list(ready.order_by(*order))),
        (november, list(ready.filter(update__period_start=NOVEMBER_START).order_by(*order))),
    ):
        assert len(expected) == (18 if period is None else 12)
        for per_page in (1, 4, 5, 6, 7, 25):
            first = earlier_reports(per_page=per_page, period=period)
            assert first.paginator.count == len(expected)
            listed = [
                r.pk
                for n in first.paginator.page_range
                for r in earlier_reports(page=n, per_page=per_page, period=period).object_list
            ]
            assert listed == [r.pk for r in expected], (period, per_page)
