"""Downloading report files and asking for them over HTTP: who may, what they get
(one CSV, or one ZIP of CSVs), and the audit log of it."""

import io
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from hostmeter.reports.models import Report, ReportEvent
from hostmeter.reports.services import report_generate, report_request
from hostmeter.tests.pages import html

from .reportdata import read_csv, staff, stored_bytes

pytestmark = pytest.mark.django_db

MAY = ["systems", "operations", "marketing"]
MAY_NOT = ["support", "billing"]
# March 2026 to date: the period and the cut-off, 2026-03-01 02:00 UTC, in the provider's
# zone (Europe/Berlin)
WHEN = "2026-03-to-date-20260301-0300"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def ready(kind, world, subject=None, fmt="csv") -> Report:
    report, _ = report_request(kind=kind, subject=subject, update=world.update, format=fmt)
    report = report_generate(report_id=report.pk)
    assert report.status == Report.Status.READY, report.error
    return report


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def messages_of(client, response) -> list[str]:
    """The messages a redirecting response leaves for the next page (then dropped, so
    that the next request starts without them)."""
    assert response.status_code == 303
    found = [str(m) for m in get_messages(response.wsgi_request)]
    client.cookies.pop("messages", None)
    return found


def downloads() -> list[tuple[int, str | None]]:
    return sorted(
        ReportEvent.objects.filter(action="downloaded").values_list("report_id", "user__username")
    )


# ---------------------------------------------------------------- one report's file


@pytest.mark.parametrize("level", MAY)
def test_levels_that_may_get_the_file(client, report_world, level):
    report = ready("reseller", report_world, report_world.top)
    user = staff(level)
    client.force_login(user)
    response = client.get(reverse("reports:report-download", args=[report.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="hostmeter-reseller-top.example-{WHEN}.csv"'
    )
    assert response["Content-Type"].startswith("text/csv")
    data = body(response)
    assert data == stored_bytes(report)
    assert len(read_csv(data)[1]) == len(report_world.below(report_world.top))
    assert downloads() == [(report.pk, user.username)]


@pytest.mark.parametrize("level", MAY_NOT)
def test_levels_that_may_not_get_403_and_no_bytes(client, report_world, level):
    report = ready("reseller", report_world, report_world.top)
    client.force_login(staff(level))
    response = client.get(reverse("reports:report-download", args=[report.pk]))
    assert response.status_code == 403
    assert "Content-Disposition" not in response
    data = body(response)
    assert b"Usage as of" not in data and b"top.example" not in data
    assert downloads() == []


def test_anonymous_is_sent_to_sign_in(client, report_world):
    report = ready("reseller", report_world, report_world.top)
    url = reverse("reports:report-download", args=[report.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "next=" in response.url
    assert downloads() == []


@pytest.mark.parametrize("status", ["queued", "generating", "failed"])
def test_a_report_that_is_not_ready_is_409(client, report_world, status):
    report, _ = report_request(
        kind="reseller", subject=report_world.top, update=report_world.update
    )
    Report.objects.filter(pk=report.pk).update(
        status=status, error="disk full" * (status == "failed")
    )
    client.force_login(staff("marketing"))
    response = client.get(reverse("reports:report-download", args=[report.pk]))
    assert response.status_code == 409
    assert "Content-Disposition" not in response
    page = response.content.decode()
    assert "This report is not ready" in page
    assert Report.Status(status).label in page
    assert downloads() == []


def test_an_xlsx_file_and_the_whole_reports(client, report_world):
    client.force_login(staff("operations"))
    for kind, name in (
        ("summary", "summary"),
        ("resellers", "reseller-usage"),
        ("organizations", "organization-site-usage"),
    ):
        report = ready(kind, report_world, fmt="xlsx")
        response = client.get(reverse("reports:report-download", args=[report.pk]))
        assert response.status_code == 200
        assert response["Content-Disposition"] == (
            f'attachment; filename="hostmeter-{name}-{WHEN}.xlsx"'
        )
        assert "spreadsheetml" in response["Content-Type"]
        assert body(response) == stored_bytes(report)


# ---------------------------------------------------------------- the action bar


def actions(client, *ids, action="export", **extra):
    data = {"action": action, "selected": [str(i) for i in ids], **extra}
    return client.post(reverse("usage:reseller-actions"), data)


def test_export_one_ready_report_gives_its_csv(client, report_world):
    report = ready("reseller", report_world, report_world.top)
    user = staff("marketing")
    client.force_login(user)
    response = actions(client, report_world.top.pk)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="hostmeter-reseller-top.example-{WHEN}.csv"'
    )
    assert body(response) == stored_bytes(report)
    assert downloads() == [(report.pk, user.username)]


def test_export_several_ready_reports_gives_one_zip(client, report_world):
    chosen = [report_world.top, report_world.sub, report_world.other]
    reports = {r.domain: ready("reseller", report_world, r) for r in chosen}
    user = staff("systems")
    client.force_login(user)
    response = actions(client, *(r.pk for r in chosen))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="hostmeter-reports-{WHEN}.zip"'
    with zipfile.ZipFile(io.BytesIO(body(response))) as archive:
        assert archive.testzip() is None
        names = sorted(archive.namelist())
        assert names == sorted(f"hostmeter-reseller-{d}-{WHEN}.csv" for d in reports)
        for domain, report in reports.items():
            data = archive.read(f"hostmeter-reseller-{domain}-{WHEN}.csv")
            assert data == stored_bytes(report)
            reseller = next(r for r in chosen if r.domain == domain)
            assert len(read_csv(data)[1]) == len(report_world.below(reseller))
    assert downloads() == sorted((r.pk, user.username) for r in reports.values())


def test_export_refuses_when_any_selected_report_is_not_ready(client, report_world):
    ready("reseller", report_world, report_world.top)
    report_request(kind="reseller", subject=report_world.sub, update=report_world.update)  # queued
    client.force_login(staff("marketing"))
    # report_world.other has no report at all: Not generated
    for selection in (
        [report_world.top.pk, report_world.sub.pk],
        [report_world.top.pk, report_world.other.pk],
    ):
        response = actions(client, *selection)
        assert response.status_code == 303
        assert "Content-Disposition" not in response
        assert response["Location"].startswith(reverse("usage:reseller-usage"))
        (message,) = messages_of(client, response)
        assert "must be generated first and show Ready (1 of 2 are)" in message
    assert downloads() == []


def test_generate_from_the_action_bar_queues_and_audits(client, report_world):
    user = staff("marketing")
    client.force_login(user)
    response = actions(client, report_world.top.pk, report_world.sub.pk, action="generate")
    assert response.status_code == 303
    assert messages_of(client, response) == ["2 reports queued."]
    reports = Report.objects.filter(kind="reseller", update=report_world.update)
    assert sorted(reports.values_list("reseller_id", "status", "requested_by")) == sorted(
        [(report_world.top.pk, "queued", user.pk), (report_world.sub.pk, "queued", user.pk)]
    )
    events = ReportEvent.objects.filter(action="requested")
    assert sorted(events.values_list("report__reseller_id", "user")) == sorted(
        [(report_world.top.pk, user.pk), (report_world.sub.pk, user.pk)]
    )
    # asking again starts nothing
    response = actions(client, report_world.top.pk, action="generate")
    assert messages_of(client, response) == ["1 already being generated."]
    assert reports.count() == 2 and events.count() == 2


@pytest.mark.parametrize("level", MAY_NOT)
def test_the_action_bar_is_refused_to_other_levels(client, report_world, level):
    ready("reseller", report_world, report_world.top)
    client.force_login(staff(level))
    assert actions(client, report_world.top.pk).status_code == 403
    assert actions(client, report_world.sub.pk, action="generate").status_code == 403
    assert downloads() == []
    assert Report.objects.count() == 1


# ---------------------------------------------------------------- export reports tab


@pytest.mark.parametrize("kind", ["summary", "resellers", "organizations"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_tab_generate_queues(client, report_world, kind, fmt):
    user = staff("operations")
    client.force_login(user)
    response = client.post(reverse("reports:export-generate"), {"kind": kind, "format": fmt})
    assert response.status_code == 303
    report = Report.objects.get()
    assert (report.kind, report.format, report.status, report.requested_by) == (
        kind,
        fmt,
        "queued",
        user,
    )
    assert report.events.get().action == "requested"
    assert messages_of(client, response) == [
        f"{report.get_kind_display()} report ({fmt.upper()}) queued."
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "reseller", "format": "csv"},  # a reseller's report needs its reseller
        {"kind": "everything", "format": "csv"},
        {"kind": "summary", "format": "pdf"},
        {},
    ],
)
def test_export_tab_refuses_unknown_kinds(client, report_world, data):
    client.force_login(staff("marketing"))
    response = client.post(reverse("reports:export-generate"), data)
    assert response.status_code == 303
    assert messages_of(client, response) == ["Choose one of the reports and formats listed."]
    assert not Report.objects.exists()


def test_export_tab_lists_files_with_download_links(client, report_world):
    report = ready("organizations", report_world)
    client.force_login(staff("marketing"))
    page = client.get(reverse("reports:export-reports")).content.decode()
    assert reverse("reports:report-download", args=[report.pk]) in page


def test_the_export_tabs_poll_gets_the_latest_reports_alone(client, report_world):
    """htmx polls the latest update's reports (every 2 s while one is on its way) and
    takes that part of the page: it gets that part alone, as the page shows it."""
    ready("organizations", report_world)
    queued, _ = report_request(kind="summary", update=report_world.update, format="xlsx")
    client.force_login(staff("marketing"))
    url = reverse("reports:export-reports")
    page = html(client.get(url))
    poll = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="whole-reports")
    assert poll.status_code == 200
    part = html(poll)
    assert part.find("table", id="generated-files") is None
    whole = part.find("section", id="whole-reports")
    assert whole.attrs["hx-trigger"] == "every 2s"  # the summary is still queued
    shown = page.find("section", id="whole-reports")
    assert whole.attrs == shown.attrs and whole.text() == shown.text()
    links = [a.attrs["href"] for a in whole.find_all("a")]
    assert links == [a.attrs["href"] for a in shown.find_all("a")] and len(links) == 1

    report_generate(report_id=queued.pk)
    polled = html(client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="whole-reports"))
    assert "hx-trigger" not in polled.find("section", id="whole-reports").attrs  # done
    # another htmx request (none asks for another part) gets the page
    other = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="content")
    assert html(other).find("table", id="generated-files") is not None


# ---------------------------------------------------------------- audit log


@pytest.mark.parametrize("level", ["operations", "marketing", *MAY_NOT])
def test_audit_log_is_refused_below_systems(client, report_world, level):
    client.force_login(staff(level))
    assert client.get(reverse("reports:audit-log")).status_code == 403


def test_audit_log_shows_requests_generations_and_downloads(client, report_world):
    report = ready("reseller", report_world, report_world.top)
    downloader = staff("marketing")
    client.force_login(downloader)
    client.get(reverse("reports:report-download", args=[report.pk]))
    admin = staff("systems")
    client.force_login(admin)
    response = client.get(reverse("reports:audit-log"))
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("Requested generation", "Generated", "Downloaded", downloader.username):
        assert text in page


@pytest.mark.parametrize("kind", ["reseller", "organization"])
def test_the_list_shows_a_queued_report_after_generate(client, report_world, kind):
    """Regression: _status_poller.html reversed subject.status_url, which Subject lacked:
    NoReverseMatch (HTTP 500) with any row Queued or Generating (found on c0c9295)."""
    subject = report_world.top if kind == "reseller" else report_world.orgs[0]
    client.force_login(staff("marketing"))
    response = client.post(
        reverse(f"usage:{kind}-actions"), {"action": "generate", "selected": [subject.pk]}
    )
    assert response.status_code == 303
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Queued" in page.content.decode()
    poll = client.get(reverse(f"usage:{kind}-report-status"), {"ids": [subject.pk]})
    assert poll.status_code == 200
