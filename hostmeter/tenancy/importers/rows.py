"""What the importers share: the result of an import, a refused row and its reason,
reading a row's fields (text, domains, service codes), batches of rows, and creating
new rows in bulk with a fallback to one at a time."""

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, transaction

from hostmeter.readers import RowError

from ..models import Service

# Rows whose domains are looked up together: one query per batch, not per row.
BATCH = 500

Rows = Iterable[tuple[int, Mapping[str, object]]]
T = TypeVar("T")


@dataclass
class TenancyImportResult:
    """What an import did: rows created, updated, left unchanged, and the bad ones."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def received(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.errors)


class RowRejected(Exception):
    """A row that cannot be imported; its message is the reason."""


# ---------------------------------------------------------------- fields


def _create_in_bulk(
    new: list[tuple[int, T]],
    *,
    bulk: Callable[[list[T]], object],
    one: Callable[[T], object],
    reason: Callable[[Exception], str],
    result: TenancyImportResult,
) -> None:
    """Creates validated new rows with one bulk insert in a savepoint.

    If the database refuses it (say a domain added meanwhile by someone else),
    they are created one at a time with the service, so that only the row at
    fault is refused.
    """
    if not new:
        return
    try:
        with transaction.atomic():
            bulk([item for _, item in new])
    except DatabaseError:
        for line, item in new:
            try:
                with transaction.atomic():
                    one(item)
            except (ValidationError, DatabaseError) as exc:
                result.errors.append(RowError(line, reason(exc)))
                continue
            result.created += 1
    else:
        result.created += len(new)


def _batches(rows: Rows) -> Iterator[list[tuple[int, Mapping[str, object]]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def _text(fields: Mapping[str, object], key: str) -> str:
    value = fields.get(key)
    return "" if value is None else str(value).strip()


def _domain(fields: Mapping[str, object], key: str, *, required: bool = False) -> str:
    # As the models store it: the lookups and the duplicate check compare
    # domains before the models get to normalise them.
    domain = _text(fields, key).lower()
    if required and not domain:
        raise RowRejected(f"{key}: empty")
    return domain


def _listed_twice(domain: str, first: int) -> str:
    # Two rows for one domain would each undo the other on every import.
    return f"domain: “{domain}” is also on line {first}"


def _service_codes(fields: Mapping[str, object], catalog: Mapping[str, Service]) -> frozenset[str]:
    """Codes separated by spaces (commas are forgiven), or a JSON list of codes."""
    value = fields.get("services")
    if isinstance(value, list):
        codes = frozenset(str(v).strip() for v in value if str(v).strip())
    else:
        codes = frozenset(c for c in re.split(r"[\s,]+", _text(fields, "services")) if c)
    if unknown := codes - catalog.keys():
        raise RowRejected(
            f"services: unknown service code(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(catalog)})"
        )
    return codes


def _reason(exc: ValidationError | DatabaseError, columns: Mapping[str, str]) -> str:
    """A readable reason naming the file's column (e.g. parent_domain for parent)."""
    if isinstance(exc, DatabaseError):
        return f"could not be stored: {exc}"
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    parts = []
    for name, messages in exc.message_dict.items():
        text = " ".join(messages)
        parts.append(text if name == NON_FIELD_ERRORS else f"{columns.get(name, name)}: {text}")
    return "; ".join(parts)
