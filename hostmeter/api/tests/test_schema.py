"""The OpenAPI schema: valid, lists every endpoint, and schemathesis (a bounded number of
generated requests per operation, in-process against the WSGI app) finds no server error
and no answer that contradicts the schema."""

import json

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hostmeter.api.services import api_token_create
from hostmeter.tests.factories import UserFactory

SCHEMA_URL = "/api/v1/schema/?format=json"


def test_schema_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/v1/usage-samples/" in out.read_text()


def test_docs_pages_list_every_endpoint_from_our_own_static_files(client, db):
    from django.urls import reverse

    from hostmeter.tests.factories import UserFactory
    from hostmeter.urls import api_urlpatterns

    client.force_login(UserFactory(login_level="marketing"))  # the docs need a login
    schema = client.get(SCHEMA_URL).json()
    for pattern in api_urlpatterns:
        if pattern.name in {"schema", "docs", "redoc"}:
            continue
        route = "/api/v1/" + str(pattern.pattern)
        for converter, name in [("<str:", "")]:
            route = route.replace(converter, "{" + name)
        route = route.replace(">", "}").replace("{pk}", "{id}")
        assert route in schema["paths"], route
    for page in ("api:docs", "api:redoc"):
        html = client.get(reverse(page)).content.decode()
        assert "/api/v1/schema/" in html
        fetched = _fetched_urls(html)
        assert fetched, page
        assert all(url.startswith("/") and not url.startswith("//") for url in fetched), fetched
        assert any("drf_spectacular_sidecar" in url for url in fetched), fetched


def _fetched_urls(html):
    """Every address the page makes the browser load: script and img sources, stylesheet
    and icon links. (Matching "cdn" anywhere in the page failed whenever the random CSRF
    token happened to contain those three letters.)"""
    from bs4 import BeautifulSoup

    urls = []
    for tag in BeautifulSoup(html, "html.parser").find_all(["script", "img", "link"]):
        url = tag.get("href" if tag.name == "link" else "src")
        if url:
            urls.append(url)
    return urls


def _load_schema():
    """The schema as the endpoint serves it, generated without a request (the panel's
    middleware reads the database, which collection time may not)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    from hostmeter.wsgi import application

    raw = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(raw)))
    loaded.app = application  # calls go in-process, through the whole WSGI stack
    return loaded


schema = _load_schema()


@schemathesis.serializer("application/x-ndjson")
def _json_lines(ctx, value) -> bytes:
    """The schema calls a JSON lines body a string: send it as it is."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text.encode("utf-8", "surrogatepass")


@pytest.fixture
def keep_connection():
    """The WSGI app closes "old" connections after each request, which on PostgreSQL ends
    the test's transaction; Django's own test client unhooks this the same way."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    yield
    for signal in signals:
        signal.connect(close_old_connections)


@pytest.fixture
def systems_token(api_world, keep_connection):
    _, raw = api_token_create(user=UserFactory(login_level="systems"), name="schemathesis")
    return raw


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_against_its_schema(case, systems_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {systems_token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
