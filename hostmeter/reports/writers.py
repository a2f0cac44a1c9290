"""Write a report's rows to a file: CSV (RFC 4180) or XLSX, streaming, never a whole
table in memory.

On PostgreSQL the CSV comes straight from `COPY (query) TO STDOUT`; elsewhere rows
are fetched in chunks of ready-made text and handed to csv.writer.writerows, so the
per-row work stays in C in both cases.
"""

import csv
import hashlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.db import connection

from .columns import NUMBER, ReportQuery

CHUNK_ROWS = 5000
DELIMITERS = (",", ";")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(text: str) -> str:
    """The same guard as columns.text, for cells made in Python (headers: resource names)."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


BOM = "\ufeff".encode()

Progress = Callable[[int], None]  # called with the rows written so far


class HashingWriter:
    """A binary file wrapper that keeps the SHA-256 and size of what passes through."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.sha256, self.size = raw, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.raw.write(data)


def write_csv(
    query: ReportQuery, out: HashingWriter, *, bom: bool, delimiter: str, progress: Progress
) -> int:
    """Writes the header and every row; returns the number of rows."""
    if delimiter not in DELIMITERS:  # it goes into the COPY statement's text
        raise ValueError(f"unsupported CSV delimiter {delimiter!r}")
    if bom:
        out.write(BOM)
    header = _TextSink()
    csv.writer(header, delimiter=delimiter, lineterminator="\r\n").writerow(
        [guard(c.header) for c in query.columns]
    )
    out.write(header.take().encode())
    if connection.vendor == "postgresql":
        return _copy_csv(query, out, delimiter=delimiter, progress=progress)
    return _fetch_csv(query, out, delimiter=delimiter, progress=progress)


class _TextSink:
    def __init__(self):
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


def _fetch_csv(query: ReportQuery, out: HashingWriter, *, delimiter: str, progress) -> int:
    sink = _TextSink()
    writer = csv.writer(sink, delimiter=delimiter, lineterminator="\r\n")
    rows = 0
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        while chunk := cursor.fetchmany(CHUNK_ROWS):
            writer.writerows(chunk)
            out.write(sink.take().encode())
            rows += len(chunk)
            progress(rows)
    return rows


def _copy_csv(query: ReportQuery, out: HashingWriter, *, delimiter: str, progress) -> int:
    # Text cells carry no line breaks (columns.text folds them), so every "\n" COPY
    # writes ends a row and can become RFC 4180's CRLF.
    rows = 0
    pending = 0
    with connection.cursor() as cursor:
        copy_sql = f"COPY ({query.sql}) TO STDOUT WITH (FORMAT csv, DELIMITER '{delimiter}')"
        with cursor.cursor.copy(copy_sql, query.params) as copy:
            for data in copy:
                data = bytes(data)
                lines = data.count(b"\n")
                out.write(data.replace(b"\n", b"\r\n"))
                rows += lines
                pending += lines
                if pending >= CHUNK_ROWS:
                    progress(rows)
                    pending = 0
    progress(rows)
    return rows


def write_xlsx(query: ReportQuery, path: str, *, scratch: Path, progress: Progress) -> int:
    """Writes an XLSX workbook with one sheet to path; numbers as numbers, text as text."""
    import xlsxwriter

    # constant_memory: rows go to temporary files as they are written, not to memory;
    # those hold customer names, so they go to the run's scratch folder (never the
    # system's /tmp), where housekeeping finds what a crashed run left
    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "tmpdir": str(scratch),
        },
    )
    sheet = workbook.add_worksheet("Usage")
    sheet.freeze_panes(1, 0)  # in constant_memory mode, before any row
    bold = workbook.add_format({"bold": True})
    numeric = [c.kind == NUMBER for c in query.columns]
    for col, column in enumerate(query.columns):
        sheet.write_string(0, col, column.header, bold)
    rows = 0
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        while chunk := cursor.fetchmany(CHUNK_ROWS):
            for values in chunk:
                rows += 1
                for col, value in enumerate(values):
                    if value is None:
                        continue
                    if numeric[col]:
                        sheet.write_number(rows, col, float(Decimal(value)))
                    else:
                        sheet.write_string(rows, col, str(value))
            progress(rows)
    workbook.close()
    return rows
