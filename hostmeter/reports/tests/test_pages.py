"""Reports → Usage pages, as a user of each login level meets them.

Every page and login level (allowed and refused), the help text's words, sorting,
search, pagination, the action bar's rules, the overviews' figures, update now and the
usage schedule, and a number of SQL queries per page that does not grow with the rows.
"""

import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from hostmeter.accounts.services import user_save
from hostmeter.fields import to_thousandths
from hostmeter.metering.models import UsageUpdate
from hostmeter.metering.selectors.schedule import usage_schedule_next
from hostmeter.metering.services.samples import usage_samples_store
from hostmeter.metering.services.updates import usage_update_request, usage_update_run
from hostmeter.reports.models import Report, ReportEvent
from hostmeter.tenancy.models import Organization, Provider, Reseller, Service
from hostmeter.tenancy.services import limit_set, reseller_links_rebuild
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory

pytestmark = pytest.mark.django_db

ON_SQLITE = "sqlite" in django_settings.DATABASES["default"]["ENGINE"]
VIEWERS = ["systems", "operations", "marketing"]
REFUSED = ["support", "billing"]


# ---------------------------------------------------------------- logins and usage data


PASSWORD = "x-long-password-for-tests"


def store_sample(org, resource, at, value: str, source: str = "test") -> None:
    """Stores one usage sample (value in the resource's unit, as a decimal string)."""
    usage_samples_store([(org.pk, resource.pk, at, to_thousandths(Decimal(value)), source)])


def run_update(cutoff):
    """Runs a usage update as of cutoff right here, as the command line does."""
    update = usage_update_request(cutoff=cutoff, trigger="command", enqueue=False)
    return usage_update_run(update_id=update.pk)


@pytest.fixture
def login(client, db):
    """login("marketing") signs the test client in with a login of that level."""

    def sign_in(level: str):
        user = user_save(username=f"{level}-user", password=PASSWORD, login_level=level)
        client.force_login(user)
        return user

    return sign_in


@pytest.fixture
def world(resources, t0):
    """A small customer base with one completed usage update as of t0.

    Resellers: Acme Hosting (web, mail) added Beta Web (web), which added Gamma Net
    (web); Omega Cloud (db) was added by the provider too. Organizations: Zeta Shop and
    Theta Mail (Acme's), Eta Blog (Beta's), Omega Site (Omega's) and Direct Site (the
    provider's own).

    Limits: provider disk 10,000 MB; Acme disk 1,000 MB and bandwidth 100 MB; Beta disk
    400 MB; Zeta disk 100 MB; Eta disk 300 MB. Usage: Zeta disk 90 MB and bandwidth
    50 + 45 MB; Eta disk 150 MB; Direct Site disk 10 MB.
    """
    disk, bandwidth = resources["disk_space"], resources["bandwidth"]
    acme = ResellerFactory(name="Acme Hosting", domain="acme.example", services=["web", "mail"])
    beta = ResellerFactory(name="Beta Web", domain="beta.example", parent=acme, services=["web"])
    gamma = ResellerFactory(name="Gamma Net", domain="gamma.example", parent=beta, services=["web"])
    omega = ResellerFactory(name="Omega Cloud", domain="omega.example", services=["db"])
    zeta = OrganizationFactory(name="Zeta Shop", domain="zeta.example", reseller=acme)
    theta = OrganizationFactory(
        name="Theta Mail", domain="theta.example", reseller=acme, services=["web", "mail"]
    )
    eta = OrganizationFactory(name="Eta Blog", domain="eta.example", reseller=beta)
    omega_site = OrganizationFactory(
        name="Omega Site", domain="omega-site.example", reseller=omega, services=["db"]
    )
    direct = OrganizationFactory(name="Direct Site", domain="direct.example")

    limit_set(resource=disk, limit=Decimal(10000))  # the provider's capacity
    limit_set(resource=disk, limit=Decimal(1000), reseller=acme)
    limit_set(resource=bandwidth, limit=Decimal(100), reseller=acme)
    limit_set(resource=disk, limit=Decimal(400), reseller=beta)
    limit_set(resource=disk, limit=Decimal(100), organization=zeta)
    limit_set(resource=disk, limit=Decimal(300), organization=eta)

    store_sample(zeta, disk, t0 - timedelta(hours=1), "90")
    store_sample(eta, disk, t0 - timedelta(hours=1), "150")
    store_sample(direct, disk, t0 - timedelta(hours=1), "10")
    store_sample(zeta, bandwidth, t0 - timedelta(minutes=90), "50")
    store_sample(zeta, bandwidth, t0 - timedelta(minutes=60), "45")
    update = run_update(t0)
    assert update.status == "succeeded", update.error
    return SimpleNamespace(
        acme=acme,
        beta=beta,
        gamma=gamma,
        omega=omega,
        zeta=zeta,
        theta=theta,
        eta=eta,
        omega_site=omega_site,
        direct=direct,
        update=update,
    )


# ---------------------------------------------------------------- reading pages


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Node:
    """An element of a page: enough of the DOM to read what a user sees."""

    tag: str
    attrs: dict
    parent: "Node | None" = None
    children: list = field(default_factory=list)

    def text(self) -> str:
        parts = [c.text() if isinstance(c, Node) else c for c in self.children]
        return " ".join(" ".join(parts).replace("\xa0", " ").split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list["Node"]:
        """Descendants by tag, CSS class and attributes (aria_label= for aria-label)."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            n
            for n in self.iter()
            if (tag is None or n.tag == tag)
            and (cls is None or cls in n.attrs.get("class", "").split())
            and all(n.attrs.get(k) == v for k, v in wanted.items())
        ]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs) -> "Node | None":
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None

    @property
    def disabled(self) -> bool:
        return "disabled" in self.attrs


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}, self.stack[-1]))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def html(response) -> Node:
    builder = _TreeBuilder()
    builder.feed(response.content.decode())
    builder.close()
    return builder.root


def cells(row: Node) -> list[str]:
    return [c.text() for c in row.children if isinstance(c, Node) and c.tag in ("th", "td")]


def usage_table(response) -> Node:
    """The list of the reseller usage or organization site usage tab."""
    form = html(response).find("form", id="selection")
    assert form is not None and form.find("table") is not None, "no usage list on the page"
    return form.find("table")


def listed_rows(response) -> list[Node]:
    """The list's rows that hold a reseller or an organization (they have a checkbox)."""
    body = usage_table(response).find("tbody")
    return [tr for tr in body.find_all("tr") if tr.find("input", type="checkbox")]


def listed_names(response) -> list[str]:
    """The names in the list, top to bottom (the link of the Name column)."""
    return [row.find("a").text() for row in listed_rows(response)]


def row_of(response, name: str) -> Node:
    for row in listed_rows(response):
        if row.find("a").text() == name:
            return row
    raise AssertionError(f"{name} is not listed")


def column_headers(response) -> list[str]:
    head = usage_table(response).find("thead")
    return [text.replace("▲", "").replace("▼", "").strip() for text in cells(head.find("tr"))]


def figure_rows(response) -> dict[str, list[str]]:
    """Resource → the other cells of its row in the figures tables (limit … usage %)."""
    rows = {}
    for table in html(response).find_all("table", cls="figures"):
        for tr in table.find("tbody").find_all("tr"):
            row = cells(tr)
            rows[row[0]] = row[1:]
    return rows


def facts(response) -> dict[str, str]:
    """The overview's "term: description" facts."""
    found = {}
    for dl in html(response).find_all("dl"):
        terms = [n for n in dl.children if isinstance(n, Node) and n.tag in ("dt", "dd")]
        for term, description in zip(terms[::2], terms[1::2], strict=False):
            found[term.text()] = description.text()
    return found


def messages_of(response) -> list[str]:
    box = html(response).find("ul", cls="messages")
    return [li.text() for li in box.find_all("li")] if box else []


def action_bar(response) -> dict[str, bool]:
    """The action bar's links → enabled."""
    bar = html(response).find(id="action-bar")
    assert bar is not None, "no action bar"
    return {button.text(): not button.disabled for button in bar.find_all("button")}


def service_icons(node: Node) -> list[tuple[str, str]]:
    """(accessible name, tooltip) of each service icon in a cell."""
    icons = []
    for img in node.find_all("img"):
        tooltip = img.attrs.get("title") or (img.parent.attrs.get("title") if img.parent else "")
        icons.append((img.attrs.get("alt", ""), tooltip or ""))
    return icons


def status_line(response) -> Node:
    line = html(response).find(id="status-line")
    assert line is not None, "no status line"
    return line


def login_url(next_path: str) -> str:
    return f"{reverse('login')}?next={quote(next_path, safe='/')}"


def table_counts() -> dict[str, int]:
    """Rows in every table of the project (sessions aside)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label != "sessions"
    }


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


# ---------------------------------------------------------------- the help text's words


USAGE_TABS = [
    ("Summary", "usage:summary"),
    ("Reseller usage", "usage:reseller-usage"),
    ("Organization site usage", "usage:organization-usage"),
    ("Export reports", "reports:export-reports"),
]


def test_top_navigation_has_reports_and_the_usage_tabs(client, login, world):
    login("operations")
    pages = {
        "Summary": reverse("usage:summary"),
        "Reseller usage": reverse("usage:reseller-usage"),
        "Organization site usage": reverse("usage:organization-usage"),
        "Export reports": reverse("reports:export-reports"),
    }
    for current, url in pages.items():
        page = html(client.get(url))
        main = page.find("nav", aria_label="Main")
        reports = [a for a in main.find_all("a") if a.text() == "Reports"]
        assert reports and reports[0].attrs["href"] == reverse("reports:index"), url
        assert reports[0].attrs.get("aria-current") == "page"

        section = page.find("nav", aria_label="Reports")
        assert [a.text() for a in section.find_all("a")] == ["Usage"]

        tabs = page.find("nav", aria_label="Usage").find_all("a")
        assert [(a.text(), a.attrs["href"]) for a in tabs] == [
            (label, reverse(name)) for label, name in USAGE_TABS
        ]
        assert [a.text() for a in tabs if a.attrs.get("aria-current") == "page"] == [current]


def test_home_page_leads_viewers_to_reports(client, login, world):
    login("marketing")
    response = client.get("/")
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200

    login("support")
    response = client.get("/")
    assert response.status_code == 200
    assert "Acme Hosting" not in response.content.decode()


def test_reseller_usage_lists_the_help_texts_columns_with_a_checkbox_per_row(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:reseller-usage"))
    assert column_headers(response) == [
        "",
        "Name",
        "Domain",
        "Services",
        "Report status",
        "Report last updated",
    ]
    assert listed_names(response) == ["Acme Hosting", "Beta Web", "Gamma Net", "Omega Cloud"]
    for row in listed_rows(response):
        box = row.find("input", type="checkbox")
        assert box.attrs["name"] == "selected"
        assert Reseller.objects.get(pk=box.attrs["value"]).name == row.find("a").text()
        assert box.attrs.get("aria-label")  # a label for screen readers
    acme = cells(row_of(response, "Acme Hosting"))
    assert acme[2] == "acme.example"
    assert acme[4] == "Not generated"
    assert acme[5] in ("–", "")
    assert "sub-reseller of Acme Hosting" in cells(row_of(response, "Beta Web"))[1]
    assert row_of(response, "Acme Hosting").find("a").attrs["href"] == reverse(
        "usage:reseller-overview", args=[world.acme.pk]
    )


def test_organization_site_usage_lists_the_owning_reseller(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:organization-usage"))
    assert column_headers(response) == [
        "",
        "Name",
        "Domain",
        "Reseller",
        "Services",
        "Report status",
        "Report last updated",
    ]
    assert cells(row_of(response, "Eta Blog"))[3] == "Beta Web"
    assert cells(row_of(response, "Direct Site"))[3] == "direct"
    assert cells(row_of(response, "Zeta Shop"))[2] == "zeta.example"


def test_report_status_and_last_updated_columns(client, login, world, t0):
    login("marketing")
    generated = t0 + timedelta(hours=5, minutes=7)
    Report.objects.create(
        kind="reseller",
        reseller=world.acme,
        update=world.update,
        status="ready",
        generated_at=generated,
    )
    Report.objects.create(
        kind="reseller",
        reseller=world.beta,
        update=world.update,
        status="failed",
        error="disk full",
    )
    response = client.get(reverse("usage:reseller-usage"))
    acme = cells(row_of(response, "Acme Hosting"))
    assert acme[4] == "Ready"
    assert acme[5] == "1 Mar 2026, 07:07"
    assert cells(row_of(response, "Beta Web"))[4].startswith("Failed")
    assert cells(row_of(response, "Beta Web"))[5] in ("–", "")
    assert cells(row_of(response, "Omega Cloud"))[4] == "Not generated"
    # a report of an earlier usage update does not count for the most recent one
    run_update(t0 + timedelta(days=1))
    response = client.get(reverse("usage:reseller-usage"))
    assert cells(row_of(response, "Acme Hosting"))[4] == "Not generated"


def test_lists_show_reports_in_progress(client, login, world, t0):
    login("marketing")
    Report.objects.create(kind="reseller", reseller=world.beta, update=world.update)
    Report.objects.create(
        kind="reseller", reseller=world.gamma, update=world.update, status="generating", progress=40
    )
    Report.objects.create(kind="organization", organization=world.zeta, update=world.update)
    response = client.get(reverse("usage:reseller-usage"))
    assert response.status_code == 200
    assert cells(row_of(response, "Beta Web"))[4] == "Queued"
    assert cells(row_of(response, "Gamma Net"))[4].startswith("Generating")
    assert "40 %" in cells(row_of(response, "Gamma Net"))[4]
    # the report's life: not generated, queued, generating, ready, failed
    response = client.get(reverse("usage:reseller-usage"), {"sort": "status"})
    assert listed_names(response) == ["Acme Hosting", "Omega Cloud", "Beta Web", "Gamma Net"]
    response = client.get(reverse("usage:organization-usage"))
    assert response.status_code == 200
    assert cells(row_of(response, "Zeta Shop"))[5] == "Queued"
    poll = client.get(
        reverse("usage:reseller-report-status"), {"ids": [world.beta.pk, world.gamma.pk]}
    )
    assert poll.status_code == 200


def test_after_generate_the_list_shows_the_reports_queued(client, login, world):
    login("marketing")
    response = client.post(
        reverse("usage:reseller-actions"),
        {"action": "generate", "selected": [world.acme.pk, world.omega.pk]},
    )
    page = client.get(response.url)
    assert page.status_code == 200
    assert "2 reports queued." in messages_of(page)
    assert cells(row_of(page, "Acme Hosting"))[4] == "Queued"
    assert cells(row_of(page, "Beta Web"))[4] == "Not generated"


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


def test_status_line_says_when_usage_was_last_updated_and_the_next_update(client, login, world):
    login("marketing")
    for tab in ("usage:summary", "usage:reseller-usage", "usage:organization-usage"):
        line = status_line(client.get(reverse(tab)))
        assert "Usage last updated: 1 Mar 2026, 02:00 UTC" in line.text(), tab
        times = line.find_all("time")
        assert datetime.fromisoformat(times[0].attrs["datetime"]) == world.update.cutoff
        expected = usage_schedule_next(provider=Provider.get(), now=timezone.now())[0]
        assert "Next update at:" in line.text()
        assert datetime.fromisoformat(times[1].attrs["datetime"]) == expected
        assert expected > timezone.now()


def test_status_line_shows_the_next_update_in_the_providers_time_zone(client, login, world):
    provider = Provider.get()
    provider.time_zone, provider.usage_schedule = "Asia/Kolkata", "30 4 * * *"
    provider.save()
    login("marketing")
    line = status_line(client.get(reverse("usage:reseller-usage")))
    assert "Usage last updated: 1 Mar 2026, 07:30 IST" in line.text()
    nxt = datetime.fromisoformat(line.find_all("time")[1].attrs["datetime"])
    local = nxt.astimezone(ZoneInfo("Asia/Kolkata"))
    assert (local.hour, local.minute) == (4, 30)
    assert f"{local:%-d %b %Y}, 04:30 IST" in line.text()


def test_reloading_the_reseller_usage_tab_changes_no_data(client, login, world):
    login("marketing")
    Report.objects.create(kind="reseller", reseller=world.acme, update=world.update, status="ready")
    before = table_counts()
    first = client.get(reverse("usage:reseller-usage"))
    again = client.get(reverse("usage:reseller-usage"))
    assert first.status_code == again.status_code == 200
    assert table_counts() == before
    assert [cells(r) for r in listed_rows(first)] == [cells(r) for r in listed_rows(again)]
    assert list(UsageUpdate.objects.values_list("pk", "status")) == [(world.update.pk, "succeeded")]
    assert Report.objects.get().status == "ready"


# ---------------------------------------------------------------- services column


def test_services_column_has_an_icon_per_allocated_service_with_name_and_tooltip(
    client, login, world
):
    login("marketing")
    ResellerFactory(name="Nothing Yet", domain="nothing.example")
    response = client.get(reverse("usage:reseller-usage"))
    icons = {name: service_icons(row_of(response, name)) for name in listed_names(response)}
    assert icons["Acme Hosting"] == [("Web hosting", "Web hosting"), ("Email", "Email")]
    assert icons["Omega Cloud"] == [("Databases", "Databases")]
    assert icons["Gamma Net"] == [("Web hosting", "Web hosting")]
    assert icons["Nothing Yet"] == []
    assert "none" in cells(row_of(response, "Nothing Yet"))[3]
    for img in usage_table(response).find("tbody").find_all("img"):
        assert img.attrs["src"].endswith(".svg")

    response = client.get(reverse("usage:organization-usage"))
    assert service_icons(row_of(response, "Theta Mail")) == [
        ("Web hosting", "Web hosting"),
        ("Email", "Email"),
    ]


# ---------------------------------------------------------------- sorting


# Five subjects whose every column sorts differently:
# (name, domain, services, report status, hours after t0 the report was generated)
SORTABLE = [
    ("Alpha", "delta-host.example", ["web", "mail", "db"], "ready", 3),
    ("Bravo", "alpha-host.example", ["web"], None, None),
    ("Charlie", "echo-host.example", ["web", "mail"], "failed", 1),
    ("Delta", "bravo-host.example", [], None, None),
    ("Echo", "charlie-host.example", ["web", "mail", "db", "dns"], "failed", 2),
]
ASCENDING = {
    "name": ["Alpha", "Bravo", "Charlie", "Delta", "Echo"],
    "domain": ["Bravo", "Delta", "Echo", "Alpha", "Charlie"],
    "services": ["Delta", "Bravo", "Charlie", "Alpha", "Echo"],
    # not generated, ready, failed (equal ones by name)
    "status": ["Bravo", "Delta", "Alpha", "Charlie", "Echo"],
    # never generated first
    "updated": ["Bravo", "Delta", "Charlie", "Echo", "Alpha"],
}


def _sortable(kind: str, t0):
    update = run_update(t0)
    # organizations' resellers: Alpha's is Owner c, Charlie's a, Delta's d, Echo's b;
    # Bravo is the provider's own
    owners = {
        name: ResellerFactory(name=f"Owner {c}", domain=f"owner-{c}.example")
        for name, c in (("Alpha", "c"), ("Charlie", "a"), ("Delta", "d"), ("Echo", "b"))
    }
    for name, domain, services, status, hours in SORTABLE:
        if kind == "reseller":
            subject = ResellerFactory(name=name, domain=domain, services=services)
        else:
            owner = owners.get(name)
            subject = OrganizationFactory(
                name=name, domain=domain, services=services or ["no-such-code"], reseller=owner
            )
        if status:
            Report.objects.create(
                kind=kind,
                update=update,
                status=status,
                generated_at=t0 + timedelta(hours=hours) if hours else None,
                **{kind: subject},
            )


def test_reseller_usage_sorts_on_every_column_both_ways(client, login, t0):
    login("marketing")
    _sortable("reseller", t0)
    url = reverse("usage:reseller-usage")
    for key, expected in ASCENDING.items():
        for sort, order in ((key, expected), (f"-{key}", expected[::-1])):
            names = listed_names(client.get(url, {"sort": sort}))
            assert [n for n in names if not n.startswith("Owner")] == order, sort


def test_organization_site_usage_sorts_on_every_column_both_ways(client, login, t0):
    login("marketing")
    _sortable("organization", t0)
    url = reverse("usage:organization-usage")
    columns = {**ASCENDING, "reseller": ["Bravo", "Charlie", "Echo", "Alpha", "Delta"]}
    for key, expected in columns.items():
        assert listed_names(client.get(url, {"sort": key})) == expected, key
        assert listed_names(client.get(url, {"sort": f"-{key}"})) == expected[::-1], key


def _pages(per_page: int, **asked) -> tuple[int, list[str]]:
    """Every page of the organization list in turn: the count, and the names listed."""
    from hostmeter.usage.selectors import organization_usage_list

    first, _ = organization_usage_list(page=1, per_page=per_page, **asked)
    names = []
    for number in range(1, first.paginator.num_pages + 1):
        page, _ = organization_usage_list(page=number, per_page=per_page, **asked)
        names += [org.name for org in page.object_list]
    return first.paginator.count, names


@pytest.mark.parametrize("key", ["status", "updated"])
def test_organizations_by_report_page_across_not_generated_and_the_rest(resources, t0, key):
    earlier = run_update(t0 - timedelta(days=1))
    update = run_update(t0)
    acme = ResellerFactory(name="Acme", domain="acme.example")
    rank = {None: 0, "queued": 1, "generating": 2, "ready": 3, "failed": 4}
    statuses = [None, "ready", None, "failed", "queued", None, "ready", None, "generating"]
    rows = []
    for i, status in enumerate(statuses * 2):
        org = OrganizationFactory(
            name=f"{'sA'[i % 2]}ite {i:02}",
            domain=f"s{i:02}.example",
            reseller=acme if i % 4 == 0 else None,
        )
        generated = t0 + timedelta(minutes=(i * 7) % 11) if status in ("ready", "failed") else None
        if status:
            Report.objects.create(
                kind="organization",
                organization=org,
                update=update,
                status=status,
                generated_at=generated,
            )
        elif i % 3 == 0:  # an earlier update's report, or another format's: Not generated
            Report.objects.create(
                kind="organization", organization=org, update=earlier, status="ready"
            )
            Report.objects.create(
                kind="organization", organization=org, update=update, format="xlsx"
            )
        # by status: Not generated first; by time: never generated first
        value = rank[status] if key == "status" else (generated is not None, generated)
        rows.append((value, org.name.lower(), org.pk, org))
    ordered = [org for *_, org in sorted(rows, key=lambda r: r[:3])]

    for per_page in (4, 25):  # pages inside and across both groups
        for sort, order in ((key, ordered), (f"-{key}", ordered[::-1])):
            assert _pages(per_page, sort=sort, update=update) == (18, [o.name for o in order])
            mine = [o.name for o in order if o.reseller_id == acme.pk]
            assert _pages(per_page, sort=sort, update=update, reseller=acme) == (5, mine)
            found = [o.name for o in order if "site 1" in o.name.lower()]
            assert _pages(per_page, sort=sort, update=update, search="site 1") == (
                len(found),
                found,
            )


@pytest.mark.parametrize("sort", ["name", "-domain", "services", "-reseller"])
def test_organization_pages_in_turn_list_every_row_once_in_order(resources, t0, sort):
    from hostmeter.usage.selectors import organization_usage_list

    update = run_update(t0)
    owners = [None, *(ResellerFactory(domain=f"owner{i}.example") for i in range(3))]
    for i in range(18):
        org = OrganizationFactory(
            name=f"{'sS'[i % 2]}ite {i % 7}",  # equal names: the id decides
            domain=f"d{(i * 5) % 18:02}.example",
            reseller=owners[i % 4],
            services=["web", "mail", "db"][: i % 4] or ["no-such-code"],
        )
        if i % 5 == 0:
            Report.objects.create(
                kind="organization",
                organization=org,
                update=update,
                status="ready",
                generated_at=t0 + timedelta(minutes=i),
            )
    first, _ = organization_usage_list(sort=sort, update=update, per_page=4)
    ordered = list(first.paginator.object_list)  # the list's own ORDER BY, in one query
    assert _pages(4, sort=sort, update=update) == (18, [o.name for o in ordered])
    assert len({o.pk for o in ordered}) == 18


def test_sort_headers_say_the_order_and_reverse_it(client, login, world):
    login("marketing")
    url = reverse("usage:reseller-usage")
    head = usage_table(client.get(url, {"sort": "domain"})).find("thead")
    domain = [th for th in head.find_all("th") if "Domain" in th.text()][0]
    assert domain.attrs["aria-sort"] == "ascending"
    assert "sort=-domain" in domain.find("a").attrs["href"]
    name = [th for th in head.find_all("th") if "Name" in th.text()][0]
    assert name.attrs["aria-sort"] == "none"

    head = usage_table(client.get(url, {"sort": "-domain"})).find("thead")
    domain = [th for th in head.find_all("th") if "Domain" in th.text()][0]
    assert domain.attrs["aria-sort"] == "descending"


def test_an_unknown_sort_key_sorts_by_name(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:reseller-usage"), {"sort": "password"})
    assert response.status_code == 200
    assert listed_names(response) == ["Acme Hosting", "Beta Web", "Gamma Net", "Omega Cloud"]


def test_names_sort_alphabetically_whatever_their_case(client, login, t0):
    login("marketing")
    for name in ("Zeta Hosting", "acme web", "Bravo Net"):
        ResellerFactory(name=name)
    response = client.get(reverse("usage:reseller-usage"), {"sort": "name"})
    assert listed_names(response) == ["acme web", "Bravo Net", "Zeta Hosting"]


def test_accented_names_sort_among_the_plain_ones_on_every_engine(client, login, t0):
    login("marketing")
    for name in ("Zeta Hosting", "Ørsted Net", "émile web", "Emma Cloud", "Ärzte Hosting"):
        ResellerFactory(name=name)
    response = client.get(reverse("usage:reseller-usage"), {"sort": "name"})
    # folded: arzte, emile, emma, orsted, zeta (byte order put Ä, é, Ø after Z)
    assert listed_names(response) == [
        "Ärzte Hosting",
        "émile web",
        "Emma Cloud",
        "Ørsted Net",
        "Zeta Hosting",
    ]
    org = OrganizationFactory(name="Zoë Bakery", reseller=Reseller.objects.get(name="Ørsted Net"))
    OrganizationFactory(name="Anna Books", reseller=Reseller.objects.get(name="Zeta Hosting"))
    url = reverse("usage:organization-usage")
    assert listed_names(client.get(url, {"sort": "reseller"})) == [org.name, "Anna Books"]


def test_search_ignores_accents_and_case_of_any_letter(client, login, t0):
    login("marketing")
    for name in ("Café Lumière", "Straße Hosting", "ŁÓDŹ NET", "Plain Web"):
        ResellerFactory(name=name)
    url = reverse("usage:reseller-usage")
    for asked, found in [
        ("cafe", ["Café Lumière"]),
        ("CAFÉ LUM", ["Café Lumière"]),
        ("lumière", ["Café Lumière"]),
        ("strasse", ["Straße Hosting"]),
        ("STRASSE", ["Straße Hosting"]),
        ("łódź", ["ŁÓDŹ NET"]),
        ("lodz", ["ŁÓDŹ NET"]),
    ]:
        assert listed_names(client.get(url, {"q": asked})) == found, asked
    OrganizationFactory(name="Crème Brûlée Shop")
    url = reverse("usage:organization-usage")
    assert listed_names(client.get(url, {"q": "creme brulee"})) == ["Crème Brûlée Shop"]


# ---------------------------------------------------------------- search and pagination


def test_search_by_name_or_domain(client, login, world):
    login("marketing")
    url = reverse("usage:reseller-usage")
    assert listed_names(client.get(url, {"q": "acme"})) == ["Acme Hosting"]
    assert listed_names(client.get(url, {"q": "OMEGA.EX"})) == ["Omega Cloud"]
    assert listed_names(client.get(url, {"q": "  web "})) == ["Beta Web"]
    assert listed_names(client.get(url, {"q": "e", "sort": "-name"})) == [
        "Omega Cloud",
        "Gamma Net",
        "Beta Web",
        "Acme Hosting",
    ]
    nothing = client.get(url, {"q": "zzz"})
    assert listed_names(nothing) == []
    assert "No reseller matches “zzz”" in usage_table(nothing).text()
    assert html(nothing).find("input", id="q").attrs["value"] == "zzz"

    url = reverse("usage:organization-usage")
    assert listed_names(client.get(url, {"q": "shop"})) == ["Zeta Shop"]
    assert listed_names(client.get(url, {"q": "direct.example"})) == ["Direct Site"]


def test_search_treats_wildcards_as_text(client, login, world):
    login("marketing")
    ResellerFactory(name="100% Uptime", domain="uptime.example")
    url = reverse("usage:reseller-usage")
    assert listed_names(client.get(url, {"q": "%"})) == ["100% Uptime"]
    assert listed_names(client.get(url, {"q": "_"})) == []


def test_a_nul_character_in_the_search_is_harmless(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:reseller-usage"), {"q": "acme\x00"})
    assert response.status_code == 200
    assert listed_names(response) == ["Acme Hosting"]  # the NUL is dropped
    response = client.get(reverse("usage:organization-usage"), {"reseller": "acme\x00"})
    assert response.status_code == 200


def _many_resellers(count: int) -> None:
    Reseller.objects.bulk_create(
        Reseller(name=f"Reseller {i:03}", domain=f"r{i:03}.example") for i in range(count)
    )
    reseller_links_rebuild()


def test_pagination(client, login, db):
    login("marketing")
    _many_resellers(30)
    url = reverse("usage:reseller-usage")
    first = client.get(url)
    assert listed_names(first) == [f"Reseller {i:03}" for i in range(25)]
    assert "Page 1 of 2" in html(first).find(cls="pager").text()
    second = client.get(url, {"page": 2})
    assert listed_names(second) == [f"Reseller {i:03}" for i in range(25, 30)]
    assert listed_names(client.get(url, {"page": 99})) == listed_names(second)  # the last page
    assert listed_names(client.get(url, {"page": "abc"})) == listed_names(first)
    assert listed_names(client.get(url, {"page": -1})) == listed_names(second)

    # the pager keeps the order and the search
    page = html(client.get(url, {"sort": "-name", "q": "Reseller"}))
    nxt = page.find("a", rel="next").attrs["href"]
    assert "sort=-name" in nxt and "q=Reseller" in nxt and "page=2" in nxt
    assert listed_names(client.get(url + nxt)) == [f"Reseller {i:03}" for i in range(4, -1, -1)]


# ---------------------------------------------------------------- organization filter


def test_organizations_filtered_by_reseller_include_sub_resellers(client, login, world):
    login("marketing")
    url = reverse("usage:organization-usage")
    acmes = ["Eta Blog", "Theta Mail", "Zeta Shop"]
    by_id = client.get(url, {"reseller": world.acme.pk})
    assert listed_names(by_id) == acmes
    assert "Showing the organizations of Acme Hosting" in html(by_id).text()
    assert listed_names(client.get(url, {"reseller": "acme.example"})) == acmes
    assert listed_names(client.get(url, {"reseller": " ACME.example "})) == acmes
    assert listed_names(client.get(url, {"reseller": "beta.example"})) == ["Eta Blog"]
    assert listed_names(client.get(url, {"reseller": world.gamma.pk})) == []
    assert listed_names(client.get(url, {"reseller": "acme.example", "q": "theta"})) == [
        "Theta Mail"
    ]
    # the owning reseller's link filters on it
    link = row_of(by_id, "Eta Blog").find("a", href=f"?reseller={world.beta.pk}")
    assert link is not None and link.text() == "Beta Web"


@pytest.mark.parametrize("unknown", ["nobody.example", "987654"])
def test_an_unknown_reseller_filter_warns_and_shows_every_organization(
    client, login, world, unknown
):
    login("marketing")
    response = client.get(reverse("usage:organization-usage"), {"reseller": unknown})
    assert response.status_code == 200
    assert any(unknown in m and "every organization" in m for m in messages_of(response))
    assert len(listed_names(response)) == 5


def test_a_reseller_filter_of_odd_digits_warns_instead_of_failing(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:organization-usage"), {"reseller": "²"})
    assert response.status_code == 200
    assert len(listed_names(response)) == 5


def test_a_huge_reseller_id_warns_instead_of_failing(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:organization-usage"), {"reseller": "9" * 30})
    assert response.status_code == 200
    assert len(listed_names(response)) == 5


# ---------------------------------------------------------------- the action bar's rules


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


# ---------------------------------------------------------------- overviews


def test_reseller_overview_shows_counts_services_and_five_figures(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:reseller-overview", args=[world.acme.pk]))
    assert response.status_code == 200
    found = facts(response)
    assert found["Sub-resellers"] == "1 added directly, 2 in all"
    assert found["Organizations"].startswith("2 added directly, 3 in all")
    assert found["Added by"] == "the provider"
    page = html(response)
    services = [n for n in page.find_all("dd") if n.find("img")][0]
    assert service_icons(services) == [("Web hosting", "Web hosting"), ("Email", "Email")]

    head = cells(page.find("table", cls="figures").find("thead").find("tr"))
    assert head == ["Resource", "Limit", "Allocated", "Available", "Used", "Usage %"]
    figures = figure_rows(response)
    assert figures["Disk space"] == ["1,000 MB", "500 MB", "500 MB", "240 MB", "24.0 %"]
    assert figures["Bandwidth"] == ["100 MB", "0 MB", "100 MB", "95 MB", "95.0 % over 80 %"]
    assert figures["Mailboxes"] == ["–", "0", "–", "0", "–"]
    flagged = [
        cells(tr)[0]
        for tr in page.find_all("tr", cls="flagged")
        if tr.parent.parent.attrs.get("class") == "figures"
    ]
    assert flagged == ["Bandwidth"]

    # its organizations, sub-resellers' included
    orgs = page.find("h2", id="organizations")
    table = [t for t in page.find_all("table") if "Added by" in t.find("thead").text()][0]
    assert orgs is not None
    rows = {cells(tr)[0]: cells(tr)[1:3] for tr in table.find("tbody").find_all("tr")}
    assert rows == {
        "Eta Blog": ["eta.example", "Beta Web"],
        "Theta Mail": ["theta.example", "this reseller"],
        "Zeta Shop": ["zeta.example", "this reseller"],
    }


def test_sub_reseller_overview(client, login, world):
    login("operations")
    response = client.get(reverse("usage:reseller-overview", args=[world.beta.pk]))
    found = facts(response)
    assert found["Added by"] == "Acme Hosting (sub-reseller)"
    assert found["Sub-resellers"] == "1 added directly, 1 in all"
    assert found["Organizations"].startswith("1 added directly, 1 in all")
    assert figure_rows(response)["Disk space"] == [
        "400 MB",
        "300 MB",
        "100 MB",
        "150 MB",
        "37.5 %",
    ]


def test_usage_beyond_the_limit_is_flagged_as_over_limit(client, login, world, resources, t0):
    login("marketing")
    store_sample(world.zeta, resources["disk_space"], t0 + timedelta(hours=1), "120")
    run_update(t0 + timedelta(hours=2))
    response = client.get(reverse("usage:organization-overview", args=[world.zeta.pk]))
    assert figure_rows(response)["Disk space"] == ["100 MB", "120 MB", "120.0 % over limit"]


def test_organization_overview_shows_limit_used_and_usage(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:organization-overview", args=[world.zeta.pk]))
    assert response.status_code == 200
    page = html(response)
    head = cells(page.find("table", cls="figures").find("thead").find("tr"))
    assert head == ["Resource", "Limit", "Used", "Usage %"]
    figures = figure_rows(response)
    assert figures == {
        "Disk space": ["100 MB", "90 MB", "90.0 % over 80 %"],
        "Bandwidth": ["–", "95 MB", "–"],
    }
    found = facts(response)
    assert found["Added by"] == "Acme Hosting"
    assert found["Usage as of"] == "1 Mar 2026, 02:00 UTC"
    services = [n for n in page.find_all("dd") if n.find("img")][0]
    assert service_icons(services) == [("Web hosting", "Web hosting")]

    direct = client.get(reverse("usage:organization-overview", args=[world.direct.pk]))
    assert facts(direct)["Added by"] == "the provider (direct)"
    assert figure_rows(direct)["Disk space"] == ["–", "10 MB", "–"]


def test_usage_percent_rounds_half_up_as_in_the_report_files(client, login, resources, t0):
    login("marketing")
    org = OrganizationFactory(name="Half Way", domain="half.example")
    disk = resources["disk_space"]
    limit_set(resource=disk, limit=Decimal(16), organization=org)
    store_sample(org, disk, t0 - timedelta(hours=1), "1")  # 1 of 16 MB: 6.25 %
    run_update(t0)
    response = client.get(reverse("usage:organization-overview", args=[org.pk]))
    assert figure_rows(response)["Disk space"] == ["16 MB", "1 MB", "6.3 %"]


def test_overview_of_an_unknown_subject_is_not_found(client, login, world):
    login("marketing")
    assert client.get(reverse("usage:reseller-overview", args=[987654])).status_code == 404
    assert client.get(reverse("usage:organization-overview", args=[987654])).status_code == 404


def test_summary_shows_counts_figures_and_top_resellers(client, login, world):
    login("marketing")
    response = client.get(reverse("usage:summary"))
    stats = [n.text() for n in html(response).find_all(cls="stat")]
    assert stats == [
        "3 services subscribed (6 subscriptions)",
        "4 resellers, 2 of them sub-resellers",
        "5 organizations, 1 added directly",
    ]
    figures = figure_rows(response)
    assert figures["Disk space"] == ["10,000 MB", "1,000 MB", "9,000 MB", "250 MB", "2.5 %"]
    page = html(response)
    disk = [
        card
        for card in page.find_all("div", cls="card")
        if card.find("h3") and card.find("h3").text() == "Disk space"
    ]
    assert [li.text() for li in disk[0].find_all("li")] == [
        "Acme Hosting — 240 MB",
        "Beta Web — 150 MB",
    ]


def test_top_resellers_are_the_five_largest_per_resource(client, login, resources, t0):
    login("marketing")
    disk, bandwidth = resources["disk_space"], resources["bandwidth"]
    used = {"R1": "50", "R2": "70", "R3": "70", "R4": "10", "R5": "90", "R6": "0", "R7": "30"}
    for name, value in used.items():
        reseller = ResellerFactory(name=name, domain=f"{name.lower()}.example")
        org = OrganizationFactory(domain=f"site-{name.lower()}.example", reseller=reseller)
        store_sample(org, disk, t0 - timedelta(hours=1), value)
        if name == "R4":
            store_sample(org, bandwidth, t0 - timedelta(hours=1), "5")
    run_update(t0)

    cards = {
        card.find("h3").text(): [li.text() for li in card.find_all("li")]
        for card in html(client.get(reverse("usage:summary"))).find_all("div", cls="card")
        if card.find("h3")
    }
    # largest first, equal usage in the order the resellers were added; none unused
    assert cards["Disk space"] == [
        "R5 — 90 MB",
        "R2 — 70 MB",
        "R3 — 70 MB",
        "R1 — 50 MB",
        "R7 — 30 MB",
    ]
    assert cards["Bandwidth"] == ["R4 — 5 MB"]


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


# ---------------------------------------------------------------- a fresh database


def test_every_page_renders_before_the_first_usage_update(client, login, db):
    login("systems")
    for url in [
        reverse("usage:summary"),
        reverse("usage:reseller-usage"),
        reverse("usage:organization-usage"),
        reverse("reports:export-reports"),
        reverse("metering:update-status"),
        reverse("metering:usage-schedule"),
        reverse("usage:reseller-action-bar"),
        reverse("usage:organization-action-bar"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    summary = client.get(reverse("usage:summary"))
    assert "Usage last updated: never" in status_line(summary).text()
    assert "No usage figures yet" in summary.content.decode()
    assert "No resellers yet." in usage_table(client.get(reverse("usage:reseller-usage"))).text()

    reseller = ResellerFactory(name="First Reseller", services=["web"])
    org = OrganizationFactory(name="First Site", reseller=reseller)
    listed = client.get(reverse("usage:reseller-usage"))
    assert cells(row_of(listed, "First Reseller"))[4] == "Not generated"
    for url in (
        reverse("usage:reseller-overview", args=[reseller.pk]),
        reverse("usage:organization-overview", args=[org.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "No usage update yet." in response.content.decode()
        assert "No usage figures yet" in response.content.decode()
    assert listed_names(client.get(reverse("usage:organization-usage"))) == ["First Site"]


# ---------------------------------------------------------------- SQL queries per page


def _grow(world, resources, t0, count: int) -> None:
    """count more resellers (under Acme) and organizations (Acme's), with usage and reports."""
    web_mail = list(Service.objects.filter(code__in=["web", "mail"]))
    resellers = Reseller.objects.bulk_create(
        Reseller(name=f"Grown Reseller {i:02}", domain=f"grown{i:02}.example", parent=world.acme)
        for i in range(count)
    )
    orgs = Organization.objects.bulk_create(
        Organization(name=f"Grown Site {i:02}", domain=f"site{i:02}.example", reseller=world.acme)
        for i in range(count)
    )
    Reseller.services.through.objects.bulk_create(
        Reseller.services.through(reseller_id=r.pk, service_id=s.pk)
        for r in resellers
        for s in web_mail
    )
    Organization.services.through.objects.bulk_create(
        Organization.services.through(organization_id=o.pk, service_id=s.pk)
        for o in orgs
        for s in web_mail
    )
    reseller_links_rebuild()
    disk = resources["disk_space"]
    usage_samples_store(
        (o.pk, disk.pk, t0 + timedelta(hours=1), to_thousandths(i + 1), "test")
        for i, o in enumerate(orgs)
    )
    update = run_update(t0 + timedelta(hours=2))
    Report.objects.bulk_create(
        [Report(kind="reseller", reseller=r, update=update, status="ready") for r in resellers]
        + [Report(kind="organization", organization=o, update=update) for o in orgs[::2]]
    )
    Report.objects.filter(update=update, organization__isnull=False).update(status="failed")
    Report.objects.filter(update=world.update).update(update=update)


MAX_QUERIES = 20


def _queries(client, url: str, ceiling) -> int:
    """The SQL queries of one page view (after a first view), at most MAX_QUERIES."""
    client.get(url)  # warm up what a first request may load once
    with ceiling(MAX_QUERIES) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_queries_per_page_do_not_grow_with_the_rows(
    client, login, world, resources, t0, django_assert_max_num_queries
):
    login("marketing")
    Report.objects.create(
        kind="reseller", reseller=world.acme, update=world.update, status="failed"
    )
    Report.objects.create(
        kind="reseller", reseller=world.omega, update=world.update, status="ready"
    )
    Report.objects.create(
        kind="organization", organization=world.zeta, update=world.update, status="ready"
    )
    urls = [
        reverse("usage:reseller-usage"),
        reverse("usage:reseller-usage") + "?sort=services&q=e",
        reverse("usage:reseller-usage") + "?sort=-status",
        reverse("usage:organization-usage"),
        reverse("usage:organization-usage") + f"?reseller={world.acme.pk}&sort=reseller",
        reverse("usage:organization-usage") + "?sort=status",
        reverse("usage:organization-usage") + "?sort=-updated&q=e",
        reverse("usage:summary"),
        reverse("usage:reseller-overview", args=[world.acme.pk]),
        reverse("usage:organization-overview", args=[world.zeta.pk]),
        reverse("reports:export-reports"),
    ]
    small = {url: _queries(client, url, django_assert_max_num_queries) for url in urls}
    assert len(listed_names(client.get(urls[0]))) == 4

    _grow(world, resources, t0, 40)
    large = {url: _queries(client, url, django_assert_max_num_queries) for url in urls}
    assert len(listed_names(client.get(urls[0]))) == 25
    assert len(listed_names(client.get(urls[3]))) == 25
    assert large == small
