"""Web-traffic collector: bytes sent per organization, from access logs with the virtual host.

Reads Apache `vhost_combined` (`%v:%p %h %l %u %t "%r" %>s %O …`) and the nginx
equivalent (`$host $remote_addr - $remote_user [$time_local] "$request" $status
$body_bytes_sent …`), and adds the bytes sent into the `bandwidth` counter.

Bytes become whole thousandths of a MB (1,000 bytes) rounded down; the rest of
each organization's bytes (under 1,000) is carried to the next run (BandwidthCarry),
so the samples over any number of runs add up to the bytes in the logs, less at
most 999 bytes still waiting.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone

from hostmeter.fields import from_thousandths
from hostmeter.metering.models import BandwidthCarry, LogCursor
from hostmeter.metering.services.samples import usage_samples_store

from . import CollectorBusy, CollectorError, organizations_by_domain, resource_id
from .logread import LogRead, Position, log_read

SOURCE = "weblog"
RESOURCE = "bandwidth"
BYTES_PER_THOUSANDTH = 1000  # 1 MB = 1,000,000 bytes; values are thousandths of a MB
BUSY_MESSAGE = "Another run read these logs at the same time; this one stored nothing."
PATH_MAX = LogCursor._meta.get_field("path").max_length
# Random Host headers from scanners must not grow memory without end.
HOSTS_TRACKED = 10_000
EXAMPLES_KEPT = 3

# host[:port] addr ident user [time] "request" status bytes, then anything (referer,
# user agent, extra fields). Quotes inside the request are escaped by both servers;
# an unescaped one makes the line unparseable rather than misread. Possessive
# quantifiers: a line that does not match fails at once, instead of backtracking
# through every way of splitting its request (docs/benchmarks.md, Web-traffic collector).
LINE = re.compile(rb'(\S+) \S+ \S+ \S+ \[[^\]]*\] "(?:[^"\\]++|\\.)*+" \d{3} (\d+|-)(?=\s|$)')


@dataclass
class Tally:
    """Bytes per organization, and the lines that counted for nobody."""

    organizations: dict[str, tuple[int, bool]]
    bytes_by_org: Counter = field(default_factory=Counter)
    lines_by_org: Counter = field(default_factory=Counter)
    unknown_hosts: Counter = field(default_factory=Counter)
    unknown_lines: int = 0
    no_web: Counter = field(default_factory=Counter)  # domain → lines
    unparseable_lines: int = 0
    unparseable_examples: list[str] = field(default_factory=list)
    _hosts: dict[bytes, tuple[int | None, str]] = field(default_factory=dict, repr=False)

    def __call__(self, line: bytes, name: str, offset: int) -> None:
        """Counts one complete line (the LineSink that logread feeds)."""
        match = LINE.match(line)
        if match is None:
            self.unparseable_lines += 1
            if len(self.unparseable_examples) < EXAMPLES_KEPT:
                text = line[:120].decode("utf-8", "replace")
                self.unparseable_examples.append(f"{name} at byte {offset}: {text!r}")
            return
        raw_host, sent = match.groups()
        target = self._hosts.get(raw_host)
        if target is None:
            target = self._resolve(_host_name(raw_host))
            if len(self._hosts) < HOSTS_TRACKED:
                self._hosts[raw_host] = target
        org_id, label = target
        if org_id is None:
            self.unknown_lines += 1
            if label in self.unknown_hosts or len(self.unknown_hosts) < HOSTS_TRACKED:
                self.unknown_hosts[label] += 1
        elif org_id < 0:
            self.no_web[label] += 1
        else:
            self.bytes_by_org[org_id] += 0 if sent == b"-" else int(sent)
            self.lines_by_org[org_id] += 1

    def _resolve(self, host: str) -> tuple[int | None, str]:
        """(organization id, domain); a negative id for an organization without web
        hosting, None for a host that is nobody's."""
        for domain in (host, host.removeprefix("www.")):
            if domain in self.organizations:
                org_id, web = self.organizations[domain]
                return (org_id if web else -org_id), domain
        return None, host[:100]

    @property
    def counted_lines(self) -> int:
        return sum(self.lines_by_org.values())


def _host_name(raw: bytes) -> str:
    """`Example.COM:443` → `example.com`; IPv6 literals keep their brackets."""
    host = raw.decode("ascii", "replace").lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] or host
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit() and ":" not in name:
        host = name
    return host.rstrip(".")


@dataclass
class WeblogResult:
    """What one run of the web-traffic collector read and stored."""

    measured_at: datetime
    logs: list[LogRead]
    tally: Tally
    stored: dict[str, Decimal] = field(default_factory=dict)  # domain → MB in its sample
    carried: dict[str, int] = field(default_factory=dict)  # domain → bytes left for next run

    @property
    def stored_mb(self) -> Decimal:
        return sum(self.stored.values(), Decimal("0.000"))

    @property
    def warnings(self) -> list[str]:
        return [w for log in self.logs for w in log.warnings]


def usage_collect_weblog(*, paths: list[Path], now: datetime | None = None) -> WeblogResult:
    """Counts the bytes sent per web-hosting organization in the lines of the logs not
    counted before, and stores one `bandwidth` sample per organization as of `now`.

    The samples, the carried remainders and the new log positions are written in
    one transaction: a run that fails stores nothing and moves no position, and a
    run that found another one ahead of it (CollectorBusy) stores nothing either.
    """
    measured_at = now or timezone.now()
    keys = list(dict.fromkeys(str(Path(p).absolute()) for p in paths))
    if not keys:
        raise CollectorError("No access log to read.")
    if too_long := [k for k in keys if len(k) > PATH_MAX]:
        raise CollectorError(f"Log paths longer than {PATH_MAX} characters: {too_long[0]}")
    before = _positions(LogCursor.objects.filter(path__in=keys))
    tally = Tally(organizations=organizations_by_domain())
    logs = [log_read(path=Path(k), position=before.get(k), sink=tally) for k in keys]
    result = WeblogResult(measured_at=measured_at, logs=logs, tally=tally)
    domains = {org_id: domain for domain, (org_id, _) in tally.organizations.items()}

    try:
        with transaction.atomic():
            _commit(keys, before, result, domains)
    except IntegrityError:  # a position or carry created by a run alongside this one
        raise CollectorBusy(BUSY_MESSAGE) from None
    return result


def _commit(
    keys: list[str], before: dict[str, Position], result: WeblogResult, domains: dict[int, str]
) -> None:
    """Stores the samples, carries and positions; to be called in a transaction."""
    # The files were read outside the transaction (they can take minutes): a run
    # that moved a position meanwhile has counted the same lines. Rows are locked
    # in path order so that two runs cannot deadlock.
    locked = LogCursor.objects.select_for_update().filter(path__in=keys).order_by("path")
    if _positions(locked) != before:
        raise CollectorBusy(BUSY_MESSAGE)
    samples = _carry_forward(result, domains)
    if usage_samples_store(samples) != len(samples):
        raise CollectorError(
            f"Bandwidth samples as of {result.measured_at.isoformat()} from {SOURCE} are "
            "already stored; nothing was stored and no log position moved."
        )
    for log in result.logs:
        if log.end is None or log.end == log.start:
            continue
        fields = {"inode": log.end.inode, "offset": log.end.offset, "head": log.end.head}
        _cursor_save(str(log.path), fields, exists=log.start is not None)


def _cursor_save(path: str, fields: dict, *, exists: bool) -> None:
    """Updates a row checked under lock, or creates one: never get-or-create, whose
    fallback would overwrite a row another run created meanwhile (IntegrityError
    instead, and the whole run is refused)."""
    if exists:
        LogCursor.objects.filter(path=path).update(**fields, updated_at=timezone.now())
    else:
        LogCursor.objects.create(path=path, **fields)


def _positions(cursors) -> dict[str, Position]:
    return {c.path: Position(c.inode, c.offset, c.head) for c in cursors}


def _carry_forward(
    result: WeblogResult, domains: dict[int, str]
) -> list[tuple[int, int, datetime, int, str]]:
    """Adds each organization's carried bytes to this run's, keeps the whole thousandths
    for its sample and carries the rest; returns the samples to store."""
    bytes_by_org = result.tally.bytes_by_org
    carried = {
        c.organization_id: c.bytes
        for c in BandwidthCarry.objects.select_for_update()
        .filter(organization_id__in=list(bytes_by_org))
        .order_by("organization_id")
    }
    bandwidth = resource_id(RESOURCE)
    samples = []
    for org_id, sent in bytes_by_org.items():
        thousandths, rest = divmod(carried.get(org_id, 0) + sent, BYTES_PER_THOUSANDTH)
        if thousandths:
            samples.append((org_id, bandwidth, result.measured_at, thousandths, SOURCE))
            result.stored[domains[org_id]] = from_thousandths(thousandths)
        result.carried[domains[org_id]] = rest
        if org_id not in carried:
            # create, never get-or-create: a run alongside this one makes it fail
            # (IntegrityError) instead of overwriting the other run's carry
            BandwidthCarry.objects.create(organization_id=org_id, bytes=rest)
        elif rest != carried[org_id]:
            BandwidthCarry.objects.filter(organization_id=org_id).update(bytes=rest)
    return samples
