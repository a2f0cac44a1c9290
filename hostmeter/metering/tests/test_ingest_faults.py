"""The ingest endpoint from a signed-in signed_in and with hostile bodies: a clear 4xx or
the samples stored, never a 5xx, and nothing stored from a body refused whole."""

import pytest
from django.test import Client

from hostmeter.metering.models import UsageSample
from hostmeter.tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/usage-samples/"
SAMPLE = ("shop.example", "disk_space", "2026-03-01T00:00:00Z")
JSON_SAMPLE = (
    '{{"organization": "{}", "resource": "{}", "measured_at": "{}", "value": "7"}}'.format(*SAMPLE)
)


@pytest.fixture
def signed_in():
    """A signed-in Operations signed_in, with CSRF checked as a real one would be."""
    OrganizationFactory(domain="shop.example", services=["web"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(login_level="operations"))
    client.get("/reports/usage/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("text/csv", "organization,resource,measured_at,value\n{},{},{},7\n".format(*SAMPLE)),
        ("application/x-ndjson", JSON_SAMPLE + "\n"),
        ("application/json", f"[{JSON_SAMPLE}]"),
    ],
)
def test_a_signed_in_browser_may_push_every_format(signed_in, content_type, body):
    response = signed_in.post(URL, data=body, content_type=content_type)
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == 1
    assert UsageSample.objects.count() == 1


def test_without_the_csrf_token_a_browser_is_refused(signed_in):
    del signed_in.defaults["HTTP_X_CSRFTOKEN"]
    response = signed_in.post(URL, data="[]", content_type="application/json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "content_type, body, reason",
    [
        ("application/json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("application/json", "[" + "[" * 100_000 + "]" * 100_000 + "]", "nested too deeply"),
        ("application/json", '[{"organization": ' + "[" * 100_000, "nested too deeply"),
    ],
)
def test_a_deeply_nested_body_is_refused_whole(signed_in, content_type, body, reason):
    response = signed_in.post(URL, data=body, content_type=content_type)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert not UsageSample.objects.exists()


def test_a_deeply_nested_json_line_is_one_bad_row(signed_in):
    body = JSON_SAMPLE + "\n" + '{"organization": ' + "[" * 100_000 + "\n"
    response = signed_in.post(URL, data=body, content_type="application/x-ndjson")
    assert response.status_code == 200
    answer = response.json()
    assert answer["stored"] == 1
    assert [e["line"] for e in answer["errors"]] == [2]
    assert "nested too deeply" in answer["errors"][0]["reason"]
