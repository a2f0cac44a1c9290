"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Each xdist worker starts its own live server (a session fixture, on a free port) and its
own Chromium. The tests are transactional (the server's threads must see what the test
wrote): on PostgreSQL each worker has its own test database; on SQLite the test database
is in memory and pytest-django hands the test's connection to the server's threads.
serialized_rollback brings back the service catalog (seeded by a migration) after each
flush. Static files come from django.contrib.staticfiles' handler, which the live server
puts in front of the app, so CSS, JS and icons load although DEBUG is off.
"""

import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

# Playwright's sync API keeps an asyncio loop running in this process from the first
# browser test to the end of the session, and Django refuses ORM calls while a loop is
# running. The tests (and every later test of this xdist worker) are synchronous code,
# so tell Django so, process-wide.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser-test-pw"
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def _django_connections():
    """The main thread's database connections, taken before Playwright's loop runs."""
    from django.db import connections

    return {alias: connections[alias] for alias in connections}


@pytest.fixture(scope="session")
def playwright(_django_connections, playwright):
    """pytest-playwright's, keeping Django on the same connection objects.

    With Playwright's loop running, asgiref takes this thread for an async one and keeps
    Django's connections in a context variable instead of the thread-local: the tests
    would get fresh connection objects without the serialized catalog (serialized_rollback
    would silently restore nothing) and, on SQLite, a second connection to the in-memory
    test database beside the one handed to the live server. Pinning the original ones
    there keeps one connection per database, as in every other test.
    """
    from django.db import connections

    for alias, connection in _django_connections.items():
        connections[alias] = connection
    return playwright


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium (Playwright's own downloads are not available here)."""
    if not os.access(CHROMIUM, os.X_OK):
        # fail, never skip: a browser test that does not run must not look like a pass
        pytest.fail(
            f"Browser tests need Debian's Chromium at {CHROMIUM}: install it with "
            "apt-get install chromium (scripts/chromium.sh does it where it can)",
            pytrace=False,
        )
    args = {k: v for k, v in browser_type_launch_args.items() if k != "channel"}
    return {**args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # app.js tells the server the browser's time zone; pin it so times read the same anywhere
    return {
        **browser_context_args,
        "locale": "en-US",
        "timezone_id": "UTC",
        "viewport": {"width": 1280, "height": 860},
    }


@dataclass
class PageProblems:
    """What went wrong in the browser behind the test's back: JS errors, missing files."""

    errors: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)

    def on_response(self, response) -> None:
        if response.status >= 400 and response.status not in self.allowed_statuses:
            self.errors.append(f"HTTP {response.status} for {response.url}")

    def on_request_failed(self, request) -> None:
        if request.failure == "net::ERR_ABORTED":  # the page moved on (e.g. the favicon)
            return
        self.errors.append(f"request failed: {request.url} ({request.failure})")


@pytest.fixture
def page_problems():
    return PageProblems()


@pytest.fixture
def app(page, live_server, page_problems):
    """The browser page, pointed at the live server; fails the test on a JS error or a
    file that does not load (CSS, JS, icons, htmx fragments)."""
    page.set_default_timeout(10_000)
    page.on("pageerror", lambda exc: page_problems.errors.append(f"JavaScript error: {exc}"))
    page.on("response", page_problems.on_response)
    page.on("requestfailed", page_problems.on_request_failed)
    page.live_server_url = live_server.url
    yield page
    assert not page_problems.errors, "\n".join(page_problems.errors)


@pytest.fixture
def shoot():
    """shoot(page, name): a full-page PNG in docs/screenshots/ when HOSTMETER_SCREENSHOTS
    is set (so that `make test` in CI does not rewrite the committed files)."""

    def take(page, name: str) -> None:
        if os.environ.get("HOSTMETER_SCREENSHOTS", "") in {"", "0"}:
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True, animations="disabled")

    return take


def text(locator) -> str:
    """A locator's visible text with its runs of white space (no-break ones too) as one
    space."""
    return re.sub(r"\s+", " ", locator.inner_text().replace("\u00a0", " ")).strip()


def sign_in(page, username: str, password: str = PASSWORD):
    """Signs in on /login/ as a person would; returns the response of the page after it."""
    page.goto(page.live_server_url + "/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Sign in").click()
    return navigation.value


def assert_styled(page) -> None:
    """app.css is applied: the top bar has its brand colour (not the browser default)."""
    colour = page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
    assert colour == "rgb(23, 54, 93)", f"app.css not applied: top bar is {colour}"


# ---------------------------------------------------------------- the data


@dataclass
class Usage:
    """What the tests created, by name; the figures they expect are written in the tests."""

    resellers: dict
    organizations: dict
    users: dict
    updates: list


# Disk space (MB) of each organization at the three usage updates, and its limit.
DISK = {
    "alpha.example": ([1000, 1200, 1500], 2000),
    "delta.example": ([250, 600, 950], 1000),
    "gamma.example": ([300, 450, 500], 1000),
    "eta.example": ([100, 300, 600], 500),
    "omega.example": ([700, 750, 810], 3000),
}
# Bandwidth (MB, a counter) sent before each update; the period's total adds them up.
BANDWIDTH = {"alpha.example": [30, 50, 100], "gamma.example": [5, 10, 25]}
MAILBOXES = {"alpha.example": ([3, 4, 5], 10)}


@pytest.fixture
def usage(transactional_db):
    """Three resellers (Beta Web is Acme Hosting's sub-reseller), five organizations (one
    added directly), limits, and samples frozen by three usage updates a day apart."""
    from hostmeter.accounts.services import user_save
    from hostmeter.fields import to_thousandths
    from hostmeter.metering.models import UsageUpdate
    from hostmeter.metering.services.samples import usage_samples_store
    from hostmeter.metering.services.updates import usage_update_request, usage_update_run
    from hostmeter.tenancy.models import Provider, Resource
    from hostmeter.tenancy.services import limit_set
    from hostmeter.tests.factories import OrganizationFactory, ResellerFactory

    res = {r.code: r for r in Resource.objects.all()}
    acme = ResellerFactory(
        name="Acme Hosting", domain="acme.example", services=["web", "mail", "db"]
    )
    beta = ResellerFactory(
        name="Beta Web", domain="beta.example", parent=acme, services=["web", "mail"]
    )
    zeta = ResellerFactory(name="Zeta Networks", domain="zeta.example", services=["web", "dns"])
    orgs = {
        o.domain: o
        for o in [
            OrganizationFactory(
                name="Alpha Shop", domain="alpha.example", reseller=acme, services=["web", "mail"]
            ),
            OrganizationFactory(name="Delta Books", domain="delta.example", reseller=acme),
            OrganizationFactory(name="Gamma Bakery", domain="gamma.example", reseller=beta),
            OrganizationFactory(
                name="Eta Cafe", domain="eta.example", reseller=zeta, services=["web", "dns"]
            ),
            OrganizationFactory(name="Omega Direct", domain="omega.example"),
        ]
    }
    limit_set(resource=res["disk_space"], limit=Decimal(100_000))
    for reseller, disk in [(acme, 10_000), (beta, 4_000), (zeta, 2_000)]:
        limit_set(resource=res["disk_space"], limit=Decimal(disk), reseller=reseller)
    limit_set(resource=res["mailboxes"], limit=Decimal(50), reseller=acme)
    for domain, (_, disk) in DISK.items():
        limit_set(resource=res["disk_space"], limit=Decimal(disk), organization=orgs[domain])
    limit_set(resource=res["mailboxes"], limit=Decimal(10), organization=orgs["alpha.example"])

    now = timezone.now().replace(microsecond=0)
    cutoffs = [now - timedelta(days=3), now - timedelta(days=2), now - timedelta(days=1)]
    # One billing period holds the three updates whatever today's date: counters add up
    # over the three days (a period starts on the anchor day, 1 to 28).
    provider = Provider.get()
    provider.billing_anchor_day = min(28, (now - timedelta(days=4)).astimezone(provider.zone).day)
    provider.save()
    updates = []
    for i, cutoff in enumerate(cutoffs):
        at = cutoff - timedelta(hours=1)
        samples = [
            (orgs[d].pk, res["disk_space"].pk, at, to_thousandths(values[i]), "test")
            for d, (values, _) in DISK.items()
        ]
        samples += [
            (orgs[d].pk, res["bandwidth"].pk, at, to_thousandths(values[i]), "test")
            for d, values in BANDWIDTH.items()
        ]
        samples += [
            (orgs[d].pk, res["mailboxes"].pk, at, to_thousandths(values[i]), "test")
            for d, (values, _) in MAILBOXES.items()
        ]
        usage_samples_store(samples)
        update = usage_update_request(
            cutoff=cutoff, trigger=UsageUpdate.Trigger.MANUAL, enqueue=False
        )
        update = usage_update_run(update_id=update.pk)
        assert update.status == UsageUpdate.Status.SUCCEEDED, update.error
        updates.append(update)

    users = {
        level: user_save(username=level, password=PASSWORD, login_level=level)
        for level in ("systems", "operations", "marketing", "support", "billing")
    }
    return Usage(
        resellers={"acme": acme, "beta": beta, "zeta": zeta},
        organizations=orgs,
        users=users,
        updates=updates,
    )
