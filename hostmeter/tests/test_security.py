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
