"""Every endpoint, for a level that may and one that may not; without credentials; and
with an ingest-only token (which only the ingest endpoint takes)."""

import pytest

from hostmeter.accounts.levels import LoginLevel

S, OPS, M = LoginLevel.SYSTEMS, LoginLevel.OPERATIONS, LoginLevel.MARKETING
SUP, BIL = LoginLevel.SUPPORT, LoginLevel.BILLING
SAMPLE = {
    "organization": "shop.example",
    "resource": "disk_space",
    "measured_at": "2026-03-01T02:00:00+00:00",
    "value": "1.5",
}

# method, path, body, level that may (and the status it gets), levels that may not
ENDPOINTS = [
    ("get", "/api/v1/services/", None, M, 200, [SUP, BIL]),
    ("get", "/api/v1/resources/", None, S, 200, [BIL]),
    ("get", "/api/v1/resellers/", None, M, 200, [SUP]),
    ("post", "/api/v1/resellers/", {"name": "New", "domain": "new.example"}, OPS, 201, [M, SUP]),
    ("get", "/api/v1/resellers/acme.example/", None, OPS, 200, [SUP]),
    ("patch", "/api/v1/resellers/acme.example/", {"is_suspended": True}, S, 200, [M]),
    ("get", "/api/v1/organizations/", None, M, 200, [BIL]),
    (
        "post",
        "/api/v1/organizations/",
        {"name": "New", "domain": "new.example", "reseller": "acme.example"},
        S,
        201,
        [M, BIL],
    ),
    ("get", "/api/v1/organizations/shop.example/", None, M, 200, [SUP]),
    ("patch", "/api/v1/organizations/shop.example/", {"name": "Shop 2"}, OPS, 200, [M]),
    ("get", "/api/v1/limits/", None, M, 200, [SUP]),
    (
        "post",
        "/api/v1/limits/",
        {"kind": "reseller", "domain": "acme.example", "resource": "disk_space", "limit": "600"},
        OPS,
        200,
        [M],
    ),
    ("get", "/api/v1/reseller-logins/", None, OPS, 200, [M, SUP]),
    (
        "post",
        "/api/v1/reseller-logins/",
        {"username": "acme-admin", "reseller": "acme.example", "password": "x-long-password"},
        S,
        201,
        [M, BIL],
    ),
    ("get", "/api/v1/usage-updates/", None, M, 200, [SUP]),
    ("post", "/api/v1/usage-updates/", {}, S, 202, [OPS, M, SUP]),
    ("get", "/api/v1/usage-updates/latest/", None, M, 200, [BIL]),
    ("get", "/api/v1/usage-updates/{update}/", None, OPS, 200, [SUP]),
    ("get", "/api/v1/usage-updates/latest/summary/", None, M, 200, [SUP]),
    ("get", "/api/v1/usage-updates/latest/resellers/acme.example/", None, M, 200, [SUP]),
    ("get", "/api/v1/usage-updates/{update}/organizations/", None, M, 200, [BIL]),
    ("get", "/api/v1/usage-updates/latest/organizations/shop.example/", None, M, 200, [SUP]),
    ("get", "/api/v1/reports/", None, M, 200, [SUP]),
    ("post", "/api/v1/reports/", {"kind": "summary"}, M, 202, [SUP, BIL]),
    ("get", "/api/v1/reports/{report}/", None, M, 200, [SUP]),
    ("get", "/api/v1/reports/{report}/file/", None, M, 200, [BIL]),
    ("post", "/api/v1/usage-samples/", [SAMPLE], OPS, 200, [M, SUP]),
    ("get", "/api/v1/tokens/", None, SUP, 200, []),
    ("get", "/api/v1/tokens/{token}/", None, BIL, 200, []),
    ("delete", "/api/v1/tokens/{token}/", None, M, 204, []),
]
IDS = [f"{method} {path}" for method, path, *_ in ENDPOINTS]


def _call(client, method, path, body, world, ready_report):
    path = path.format(
        update=world.update.pk,
        report=ready_report.pk,
        token=client.token.pk if hasattr(client, "token") else 1,
    )
    return getattr(client, method)(path, body, format="json")


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "code", "refused"), ENDPOINTS, ids=IDS
)
def test_allowed_level(
    make_client, api_world, ready_report, method, path, body, allowed, code, refused
):
    response = _call(make_client(allowed), method, path, body, api_world, ready_report)
    assert response.status_code == code, getattr(response, "data", response)


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "code", "refused"), ENDPOINTS, ids=IDS
)
def test_refused_levels(
    make_client, api_world, ready_report, method, path, body, allowed, code, refused
):
    for level in refused:
        response = _call(make_client(level), method, path, body, api_world, ready_report)
        assert response.status_code == 403, (level, response.data)
        assert "login level" in response.data["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "code", "refused"), ENDPOINTS, ids=IDS
)
def test_no_credentials(
    make_client, api_world, ready_report, method, path, body, allowed, code, refused
):
    response = _call(make_client(None), method, path, body, api_world, ready_report)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="hostmeter"'


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "code", "refused"), ENDPOINTS, ids=IDS
)
def test_ingest_only_token(
    make_client, api_world, ready_report, method, path, body, allowed, code, refused
):
    """A collector's token pushes samples and can do nothing else, even of a Systems login."""
    client = make_client(S, scope="ingest")
    response = _call(client, method, path, body, api_world, ready_report)
    if path == "/api/v1/usage-samples/":
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert "ingest" in response.data["detail"]


def test_ingest_only_token_of_a_level_that_may_not_ingest(make_client, api_world):
    client = make_client(M, scope="ingest")
    response = client.post("/api/v1/usage-samples/", [SAMPLE], format="json")
    assert response.status_code == 403
    assert "push usage samples" in response.data["detail"]


def test_every_api_route_is_in_the_table():
    """A new endpoint must be added to ENDPOINTS (and so get its access tests)."""
    from hostmeter.urls import api_urlpatterns

    def generic(path: str) -> str:
        for value, placeholder in [
            ("acme.example", "<str:domain>"),
            ("shop.example", "<str:domain>"),
            ("{update}", "<str:update>"),
            ("latest", "<str:update>"),
            ("{report}", "<str:pk>"),
            ("{token}", "<str:pk>"),
        ]:
            path = path.replace(value, placeholder)
        return path.removeprefix("/api/v1/")

    tested = {generic(path) for _, path, *_ in ENDPOINTS}
    public = {"schema/", "docs/", "redoc/"}
    routes = {str(pattern.pattern) for pattern in api_urlpatterns}
    assert routes - public == tested


def test_a_method_an_endpoint_does_not_have_is_405(systems, api_world):
    assert systems.put("/api/v1/limits/", {}, format="json").status_code == 405
    assert systems.delete("/api/v1/resellers/acme.example/").status_code == 405
