"""Exact usage quantities: decimals with three places, stored as whole thousandths.

SQLite keeps DECIMAL columns as floating point, which would make sums inexact;
a BIGINT of thousandths is exact on every database and sums in SQL as integers.
"""

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.expressions import Combinable

from hostmeter.ids import BIGINT_MAX

PLACES = 3
SCALE = 10**PLACES
QUANTUM = Decimal(1).scaleb(-PLACES)
MAX_THOUSANDTHS = BIGINT_MAX  # a BIGINT column


def to_thousandths(value) -> int:
    """Decimal (or str/int) → whole thousandths; refuses more than three places."""
    dec = value if isinstance(value, Decimal) else Decimal(str(value))
    if not dec.is_finite():
        raise ValueError("not a finite number")
    scaled = dec.scaleb(PLACES)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"more than {PLACES} decimal places")
    return int(scaled)


def from_thousandths(value: int | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(int(value)) / SCALE).quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


class QuantityProblem(StrEnum):
    """Why a text is not a quantity a QuantityField can hold."""

    NOT_A_NUMBER = "not a number"
    NEGATIVE = "negative"
    TOO_PRECISE = "more than three decimal places"
    TOO_LARGE = "too large"

    def about(self, text: object) -> str:
        """What is wrong with text, for a message: “ten” is not a number, -1 is negative,
        1.2345 has more than three decimal places, 1e30 is too large."""
        if self is QuantityProblem.NOT_A_NUMBER:
            return f"“{text}” is {self.value}"
        return f"{text} {'has' if self is QuantityProblem.TOO_PRECISE else 'is'} {self.value}"


class QuantityError(ValueError):
    def __init__(self, problem: QuantityProblem):
        super().__init__(problem.value)
        self.problem = problem


def quantity_parse(text: str) -> tuple[Decimal, int]:
    """A text read as a non-negative quantity a QuantityField can hold: the decimal and
    its thousandths. QuantityError says why not (each caller words its own message)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise QuantityError(QuantityProblem.NOT_A_NUMBER) from None
    if not value.is_finite():
        raise QuantityError(QuantityProblem.NOT_A_NUMBER)
    if value < 0:
        raise QuantityError(QuantityProblem.NEGATIVE)
    try:
        thousandths = to_thousandths(value)
    except ValueError:
        raise QuantityError(QuantityProblem.TOO_PRECISE) from None
    if thousandths > MAX_THOUSANDTHS:
        raise QuantityError(QuantityProblem.TOO_LARGE)
    return value, thousandths


class QuantityField(models.BigIntegerField):
    """A non-float decimal with three places, e.g. MB to the kilobyte."""

    description = "Exact decimal with three places"
    # what the model attribute takes and gives, for django-stubs (an integer column, a
    # Decimal in Python)
    _pyi_private_set_type: Decimal | int | str | Combinable
    _pyi_private_get_type: Decimal

    def from_db_value(self, value, expression, connection):
        return from_thousandths(value)

    def to_python(self, value):
        if value is None or isinstance(value, Decimal):
            return value
        try:
            return Decimal(str(value))
        except InvalidOperation as exc:
            raise ValidationError(f"“{value}” is not a number.", code="invalid") from exc

    def get_prep_value(self, value):
        if value is None or hasattr(value, "resolve_expression"):
            return value
        try:
            return to_thousandths(self.to_python(value))
        except ValueError as exc:
            raise ValidationError(f"“{value}”: {exc}.", code="invalid") from exc

    def formfield(self, **kwargs):
        return super(models.BigIntegerField, self).formfield(
            **{"form_class": forms.DecimalField, "decimal_places": PLACES, **kwargs}
        )


class NameKeyField(models.CharField):
    """A folded name (tenancy.names) that sorts byte by byte on every engine.

    SQLite compares text as bytes; PostgreSQL by the column's collation, and under a
    linguistic one (en_US.UTF-8) blanks and punctuation weigh less, so "abc web" would
    sort before "ab net" there and after it on SQLite. On PostgreSQL the column is
    therefore created with the "C" collation (its index too), whatever the database's.
    """

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
