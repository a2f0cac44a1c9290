"""The web-traffic collector, on real access logs written, appended and rotated in tmp_path."""

import gzip
import os
import shutil
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from hostmeter.metering.collectors import CollectorError
from hostmeter.metering.collectors.logread import signed_inode
from hostmeter.metering.collectors.weblog import usage_collect_weblog
from hostmeter.metering.models import BandwidthCarry, LogCursor, UsageSample
from hostmeter.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def apache(host: str, sent, port: int = 443) -> str:
    """A line of Apache's vhost_combined format."""
    return (
        f'{host}:{port} 203.0.113.7 - - [01/Mar/2026:01:59:59 +0000] "GET /index.html HTTP/1.1" '
        f'200 {sent} "https://ref.example/" "Mozilla/5.0 (X11; Linux x86_64)"\n'
    )


def nginx(host: str, sent) -> str:
    """A line of the nginx format: $host first, no port; quotes in the request escaped."""
    return (
        f"{host} 2001:db8::1 - alice [01/Mar/2026:01:59:59 +0000] "
        f'"GET /search?q=\\x22a b\\x22 HTTP/2.0" 304 {sent} "-" "curl/8.5.0"\n'
    )


def append(path, *lines: str) -> None:
    with open(path, "a") as fh:
        fh.write("".join(lines))


def rotate_compressed(log) -> None:
    """logrotate's `compress` with no `delaycompress`: the log gzipped to <name>.1.gz, and
    no log until the server writes a new one."""
    with open(log, "rb") as src, gzip.open(log.with_name(log.name + ".1.gz"), "wb") as dst:
        shutil.copyfileobj(src, dst)
    log.unlink()


@pytest.fixture
def orgs(db):
    return {
        "example": OrganizationFactory(domain="example.com", services=["web"]),
        "other": OrganizationFactory(domain="other.example", services=["web", "mail"]),
        "noweb": OrganizationFactory(domain="noweb.example", services=["mail"]),
    }


@pytest.fixture
def clock(t0):
    """A new collection time on every call."""
    times = (t0 + timedelta(minutes=15 * i) for i in range(1000))
    return lambda: next(times)


@pytest.fixture
def collect(clock):
    """collect(log) collects that one log, at the clock's next time."""
    return lambda log: usage_collect_weblog(paths=[log], now=clock())


def collected_then_logged(log, collect) -> None:
    """The rotation tests' start: a 1,000-byte request collected, then one of 20,000 bytes
    logged after the run (300,000 more in the new log make 321,000 in all)."""
    append(log, nginx("example.com", 1000))
    collect(log)
    append(log, nginx("example.com", 20_000))


def counted(org) -> int:
    """Bytes accounted for so far: stored in samples, plus carried to the next run."""
    stored = sum(
        s.value for s in UsageSample.objects.filter(organization=org, resource__code="bandwidth")
    )
    carry = BandwidthCarry.objects.filter(organization=org).first()
    return int(stored * 1_000_000) + (carry.bytes if carry else 0)


def test_reads_both_formats_and_every_spelling_of_the_host(tmp_path, orgs, t0):
    apache_log, nginx_log = tmp_path / "apache.log", tmp_path / "nginx.log"
    append(
        apache_log,
        apache("example.com", 1000),
        apache("WWW.Example.COM", 2000, port=80),
        apache("other.example", 500_000),
        apache("nobody.example", 100),
        "garbage that is no log line\n",
    )
    append(
        nginx_log,
        nginx("example.com", 3000),
        nginx("www.example.com", 4000),
        nginx("EXAMPLE.COM.", 5000),
        nginx("example.com", "-"),  # nothing sent counts as 0
        nginx("nobody.example", 100),
        nginx("noweb.example", 9000),
        # An unescaped quote could hide a forged status and size: refused, not guessed.
        'example.com 192.0.2.1 - - [01/Mar/2026:01:59:59 +0000] "GET /"a" 200 9999" 200 1 '
        '"-" "-"\n',
    )

    result = usage_collect_weblog(paths=[apache_log, nginx_log], now=t0)

    rows = UsageSample.objects.values_list(
        "organization__domain", "resource__code", "measured_at", "value", "source"
    )
    assert sorted(rows) == [
        ("example.com", "bandwidth", t0, Decimal("0.015"), "weblog"),
        ("other.example", "bandwidth", t0, Decimal("0.500"), "weblog"),
    ]
    tally = result.tally
    assert tally.counted_lines == 7
    assert (tally.unknown_lines, dict(tally.unknown_hosts)) == (2, {"nobody.example": 2})
    assert dict(tally.no_web) == {"noweb.example": 1}
    assert tally.unparseable_lines == 2
    assert "apache.log at byte" in tally.unparseable_examples[0]
    assert result.stored_mb == Decimal("0.515")


def test_running_twice_counts_nothing_twice(tmp_path, orgs, collect):
    log = tmp_path / "access.log"
    append(log, nginx("example.com", 7000), apache("other.example", 3000))
    collect(log)

    again = collect(log)

    assert again.stored == {}
    assert again.logs[0].lines == 0
    assert UsageSample.objects.count() == 2
    assert (counted(orgs["example"]), counted(orgs["other"])) == (7000, 3000)


def test_appended_lines_alone_are_counted_next_time(tmp_path, orgs, collect):
    log = tmp_path / "access.log"
    append(log, nginx("example.com", 7000))
    collect(log)
    append(log, nginx("example.com", 2000), nginx("www.example.com", 1000))

    result = collect(log)

    assert result.stored == {"example.com": Decimal("0.003")}
    assert result.logs[0].lines == 2
    assert counted(orgs["example"]) == 10_000


def test_rename_rotation_counts_the_rest_of_the_old_file_then_the_new_one(tmp_path, orgs, collect):
    log = tmp_path / "access.log"
    append(log, nginx("example.com", 1000), nginx("other.example", 2000))
    collect(log)
    append(log, nginx("example.com", 30_000))  # logged after the run, before rotation
    log.rename(tmp_path / "access.log.1")
    append(log, nginx("example.com", 400_000), nginx("other.example", 5000))

    result = collect(log)

    assert (result.logs[0].restart, result.logs[0].rotated) == ("rotated", "access.log.1")
    assert result.logs[0].warnings == []
    assert counted(orgs["example"]) == 431_000
    assert counted(orgs["other"]) == 7000
    append(log, nginx("example.com", 8000))
    append(tmp_path / "access.log.1", nginx("example.com", 1_000_000))  # stale: never reread
    collect(log)
    assert counted(orgs["example"]) == 439_000


def test_rotation_to_a_compressed_file_is_followed(tmp_path, orgs, collect):
    log = tmp_path / "access.log"
    collected_then_logged(log, collect)
    rotate_compressed(log)
    append(log, nginx("example.com", 300_000))

    result = collect(log)

    assert result.logs[0].rotated == "access.log.1.gz"
    assert counted(orgs["example"]) == 321_000


def test_old_file_still_written_until_the_server_reopens_its_log(tmp_path, orgs, collect):
    log, old = tmp_path / "access.log", tmp_path / "access.log.1"
    append(log, nginx("example.com", 1000))
    collect(log)
    log.rename(old)
    log.touch()  # logrotate's `create`: empty until the server reopens
    append(old, nginx("example.com", 20_000))

    collect(log)
    append(old, nginx("example.com", 300_000))  # a last write before the reopen
    append(log, nginx("example.com", 4_000_000))
    collect(log)
    collect(log)

    assert counted(orgs["example"]) == 4_321_000


def rename_rotate(log) -> None:
    """logrotate's plain rotation: the log renamed to <name>.1, no log until `create`."""
    log.rename(log.with_name(log.name + ".1"))


@pytest.mark.parametrize(
    "rotate, runs_while_missing",
    [(rename_rotate, 1), (rotate_compressed, 2)],  # twice: the .gz copy is not read twice
    ids=["between-rename-and-create", "while-only-its-compressed-copy-exists"],
)
def test_log_missing(tmp_path, orgs, collect, rotate, runs_while_missing):
    log = tmp_path / "access.log"
    collected_then_logged(log, collect)
    rotate(log)

    for _ in range(runs_while_missing):
        collect(log)
    append(log, nginx("example.com", 300_000))
    collect(log)

    assert counted(orgs["example"]) == 321_000


@pytest.mark.parametrize("new_size", [2000, 900_000], ids=["shorter", "longer"])
def test_copytruncate_finishes_the_copy_then_reads_from_the_start(
    tmp_path, orgs, collect, new_size
):
    log = tmp_path / "access.log"
    append(log, nginx("example.com", 1000), nginx("example.com", 1000))
    collect(log)
    append(log, nginx("example.com", 30_000))
    shutil.copyfile(log, tmp_path / "access.log.1")
    inode = os.stat(log).st_ino
    with open(log, "r+") as fh:
        fh.truncate(0)
    # The longer case makes the file outgrow the old offset: only its first line tells.
    append(log, *[apache("example.com", new_size, port=8443)] * (5 if new_size > 2000 else 1))
    assert os.stat(log).st_ino == inode

    result = collect(log)

    assert (result.logs[0].restart, result.logs[0].rotated) == ("truncated", "access.log.1")
    expected = 32_000 + new_size * (5 if new_size > 2000 else 1)
    assert counted(orgs["example"]) == expected
    collect(log)
    assert counted(orgs["example"]) == expected


def test_truncated_without_a_copy_starts_over_and_says_what_was_lost(tmp_path, orgs, collect):
    log = tmp_path / "access.log"
    append(log, nginx("example.com", 1000), nginx("example.com", 1000))
    collect(log)
    log.write_text(nginx("example.com", 5000))

    result = collect(log)

    assert counted(orgs["example"]) == 7000
    assert "was truncated and its old content was not found" in result.warnings[0]


def test_a_partial_last_line_waits_until_it_is_complete(tmp_path, orgs, collect):
    log = tmp_path / "access.log"
    line = nginx("example.com", 123_000)
    append(log, nginx("example.com", 1000), line[:40])

    first = collect(log)
    assert first.logs[0].lines == 1
    assert LogCursor.objects.get(path=str(log)).offset == len(nginx("example.com", 1000))

    append(log, line[40:], nginx("other.example", 2000))
    second = collect(log)

    assert second.logs[0].lines == 2
    assert second.tally.unparseable_lines == 0
    assert (counted(orgs["example"]), counted(orgs["other"])) == (124_000, 2000)


def test_totals_over_many_runs_equal_the_bytes_in_the_logs(tmp_path, orgs, collect):
    """Rounding each run would lose (or invent) up to half a kilobyte a run."""
    log = tmp_path / "access.log"
    sizes = [400, 1, 999, 1001, 4321, 7, 600, 333, 334, 333, 2_500_001, 499]
    for size in sizes:
        append(log, nginx("example.com", size), nginx("www.other.example", 400))
        collect(log)

    assert counted(orgs["example"]) == sum(sizes)
    assert counted(orgs["other"]) == 400 * len(sizes)
    stored = UsageSample.objects.filter(organization=orgs["other"]).values_list("value", flat=True)
    # 12 × 400 bytes = 0.0048 MB: 0.004 stored and 800 bytes waiting, where rounding
    # each run would have stored 12 × 0.000 (half-up) or 12 × 0.001 (rounding up).
    assert sum(stored) == Decimal("0.004")
    assert all(v == v.quantize(Decimal("0.001")) for v in stored)


def test_a_repeated_collection_time_stores_nothing_and_keeps_positions(tmp_path, orgs, t0):
    log = tmp_path / "access.log"
    append(log, nginx("example.com", 1000))
    usage_collect_weblog(paths=[log], now=t0)
    append(log, nginx("example.com", 5000))
    position = LogCursor.objects.get(path=str(log)).offset

    with pytest.raises(CollectorError, match="already stored"):
        usage_collect_weblog(paths=[log], now=t0)

    assert LogCursor.objects.get(path=str(log)).offset == position
    usage_collect_weblog(paths=[log], now=t0 + timedelta(hours=1))
    assert counted(orgs["example"]) == 6000


def test_a_missing_log_is_reported_and_skipped(tmp_path, orgs, t0):
    present = tmp_path / "access.log"
    append(present, nginx("example.com", 1000))
    result = usage_collect_weblog(paths=[tmp_path / "absent.log", present], now=t0)
    assert result.warnings == [f"{tmp_path / 'absent.log'}: not found."]
    assert counted(orgs["example"]) == 1000
    assert not LogCursor.objects.filter(path=str(tmp_path / "absent.log")).exists()


def test_inodes_beyond_a_signed_bigint_keep_their_bits():
    assert signed_inode(5) == 5
    assert signed_inode(2**64 - 1) == -1
    assert signed_inode(2**63) == -(2**63)


def test_command_prints_a_summary(tmp_path, orgs, settings):
    log = tmp_path / "access.log"
    append(
        log,
        nginx("example.com", 1_234_567),
        nginx("scanner.test", 5),
        nginx("noweb.example", 5),
        "?\n",
    )
    out, err = StringIO(), StringIO()
    call_command("collect_weblog", str(log), verbosity=2, stdout=out, stderr=err)

    assert f"  {log}: 4 lines, {log.stat().st_size} bytes read\n" in out.getvalue()
    assert "  example.com: 1.234 MB\n" in out.getvalue()
    assert (
        "Counted 1 lines, 1234567 bytes for 1 organizations: 1.234 MB stored in 1 bandwidth "
        "samples (567 bytes under a kilobyte wait for the next run)."
    ) in out.getvalue()
    assert "Skipped 1 lines for unknown hosts: scanner.test ×1" in err.getvalue()
    assert "Skipped 1 lines for organizations without web hosting: noweb.example ×1" in (
        err.getvalue()
    )
    assert "Skipped 1 unparseable lines, e.g. access.log at byte" in err.getvalue()

    settings.HOSTMETER = {**settings.HOSTMETER, "ACCESS_LOGS": [str(log)]}
    append(log, nginx("example.com", 433))
    call_command("collect_weblog", stdout=StringIO(), stderr=StringIO())
    assert counted(orgs["example"]) == 1_235_000


def test_command_refuses_without_a_log(settings):
    settings.HOSTMETER = {**settings.HOSTMETER, "ACCESS_LOGS": []}
    with pytest.raises(CommandError, match="No access log"):
        call_command("collect_weblog")
