"""Exact amounts: parsing, validation, formatting and splitting.

Amounts are ``Decimal`` with exactly the currency's minor units (ISO 4217), never floats. Every
amount that enters a service goes through :func:`parse_amount`, so "10.001 USD", "-5", "0",
"1e3" and "NaN" are refused in one place with a clear message. Every amount shown to a person
goes through :func:`money` ("250.00 USD"); the API sends :func:`format_amount` ("250.00").
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.conf import settings
from django.db import models

from .errors import InvalidInput

MAX_AMOUNT = Decimal("1000000000")  # far above any milestone; keeps every sum inside the column
# The most minor units any currency has (KWD: 3). Amount columns keep this many places, and
# sums in SQL are taken over integer counts of this unit (see :class:`ExactSum`).
MAX_PLACES = 3


def currency_places(currency: str) -> int:
    try:
        return settings.CURRENCIES[currency]
    except KeyError:
        raise InvalidInput(
            f"{currency!r} is not a supported currency.",
            code="invalid_currency",
            fields={"currency": [f"Choose one of {', '.join(sorted(settings.CURRENCIES))}."]},
        ) from None


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-currency_places(currency))


def parse_amount(
    value: object, *, currency: str, field: str = "amount", allow_zero: bool = False
) -> Decimal:
    """Return ``value`` as an exact Decimal of ``currency``, or raise InvalidInput.

    Accepts a Decimal, an int or a decimal string. Refuses floats (they are not exact), non-finite
    values, exponents, more decimal places than the currency has, zero (unless ``allow_zero``),
    negatives and absurdly large amounts.
    """

    def invalid(message: str) -> InvalidInput:
        return InvalidInput(message, code="invalid_amount", fields={field: [message]})

    places = currency_places(currency)
    if isinstance(value, (bool, float)):
        raise invalid('Send the amount as a decimal string, for example "250.00".')
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text or any(c not in "0123456789.-+" for c in text):
            raise invalid("Enter an amount such as 250.00.")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise invalid("Enter an amount such as 250.00.") from None
    else:
        raise invalid("Enter an amount such as 250.00.")

    if not amount.is_finite():
        raise invalid("Enter an amount such as 250.00.")
    if amount < 0:
        raise invalid("The amount cannot be negative.")
    if amount == 0 and not allow_zero:
        raise invalid("The amount must be greater than zero.")
    # Before quantizing: a number with more digits than the context holds cannot be quantized.
    if amount >= MAX_AMOUNT:
        raise invalid("The amount is too large.")
    if amount != amount.quantize(quantum(currency), rounding=ROUND_DOWN):
        unit = "no decimal places" if places == 0 else f"at most {places} decimal places"
        raise invalid(f"{currency} amounts have {unit}.")
    if amount >= MAX_AMOUNT:
        raise invalid("The amount is too large.")
    return amount.quantize(quantum(currency))


def parse_split(
    *, to_freelancer: object, to_client: object, total: Decimal, currency: str
) -> tuple[Decimal, Decimal]:
    """Return the two shares if they are exact, non-negative and add up to ``total``."""
    errors: dict[str, list[str]] = {}
    shares: dict[str, Decimal] = {}
    for field, value in (("to_freelancer", to_freelancer), ("to_client", to_client)):
        try:
            shares[field] = parse_amount(value, currency=currency, field=field, allow_zero=True)
        except InvalidInput as error:
            errors.update(error.fields)
    if errors:
        raise InvalidInput("The split is not valid.", code="invalid_amount", fields=errors)
    if shares["to_freelancer"] + shares["to_client"] != total:
        message = f"The two shares must add up to {money(total, currency)}, to the cent."
        raise InvalidInput(
            message,
            code="split_mismatch",
            fields={"to_freelancer": [message], "to_client": [message]},
        )
    return shares["to_freelancer"], shares["to_client"]


def format_amount(amount: Decimal, currency: str) -> str:
    """Return ``amount`` as a string with exactly the currency's places: "250.00"."""
    return str(amount.quantize(quantum(currency)))


def money(amount: Decimal | None, currency: str, *, none: str = "") -> str:
    """Return ``amount`` with its currency's places and code, "250.00 USD"; ``none`` for None."""
    if amount is None:
        return none
    return f"{format_amount(amount, currency)} {currency}"


def allocate(total: Decimal, weights: list[int], *, currency: str) -> list[Decimal]:
    """Split ``total`` by ``weights`` exactly: the shares always add up to ``total``.

    Each share is rounded down to the currency's unit and the leftover units go, one each, to the
    earliest shares, so the split is deterministic and loses nothing.
    """
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative and not all zero")
    unit = quantum(currency)
    weight_sum = sum(weights)
    shares = [(total * w / weight_sum).quantize(unit, rounding=ROUND_DOWN) for w in weights]
    leftover = int((total - sum(shares)) / unit)
    for index in range(leftover):
        shares[index % len(shares)] += unit
    return shares


class Thousandths(models.BigIntegerField):
    """An integer count of thousandths read back as the exact Decimal it stands for."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else Decimal(value).scaleb(-MAX_PLACES)


class MinorUnits(models.Func):
    """An amount column as an integer count of thousandths: ``592.59`` → ``592590``.

    SQLite keeps decimals as binary floating point, so ``SUM(amount)`` or ``a + b = c`` there is
    inexact (0.1 + 0.2 ≠ 0.3). Every amount has at most :data:`MAX_PLACES` places, so rounding it
    times 1,000 gives the exact integer, and integers add and compare exactly on every database.
    """

    template = f"CAST(ROUND(%(expressions)s * {10**MAX_PLACES}) AS BIGINT)"
    output_field = models.BigIntegerField()


class ExactSum(models.Sum):
    """``Sum`` of an amount taken over :class:`MinorUnits`: exact on SQLite too, a Decimal."""

    def __init__(self, expression, **extra):
        extra.setdefault("output_field", Thousandths())
        super().__init__(MinorUnits(expression), **extra)
