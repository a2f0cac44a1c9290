"""The usage lists' action bar: its three links, when each is enabled for a selection,
and what its posts do (overview, generate, export: one file or one ZIP).
"""

import io
import zipfile
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from hostmeter.metering.models import UsageUpdate
from hostmeter.reports.models import Report, ReportEvent
from hostmeter.tenancy.models import Reseller
from hostmeter.tests.factories import ResellerFactory
from hostmeter.tests.fixtures import (
    run_update,
    table_counts,
)
from hostmeter.tests.pages import (
    action_bar,
    messages_of,
    row_of,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- the action bar's rules


def test_action_bar_offers_the_three_links(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:reseller-usage"))
    assert action_bar(response) == {
        "overview": False,
        "generate csv report": False,
        "export csv report": False,
    }
    response = client.get(reverse("usage:organization-usage"))
    assert list(action_bar(response)) == ["overview", "generate csv report", "export csv report"]


def _bar(client, name: str, ids) -> dict[str, bool]:
    response = client.get(reverse(name), {"selected": [str(i) for i in ids]})
    assert response.status_code == 200
    return action_bar(response)


OFF = {"overview": False, "generate csv report": False, "export csv report": False}


def test_action_bar_enabling_rules_for_resellers(client, login, world, t0):
    login("marketing")
    name, acme, beta = "usage:reseller-action-bar", world.acme.pk, world.beta.pk
    assert _bar(client, name, []) == OFF
    assert _bar(client, name, [acme]) == {
        "overview": True,
        "generate csv report": True,
        "export csv report": False,
    }
    assert _bar(client, name, [acme, beta]) == {
        "overview": False,
        "generate csv report": True,
        "export csv report": False,
    }
    ready = Report.objects.create(
        kind="reseller", reseller=world.acme, update=world.update, status="ready"
    )
    assert _bar(client, name, [acme])["export csv report"] is True
    queued = Report.objects.create(kind="reseller", reseller=world.beta, update=world.update)
    assert _bar(client, name, [acme, beta])["export csv report"] is False
    for status in ("generating", "failed"):
        queued.status = status
        queued.save()
        assert _bar(client, name, [acme, beta])["export csv report"] is False
    queued.status = "ready"
    queued.save()
    assert _bar(client, name, [acme, beta]) == {
        "overview": False,
        "generate csv report": True,
        "export csv report": True,
    }

    # a new usage update: every report is Not generated again
    run_update(t0 + timedelta(days=1))
    assert ready.update_id != UsageUpdate.objects.latest().pk
    assert _bar(client, name, [acme])["export csv report"] is False
    assert _bar(client, name, [acme, beta])["export csv report"] is False


def test_action_bar_enabling_rules_for_organizations(client, login, world):
    login("operations")
    name, zeta, eta = "usage:organization-action-bar", world.zeta.pk, world.eta.pk
    assert _bar(client, name, []) == OFF
    assert _bar(client, name, [zeta])["overview"] is True
    Report.objects.create(kind="organization", organization=world.zeta, update=world.update)
    assert _bar(client, name, [zeta, eta]) == {
        "overview": False,
        "generate csv report": True,
        "export csv report": False,
    }
    Report.objects.filter(organization=world.zeta).update(status="ready")
    assert _bar(client, name, [zeta])["export csv report"] is True
    assert _bar(client, name, [zeta, eta])["export csv report"] is False


def test_without_a_usage_update_nothing_can_be_generated(client, login, db):
    login("marketing")
    reseller = ResellerFactory()
    assert _bar(client, "usage:reseller-action-bar", [reseller.pk]) == {
        "overview": True,
        "generate csv report": False,
        "export csv report": False,
    }
    response = client.post(
        reverse("usage:reseller-actions"), {"action": "generate", "selected": reseller.pk}
    )
    assert response.status_code == 303
    assert not Report.objects.exists()


def test_the_list_page_shows_the_bar_for_the_selection_it_was_given(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:reseller-usage"), {"selected": world.acme.pk})
    assert action_bar(response)["overview"] is True
    box = row_of(response, "Acme Hosting").find("input", type="checkbox")
    assert "checked" in box.attrs
    assert "checked" not in row_of(response, "Beta Web").find("input", type="checkbox").attrs


def test_garbage_selections_are_ignored(client, login, world):
    login("marketing")
    response = client.get(
        reverse("usage:reseller-action-bar"), {"selected": ["x", "", str(world.acme.pk)]}
    )
    assert action_bar(response)["overview"] is True


def test_an_impossible_selected_id_is_ignored(client, login, world):
    login("marketing")
    huge = "9" * 25
    response = client.get(reverse("usage:reseller-action-bar"), {"selected": huge})
    assert response.status_code == 200
    assert action_bar(response)["export csv report"] is False
    assert client.get(reverse("usage:reseller-usage"), {"selected": huge}).status_code == 200
    response = client.post(
        reverse("usage:reseller-actions"), {"action": "generate", "selected": huge}
    )
    assert response.status_code == 303
    assert not Report.objects.exists()


# ---------------------------------------------------------------- the action bar's posts


def test_overview_with_exactly_one_selected_opens_it(client, login, world):
    login("marketing")
    url = reverse("usage:reseller-actions")
    response = client.post(url, {"action": "overview", "selected": [world.beta.pk]})
    assert response.status_code == 303
    assert response.url == reverse("usage:reseller-overview", args=[world.beta.pk])
    assert client.get(response.url).status_code == 200


@pytest.mark.parametrize("count", [0, 2])
def test_overview_with_other_than_one_selected_explains_and_goes_back(client, login, world, count):
    login("marketing")
    before = table_counts()
    selected = [world.acme.pk, world.beta.pk][:count]
    response = client.post(
        reverse("usage:reseller-actions"), {"action": "overview", "selected": selected}
    )
    assert response.status_code == 303
    assert urlsplit(response.url).path == reverse("usage:reseller-usage")
    page = client.get(response.url)
    assert "Select exactly one reseller for overview." in messages_of(page)
    assert table_counts() == before


def test_generate_queues_a_report_per_selected_reseller(client, login, world):
    user = login("marketing")
    response = client.post(
        reverse("usage:reseller-actions"),
        {"action": "generate", "selected": [world.acme.pk, world.omega.pk]},
    )
    assert response.status_code == 303
    reports = Report.objects.filter(kind="reseller", update=world.update)
    assert {(r.reseller_id, r.status, r.requested_by_id) for r in reports} == {
        (world.acme.pk, "queued", user.pk),
        (world.omega.pk, "queued", user.pk),
    }
    back = urlsplit(response.url)
    assert back.path == reverse("usage:reseller-usage")
    assert sorted(parse_qs(back.query)["selected"]) == sorted(
        [str(world.acme.pk), str(world.omega.pk)]
    )
    # asking again while queued starts nothing new
    client.post(
        reverse("usage:reseller-actions"), {"action": "generate", "selected": [world.acme.pk]}
    )
    assert reports.count() == 2


def test_generate_with_nothing_selected_explains(client, login, world):
    login("marketing")
    response = client.post(reverse("usage:reseller-actions"), {"action": "generate"})
    assert response.status_code == 303
    assert "Select one or more resellers first." in messages_of(client.get(response.url))
    assert not Report.objects.exists()


def test_export_needs_every_selected_report_ready(client, login, world):
    login("marketing")
    Report.objects.create(kind="reseller", reseller=world.acme, update=world.update, status="ready")
    Report.objects.create(
        kind="reseller", reseller=world.beta, update=world.update, status="failed"
    )
    response = client.post(
        reverse("usage:reseller-actions"),
        {"action": "export", "selected": [world.acme.pk, world.beta.pk]},
    )
    assert response.status_code == 303
    assert "attachment" not in response.get("Content-Disposition", "")
    page = client.get(response.url)
    message = " ".join(messages_of(page))
    assert "Ready" in message and "1 of 2" in message
    assert not ReportEvent.objects.filter(action="downloaded").exists()
    # back on the list with the selection kept
    assert action_bar(page) == {
        "overview": False,
        "generate csv report": True,
        "export csv report": False,
    }


def test_export_of_never_generated_report_explains(client, login, world):
    login("marketing")
    response = client.post(
        reverse("usage:organization-actions"), {"action": "export", "selected": world.zeta.pk}
    )
    assert response.status_code == 303
    assert "0 of 1" in " ".join(messages_of(client.get(response.url)))


def _ready_report(subject, update, content: bytes) -> Report:
    kind = "reseller" if isinstance(subject, Reseller) else "organization"
    name = default_storage.save(f"reports/test/{subject.domain}.csv", ContentFile(content))
    return Report.objects.create(
        kind=kind,
        update=update,
        status="ready",
        file=name,
        generated_at=timezone.now(),
        row_count=1,
        size=len(content),
        **{kind: subject},
    )


def test_export_downloads_the_ready_report(client, login, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    user = login("marketing")
    _ready_report(world.acme, world.update, b"Usage as of,Organization\r\n")
    response = client.post(
        reverse("usage:reseller-actions"), {"action": "export", "selected": world.acme.pk}
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert "acme.example" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == b"Usage as of,Organization\r\n"
    assert ReportEvent.objects.filter(action="downloaded", user=user).count() == 1


def test_export_of_several_ready_reports_is_one_zip(client, login, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    login("marketing")
    _ready_report(world.zeta, world.update, b"zeta\r\n")
    _ready_report(world.eta, world.update, b"eta\r\n")
    response = client.post(
        reverse("usage:organization-actions"),
        {"action": "export", "selected": [world.zeta.pk, world.eta.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    contents = sorted(archive.read(n) for n in archive.namelist())
    assert contents == [b"eta\r\n", b"zeta\r\n"]


def test_an_unknown_action_explains(client, login, world):
    login("marketing")
    response = client.post(reverse("usage:reseller-actions"), {"action": "delete"})
    assert response.status_code == 303
    assert "Choose an action from the action bar." in messages_of(client.get(response.url))
