"""The ingest endpoint's body: a JSON array, CSV or JSON lines, turned into the rows that
metering.services.usage_samples_ingest validates and stores.

A body is checked whole before anything is stored: too large (bytes or rows) raises
BodyTooLarge, unreadable (not JSON, not an array, a CSV without the needed header…)
raises BodyMalformed. Rows that are merely bad become errors with their 0-based index
in the body; the good ones are stored.
"""

import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from rest_framework.parsers import BaseParser

from hostmeter.metering.services.samples import usage_samples_ingest
from hostmeter.readers import TOO_DEEP, Format, ImportFileError, RowError, RowReader

COLUMNS = ("organization", "resource", "measured_at", "value")
OPTIONAL = ("source",)
# The same for every request, so that posting a body again stores nothing twice.
DEFAULT_SOURCE = "api"

JSON = "application/json"
CSV_TYPES = ("text/csv", "application/csv")
JSONL_TYPES = (
    "application/x-ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
)
MEDIA_TYPES = (JSON, *CSV_TYPES, *JSONL_TYPES)
NAMES = COLUMNS + OPTIONAL


def max_rows() -> int:
    return settings.HOSTMETER_API["INGEST_MAX_ROWS"]


def max_bytes() -> int:
    return settings.HOSTMETER_API["INGEST_MAX_BYTES"]


def limits_text() -> str:
    return f"at most {max_rows():,} samples and {max_bytes():,} bytes per request"


class BodyError(Exception):
    """The body as a whole cannot be taken; nothing of it was stored."""


class BodyTooLarge(BodyError):
    pass


class BodyMalformed(BodyError):
    pass


@dataclass(frozen=True)
class RowProblem:
    index: int
    line: int | None
    reason: str


@dataclass
class IngestOutcome:
    received: int = 0
    stored: int = 0
    errors: list[RowProblem] = field(default_factory=list)
    late: int = 0
    late_before: datetime | None = None

    @property
    def duplicates(self) -> int:
        return self.received - self.stored - len(self.errors)


class UnreadBodyParser(BaseParser):
    """Takes the ingest's media types without reading the body: the view reads it itself,
    bounded by its limits. DRF parses a body for a signed-in browser's CSRF check (it asks
    for request.POST), and without a parser for CSV or JSON lines it answered 415."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def usage_samples_ingest_body(*, body: bytes, content_type: str) -> IngestOutcome:
    """Parses the body, then stores its good rows in one transaction (all of them or,
    on a database error, none); returns what was received, stored and refused."""
    kind = media_type(content_type)
    lines: dict[int, int] = {}
    if kind == JSON:
        rows, problems = _json_rows(body)
    elif kind in CSV_TYPES:
        rows, problems, lines = _file_rows(body, Format.CSV)
    elif kind in JSONL_TYPES:
        rows, problems, lines = _file_rows(body, Format.JSONL)
    else:
        raise ValueError(f"unsupported media type {kind}")
    # Rows go in numbered by their index, so the errors come back with it.
    with transaction.atomic():
        result = usage_samples_ingest(rows=rows, default_source=DEFAULT_SOURCE)
    errors = problems + [RowProblem(e.line, lines.get(e.line), e.reason) for e in result.errors]
    return IngestOutcome(
        received=result.received + len(problems),
        stored=result.stored,
        errors=sorted(errors, key=lambda p: p.index),
        late=result.late,
        late_before=result.late_before,
    )


# ---------------------------------------------------------------- JSON array


def _json_rows(body: bytes) -> tuple[list[tuple[int, dict]], list[RowProblem]]:
    """Reads the array one element at a time, so that a body of a million tiny elements
    is refused after max_rows() of them instead of being built in memory first."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BodyMalformed(f"the body is not UTF-8 (byte {exc.start + 1})") from None
    decoder = json.JSONDecoder(parse_float=Decimal)
    pos = _skip_space(text, 0)
    if pos >= len(text) or text[pos] != "[":
        raise BodyMalformed(
            "expected a JSON array of sample objects, e.g. "
            '[{"organization": "example.com", "resource": "disk_space", '
            '"measured_at": "2026-03-01T02:00:00Z", "value": "12.5"}]'
        )
    rows: list[tuple[int, dict]] = []
    problems: list[RowProblem] = []
    pos = _skip_space(text, pos + 1)
    index = 0
    if pos < len(text) and text[pos] == "]":
        pos += 1
    else:
        while True:
            if index >= max_rows():
                raise BodyTooLarge(f"more than {max_rows():,} samples in one request")
            try:
                element, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                reason = f"not valid JSON: {exc.msg} (character {exc.pos + 1})"
                raise BodyMalformed(reason) from None
            except RecursionError:
                raise BodyMalformed(f"sample {index} {TOO_DEEP}") from None
            fields, reason = _json_fields(element)
            if reason:
                problems.append(RowProblem(index, None, reason))
            else:
                rows.append((index, fields))
            index += 1
            pos = _skip_space(text, pos)
            if pos < len(text) and text[pos] == ",":
                pos = _skip_space(text, pos + 1)
                continue
            if pos < len(text) and text[pos] == "]":
                pos += 1
                break
            raise BodyMalformed(f"not valid JSON: expected , or ] (character {pos + 1})")
    if _skip_space(text, pos) != len(text):
        raise BodyMalformed(f"not valid JSON: extra data after the array (character {pos + 1})")
    return rows, problems


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _json_fields(element: object) -> tuple[dict, str | None]:
    """An element's fields as the text a CSV cell would hold (what the ingest expects).

    Runs once per sample, so the usual case (lower-case keys, text values) takes the
    short way; other spellings of the keys are normalised like the file importers do.
    """
    if not isinstance(element, dict):
        return {}, "is not a JSON object"
    if not all(name in element for name in COLUMNS):
        element = {str(k).strip().lower(): v for k, v in element.items()}
    out = {}
    for name in NAMES:
        value = element.get(name)
        if type(value) is not str:
            if value is None:
                value = ""
            elif isinstance(value, bool) or not isinstance(value, int | Decimal | str):
                shown = str(value).lower() if isinstance(value, bool) else "a list or object"
                return {}, f"{name} must be text or a number, not {shown}"
            else:
                value = str(value)
        if "\x00" in value:
            return {}, f"{name} contains a NUL character"
        out[name] = value
    return out, None


# ---------------------------------------------------------------- CSV and JSON lines


def _file_rows(
    body: bytes, fmt: Format
) -> tuple[list[tuple[int, dict]], list[RowProblem], dict[int, int]]:
    """Reads the body with the importers' reader; numbers its records 0, 1, … in the order
    they appear (a CSV header and blank lines are not records). Also returns each
    record's line in the body, by index."""
    try:
        reader = RowReader(
            name="body", stream=io.BytesIO(body), columns=COLUMNS, optional=OPTIONAL, format=fmt
        )
        numbered: list[tuple[int, dict]] = []
        for line, fields in reader:
            if any("\x00" in str(v) for v in fields.values()):
                # PostgreSQL text cannot hold it; refused here, before any lookup
                reader.errors.append(RowError(line, "contains a NUL character"))
                continue
            numbered.append((line, fields))
            if len(numbered) + len(reader.errors) > max_rows():
                raise BodyTooLarge(f"more than {max_rows():,} samples in one request")
    except ImportFileError as exc:
        raise BodyMalformed(exc.reason.replace("is empty", "the body is empty")) from None
    if len(numbered) + len(reader.errors) > max_rows():
        raise BodyTooLarge(f"more than {max_rows():,} samples in one request")
    order = sorted([line for line, _ in numbered] + [e.line for e in reader.errors])
    index_of = {line: i for i, line in enumerate(order)}
    rows = [(index_of[line], fields) for line, fields in numbered]
    problems = [RowProblem(index_of[e.line], e.line, e.reason) for e in reader.errors]
    return rows, problems, {index_of[line]: line for line, _ in numbered}
