"""Reports over the API: request (202 with the report's URL), status, download when Ready
(409 before), earlier files."""

from hostmeter.reports.models import Report, ReportEvent
from hostmeter.reports.services import report_generate


def test_request_poll_and_download(marketing, api_world):
    response = marketing.post(
        "/api/v1/reports/", {"kind": "reseller", "domain": "acme.example"}, format="json"
    )
    assert response.status_code == 202, response.data
    url = response["Location"]
    assert url == response.data["url"]
    assert response.data["status"] == "queued"
    assert response.data["download_url"] is None

    not_yet = marketing.get(f"/api/v1/reports/{response.data['id']}/file/")
    assert not_yet.status_code == 409
    assert "Queued" in not_yet.json()["detail"]
    assert "once its status is Ready" in not_yet.json()["detail"]

    report_generate(report_id=response.data["id"])
    status = marketing.get(url).data
    assert (status["status"], status["progress"]) == ("ready", 100)
    assert status["row_count"] == 2  # shop and blog (sub-reseller's)
    download = marketing.get(status["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert "blog.example" in text and "shop.example" in text
    assert ReportEvent.objects.filter(
        report_id=status["id"], action="downloaded", user=marketing.user
    ).exists()

    # asking again when Ready starts nothing (200); regenerate queues a new file (202)
    again = marketing.post(
        "/api/v1/reports/", {"kind": "reseller", "domain": "acme.example"}, format="json"
    )
    assert (again.status_code, again.data["id"]) == (200, status["id"])
    fresh = marketing.post(
        "/api/v1/reports/",
        {"kind": "reseller", "domain": "acme.example", "regenerate": True},
        format="json",
    )
    assert (fresh.status_code, fresh.data["status"]) == (202, "queued")


def test_download_with_any_accept_header(marketing, ready_report):
    response = marketing.get(f"/api/v1/reports/{ready_report.pk}/file/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    failed = Report.objects.filter(pk=ready_report.pk)
    failed.update(status="failed", error="disk full")
    refused = marketing.get(f"/api/v1/reports/{ready_report.pk}/file/", HTTP_ACCEPT="text/csv")
    assert refused.status_code == 409
    assert b"disk full" in refused.content


def test_request_validation(marketing, api_world):
    for body, field in [
        ({"kind": "reseller"}, "domain"),
        ({"kind": "organization", "domain": "nobody.example"}, "domain"),
        ({"kind": "summary", "domain": "acme.example"}, "domain"),
        ({"kind": "everything"}, "kind"),
        ({"kind": "summary", "format": "pdf"}, "format"),
        ({"kind": "summary", "update": 999999}, "update"),
    ]:
        response = marketing.post("/api/v1/reports/", body, format="json")
        assert response.status_code == 400, body
        assert field in response.data, (body, response.data)


def test_request_without_a_completed_update_is_409(marketing, db):
    response = marketing.post("/api/v1/reports/", {"kind": "summary"}, format="json")
    assert response.status_code == 409
    assert "no completed usage update" in response.data["detail"]


def test_list_current_and_earlier_files(marketing, ready_report, api_world):
    marketing.post("/api/v1/reports/", {"kind": "summary", "format": "xlsx"}, format="json")
    listed = marketing.get("/api/v1/reports/").data["results"]
    assert [(r["kind"], r["status"]) for r in listed] == [
        ("summary", "queued"),
        ("reseller", "ready"),
    ]
    ready = marketing.get("/api/v1/reports/?status=ready&reseller=acme.example").data["results"]
    assert [r["id"] for r in ready] == [ready_report.pk]
    assert marketing.get(f"/api/v1/reports/?update={api_world.update.pk}").data["results"]
    assert marketing.get("/api/v1/reports/?update=x").status_code == 400
