"""Update now (metering's views): Systems see the button, it queues one usage update and
refuses a second while one is queued or running.

(Who may post it: test_schedule_page.py's test_schedule_and_update_now_are_for_systems_only.)
"""

import pytest
from django.urls import reverse

from hostmeter.metering.models import UsageUpdate
from hostmeter.tests.fixtures import (
    table_counts,
)
from hostmeter.tests.pages import (
    html,
    messages_of,
    status_line,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- update now


def test_update_now_queues_one_update_and_refuses_a_second(client, login, world):
    user = login("systems")
    summary = html(client.get(reverse("usage:summary")))
    assert [b for b in summary.find_all("button") if b.text() == "update now"][0].disabled is False

    response = client.post(reverse("metering:update-run"))
    assert response.status_code == 302
    queued = UsageUpdate.objects.exclude(pk=world.update.pk).get()
    assert (queued.status, queued.trigger, queued.requested_by_id) == ("queued", "manual", user.pk)
    page = client.get(response.url)
    assert any("queued" in m for m in messages_of(page))
    assert "queued" in status_line(page).text()
    button = [b for b in html(page).find_all("button") if b.text() == "update now"][0]
    assert button.disabled

    before = table_counts()
    response = client.post(reverse("metering:update-run"))
    assert response.status_code == 302
    page = client.get(response.url)
    assert any("already queued" in m for m in messages_of(page))
    assert table_counts() == before
    # the pages keep showing the completed update meanwhile
    assert "Usage last updated: 1 Mar 2026, 02:00" in status_line(page).text()

    # nor while it runs
    queued.status = "running"
    queued.save()
    response = client.post(reverse("metering:update-run"))
    assert any("already running" in m for m in messages_of(client.get(response.url)))
    assert table_counts() == before


def test_only_systems_see_update_now(client, login, world):
    login("operations")
    summary = html(client.get(reverse("usage:summary")))
    assert not [b for b in summary.find_all("button") if b.text() == "update now"]
