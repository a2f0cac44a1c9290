"""Streaming readers for import files: CSV or JSON lines as (line number, fields) pairs.

Shared by every importer (usage samples, resellers, organizations, limits). A
file is read one physical line at a time, so its size does not matter; a
record that cannot be parsed becomes a RowError with its line number instead
of stopping the import. Only a file that cannot be read at all (missing,
not UTF-8 from its first line, no header or a header without a needed column)
raises ImportFileError, before any of its rows is handed on.
"""

import codecs
import csv
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from itertools import chain
from pathlib import PurePath
from typing import IO


@dataclass(frozen=True)
class RowError:
    """A row of an import that was not stored: its line number and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


# A record is one flat object; one nested past Python's recursion is refused by name.
TOO_DEEP = "is nested too deeply to be a sample (a sample is one flat object)"

STDIN = "-"
STDIN_NAME = "<stdin>"


class Format(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


EXTENSIONS = {
    ".csv": Format.CSV,
    ".jsonl": Format.JSONL,
    ".ndjson": Format.JSONL,
    ".json": Format.JSONL,
}
# Spreadsheets in comma-decimal locales save with semicolons (as our own
# exports do with that setting); tab-separated text is the other common one.
DELIMITERS = (",", ";", "\t")
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class ImportFileError(Exception):
    """The file cannot be read at all; none of its rows was imported."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


class RowReader:
    """An open import file. Iterating it yields (line number, fields) for every
    record that could be parsed; the others are collected in `errors`.

    Fields hold exactly the expected columns (an optional column missing from
    the file is ""); line numbers are physical lines of the file, so a CSV
    header is line 1 and its first record line 2.
    """

    def __init__(
        self,
        *,
        name: str,
        stream: IO,
        columns: Sequence[str],
        optional: Sequence[str] = (),
        format: Format | None = None,
    ):
        self.name = name
        self.columns = tuple(columns)
        self.optional = tuple(optional)
        self.errors: list[RowError] = []
        self.ignored_columns: tuple[str, ...] = ()
        self._line = 0
        self._undecodable: list[tuple[int, UnicodeDecodeError]] = []
        self._header: list[str] = []
        lines = self._physical_lines(stream)
        first = self._first_content_line(lines)
        self.format = format or _sniff(name, first)
        self._lines = chain([first], lines) if first is not None else iter(())
        if self.format == Format.CSV:
            self._csv = self._open_csv(first)
        elif first is not None and first.lstrip().startswith("["):
            raise ImportFileError(
                name, "is one JSON array; expected JSON lines (one object per line)"
            )

    def __iter__(self) -> Iterator[tuple[int, dict[str, object]]]:
        if self.format == Format.CSV:
            return self._csv_records()
        return self._jsonl_records()

    # ------------------------------------------------------------ lines

    def _physical_lines(self, stream: IO) -> Iterator[str]:
        """Every line of the file, line endings kept (csv needs them)."""
        for raw in stream:
            self._line += 1
            if isinstance(raw, str):  # an already decoded stream (tests, sys.stdin)
                text = raw
            else:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    if self._line == 1 and raw.startswith(UTF16_BOMS):
                        raise ImportFileError(
                            self.name, "is UTF-16 text; save it as UTF-8"
                        ) from None
                    # Still yielded, so that csv keeps its place; the record
                    # holding this line is reported instead of being imported.
                    self._undecodable.append((self._line, exc))
                    text = raw.decode("utf-8", "replace")
            if self._line == 1:
                text = text.removeprefix("\ufeff")
            yield text

    def _first_content_line(self, lines: Iterator[str]) -> str | None:
        for text in lines:
            if self._undecodable:
                line, exc = self._undecodable[0]
                raise ImportFileError(self.name, f"line {line} {_undecodable_reason(exc)}")
            if text.strip():
                return text
        return None

    def _record_errors(self, start: int) -> str | None:
        """The reason to refuse the record that started on `start`, if a line of it
        was not UTF-8."""
        bad = [(line, exc) for line, exc in self._undecodable if line >= start]
        self._undecodable.clear()
        if not bad:
            return None
        line, exc = bad[0]
        where = "" if line == start else f" (on line {line})"
        return f"{_undecodable_reason(exc)}{where}"

    # ------------------------------------------------------------ CSV

    def _open_csv(self, first: str | None) -> Iterator[list[str]]:
        if first is None:
            raise ImportFileError(
                self.name, f"is empty; expected a header row: {', '.join(self.columns)}"
            )
        delimiter = next((d for d in DELIMITERS if d in first), ",")
        reader = csv.reader(self._lines, delimiter=delimiter, strict=True)
        try:
            header = [name.strip().lower() for name in next(reader)]
        except csv.Error as exc:
            raise ImportFileError(
                self.name, f"line {self._line}: header is not CSV: {exc}"
            ) from None
        seen = set()
        for name in header:
            if name and name in seen:
                raise ImportFileError(self.name, f"the header names the column “{name}” twice")
            seen.add(name)
        if missing := [c for c in self.columns if c not in seen]:
            names = ", ".join(f"“{c}”" for c in missing)
            raise ImportFileError(
                self.name,
                f"the header has no {names} column{'s' if len(missing) > 1 else ''} "
                f"(expected: {_expected(self.columns, self.optional)})",
            )
        known = set(self.columns) | set(self.optional)
        self.ignored_columns = tuple(n for n in header if n and n not in known)
        self._header = header
        return reader

    def _csv_records(self) -> Iterator[tuple[int, dict[str, object]]]:
        header, width = self._header, len(self._header)
        wanted = [
            (i, name) for i, name in enumerate(header) if name in self.columns + self.optional
        ]
        absent = {name: "" for name in self.optional if name not in header}
        while True:
            start = self._line + 1
            try:
                record = next(self._csv)
            except StopIteration:
                return
            except csv.Error as exc:
                self._record_errors(start)
                self.errors.append(RowError(start, _csv_reason(exc)))
                continue
            if reason := self._record_errors(start):
                self.errors.append(RowError(start, reason))
            elif not any(field.strip() for field in record):
                continue  # an empty line, or one of only delimiters, as spreadsheets add
            elif len(record) != width:
                self.errors.append(
                    RowError(start, f"has {len(record)} fields where the header has {width}")
                )
            else:
                yield start, {name: record[i] for i, name in wanted} | absent

    # ------------------------------------------------------------ JSON lines

    def _jsonl_records(self) -> Iterator[tuple[int, dict[str, object]]]:
        for text in self._lines:
            line = self._line
            if reason := self._record_errors(line):
                self.errors.append(RowError(line, reason))
                continue
            if not text.strip():
                continue
            try:
                record = json.loads(text.rstrip(), parse_float=Decimal)
            except json.JSONDecodeError as exc:
                self.errors.append(
                    RowError(line, f"is not valid JSON: {exc.msg} (column {exc.colno})")
                )
                continue
            except RecursionError:  # [[[[… a line nested deeper than Python recurses
                self.errors.append(RowError(line, TOO_DEEP))
                continue
            if not isinstance(record, dict):
                self.errors.append(RowError(line, "is not a JSON object"))
                continue
            record = {str(key).strip().lower(): value for key, value in record.items()}
            if missing := [c for c in self.columns if c not in record]:
                self.errors.append(RowError(line, f"missing {', '.join(missing)}"))
                continue
            yield line, {c: _plain(record.get(c)) for c in self.columns + self.optional}


@contextmanager
def open_rows(
    path: str,
    *,
    columns: Sequence[str],
    optional: Sequence[str] = (),
    format: Format | str | None = None,
    stdin: IO | None = None,
) -> Iterator[RowReader]:
    """Opens an import file ("-": standard input) and checks its header.

    The format is `format`, else the file's extension, else a guess from its
    first line ("{" is JSON lines). Raises ImportFileError for a file that
    cannot be read at all.
    """
    if path == STDIN:
        stream = stdin if stdin is not None else getattr(sys.stdin, "buffer", sys.stdin)
        name, owned = STDIN_NAME, False
    else:
        name = path
        try:
            stream, owned = open(path, "rb"), True  # noqa: SIM115  (closed below)
        except OSError as exc:
            raise ImportFileError(name, (exc.strerror or str(exc)).lower()) from None
    try:
        yield RowReader(
            name=name,
            stream=stream,
            columns=columns,
            optional=optional,
            format=Format(format) if format else None,
        )
    finally:
        if owned:
            stream.close()


def _sniff(name: str, first: str | None) -> Format:
    if known := EXTENSIONS.get(PurePath(name).suffix.lower()):
        return known
    return Format.JSONL if first is not None and first.lstrip().startswith("{") else Format.CSV


def _plain(value: object) -> object:
    """JSON scalars as the text a CSV cell would hold; lists and objects as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    return value


def _expected(columns: Sequence[str], optional: Sequence[str]) -> str:
    text = ", ".join(columns)
    return f"{text}, and optionally {', '.join(optional)}" if optional else text


def _undecodable_reason(exc: UnicodeDecodeError) -> str:
    byte = exc.object[exc.start : exc.start + 1].hex()
    return f"is not UTF-8 text (byte 0x{byte} at column {exc.start + 1}); save the file as UTF-8"


def _csv_reason(exc: csv.Error) -> str:
    if "unexpected end of data" in str(exc):
        return "is not valid CSV: a quoted field is never closed"
    return f"is not valid CSV: {exc}"
