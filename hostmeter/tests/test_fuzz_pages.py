"""Every HTML page and form, fuzzed: hypothesis sends hostile query strings, path
arguments and POST bodies to every URL pattern of the panel and the admin (taken from the
URLconf, so a new view is fuzzed without anyone adding it) as a signed-in Systems login,
and no answer may be a server error, nor may a request that has no business writing change
anything stored. The API's endpoints are schemathesis's (hostmeter/api/tests/test_schema.py,
every operation of the schema, which lists every API route)."""

import hashlib
import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern, RoutePattern
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostmeter.api.services import api_token_create
from hostmeter.reports.models import Report
from hostmeter.reports.services import report_generate, report_request
from hostmeter.reports.tests.reportdata import build_world
from hostmeter.tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    # Django's date drill-down at the years' ends (1 and 9999) builds naive bounds: the
    # page still answers, the warning is Django's own.
    pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime:RuntimeWarning"),
]

# a few per route keeps the suite quick; HOSTMETER_FUZZ_EXAMPLES=500 digs deeper locally
EXAMPLES_PER_ROUTE = int(os.environ.get("HOSTMETER_FUZZ_EXAMPLES", "8"))
HUGE = "9" * 20

# ---------------------------------------------------------------- the routes


@dataclass(frozen=True)
class Route:
    key: str  # the URL name, namespaced ("usage:summary"), or the route for an unnamed one
    route: str  # "reports/usage/files/<int:pk>/"
    pattern: URLPattern
    named: bool
    prefix_patterns: tuple = ()

    @property
    def converters(self) -> dict:
        found = {}
        for p in (*self.prefix_patterns, self.pattern.pattern):
            found |= getattr(p, "converters", {})
        return found

    @property
    def arguments(self) -> list[str]:
        names = list(self.converters)
        for p in (*self.prefix_patterns, self.pattern.pattern):
            if isinstance(p, RegexPattern):
                names += list(p.regex.groupindex)
        return names


def _walk(patterns, prefix="", namespace="", outer=()):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace + (f"{p.namespace}:" if p.namespace else "")
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns, (*outer, p.pattern))
        else:
            route = prefix + str(p.pattern)
            key = namespace + p.name if p.name else route
            yield Route(key, route, p, bool(p.name), outer)


def panel_routes() -> list[Route]:
    """Every URL pattern but the API's."""
    return [r for r in _walk(get_resolver().url_patterns) if not r.key.startswith("api:")]


# ---------------------------------------------------------------- the world


@dataclass
class World:
    ids: dict[str, list[str]] = field(default_factory=dict)  # argument values per route key
    values: list[str] = field(default_factory=list)  # real ids and names to mix in


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    data = build_world(top_orgs=2, sub_orgs=1, tricky=False)
    systems = UserFactory(login_level="systems", username="systems")
    api_token_create(user=systems, name="fuzz")
    report, _ = report_request(kind=Report.Kind.RESELLER, subject=data.top, update=data.update)
    report = report_generate(report_id=report.pk)
    assert report.status == Report.Status.READY, report.error
    org = data.orgs[0]
    w = World()
    w.values = [
        str(v) for v in (data.top.pk, data.sub.pk, org.pk, report.pk, data.update.pk, systems.pk)
    ] + [data.top.domain, org.domain, "generate", "export", "overview", "1"]
    w.ids = {
        "reports:report-download": [{"pk": str(report.pk)}],
        "usage:reseller-overview": [{"pk": str(data.top.pk)}],
        "usage:organization-overview": [{"pk": str(org.pk)}],
        "admin:auth_user_password_change": [{"id": str(systems.pk)}],
        "admin:view_on_site": [
            {"content_type_id": str(ContentType.objects.get_for_model(org).pk), "object_id": "1"}
        ],
        "admin:app_list": [{"app_label": label} for label in _admin_app_labels()],
        "admin/(?P<url>.*)$": [{"url": "nowhere/"}],
    }
    # each admin's own pages (change, history, delete and the bare id's redirect): one of
    # its rows, or an id no row has when the table is empty
    for model in admin.site._registry:
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        kwargs = [{"object_id": str(first if first is not None else 1)}]
        info = model._meta.app_label, model._meta.model_name
        for view in ("change", "history", "delete"):
            w.ids["admin:{}_{}_{}".format(*info, view)] = kwargs
        w.ids["admin/{}/{}/<path:object_id>/".format(*info)] = kwargs
    return w


def _admin_app_labels() -> list[str]:
    return sorted({m._meta.app_label for m in admin.site._registry})


# ---------------------------------------------------------------- what may write

ADMIN_WRITES = re.compile(r"^admin:\w+_(add|change|delete|changelist|password_change)$")
AXES = {"axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"}
REPORTS = {"reports.Report", "reports.ReportEvent", "django_tasks_database.DBTaskResult"}
WRITES = {
    ("POST", "metering:usage-schedule"): {"tenancy.Provider"},
    ("POST", "metering:update-run"): {
        "metering.UsageUpdate",
        "django_tasks_database.DBTaskResult",
    },
    ("POST", "reports:export-generate"): REPORTS,
    ("POST", "usage:reseller-actions"): REPORTS,
    ("POST", "usage:organization-actions"): REPORTS,
    ("GET", "reports:report-download"): {"reports.ReportEvent"},  # "downloaded"
    ("POST", "login"): AXES | {"accounts.User"},
    ("POST", "admin:login"): AXES | {"accounts.User"},
    ("POST", "logout"): AXES,  # the logout time of the sign-in's record
    ("POST", "admin:logout"): AXES,
    ("POST", "admin:password_change"): {"accounts.User"},
}


def may_write(method: str, key: str) -> set[str] | None:
    """The tables a request may change (None: any, the admin's own forms)."""
    if method == "POST" and ADMIN_WRITES.match(key):
        return None
    return WRITES.get((method, key), set())


def snapshot() -> dict[str, str]:
    """A digest of every row of every table but the sessions'."""
    digests = {}
    for model in apps.get_models():
        if model._meta.label in {"sessions.Session"}:
            continue
        rows = model._default_manager.order_by("pk").values_list()
        digests[model._meta.label] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return digests


# ---------------------------------------------------------------- hostile input

HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    HUGE,
    "-" + HUGE,
    "9" * 400,
    "0",
    "-1",
    "1e400",
    "nan",
    "inf",
    "-0",
    "٣",
    "½",
    "0x10",
    "1.5",
    "true",
    "None",
    "[]",
    "{}",
    "x" * 10_000,
    "é" * 300,
    "<script>alert(1)</script>",
    "'; --",
    "%",
    "../../etc/passwd",
    "0001-01-01",
    "9999-12-31",
    "2000-01-01T00:00:00Z",
    "* * * * *",
    "61 25 32 13 8",
    "*/0 * * * *",
    "@reboot",
    "0 2 * * * *",
    "Etc/GMT-14",
    "localtime",
    "csv",
    "xlsx",
    "pending",
    "\u202e\ufeff",
    "\U0001f4a9",
]
VOCABULARY = [
    "q",
    "sort",
    "page",
    "selected",
    "ids",
    "reseller",
    "was",
    "action",
    "regenerate",
    "kind",
    "format",
    "usage_schedule",
    "time_zone",
    "username",
    "password",
    "next",
    "o",
    "p",
    "e",
    "all",
    "_to_field",
    "_popup",
    "_changelist_filters",
    "post",
    "select_across",
    "index",
    "_selected_action",
    "term",
    "app_label",
    "model_name",
    "field_name",
    "old_password",
    "new_password1",
    "new_password2",
    "_save",
    "_continue",
]
JUNK_QUERY = ["", "&%FF%FE=%FF", "&=", "&&", "&a=%ZZ", "&ids=1&ids=1&ids=1", "&" + "k=v&" * 50]


def values(world: World):
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(world.values),
        st.integers(-(10**25), 10**25).map(str),
        st.text(st.characters(codec="utf-8"), max_size=40),
    )


def keys(extra: list[str]):
    return st.one_of(
        st.sampled_from(VOCABULARY + extra), st.text(st.characters(codec="utf-8"), max_size=12)
    )


def _encode(pairs) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


@st.composite
def requests(draw, route: Route, world: World, forms: list[list[tuple[str, str]]]):
    method = draw(st.sampled_from(["GET", "POST"]))
    kwargs = dict(draw(st.sampled_from(world.ids[route.key]))) if route.arguments else {}
    for name, converter in route.converters.items():
        if draw(st.booleans()):  # now and then a hostile argument the converter takes
            kwargs[name] = draw(st.from_regex(converter.regex, fullmatch=True))
    form_keys = [k for form in forms for k, _ in form]
    pairs = draw(st.lists(st.tuples(keys(form_keys), values(world)), max_size=6))
    query = _encode(pairs) + draw(st.sampled_from(JUNK_QUERY))
    body, content_type = b"", "application/x-www-form-urlencoded"
    if method == "POST":
        fields = []
        if forms and draw(st.booleans()):  # the page's own form, some fields hostile
            for name, value in draw(st.sampled_from(forms)):
                choice = draw(st.sampled_from(["keep", "keep", "hostile", "drop", "twice"]))
                if choice == "hostile":
                    value = draw(values(world))
                if choice != "drop":
                    fields.append((name, value))
                if choice == "twice":
                    fields.append((name, draw(values(world))))
        fields += draw(st.lists(st.tuples(keys(form_keys), values(world)), max_size=6))
        body = _encode(fields).encode()
        kind = draw(st.sampled_from(["form", "form", "form", "multipart", "json"]))
        if kind == "multipart":
            content_type = "multipart/form-data; boundary=xyz"
            body = b'--xyz\r\nContent-Disposition: form-data; name="q"\r\n\r\n' + body
        elif kind == "json":
            content_type, body = "application/json", b'{"a": [[[[[[[[[[1]]]]]]]]]]}'
    return method, _path(route, kwargs), query, body, content_type


def _path(route: Route, kwargs: dict) -> str:
    if route.named:
        return reverse(route.key, kwargs=kwargs)
    if isinstance(route.pattern.pattern, RegexPattern):  # the admin's catch-all
        return "/admin/" + quote(kwargs.get("url", ""))
    path = "/" + route.route
    for name, value in kwargs.items():
        path = re.sub(rf"<(\w+:)?{name}>", quote(value, safe="/"), path)
    assert isinstance(route.pattern.pattern, RoutePattern) and "<" not in path, path
    return path


# ---------------------------------------------------------------- the page's forms


class _Forms(HTMLParser):
    """The fields of every POST form on a page, with the values it was served with."""

    def __init__(self):
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = []
            self.forms.append(self._form)
        if self._form is None or not (a.get("name") or tag == "option"):
            return
        if tag == "input" and a.get("type") not in {"submit", "button", "checkbox", "radio"}:
            self._form.append((a["name"], a.get("value") or ""))
        elif tag == "input" and "checked" in a:
            self._form.append((a["name"], a.get("value") or "on"))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self._form.append((self._select, a.get("value") or ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.append((a["name"], ""))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea and self._form:
            self._form[-1] = (self._textarea, data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def page_forms(client: Client, route: Route, world: World) -> list[list[tuple[str, str]]]:
    kwargs = world.ids[route.key][0] if route.arguments else {}
    response = client.get(_path(route, kwargs))
    if "html" not in response.get("Content-Type", ""):
        return []
    parser = _Forms()
    parser.feed(response.content.decode(errors="replace"))
    return parser.forms


# ---------------------------------------------------------------- the tests


def test_every_route_with_arguments_has_examples(world):
    """A new URL pattern that takes arguments needs real ones here (world.ids), or it
    could only be fuzzed with arguments that find nothing."""
    missing = [r.key for r in panel_routes() if r.arguments and r.key not in world.ids]
    assert not missing, f"add example arguments for: {missing}"


def test_the_routes_are_the_urlconfs(world):
    keys = {r.key for r in panel_routes()}
    for expected in (
        "usage:summary",
        "metering:usage-schedule",
        "reports:report-download",
        "login",
        "admin:metering_usagesample_changelist",
        "admin:tenancy_organization_change",
    ):
        assert expected in keys


def _groups() -> list:
    """The routes in groups of one test each: the panel's, and the admin's per model."""
    groups: dict[str, list[Route]] = {}
    labels = {f"{m._meta.app_label}/{m._meta.model_name}/" for m in admin.site._registry}
    for r in panel_routes():
        name = "panel"
        if r.route.startswith("admin/"):
            rest = r.route.removeprefix("admin/")
            name = next((f"admin:{lab}" for lab in labels if rest.startswith(lab)), "admin")
        groups.setdefault(name, []).append(r)
    return [pytest.param(routes, id=name) for name, routes in sorted(groups.items())]


@pytest.mark.parametrize("routes", _groups())
def test_no_page_or_form_fails_on_hostile_input(world, routes):
    systems = UserFactory._meta.model.objects.get(username="systems")
    client = Client()  # CSRF checks off; a view's exception is raised here
    client.force_login(systems)
    for route in routes:
        if route.arguments and route.key not in world.ids:
            pytest.fail(f"no example arguments for {route.key}")
        fuzz_route(client, systems, route, world, page_forms(client, route, world))


def fuzz_route(client: Client, systems, route: Route, world: World, forms) -> None:
    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(request=requests(route, world, forms))
    def fuzz(request):
        method, path, query, body, content_type = request
        with transaction.atomic():
            client.force_login(systems)  # a fuzzed logout ends the session
            before = snapshot()
            sent = f"{method} {path}?{query[:300]} {content_type} {body[:300]!r}"
            try:
                response = client.generic(
                    method, f"{path}?{query}", data=body, content_type=content_type
                )
            except Exception as exc:
                raise AssertionError(f"{sent}: {exc!r}") from exc
            assert response.status_code < 500, sent
            allowed = may_write(method, route.key)
            if allowed is not None:
                after = snapshot()
                changed = {label for label in before if before[label] != after[label]}
                assert changed <= allowed, f"{sent} changed {changed}"
            transaction.set_rollback(True)

    fuzz()
