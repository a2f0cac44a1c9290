"""Who gets the Usage pages: the login levels that may view them open every page, the
others get "Not allowed" and none of the data, and anonymous users are sent to sign in
and come back to the page they asked for.

(Changing the usage schedule and update now, Systems only:
metering/tests/test_schedule_page.py.)
"""

import pytest
from django.urls import reverse

from hostmeter.accounts.services import user_save
from hostmeter.tenancy.models import Provider
from hostmeter.tests.fixtures import (
    PASSWORD,
    REFUSED,
    VIEWERS,
    table_counts,
)
from hostmeter.tests.pages import (
    html,
    listed_names,
    login_url,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- pages and levels


def get_pages(w) -> list[tuple[str, int]]:
    """Every page a GET reaches, and what an allowed login level gets."""
    return [
        (reverse("reports:index"), 302),
        (reverse("usage:summary"), 200),
        (reverse("usage:reseller-usage"), 200),
        (reverse("usage:reseller-overview", args=[w.acme.pk]), 200),
        (reverse("usage:organization-usage"), 200),
        (reverse("usage:organization-overview", args=[w.zeta.pk]), 200),
        (reverse("reports:export-reports"), 200),
        (f"{reverse('usage:reseller-action-bar')}?selected={w.acme.pk}", 200),
        (f"{reverse('usage:organization-action-bar')}?selected={w.zeta.pk}", 200),
        (f"{reverse('usage:reseller-report-status')}?ids={w.acme.pk}", 200),
        (f"{reverse('usage:organization-report-status')}?ids={w.zeta.pk}", 200),
        (reverse("metering:update-status"), 200),
    ]


SECRET_WORDS = ["Acme Hosting", "acme.example", "Zeta Shop", "zeta.example", "Beta Web"]


@pytest.mark.parametrize("level", VIEWERS)
def test_viewer_levels_open_every_usage_page(client, login, world, level):
    login(level)
    for url, status in get_pages(world):
        response = client.get(url)
        assert response.status_code == status, url
    assert client.get(reverse("reports:index")).url == reverse("usage:summary")
    assert "Acme Hosting" in client.get(reverse("usage:reseller-usage")).content.decode()
    assert "Zeta Shop" in client.get(reverse("usage:organization-usage")).content.decode()

    response = client.post(
        reverse("usage:reseller-actions"), {"action": "overview", "selected": [world.acme.pk]}
    )
    assert response.status_code == 303
    assert response.url == reverse("usage:reseller-overview", args=[world.acme.pk])
    response = client.post(
        reverse("usage:organization-actions"),
        {"action": "overview", "selected": [world.zeta.pk]},
    )
    assert response.status_code == 303
    assert response.url == reverse("usage:organization-overview", args=[world.zeta.pk])


@pytest.mark.parametrize("level", REFUSED)
def test_other_levels_get_not_allowed_and_no_data(client, login, world, level):
    login(level)
    for url, _ in get_pages(world):
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 403, url
        assert "Not allowed" in body, url
        for word in SECRET_WORDS:
            assert word not in body, (url, word)

    before = table_counts()
    posts = [
        (reverse("usage:reseller-actions"), {"action": "generate", "selected": world.acme.pk}),
        (reverse("usage:reseller-actions"), {"action": "export", "selected": world.acme.pk}),
        (reverse("usage:reseller-actions"), {"action": "overview", "selected": world.acme.pk}),
        (
            reverse("usage:organization-actions"),
            {"action": "generate", "selected": world.zeta.pk},
        ),
        (reverse("metering:usage-schedule"), {"usage_schedule": "1 1 * * *", "time_zone": "UTC"}),
        (reverse("metering:update-run"), {}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "Not allowed" in response.content.decode()
        assert "Acme Hosting" not in response.content.decode()
    assert client.get(reverse("metering:usage-schedule")).status_code == 403
    assert table_counts() == before
    assert Provider.get().usage_schedule == "0 2 * * *"


def test_anonymous_users_are_sent_to_sign_in(client, world):
    for url, _ in get_pages(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url == login_url(url)
    before = table_counts()
    for name in ("usage:reseller-actions", "usage:organization-actions", "metering:update-run"):
        url = reverse(name)
        response = client.post(url, {"action": "generate", "selected": world.acme.pk})
        assert response.status_code == 302
        assert response.url == login_url(url)
    assert client.get(reverse("metering:usage-schedule")).status_code == 302
    assert table_counts() == before


# ---------------------------------------------------------------- signing in


def test_signing_in_comes_back_to_the_page_asked_for(client, world):
    user_save(username="mia", password=PASSWORD, login_level="marketing")
    asked = f"{reverse('usage:reseller-usage')}?sort=-name"
    response = client.get(asked)
    assert response.status_code == 302
    sign_in = client.get(response.url)
    assert sign_in.status_code == 200
    assert html(sign_in).find("input", name="next").attrs["value"] == asked

    response = client.post(
        reverse("login"), {"username": "mia", "password": PASSWORD, "next": asked}
    )
    assert response.status_code == 302
    assert response.url == asked
    page = client.get(response.url)
    assert page.status_code == 200
    assert listed_names(page)[0] == "Omega Cloud"  # sorted by name, descending


def test_a_wrong_password_does_not_sign_in(client, world):
    user_save(username="mia", password=PASSWORD, login_level="marketing")
    asked = reverse("usage:reseller-usage")
    response = client.post(reverse("login"), {"username": "mia", "password": "no", "next": asked})
    assert response.status_code == 200
    assert client.get(asked).status_code == 302
