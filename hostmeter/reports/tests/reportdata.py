"""Data builders and file readers shared by the report tests."""

import copy
import csv
import io
import random
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

from django.db import connection

from hostmeter.fields import to_thousandths
from hostmeter.metering.models import UsageRollup, UsageUpdate
from hostmeter.metering.services.samples import usage_samples_store
from hostmeter.metering.services.updates import usage_update_request, usage_update_run
from hostmeter.reports.models import Report
from hostmeter.tenancy.models import Organization, Reseller, Resource
from hostmeter.tenancy.services import limit_set
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory, UserFactory

CUTOFF = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)

# Names a spreadsheet or a CSV parser could get wrong.
TRICKY_NAMES = {
    "quoted": 'Acme, "Best" Hosting',
    "formula": '=HYPERLINK("http://evil.example/","click me")',
    "plus": "+1",
    "minus": "-2",
    "at": "@x",
    "tab": "\tTabbed",
    "zoe": "Zoë's Café",
    "muller": "Müller GmbH",
    "tokyo": "東京ホスティング",
}

# Service sets handed out in turn, so that some organizations lack some resources.
SERVICE_SETS = (["web"], ["web", "mail"], ["web", "mail", "db"], ["dns"])
MEASURED = ("disk_space", "bandwidth", "mailboxes", "mail_storage", "emails_sent", "db_storage")


@dataclass
class World:
    """A provider with a reseller tree, organizations below it, and one completed update."""

    top: Reseller
    sub: Reseller
    other: Reseller
    orgs: list[Organization]
    update: UsageUpdate
    tricky: dict[str, Organization] = field(default_factory=dict)

    def below(self, reseller: Reseller) -> list[Organization]:
        """Organizations of a reseller, its sub-resellers' included."""
        resellers = {self.top.pk: {self.top.pk, self.sub.pk}, self.sub.pk: {self.sub.pk}}.get(
            reseller.pk, {reseller.pk}
        )
        return [o for o in self.orgs if o.reseller_id in resellers]


def store_samples(samples) -> int:
    """samples: (organization, resource code, measured at, Decimal or str value)."""
    res = {r.code: r.pk for r in Resource.objects.all()}
    return usage_samples_store(
        (o.pk, res[code], at, to_thousandths(Decimal(str(v))), "tests")
        for o, code, at, v in samples
    )


def run_update(cutoff: datetime) -> UsageUpdate:
    update = usage_update_request(cutoff=cutoff, trigger="command", enqueue=False)
    update = usage_update_run(update_id=update.pk)
    assert update.status == UsageUpdate.Status.SUCCEEDED, update.error
    return update


def measure(orgs, cutoff: datetime, *, seed: int = 1) -> None:
    """Random usage for every measured resource each organization has enabled."""
    rnd = random.Random(seed)
    enabled = {
        (o_id, code)
        for o_id, code in Organization.services.through.objects.filter(
            organization__in=orgs
        ).values_list("organization_id", "service__resources__code")
    }
    samples = []
    for org in orgs:
        for code in MEASURED:
            if (org.pk, code) not in enabled:
                continue
            whole = code in ("mailboxes", "emails_sent")
            for hours in (1, 3):  # counters sum both, gauges take the later one
                value = rnd.randint(0, 500) if whole else Decimal(rnd.randint(0, 5_000_000)) / 1000
                samples.append((org, code, cutoff - timedelta(hours=hours), value))
    store_samples(samples)


def build_world(*, top_orgs: int = 18, sub_orgs: int = 14, tricky: bool = True) -> World:
    """Top Hosting (with a sub-reseller, more than a page of organizations between them),
    Other Hosting, organizations the provider added directly, limits, and one update."""
    top = ResellerFactory(
        name="Top Hosting", domain="top.example", services=["web", "mail", "db", "dns"]
    )
    sub = ResellerFactory(
        name="Sub Hosting", domain="sub.example", parent=top, services=["web", "mail"]
    )
    other = ResellerFactory(name="Other Hosting", domain="other.example", services=["web"])
    orgs = []
    for i in range(top_orgs):
        orgs.append(OrganizationFactory(reseller=top, services=SERVICE_SETS[i % 4]))
    for i in range(sub_orgs):
        orgs.append(OrganizationFactory(reseller=sub, services=SERVICE_SETS[i % 3]))
    for _ in range(4):
        orgs.append(OrganizationFactory(reseller=other, services=["web"]))
    for i in range(3):
        orgs.append(OrganizationFactory(reseller=None, services=SERVICE_SETS[i]))
    special = {}
    if tricky:
        for n, (key, name) in enumerate(TRICKY_NAMES.items()):
            special[key] = OrganizationFactory(
                name=name, domain=f"tricky{n}.example", reseller=top, services=["web", "mail"]
            )
        orgs.extend(special.values())
    disk = Resource.objects.get(code="disk_space")
    limit_set(resource=disk, limit=Decimal("900000"))
    limit_set(resource=disk, limit=Decimal("400000"), reseller=top)
    limit_set(resource=disk, limit=Decimal("150000"), reseller=sub)
    for org in orgs[::5]:
        limit_set(resource=disk, limit=Decimal("10000.5"), organization=org)
    measure(orgs, CUTOFF)
    return World(top, sub, other, orgs, run_update(CUTOFF), special)


def rollup_used(update: UsageUpdate, reseller: Reseller | None, code: str) -> Decimal:
    return UsageRollup.objects.get(update=update, reseller=reseller, resource__code=code).used


def staff(level: str):
    return UserFactory(login_level=level)


# ---------------------------------------------------------------- reading files back


def read_csv(data: bytes, *, delimiter: str = ",") -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a report CSV, decoded as spreadsheets do (BOM or not)."""
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    header, body = rows[0], rows[1:]
    assert all(len(r) == len(header) for r in body), "ragged rows"
    return header, [dict(zip(header, r, strict=True)) for r in body]


def read_xlsx(data: bytes) -> tuple[list[str], list[dict], list[dict]]:
    """Header, rows (values) and the cells' data types of a report workbook."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=False)
    sheet = book.worksheets[0]
    lines = list(sheet.iter_rows())
    header = [c.value for c in lines[0]]
    values, types = [], []
    for line in lines[1:]:
        cells = list(line) + [None] * (len(header) - len(line))
        pairs = list(zip(header, cells, strict=True))
        values.append({h: (c.value if c is not None else None) for h, c in pairs})
        types.append({h: (c.data_type if c is not None else None) for h, c in pairs})
    return header, values, types


def stored_bytes(report: Report) -> bytes:
    from django.core.files.storage import default_storage

    with default_storage.open(report.file.name, "rb") as f:
        return f.read()


# ---------------------------------------------------------------- a database other processes see


@contextmanager
def shared_database(tmp_path):
    """Yields a HOSTMETER_DATABASE_URL another process (a worker) can open, with the
    data committed so far, and points this process's default connection at it too.

    PostgreSQL: the test database itself (needs a transactional test).
    SQLite: pytest-django's test database is in memory (file:memorydb_default…),
    invisible to other processes; it is copied to a file with SQLite's backup API,
    and the default connection is switched to that file until the block ends (the
    in-memory connection is kept aside and put back, so the test's teardown flush
    still finds it).
    """
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(s["USER"], safe="") + (
            f":{quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else ""
        )
        yield f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"
        return
    assert connection.vendor == "sqlite"
    assert not connection.in_atomic_block, "use django_db(transaction=True)"
    path = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    memory, memory_name = connection.connection, s["NAME"]
    state = {a: copy.copy(getattr(connection, a)) for a in _TRANSACTION_STATE}
    target = sqlite3.connect(path)
    try:
        memory.backup(target)
    finally:
        target.close()
    connection.connection = None
    s["NAME"] = str(path)
    try:
        yield f"sqlite:///{path}"
    finally:
        if connection.connection is not None:
            connection.connection.close()  # the file's, whatever state it is in
        s["NAME"] = memory_name
        connection.connection = memory
        for attr, value in state.items():
            setattr(connection, attr, value)


# What a failed test inside the block may leave half-done on the connection wrapper.
_TRANSACTION_STATE = (
    "autocommit",
    "in_atomic_block",
    "savepoint_state",
    "savepoint_ids",
    "atomic_blocks",
    "commit_on_exit",
    "needs_rollback",
    "closed_in_transaction",
    "run_on_commit",
)
