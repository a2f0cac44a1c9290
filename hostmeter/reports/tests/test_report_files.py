"""Report files read back as a spreadsheet or a CSV parser would: every row of the
subject, the usage update's exact figures, RFC 4180, and no formula a cell could run.

The same tests run on SQLite and on PostgreSQL, where the CSV comes from COPY."""

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from hostmeter.metering.models import UsageRollup, UsageRow
from hostmeter.reports.models import Report
from hostmeter.reports.services import report_generate, report_request
from hostmeter.tenancy.models import Provider, Resource
from hostmeter.tenancy.services import limit_set, reseller_save
from hostmeter.tests.factories import OrganizationFactory, ResellerFactory

from .reportdata import (
    CUTOFF,
    TRICKY_NAMES,
    build_world,
    measure,
    read_csv,
    read_xlsx,
    rollup_used,
    run_update,
    stored_bytes,
)

pytestmark = pytest.mark.django_db

FORMATS = ["csv", "xlsx"]
KINDS = ["reseller", "organization", "organizations", "resellers", "summary"]
NUMBER = re.compile(r"-?\d+(\.\d{1,3})?")
BOM = "\ufeff".encode()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def provider():
    provider = Provider.get()
    provider.time_zone = "Europe/Berlin"  # the cut-off 02:00 UTC is 03:00+01:00 there
    provider.save()
    return provider


@pytest.fixture
def report_files_world(provider):
    """build_world at full size, not the shared report_world: more than a page of
    organizations under Top Hosting and its sub-reseller, and the tricky names (quotes,
    a formula, a tab, accents, Japanese) a file must carry unharmed."""
    return build_world()


def subject_of(kind, world):
    return {"reseller": world.top, "organization": world.tricky["tokyo"]}.get(kind)


def generate(kind, world, fmt="csv", *, subject=None, update=None):
    report, _ = report_request(
        kind=kind,
        subject=subject or subject_of(kind, world),
        update=update or world.update,
        format=fmt,
    )
    report = report_generate(report_id=report.pk)
    assert report.status == Report.Status.READY, report.error
    return report, stored_bytes(report)


def read(fmt, data, **kwargs):
    """Header, rows and (XLSX only) cell types; values as the reader gives them."""
    if fmt == "csv":
        header, rows = read_csv(data, **kwargs)
        return header, rows, None
    return read_xlsx(data)


def number(value) -> Decimal | None:
    """A numeric cell as a Decimal; an empty cell is None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        assert NUMBER.fullmatch(value), f"not an unformatted number: {value!r}"
        return Decimal(value)
    assert isinstance(value, int | float), value
    return Decimal(str(value))


def usage_headers(resource: Resource) -> tuple[str, str]:
    unit = f" ({resource.unit})" if resource.unit != "count" else ""
    return f"{resource.name} used{unit}", f"{resource.name} limit{unit}"


def peak_header(resource: Resource) -> list[str]:
    """A gauge's period peak column; a counter has none."""
    unit = f" ({resource.unit})" if resource.unit != "count" else ""
    return [f"{resource.name} peak this period{unit}"] if resource.kind == "gauge" else []


def rollup_or_zero(update, reseller, resource) -> Decimal:
    """A roll-up's used figure; a reseller has none for a resource it never had."""
    found = UsageRollup.objects.filter(update=update, reseller=reseller, resource=resource)
    return found.get().used if found.exists() else Decimal(0)


def resources():
    return list(
        Resource.objects.select_related("service").order_by("service__position", "position")
    )


# ---------------------------------------------------------------- header and "Usage as of"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_header_and_usage_as_of(report_files_world, kind, fmt):
    report, data = generate(kind, report_files_world, fmt)
    header, rows, _ = read(fmt, data)
    assert header[0] == "Usage as of"
    if kind == "summary":
        assert header == [
            "Usage as of", "Service", "Resource", "Unit", "Limit", "Sold", "Available", "Used",
            "Usage %", "Peak this period", "Organizations using it",
        ]  # fmt: skip
    else:
        expected = [h for r in resources() for h in (*usage_headers(r), *peak_header(r))]
        assert header[-len(expected) :] == expected
        assert "Disk space used (MB)" in header and "Mailboxes limit" in header
        assert "Disk space peak this period (MB)" in header
        assert not any("Bandwidth peak" in h or "late usage" in h for h in header)
    assert rows and report.row_count == len(rows)
    # the update is March's first (02:00 UTC, 03:00 in Berlin): the period to date
    assert {row["Usage as of"] for row in rows} == {
        "March 2026 to date (as of 2026-03-01 03:00 CET)"
    }


# ---------------------------------------------------------------- every row of the subject


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_reseller_file_holds_every_organization_below_it(report_files_world, fmt):
    below = report_files_world.below(report_files_world.top)
    assert len(below) > 30, "more than a page of the on-screen list"
    assert any(o.reseller_id == report_files_world.sub.pk for o in below)
    _, data = generate("reseller", report_files_world, fmt)
    _, rows, _ = read(fmt, data)
    assert sorted(r["Domain"] for r in rows) == sorted(o.domain for o in below)
    assert {r["Reseller domain"] for r in rows} == {"top.example", "sub.example"}

    _, data = generate("reseller", report_files_world, fmt, subject=report_files_world.sub)
    _, rows, _ = read(fmt, data)
    assert sorted(r["Domain"] for r in rows) == sorted(
        o.domain for o in report_files_world.below(report_files_world.sub)
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_whole_files_hold_every_row(report_files_world, fmt):
    _, data = generate("organizations", report_files_world, fmt)
    _, rows, _ = read(fmt, data)
    assert sorted(r["Domain"] for r in rows) == sorted(o.domain for o in report_files_world.orgs)
    direct = {r["Domain"]: r["Reseller"] for r in rows if not r["Reseller domain"]}
    assert set(direct.values()) == {"direct"} and len(direct) == 3

    _, data = generate("resellers", report_files_world, fmt)
    _, rows, _ = read(fmt, data)
    assert {(r["Reseller"], r["Domain"], r["Parent reseller"] or "") for r in rows} == {
        ("Top Hosting", "top.example", ""),
        ("Sub Hosting", "sub.example", "Top Hosting"),
        ("Other Hosting", "other.example", ""),
    }

    _, data = generate("summary", report_files_world, fmt)
    _, rows, _ = read(fmt, data)
    assert [(r["Service"], r["Resource"], r["Unit"]) for r in rows] == [
        (r.service.name, r.name, r.unit) for r in resources()
    ]

    org = report_files_world.tricky["tokyo"]
    _, data = generate("organization", report_files_world, fmt)
    _, rows, _ = read(fmt, data)
    assert [(r["Organization"], r["Domain"]) for r in rows] == [(org.name, org.domain)]


# ---------------------------------------------------------------- figures


@pytest.mark.parametrize("fmt", FORMATS)
def test_totals_equal_the_usage_update(report_files_world, fmt):
    update = report_files_world.update
    checked = 0
    for kind, subject, holder in (
        ("reseller", report_files_world.top, report_files_world.top),
        ("reseller", report_files_world.sub, report_files_world.sub),
        ("reseller", report_files_world.other, report_files_world.other),
        ("organizations", None, None),
    ):
        _, data = generate(kind, report_files_world, fmt, subject=subject)
        _, rows, _ = read(fmt, data)
        for resource in resources():
            used_header, _ = usage_headers(resource)
            total = sum((number(r[used_header]) or Decimal(0) for r in rows), Decimal(0))
            rollup = rollup_or_zero(update, holder, resource)
            assert total == rollup, (kind, subject, resource.code)
            checked += bool(total)
    assert checked >= 10
    assert rollup_used(update, report_files_world.top, "disk_space") > 0

    _, data = generate("resellers", report_files_world, fmt)
    _, rows, _ = read(fmt, data)
    for row in rows:
        holder = {"top.example": report_files_world.top, "sub.example": report_files_world.sub}.get(
            row["Domain"], report_files_world.other
        )
        assert number(row["Disk space used (MB)"]) == rollup_used(update, holder, "disk_space")
        assert number(row["Disk space limit (MB)"]) == {
            "top.example": Decimal(400000),
            "sub.example": Decimal(150000),
        }.get(row["Domain"])

    _, data = generate("summary", report_files_world, fmt)
    _, rows, _ = read(fmt, data)
    disk = next(r for r in rows if r["Resource"] == "Disk space")
    assert number(disk["Used"]) == rollup_used(update, None, "disk_space")
    assert number(disk["Limit"]) == 900000
    used = rollup_used(update, None, "disk_space")
    assert number(disk["Usage %"]) == (used * 100 / 900000).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_cell_is_the_organizations_frozen_figure_or_empty(report_files_world, fmt):
    _, data = generate("organizations", report_files_world, fmt)
    header, rows, types = read(fmt, data)
    frozen = {
        (row.organization.domain, row.resource_id): row
        for row in UsageRow.objects.filter(update=report_files_world.update).select_related(
            "organization"
        )
    }
    dns_only = 0
    for i, row in enumerate(rows):
        for resource in resources():
            used_header, limit_header = usage_headers(resource)
            usage = frozen.get((row["Domain"], resource.pk))
            if usage is None:  # the organization does not have this resource
                assert row[used_header] in ("", None) and row[limit_header] in ("", None)
                continue
            assert number(row[used_header]) == usage.used
            assert number(row[limit_header]) == usage.limit
            if types:
                assert types[i][used_header] == "n"
        if row["Mailboxes used"] in ("", None) and row["Disk space used (MB)"] in ("", None):
            dns_only += 1
    assert dns_only >= 4, "organizations with DNS only have empty web and mail cells"


def test_a_negative_number_stays_a_number(provider):
    """The summary's Available is negative when the provider sold more than it has."""
    disk = Resource.objects.get(code="disk_space")
    reseller = ResellerFactory(services=["web"])
    measure([OrganizationFactory(reseller=reseller)], CUTOFF)
    limit_set(resource=disk, limit=Decimal("1000"))
    limit_set(resource=disk, limit=Decimal("3000.5"), reseller=reseller)
    update = run_update(CUTOFF)
    for fmt in FORMATS:
        report, _ = report_request(kind="summary", update=update, format=fmt)
        data = stored_bytes(report_generate(report_id=report.pk))
        _, rows, types = read(fmt, data)
        row = next(r for r in rows if r["Resource"] == "Disk space")
        if fmt == "csv":
            assert row["Available"] == "-2000.500"
        else:
            assert row["Available"] == -2000.5
            assert types[rows.index(row)]["Available"] == "n"


# ---------------------------------------------------------------- CSV: RFC 4180 and settings


def test_csv_is_rfc4180_with_a_bom(report_files_world):
    _, data = generate("organizations", report_files_world, "csv")
    assert data.startswith(BOM)
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b""), "a line end other than CRLF"
    assert b"\r" not in data.replace(b"\r\n", b"")
    lines = data[len(BOM) :].split(b"\r\n")[:-1]
    assert len(lines) == len(report_files_world.orgs) + 1  # a header and one line per organization
    assert b',"Acme, ""Best"" Hosting",' in data
    _, rows = read_csv(data)
    assert TRICKY_NAMES["quoted"] in {r["Organization"] for r in rows}


def test_csv_without_bom_and_with_semicolons(report_files_world, provider):
    provider.csv_bom = False
    provider.csv_delimiter = ";"
    provider.save()
    _, data = generate("reseller", report_files_world, "csv")
    assert data.startswith(b"Usage as of;Organization;Domain;Reseller;")
    assert data.endswith(b"\r\n")
    header, rows = read_csv(data, delimiter=";")
    assert "Disk space used (MB)" in header
    assert len(rows) == len(report_files_world.below(report_files_world.top))
    names = {r["Organization"] for r in rows}
    assert {TRICKY_NAMES["quoted"], "Zoë's Café", "東京ホスティング"} <= names
    # the decimal point stays a point: numbers are unformatted
    assert all(
        NUMBER.fullmatch(r["Disk space used (MB)"]) for r in rows if r["Disk space used (MB)"]
    )


def test_csv_with_bom_off_still_decodes_as_utf8(report_files_world, provider):
    provider.csv_bom = False
    provider.save()
    _, data = generate("organizations", report_files_world, "csv")
    assert not data.startswith(BOM)
    assert "東京ホスティング".encode() in data
    data.decode("utf-8")


# ---------------------------------------------------------------- formulas and names


DANGEROUS = ("formula", "plus", "minus", "at", "tab")


def test_csv_neutralises_formulas_in_text_cells_only(report_files_world):
    _, data = generate("organizations", report_files_world, "csv")
    header, rows = read_csv(data)
    by_domain = {r["Domain"]: r for r in rows}
    for key in DANGEROUS:
        org = report_files_world.tricky[key]
        assert by_domain[org.domain]["Organization"] == "'" + org.name, key
    for key in ("quoted", "zoe", "muller", "tokyo"):
        org = report_files_world.tricky[key]
        assert by_domain[org.domain]["Organization"] == org.name, key
    numeric = [h for h in header if " used" in h or " limit" in h]
    for row in rows:
        for h in numeric:
            assert not row[h].startswith("'")
            assert row[h] == "" or NUMBER.fullmatch(row[h])


def test_xlsx_writes_names_as_text_and_figures_as_numbers(report_files_world):
    _, data = generate("organizations", report_files_world, "xlsx")
    header, rows, types = read_xlsx(data)
    by_domain = {r["Domain"]: (r, t) for r, t in zip(rows, types, strict=True)}
    for key, name in TRICKY_NAMES.items():
        row, cell_types = by_domain[report_files_world.tricky[key].domain]
        assert cell_types["Organization"] == "s", "a name must never be a formula"
        # typed cells need no apostrophe: the name reads exactly as it was entered
        assert row["Organization"] == name, key
    assert not [t for cell_types in types for t in cell_types.values() if t == "f"]
    numeric = [h for h in header if " used" in h or " limit" in h]
    for row, cell_types in zip(rows, types, strict=True):
        for h in numeric:
            if row[h] is not None:
                assert cell_types[h] == "n" and isinstance(row[h], int | float), (h, row[h])


@pytest.mark.parametrize("fmt", FORMATS)
def test_non_ascii_names_round_trip(report_files_world, fmt):
    _, data = generate("organizations", report_files_world, fmt)
    _, rows, _ = read(fmt, data)
    names = {r["Domain"]: r["Organization"] for r in rows}
    for key in ("zoe", "muller", "tokyo", "quoted"):
        assert names[report_files_world.tricky[key].domain] == TRICKY_NAMES[key]
    _, data = generate("organization", report_files_world, fmt)
    _, rows, _ = read(fmt, data)
    assert rows[0]["Organization"] == "東京ホスティング"


def test_files_list_names_in_the_pages_order(provider):
    """By the folded key, as the lists sort: accents and case do not push a name last."""
    reseller = ResellerFactory(name="Parent", domain="parent.example", services=["web"])
    names = ["Zeta Shop", "Ärzte Praxis", "émile web", "Bravo Net"]
    orgs = [OrganizationFactory(name=name, reseller=reseller) for name in names]
    measure(orgs, CUTOFF)
    update = run_update(CUTOFF)
    report, _ = report_request(kind="reseller", subject=reseller, update=update)
    _, rows = read_csv(stored_bytes(report_generate(report_id=report.pk)))
    assert [r["Organization"] for r in rows] == [
        "Ärzte Praxis",
        "Bravo Net",
        "émile web",
        "Zeta Shop",
    ]


def test_line_breaks_in_names_are_folded(provider):
    reseller = ResellerFactory(name="Two\r\nLines", domain="two.example", services=["web"])
    org = OrganizationFactory(name="Line\none", reseller=reseller)
    measure([org], CUTOFF)
    update = run_update(CUTOFF)
    report, _ = report_request(kind="reseller", subject=reseller, update=update)
    data = stored_bytes(report_generate(report_id=report.pk))
    assert b"\n" not in data.replace(b"\r\n", b"")
    _, rows = read_csv(data)
    assert [(r["Organization"], r["Reseller"]) for r in rows] == [("Line one", "Two  Lines")]


# ---------------------------------------------------------------- what the update froze


@pytest.mark.parametrize("fmt", FORMATS)
def test_resellers_file_counts_every_organization(report_files_world, fmt):
    _, data = generate("resellers", report_files_world, fmt)
    _, rows, _ = read(fmt, data)
    counts = {r["Domain"]: number(r["Organizations"]) for r in rows}
    assert counts == {
        "top.example": len(report_files_world.below(report_files_world.top)),
        "sub.example": len(report_files_world.below(report_files_world.sub)),
        "other.example": len(report_files_world.below(report_files_world.other)),
    }


def test_a_reseller_file_follows_the_tree_the_update_froze(report_files_world):
    rollup = rollup_used(report_files_world.update, report_files_world.top, "disk_space")
    # after the update, Sub Hosting moves from Top Hosting to Other Hosting
    reseller_save(
        reseller=report_files_world.sub,
        name=report_files_world.sub.name,
        domain=report_files_world.sub.domain,
        parent=report_files_world.other,
    )
    _, data = generate("reseller", report_files_world, "csv")
    _, rows = read_csv(data)
    total = sum((number(r["Disk space used (MB)"]) or 0 for r in rows), Decimal(0))
    assert total == rollup
    assert len(rows) == len(report_files_world.below(report_files_world.top))


def test_resellers_file_lists_a_reseller_with_nothing_yet(report_files_world):
    ResellerFactory(name="Newcomer", domain="newcomer.example")
    update = run_update(CUTOFF + timedelta(days=1))
    _, data = generate("resellers", report_files_world, "csv", update=update)
    _, rows = read_csv(data)
    assert "newcomer.example" in {r["Domain"] for r in rows}
