"""The issue's "done when": a script using only the documented API and a token pushes
samples, triggers an update (Systems; Marketing is refused), generates a reseller report,
waits for Ready and downloads it — with the real task worker between the steps."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from hostmeter.api.services import api_token_create
from hostmeter.tenancy.models import Provider
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory, UserFactory

# serialized_rollback: the catalog seeded by migrations survives the flush
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def drain_queue():
    call_command("db_worker", batch=True, startup_delay=False, reload=False, queue_name="*")


def token_client(level: str, scope: str = "full") -> APIClient:
    user = UserFactory(login_level=level)
    _, raw = api_token_create(user=user, name=f"{level} script", scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_push_update_report_download():
    acme = ResellerFactory(domain="acme.example", services=["web"])
    OrganizationFactory(domain="shop.example", reseller=acme, services=["web"])
    collector = token_client("operations", scope="ingest")
    systems, marketing = token_client("systems"), token_client("marketing")

    measured = (timezone.now() - timedelta(minutes=30)).astimezone(UTC)
    pushed = collector.post(
        "/api/v1/usage-samples/",
        [
            {
                "organization": "shop.example",
                "resource": "disk_space",
                "measured_at": measured.isoformat(),
                "value": "512.25",
            }
        ],
        format="json",
    )
    assert (pushed.status_code, pushed.data["stored"]) == (200, 1)

    assert marketing.post("/api/v1/usage-updates/", {}, format="json").status_code == 403
    started = systems.post("/api/v1/usage-updates/", {}, format="json")
    assert started.status_code == 202, started.data
    drain_queue()
    update = systems.get(started["Location"]).data
    assert update["status"] == "succeeded", update["error"]

    requested = marketing.post(
        "/api/v1/reports/", {"kind": "reseller", "domain": "acme.example"}, format="json"
    )
    assert requested.status_code == 202
    report_url = requested["Location"]
    for _ in range(5):  # a script polls; here the worker runs between polls
        status = marketing.get(report_url).data
        if status["status"] in ("ready", "failed"):
            break
        drain_queue()
    assert status["status"] == "ready", status["error"]
    download = marketing.get(status["download_url"])
    assert download.status_code == 200
    lines = b"".join(download.streaming_content).decode("utf-8-sig").splitlines()
    header, row = lines[0].split(","), lines[1].split(",")
    assert row[header.index("Domain")] == "shop.example"
    assert row[header.index("Disk space used (MB)")] == "512.250"
    # the current billing period, to date: "December 2026 to date (as of 2026-12-04 18:00 UTC)"
    provider = Provider.get()
    cutoff = datetime.fromisoformat(update["cutoff"]).astimezone(provider.zone)
    period = provider.billing_period(cutoff)
    assert (update["period"], update["closes_period"]) == (period.key, False)
    assert row[0] == f"{period.label} to date (as of {cutoff:%Y-%m-%d %H:%M %Z})"
