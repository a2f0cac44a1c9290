"""Reseller logins see their own subtree and nothing else: every URL of the panel, the
admin and the API (taken from the URLconf, so a new one is in the matrix without anyone
adding it), with the real id or domain of every reseller, organization, report and update
in its path and every id in its query, GET and POST, as a login of each provider level,
of a reseller (Acme Hosting), of its sub-reseller (Beta Web) and of an unrelated reseller
(Omega Cloud). No answer, header or file (ZIPs and XLSX unpacked) may name a reseller or
organization outside the login's subtree, and no request may queue a report of one.

Who is in whose subtree is written out here from the `world` fixture's tree, not taken
from the code under test."""

import io
import re
import zipfile
from itertools import chain

import pytest
from django.test import Client
from django.urls import get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostmeter.accounts.services import user_save
from hostmeter.metering.models import UsageUpdate
from hostmeter.reports.models import Report
from hostmeter.reports.services import report_generate, report_request
from hostmeter.tenancy.services import reseller_login_save
from hostmeter.tests.fixtures import PASSWORD
from hostmeter.tests.test_fuzz_pages import _walk

pytestmark = pytest.mark.django_db

# The world fixture's tree: Acme ⊃ Beta ⊃ Gamma, Omega apart, Direct Site the provider's.
RESELLERS = ("acme", "beta", "gamma", "omega")
ORGANIZATIONS = ("zeta", "theta", "eta", "omega_site", "direct")
SUBTREE = {
    "acme": {"acme", "beta", "gamma", "zeta", "theta", "eta"},
    "beta": {"beta", "gamma", "eta"},
    "omega": {"omega", "omega_site"},
}
PROVIDER_LEVELS = ("systems", "operations", "marketing", "support", "billing")


@pytest.fixture
def tenants(world, settings, tmp_path):
    """The world with a Ready CSV report of every reseller, every organization and each
    whole-customer-base kind, a second (XLSX) report of Omega's, the XLSX summary,
    reseller usage and organization site usage files of each reseller login's subtree,
    and the logins."""
    settings.MEDIA_ROOT = tmp_path / "files"
    subjects = [(Report.Kind.RESELLER, getattr(world, n)) for n in RESELLERS]
    subjects += [(Report.Kind.ORGANIZATION, getattr(world, n)) for n in ORGANIZATIONS]
    subjects += [(kind, None) for kind in ("summary", "resellers", "organizations")]
    for kind, subject in subjects:
        report, _ = report_request(kind=kind, subject=subject, update=world.update)
        assert report_generate(report_id=report.pk).status == Report.Status.READY
    report, _ = report_request(
        kind=Report.Kind.RESELLER, subject=world.omega, update=world.update, format="xlsx"
    )
    assert report_generate(report_id=report.pk).status == Report.Status.READY
    # the files a reseller login generates for its subtree
    for name in SUBTREE:
        for kind in ("summary", "resellers", "organizations"):
            report, _ = report_request(
                kind=kind, update=world.update, subtree=getattr(world, name), format="xlsx"
            )
            assert report_generate(report_id=report.pk).status == Report.Status.READY
    logins = {
        name: reseller_login_save(
            username=f"{name}-login", reseller=getattr(world, name), password=PASSWORD
        ).user
        for name in SUBTREE
    }
    for level in PROVIDER_LEVELS:
        logins[level] = user_save(username=f"{level}-user", password=PASSWORD, login_level=level)
    return world, logins


def _words(world, names) -> set[str]:
    """The names and domains of these subjects, as a page or a file would show them."""
    found = set()
    for n in names:
        subject = getattr(world, n)
        found |= {subject.name, subject.domain}
    return found


def forbidden(world, login: str) -> set[str]:
    outside = set(RESELLERS + ORGANIZATIONS) - SUBTREE[login]
    return _words(world, outside)


def body_text(response) -> str:
    """Everything a response says: its headers, its body, and each member of a ZIP (a
    ZIP of reports, or an XLSX workbook)."""
    raw = (
        b"".join(response.streaming_content)
        if response.streaming
        else getattr(response, "content", b"")
    )
    parts = [str(dict(response.headers)), raw.decode("utf-8", "replace")]
    if raw[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            for member in archive.namelist():
                parts.append(member)
                data = archive.read(member)
                if raw[:2] == data[:2]:  # a workbook inside a ZIP of reports
                    with zipfile.ZipFile(io.BytesIO(data)) as inner:
                        parts += [
                            inner.read(m).decode("utf-8", "replace") for m in inner.namelist()
                        ]
                parts.append(data.decode("utf-8", "replace"))
    return "\n".join(parts)


def _requests(world):
    """(method, path, data) for every URL pattern, each argument taken in turn from every
    real id or domain (the admin, which lets no reseller login in, with one each)."""
    ids = [getattr(world, n).pk for n in chain(RESELLERS, ORGANIZATIONS)]
    ids += list(Report.objects.values_list("pk", flat=True))
    ids += list(UsageUpdate.objects.values_list("pk", flat=True))
    domains = [getattr(world, n).domain for n in chain(RESELLERS, ORGANIZATIONS)]
    every = [str(i) for i in sorted(set(ids))]
    query = {"selected": every, "ids": every, "reseller": str(world.omega.pk), "q": ""}
    for route in _walk(get_resolver().url_patterns):
        if route.key == "logout":
            continue  # the login must stay signed in for the rest
        args = route.arguments
        admin = route.route.startswith("admin/")
        values: list[dict[str, str]] = [{}]
        for name in args:
            if name == "url":
                choices = ["tenancy/reseller/"]
            elif name in ("domain",):
                choices = domains
            elif name == "update":
                choices = ["latest", str(world.update.pk)]
            else:  # pk, object_id, ids of every kind
                choices = every + domains if route.key.startswith("api:") else every
            if admin:
                choices = choices[:1]
            values = [v | {name: c} for v in values for c in choices]
        for kwargs in values:
            path = "/" + _fill(route.route, kwargs)
            yield "GET", path, None
            yield "GET", path, query
            for action in ("overview", "generate", "export"):
                yield "POST", path, {"action": action, "selected": every}
            if route.key == "reports:export-generate":
                for kind in ("summary", "resellers", "organizations"):
                    yield "POST", path, {"kind": kind, "format": "csv"}


def _fill(route: str, kwargs: dict[str, str]) -> str:
    for name, value in kwargs.items():
        route = re.sub(rf"<(?:\w+:)?{name}>", value, route)
        route = re.sub(rf"\(\?P<{name}>[^)]*\)", value, route)
    return route.replace("^", "").replace("$", "")


def _ask(client, method, path, data):
    if method == "GET":
        return client.get(path, data or {})
    return client.post(path, data)


@pytest.mark.parametrize("login", list(SUBTREE))
def test_no_page_file_or_endpoint_shows_a_reseller_login_another_subtree(tenants, login):
    world, logins = tenants
    client = Client()
    client.force_login(logins[login])
    words = forbidden(world, login)
    reports_before = set(Report.objects.values_list("pk", flat=True))
    asked = 0
    for method, path, data in _requests(world):
        response = _ask(client, method, path, data)
        asked += 1
        assert response.status_code < 500, (method, path, data, response.status_code)
        assert response.wsgi_request.user == logins[login], (method, path)  # still signed in
        text = body_text(response)
        leaked = sorted(w for w in words if w in text)
        assert not leaked, (login, method, path, data, response.status_code, leaked)
    assert asked > 500
    # what it asked to be generated is its own subtree's
    queued = Report.objects.exclude(pk__in=reports_before)
    for report in queued:
        subject = report.reseller or report.organization or report.subtree
        assert subject is not None, report.kind
        name = next(n for n in chain(RESELLERS, ORGANIZATIONS) if getattr(world, n) == subject)
        assert name in SUBTREE[login], (login, report)


def test_provider_levels_answer_as_before(tenants):
    """The same requests as provider staff: no server error, and the viewers see every
    subtree (the matrix's control: the words it looks for are on the pages)."""
    world, logins = tenants
    everyone = _words(world, RESELLERS + ORGANIZATIONS)
    for level in PROVIDER_LEVELS:
        client = Client()
        client.force_login(logins[level])
        for method, path, data in _requests(world):
            if method == "POST" or path.startswith("/admin/"):
                continue  # the fuzz tests cover them; POSTs would queue reports here
            assert _ask(client, method, path, data).status_code < 500, (level, path, data)
        organizations = body_text(client.get("/reports/usage/organizations/"))
        if level in ("systems", "operations", "marketing"):
            org_words = _words(world, ORGANIZATIONS)
            assert all(w in organizations for w in org_words), level
        else:
            assert not any(w in organizations for w in everyone), level


@pytest.mark.parametrize("login", list(SUBTREE))
def test_a_reseller_login_sees_its_whole_subtree(tenants, login):
    world, logins = tenants
    client = Client()
    client.force_login(logins[login])
    own = SUBTREE[login]
    organizations = body_text(client.get("/reports/usage/organizations/"))
    resellers = body_text(client.get("/reports/usage/resellers/"))
    for name in own:
        subject = getattr(world, name)
        if name in ORGANIZATIONS:
            assert subject.name in organizations, name
            url = f"/reports/usage/organizations/{subject.pk}/"
        else:
            # the reseller usage list is its sub-resellers: itself it sees in the summary
            assert (subject.domain in resellers) == (name != login), name
            url = f"/reports/usage/resellers/{subject.pk}/"
        assert client.get(url).status_code == 200, url
        report = Report.objects.get(**{Report.Kind(_kind(name)).value: subject, "format": "csv"})
        assert client.get(f"/reports/usage/files/{report.pk}/").status_code == 200, name
    summary = body_text(client.get("/reports/usage/"))
    assert getattr(world, login).name in summary


def _kind(name: str) -> str:
    return Report.Kind.ORGANIZATION if name in ORGANIZATIONS else Report.Kind.RESELLER


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    login=st.sampled_from(sorted(SUBTREE)),
    subject=st.sampled_from(RESELLERS + ORGANIZATIONS),
    how=st.sampled_from(["overview", "search", "report", "poll"]),
)
def test_a_random_subject_is_seen_exactly_when_it_is_in_the_subtree(tenants, login, subject, how):
    world, logins = tenants
    client = Client()
    client.force_login(logins[login])
    thing = getattr(world, subject)
    kind = "organizations" if subject in ORGANIZATIONS else "resellers"
    inside = subject in SUBTREE[login]
    if how == "overview":
        response = client.get(f"/reports/usage/{kind}/{thing.pk}/")
        assert response.status_code == (200 if inside else 404)
    elif how == "search":
        text = body_text(client.get(f"/reports/usage/{kind}/", {"q": thing.name}))
        # the reseller usage list is the login's sub-resellers, not itself
        listed = inside and not (kind == "resellers" and subject == login)
        assert (thing.domain in text) == listed
    elif how == "report":
        report = Report.objects.get(**{_kind(subject): thing, "format": "csv"})
        response = client.get(f"/reports/usage/files/{report.pk}/")
        assert response.status_code == (200 if inside else 404)
    else:
        response = client.get(f"/reports/usage/{kind}/report-status/", {"ids": thing.pk})
        assert (f'id="report-status-{thing.pk}"' in body_text(response)) == inside
