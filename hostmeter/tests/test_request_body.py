"""A body shorter than its Content-Length gets 400 and is not acted on (request_body).

The body comes in a BytesIO as wsgi.input, which ends early the way gunicorn's body
reader does when the client stops (it returns what it got). The test client's own
FakePayload instead fails an assertion when read past what it holds: that is the 500
seen under the test client, a test double's guard that no real server has."""

import io
import json

import pytest
from django.test import Client

from hostmeter.accounts.levels import LoginLevel
from hostmeter.metering.models import UsageSample
from hostmeter.tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def post(client, path: str, body: bytes, content_type: str, *, missing: int):
    """POSTs body announcing `missing` bytes more than it has, then ends."""
    environ = {
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body) + missing),
        "CONTENT_TYPE": content_type,
    }
    return client.generic("POST", path, **environ)


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def test_a_cut_off_sign_in_form_is_400_and_signs_nobody_in(client):
    UserFactory(username="ops", login_level=LoginLevel.OPERATIONS)
    body = b"username=ops&password=pw-for-tests"
    response = post(client, "/login/", body, FORM, missing=40)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_whole_sign_in_form_still_signs_in(client):
    UserFactory(username="ops", login_level=LoginLevel.OPERATIONS)
    response = post(client, "/login/", b"username=ops&password=pw-for-tests", FORM, missing=0)
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_a_cut_off_multipart_form_is_400(client):
    UserFactory(username="ops", login_level=LoginLevel.OPERATIONS)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="username"\r\n\r\nops\r\n'
        b'--b\r\nContent-Disposition: form-data; name="password"\r\n\r\npw-for-tests\r\n--b--\r\n'
    )
    response = post(client, "/login/", body, "multipart/form-data; boundary=b", missing=100)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_a_cut_off_ingest_body_is_400_and_stores_nothing(client):
    org = OrganizationFactory(services=["web"])
    client.force_login(UserFactory(login_level=LoginLevel.SYSTEMS))
    sample = {
        "organization": org.domain,
        "resource": "disk_space",
        "measured_at": "2026-03-01T02:00:00+00:00",
        "value": "1.5",
    }
    body = json.dumps([sample]).encode()
    response = post(client, "/api/v1/usage-samples/", body, "application/json", missing=64)
    assert response.status_code == 400
    assert not UsageSample.objects.exists()
    # the same body, whole, is stored
    response = post(client, "/api/v1/usage-samples/", body, "application/json", missing=0)
    assert response.status_code == 200, response.content
    assert UsageSample.objects.count() == 1


def test_a_cut_off_api_json_body_is_400(client):
    client.force_login(UserFactory(login_level=LoginLevel.SYSTEMS))
    body = b'{"name": "cut short"}'
    response = post(client, "/api/v1/tokens/", body, "application/json", missing=30)
    assert response.status_code == 400
