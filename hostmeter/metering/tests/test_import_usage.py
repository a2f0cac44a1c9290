"""import_usage: CSV and JSON lines files of usage samples, their bad rows and exit codes."""

import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

import pytest

from hostmeter.metering.models import UsageSample
from hostmeter.tests.factories import OrganizationFactory
from hostmeter.tests.fixtures import run_command, write_file

pytestmark = pytest.mark.django_db

HEADER = "organization,resource,measured_at,value,source\n"
T = "2026-03-01T02:00:00+00:00"


run = partial(run_command, "import_usage")


def stored():
    return {
        (s.organization.domain, s.resource.code, s.value, s.source)
        for s in UsageSample.objects.select_related("organization", "resource")
    }


@pytest.fixture
def orgs():
    return [
        OrganizationFactory(name="Alpha", domain="alpha.example", services=["web", "mail"]),
        OrganizationFactory(name="Café Zoë", domain="cafe-zoe.example", services=["web"]),
    ]


MIXED = (
    HEADER
    + f"alpha.example,disk_space,{T},100.5,agent\n"  # 2 good
    + "alpha.example,disk_space,2026-03-01T03:00:00Z,1.2345,agent\n"
    + "alpha.example,bandwidth,2026-03-01T02:00:00+01:00,-5,agent\n"
    + "alpha.example,mailboxes,2026-03-01 02:00:00,3,agent\n"
    + f"nobody.example,disk_space,{T},1,agent\n"
    + f"alpha.example,cpu_time,{T},1,agent\n"
    + f"cafe-zoe.example,mailboxes,{T},4,agent\n"
    + f"alpha.example,disk_space,{T}\n"
    + f"alpha.example,mailboxes,{T},12,\n"  # 10 good, default source
    + f"Cafe-Zoe.example,bandwidth,{T},1e3,agent\n"  # 11 good
    + "alpha.example,disk_space,yesterday,1,agent\n"
    + f"alpha.example,disk_space,{T},lots,agent\n"
    + f"alpha.example,disk_space,{T},,agent\n"
)
MIXED_ERRORS = {
    3: "value 1.2345 has more than three decimal places",
    4: "value -5 is negative",
    5: "measured_at “2026-03-01 02:00:00” has no UTC offset (add +00:00 or Z)",
    6: "no organization with the domain “nobody.example”",
    7: "no resource with the code “cpu_time”",
    8: "cafe-zoe.example does not have the service of “mailboxes” enabled",
    9: "has 3 fields where the header has 5",
    12: "measured_at “yesterday” is not an ISO 8601 date and time",
    13: "value “lots” is not a number",
    14: "missing value",
}
MIXED_GOOD = {
    ("alpha.example", "disk_space", Decimal("100.5"), "agent"),
    ("alpha.example", "mailboxes", Decimal("12"), "import"),
    ("cafe-zoe.example", "bandwidth", Decimal("1000"), "agent"),
}


def test_good_rows_are_stored_and_each_bad_row_is_named_with_its_line(orgs, tmp_path):
    path = write_file(tmp_path, "usage.csv", MIXED)
    result = run(path)
    assert result.code == 1
    assert stored() == MIXED_GOOD
    assert result.err == [f"{path}:{line}: {reason}" for line, reason in MIXED_ERRORS.items()]
    assert result.out.strip() == (
        f"{path}: 13 received, 3 stored new, 0 already stored, 10 bad rows"
    )
    assert result.message == "10 bad rows not stored (listed above); the other rows were."


def test_a_second_run_stores_nothing_new_and_says_so(orgs, tmp_path):
    path = write_file(tmp_path, "usage.csv", MIXED)
    run(path)
    again = run(path)
    assert again.code == 1  # the bad rows are still bad
    assert again.out.strip() == f"{path}: 13 received, 0 stored new, 3 already stored, 10 bad rows"
    assert stored() == MIXED_GOOD
    assert UsageSample.objects.count() == 3


def test_a_clean_file_exits_0_and_twice_adds_nothing(orgs, tmp_path):
    path = write_file(
        tmp_path,
        "usage.csv",
        HEADER + f"alpha.example,disk_space,{T},1,\nalpha.example,disk_space,{T},1,\n",
    )
    first, second = run(path), run(path)
    assert (first.code, second.code) == (0, 0)
    # The same measurement twice in one file is one sample.
    assert first.out.strip() == f"{path}: 2 received, 1 stored new, 1 already stored, 0 bad rows"
    assert second.out.strip() == f"{path}: 2 received, 0 stored new, 2 already stored, 0 bad rows"
    assert (first.err, second.err) == ([], [])


def test_bom_crlf_and_non_ascii_text(orgs, tmp_path):
    text = (
        HEADER + f"cafe-zoe.example,disk_space,{T},7,Zürich probe\n"
        f"café.example,disk_space,{T},7,Zürich probe\n"
    ).replace("\n", "\r\n")
    path = write_file(tmp_path, "usage.csv", text, bom=True)
    result = run(path)
    assert stored() == {("cafe-zoe.example", "disk_space", Decimal("7"), "Zürich probe")}
    assert result.err == [f"{path}:3: no organization with the domain “café.example”"]


def test_semicolon_separated_file(orgs, tmp_path):
    path = write_file(
        tmp_path,
        "usage.csv",
        f"organization;resource;measured_at;value\nalpha.example;disk_space;{T};2.5\n",
    )
    assert run(path).code == 0
    assert stored() == {("alpha.example", "disk_space", Decimal("2.5"), "import")}


def test_line_numbers_are_physical_lines_across_quoted_newlines(orgs, tmp_path):
    path = write_file(
        tmp_path,
        "usage.csv",
        HEADER
        + f'alpha.example,disk_space,{T},1,"two\nlines"\n'
        + f"nobody.example,disk_space,{T},1,\n"
        + f'alpha.example,disk_space,{T},"1,\n',
    )
    result = run(path)
    assert stored() == {("alpha.example", "disk_space", Decimal("1"), "two\nlines")}
    assert result.err == [
        f"{path}:4: no organization with the domain “nobody.example”",
        f"{path}:5: is not valid CSV: a quoted field is never closed",
    ]


def sample(resource: str, **fields) -> str:
    """One JSON line; numbers stay JSON numbers."""
    base = {"organization": "alpha.example", "resource": resource, "measured_at": T}
    return json.dumps(base | fields) + "\n"


def test_jsonl_with_a_malformed_line(orgs, tmp_path):
    path = write_file(
        tmp_path,
        "usage.jsonl",
        sample("disk_space", value=12.345)
        + "\n"  # blank lines are skipped, but still counted
        + sample("bandwidth", value=1).rstrip("}\n")
        + "\n"
        + '["not", "an", "object"]\n'
        + sample("mailboxes", value=0, source="api")
        + sample("mail_storage")
        + sample("emails_sent", value=0.1)
        + sample("disk_space", value=12.345, source=None),
    )
    result = run(path)
    assert result.code == 1
    assert stored() == {
        ("alpha.example", "disk_space", Decimal("12.345"), "import"),
        ("alpha.example", "mailboxes", Decimal("0"), "api"),
        ("alpha.example", "emails_sent", Decimal("0.1"), "import"),
    }
    assert result.err[0].startswith(f"{path}:3: is not valid JSON: ")
    assert result.err[1:] == [
        f"{path}:4: is not a JSON object",
        f"{path}:6: missing value",
    ]
    assert result.out.strip() == f"{path}: 7 received, 3 stored new, 1 already stored, 3 bad rows"


def test_missing_header_column_stops_the_file_before_anything_is_stored(orgs, tmp_path):
    good = write_file(tmp_path, "good.csv", HEADER + f"alpha.example,disk_space,{T},1,\n")
    bad = write_file(
        tmp_path,
        "bad.csv",
        f"organization,resource,measured_at,source\nalpha.example,disk_space,{T},x\n",
    )
    result = run(good, bad)
    assert result.code == 2
    assert result.message == (
        f"{bad}: the header has no “value” column (expected: organization, resource, "
        "measured_at, value, and optionally source)\nNothing was imported."
    )
    assert not UsageSample.objects.exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file or directory"),
        (b"", "is empty; expected a header row: organization, resource, measured_at, value"),
        ("organization,value\n".encode("utf-16"), "is UTF-16 text; save it as UTF-8"),
        (
            "organizatión,resource,measured_at,value\n".encode("latin-1"),
            "line 1 is not UTF-8 text (byte 0xf3 at column 11); save the file as UTF-8",
        ),
        (b'[{"organization": "alpha.example"}]\n', "is one JSON array; expected JSON lines"),
    ],
)
def test_a_file_that_cannot_be_read_exits_2(orgs, tmp_path, content, reason):
    path = tmp_path / ("usage.json" if content and content.startswith(b"[") else "usage.csv")
    if content is not None:
        path.write_bytes(content)
    result = run(str(path))
    assert result.code == 2
    assert result.message.startswith(f"{path}: {reason}")
    assert not UsageSample.objects.exists()


def test_a_line_that_is_not_utf8_is_a_bad_row(orgs, tmp_path):
    path = tmp_path / "usage.csv"
    path.write_bytes(
        HEADER.encode()
        + f"alpha.example,disk_space,{T},1,Zürich\n".encode("latin-1")
        + f"alpha.example,bandwidth,{T},1,\n".encode()
    )
    result = run(str(path))
    assert result.code == 1
    assert result.err == [
        f"{path}:2: is not UTF-8 text (byte 0xfc at column 55); save the file as UTF-8"
    ]
    assert stored() == {("alpha.example", "bandwidth", Decimal("1"), "import")}


def test_standard_input_with_format_guessed_or_given(orgs):
    result = run("-", stdin=io.BytesIO(sample("disk_space", value=4).encode()))
    assert result.out.strip() == "<stdin>: 1 received, 1 stored new, 0 already stored, 0 bad rows"
    csv_text = HEADER + f"nobody.example,disk_space,{T},1,\n"
    result = run("-", format="csv", stdin=io.StringIO(csv_text))
    assert result.err == ["<stdin>:2: no organization with the domain “nobody.example”"]


def test_format_from_extension_and_the_source_option(orgs, tmp_path):
    path = write_file(tmp_path, "usage.ndjson", sample("disk_space", value=4))
    assert run(path, source="probe-1").code == 0
    # Another source is another measurement: it is stored besides the first.
    assert run(path, source="probe-2").out.endswith("1 stored new, 0 already stored, 0 bad rows\n")
    assert {s[3] for s in stored()} == {"probe-1", "probe-2"}


def test_unknown_columns_are_reported_and_ignored(orgs, tmp_path):
    path = write_file(
        tmp_path,
        "usage.csv",
        f"organization,resource,measured_at,value,sorce\nalpha.example,disk_space,{T},1,x\n",
    )
    result = run(path)
    assert result.code == 0
    assert result.err == [f"{path}: ignoring the unknown column(s) sorce"]
    assert stored() == {("alpha.example", "disk_space", Decimal("1"), "import")}


def test_timestamps_keep_their_offset(orgs, tmp_path):
    path = write_file(
        tmp_path, "usage.csv", HEADER + "alpha.example,disk_space,2026-03-01T03:00:00+01:00,1,\n"
    )
    run(path)
    assert UsageSample.objects.get().measured_at == datetime(2026, 3, 1, 2, tzinfo=UTC)


def test_a_value_too_large_to_store_is_a_bad_row(orgs, tmp_path):
    path = write_file(
        tmp_path,
        "usage.csv",
        HEADER
        + f"alpha.example,disk_space,{T},99999999999999999999,\n"
        + f"alpha.example,bandwidth,{T},1,\n",
    )
    result = run(path)
    assert result.code == 1
    assert stored() == {("alpha.example", "bandwidth", Decimal("1"), "import")}
