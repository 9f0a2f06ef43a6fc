"""Exact money: integer minor units, and every rounding rule in one place.

Units:
- cash, reservations, commissions and cash flows are integer **cents** (1/100);
- prices are integer **ticks** of 1/10,000 of the currency unit;
- a notional (quantity x price) is an integer in ticks, so it is exact;
- equity and realized P&L are kept in ticks too, so they are exact.

Rounding is always against the trader: a cost or a fee rounds up to the next
cent, proceeds round down, a buy fill price rounds up to the next tick and a
sell fill price rounds down. Input is converted once, at the edge: strings and
JSON numbers through ``Decimal``, floats through ``round(x * scale)``; a value
with more decimals than its unit holds is rounded half-to-even to the unit.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from typing import NewType

Cents = NewType("Cents", int)
Ticks = NewType("Ticks", int)

CENTS_PER_UNIT = 100
TICKS_PER_UNIT = 10_000
TICKS_PER_CENT = TICKS_PER_UNIT // CENTS_PER_UNIT
#: Slippage is held in millionths (1 bp = 100 millionths).
SLIPPAGE_SCALE = 1_000_000
MILLIONTHS_PER_BP = 100


class MoneyError(ValueError):
    """A value could not be read as an exact amount."""


def to_decimal(value: object) -> Decimal:
    """Read ``value`` (int, float, str or Decimal) as a finite Decimal; raise MoneyError."""
    if isinstance(value, bool):
        raise MoneyError(f"{value!r} is a boolean, not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise MoneyError(f"{value!r} is not a decimal number") from None
    else:
        raise MoneyError(f"{value!r} is not a number")
    if not result.is_finite():
        raise MoneyError(f"{value!r} is not a finite number")
    return result


def _to_units(value: object, scale: int) -> int:
    if isinstance(value, float):
        # floats (pandas, JSON written by others) round once, half-to-even
        if value != value or value in (float("inf"), float("-inf")):
            raise MoneyError(f"{value!r} is not a finite number")
        return round(value * scale)
    exact = to_decimal(value) * scale
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def to_cents(value: object) -> Cents:
    """Convert a currency amount to cents (half-to-even beyond two decimals)."""
    return Cents(_to_units(value, CENTS_PER_UNIT))


def to_ticks(value: object) -> Ticks:
    """Convert a price to ticks of 0.0001 (half-to-even beyond four decimals)."""
    return Ticks(_to_units(value, TICKS_PER_UNIT))


def to_fraction(value: object) -> Fraction:
    """Read a rate or fraction exactly: ``"0.001"`` is exactly 1/1000, and a
    string ``"1/3"`` (as ``format_fraction`` writes it) is exactly one third."""
    if isinstance(value, str) and "/" in value:
        numerator, _, denominator = value.strip().partition("/")
        try:
            return Fraction(int(numerator), int(denominator))
        except (ValueError, ZeroDivisionError):
            raise MoneyError(f"{value!r} is not a fraction like '1/3'") from None
    return Fraction(to_decimal(value))


def ceil_div(numerator: int, denominator: int) -> int:
    """Integer division rounding toward +infinity (denominator > 0)."""
    return -(-numerator // denominator)


def cost_cents(notional: int) -> Cents:
    """What a buy of ``notional`` ticks costs, in cents, rounded up."""
    return Cents(-(-notional // TICKS_PER_CENT))


def proceeds_cents(notional: int) -> Cents:
    """What a sale of ``notional`` ticks pays, in cents, rounded down."""
    return Cents(notional // TICKS_PER_CENT)


def fee_cents(notional: int, rate: Fraction, minimum: int) -> Cents:
    """Commission on ``notional`` ticks: ``rate`` of it rounded up, at least ``minimum``."""
    if notional <= 0:
        return Cents(0)
    # ceil_div and max inlined: this runs twice per fill
    fee = -(-notional * rate.numerator // (rate.denominator * TICKS_PER_CENT))
    return Cents(fee if fee > minimum else minimum)


def buy_price(price: int, slippage: int) -> Ticks:
    """A buy fill price: ``price`` worsened by ``slippage`` millionths, rounded up."""
    return Ticks(ceil_div(price * (SLIPPAGE_SCALE + slippage), SLIPPAGE_SCALE))


def sell_price(price: int, slippage: int) -> Ticks:
    """A sell fill price: ``price`` worsened by ``slippage`` millionths, rounded down."""
    return Ticks(price * (SLIPPAGE_SCALE - slippage) // SLIPPAGE_SCALE)


def _fixed(units: int, places: int) -> str:
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"


def format_cents(cents: int) -> str:
    """``129729`` -> ``"1297.29"``."""
    return _fixed(cents, 2)


def format_ticks(ticks: int) -> str:
    """``999800`` -> ``"99.9800"``."""
    return _fixed(ticks, 4)


def format_fraction(value: Fraction) -> str:
    """A fraction as a short exact decimal string when it has one."""
    if value.denominator == 1:
        return str(value.numerator)
    decimal = Decimal(value.numerator) / Decimal(value.denominator)
    if Fraction(decimal) == value:
        return format(decimal.normalize(), "f")
    return f"{value.numerator}/{value.denominator}"
