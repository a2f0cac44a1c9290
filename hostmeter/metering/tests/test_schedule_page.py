"""The usage schedule page (metering's views): Systems only, the schedule in words and
its next five runs, saving a valid one, refusing an invalid one.

(The schedule's arithmetic: test_schedule.py; update now: test_update_now.py.)
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.selectors.schedule import usage_schedule_next
from hostmeter.tenancy.models import Provider
from hostmeter.tests.fixtures import (
    VIEWERS,
    table_counts,
)
from hostmeter.tests.pages import (
    html,
    messages_of,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize("level", VIEWERS)
def test_schedule_and_update_now_are_for_systems_only(client, login, world, level):
    login(level)
    before = table_counts()
    schedule = client.get(reverse("metering:usage-schedule"))
    saved = client.post(
        reverse("metering:usage-schedule"), {"usage_schedule": "15 4 * * *", "time_zone": "UTC"}
    )
    update_now = client.post(reverse("metering:update-run"))
    provider = Provider.get()
    if level == "systems":
        assert schedule.status_code == 200
        assert saved.status_code == 302
        assert provider.usage_schedule == "15 4 * * *"
        assert update_now.status_code == 302
        assert UsageUpdate.objects.filter(status="queued").count() == 1
    else:
        for response in (schedule, saved, update_now):
            assert response.status_code == 403
            assert "Not allowed" in response.content.decode()
        assert provider.usage_schedule == "0 2 * * *"
        assert table_counts() == before


# ---------------------------------------------------------------- usage schedule


def test_schedule_page_shows_the_schedule_in_words_and_the_next_five_runs(client, login, db):
    login("systems")
    response = client.get(reverse("metering:usage-schedule"))
    page = html(response)
    assert page.find("input", name="usage_schedule").attrs["value"] == "0 2 * * *"
    assert "At 02:00" in page.text()
    runs = [datetime.fromisoformat(t.attrs["datetime"]) for t in page.find("ol").find_all("time")]
    assert runs == usage_schedule_next(provider=Provider.get(), now=timezone.now(), count=5)


def test_a_valid_schedule_is_saved_and_shown_in_words(client, login, db):
    login("systems")
    response = client.post(
        reverse("metering:usage-schedule"),
        {"usage_schedule": "30 3 * * 1", "time_zone": "Europe/Berlin"},
    )
    assert response.status_code == 302
    provider = Provider.get()
    assert (provider.usage_schedule, provider.time_zone) == ("30 3 * * 1", "Europe/Berlin")
    page = client.get(response.url)
    assert "Usage schedule saved: At 03:30, only on Monday (Europe/Berlin)." in messages_of(page)
    tree = html(page)
    assert "At 03:30, only on Monday (Europe/Berlin)" in tree.text()
    runs = [datetime.fromisoformat(t.attrs["datetime"]) for t in tree.find("ol").find_all("time")]
    assert len(runs) == 5
    assert runs == sorted(runs) and runs[0] > timezone.now()
    berlin = ZoneInfo("Europe/Berlin")
    assert {(r.astimezone(berlin).strftime("%a %H:%M")) for r in runs} == {"Mon 03:30"}
    assert [r.astimezone(berlin) - runs[0].astimezone(berlin) for r in runs] == [
        timedelta(weeks=i) for i in range(5)
    ]


@pytest.mark.parametrize(
    "data, field, error",
    [
        ({"usage_schedule": "61 2 * * *", "time_zone": "UTC"}, "usage_schedule", "cron"),
        ({"usage_schedule": "0 2 * *", "time_zone": "UTC"}, "usage_schedule", "five fields"),
        ({"usage_schedule": "15 4 * * *", "time_zone": "Mars/Olympus"}, "time_zone", "valid"),
        ({"usage_schedule": "", "time_zone": "UTC"}, "usage_schedule", "required"),
    ],
)
def test_an_invalid_schedule_is_refused_and_nothing_changes(client, login, db, data, field, error):
    login("systems")
    before = table_counts()
    response = client.post(reverse("metering:usage-schedule"), data)
    assert response.status_code == 400
    page = html(response)
    box = page.find("input", name=field) or page.find("select", name=field)
    errors = box.parent.find("ul", cls="errorlist")
    assert errors is not None and error in errors.text()
    provider = Provider.get()
    assert (provider.usage_schedule, provider.time_zone) == ("0 2 * * *", "UTC")
    assert table_counts() == before
    # the page still describes the stored schedule
    assert "At 02:00, every day (UTC)" in page.text()


def test_a_schedule_that_never_runs_is_refused(client, login, db):
    login("systems")
    response = client.post(
        reverse("metering:usage-schedule"), {"usage_schedule": "0 2 30 2 *", "time_zone": "UTC"}
    )
    assert response.status_code == 400
    assert Provider.get().usage_schedule == "0 2 * * *"
    assert client.get(reverse("usage:summary")).status_code == 200


def test_the_billing_anchor_day_is_saved_and_the_current_period_shown(client, login, db):
    login("systems")
    url = reverse("metering:usage-schedule")
    saved = client.post(
        url,
        {"usage_schedule": "0 2 * * *", "time_zone": "Europe/Berlin", "billing_anchor_day": "15"},
    )
    assert saved.status_code == 302
    provider = Provider.get()
    assert provider.billing_anchor_day == 15
    period = provider.billing_period(timezone.now())
    page = html(client.get(url)).text()
    assert f"Billing period now: {period.label}" in page
    assert period.first_day.day == 15
    # Not given: kept as it is (a form of an earlier version, a script).
    kept = client.post(url, {"usage_schedule": "0 3 * * *", "time_zone": "Europe/Berlin"})
    assert kept.status_code == 302
    assert Provider.get().billing_anchor_day == 15


@pytest.mark.parametrize("day", ["0", "29", "31", "-1", "x", "1.5", "99999999999999999999"])
def test_a_billing_anchor_day_outside_1_to_28_is_refused(client, login, db, day):
    login("systems")
    url = reverse("metering:usage-schedule")
    before = table_counts()
    response = client.post(
        url, {"usage_schedule": "0 2 * * *", "time_zone": "UTC", "billing_anchor_day": day}
    )
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert Provider.get().billing_anchor_day == 1
    assert table_counts() == before
