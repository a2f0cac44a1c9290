"""What a hosted panel owes its staff: no cached customer data, sessions that end when
idle, and passwords that are not the login's name or a number."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from hostmeter.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing(client):
    client.force_login(UserFactory(username="marketing-ann", login_level="marketing"))
    return client


@pytest.mark.parametrize(
    "name",
    [
        "usage:summary",
        "usage:reseller-usage",
        "usage:organization-usage",
        "reports:export-reports",
    ],  # fmt: skip
)
def test_usage_pages_are_never_stored_by_a_cache(marketing, name):
    response = marketing.get(reverse(name))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_api_answers_are_never_stored_by_a_cache(client):
    response = client.get("/api/v1/resellers/")
    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


def test_a_session_ends_after_the_idle_timeout_and_a_request_renews_it(marketing, settings):
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    response = marketing.get(reverse("usage:summary"))
    # renewed: the cookie (and the stored session) expire the idle time from now
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 8 * 3600
    again = marketing.get(reverse("usage:summary"))
    assert settings.SESSION_COOKIE_NAME not in again.cookies  # renewed at most every 5 min


@pytest.mark.parametrize(
    "password, why",
    [
        ("marketing-ann1", "too similar"),
        ("83629174051", "entirely numeric"),
        ("password123", "too common"),
        ("Ab1!", "too short"),
    ],  # fmt: skip
)
def test_weak_passwords_are_refused(password, why):
    user = UserFactory.build(username="marketing-ann", email="ann@provider.example")
    with pytest.raises(ValidationError, match=why):
        validate_password(password, user)


@pytest.mark.parametrize("sign_in", ["/login/", "/admin/login/"])
def test_thirty_wrong_passwords_lock_the_login_out(client, sign_in, settings):
    UserFactory(username="ann", login_level="systems", password="the-right-secret-9")
    answers = [
        client.post(sign_in, {"username": "ann", "password": f"guess-{n}"}).status_code
        for n in range(30)
    ]
    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert set(answers[limit:]) == {429}
    locked = client.post(sign_in, {"username": "ann", "password": "the-right-secret-9"})
    assert locked.status_code == 429  # even the right password, until the cool-off
    assert "Too many wrong passwords" in locked.content.decode()
    # another login from the same address is not locked
    bob = UserFactory(username="bob", login_level="systems", is_staff=True)
    bob.set_password("bobs-own-secret-7")
    bob.save()
    assert (
        client.post(sign_in, {"username": "bob", "password": "bobs-own-secret-7"}).status_code
        == 302
    )


def test_a_login_without_a_usage_level_cannot_create_api_tokens(client):
    client.force_login(UserFactory(login_level="support"))
    response = client.post("/api/v1/tokens/", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert "cannot create API tokens" in response.json()["detail"]
    assert client.get("/api/v1/tokens/").status_code == 200  # its own: listed, revocable


@pytest.mark.parametrize("url", ["/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/"])
def test_the_api_schema_and_docs_need_a_login(client, url):
    anonymous = client.get(url).status_code
    assert anonymous == 401  # the token scheme asks for credentials
    client.force_login(UserFactory(login_level="marketing"))
    assert client.get(url).status_code == 200


def test_pages_carry_a_content_security_policy(marketing):
    policy = marketing.get(reverse("usage:summary"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
