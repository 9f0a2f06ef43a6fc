"""money.py: conversion at the edge, and every rounding rule (costs up, proceeds down)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from cashfuzz.reference_engine.money import (
    MoneyError,
    buy_price,
    ceil_div,
    cost_cents,
    fee_cents,
    format_cents,
    format_fraction,
    format_ticks,
    proceeds_cents,
    sell_price,
    to_cents,
    to_decimal,
    to_fraction,
    to_ticks,
)

# --- conversions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        ("1297.29", 129_729),
        (" 95.69 ", 9_569),
        (Decimal("1297.29"), 129_729),
        (3, 300),
        (-7, -700),
        ("-1.25", -125),
        (1297.29, 129_729),
        ("0", 0),
    ],
)
def test_to_cents_reads_str_decimal_int_and_float(value: object, cents: int) -> None:
    """Strings, Decimals, ints and floats convert to the same integer cents."""
    assert to_cents(value) == cents


@pytest.mark.parametrize(
    ("value", "cents"),
    [
        # the third decimal is exactly half a cent: ties go to the even cent
        ("0.005", 0),
        ("0.015", 2),
        ("0.025", 2),
        ("0.035", 4),
        ("-0.015", -2),
        # not a tie: ordinary rounding
        ("0.0051", 1),
        ("0.0149", 1),
        # 0.125 and 0.375 are exact in binary, so the float path sees a true tie
        (0.125, 12),
        (0.375, 38),
    ],
)
def test_to_cents_rounds_half_even_at_the_cent(value: object, cents: int) -> None:
    """A value with more than two decimals rounds half-to-even to the cent."""
    assert to_cents(value) == cents


@pytest.mark.parametrize(
    ("value", "ticks"),
    [
        ("99.98", 999_800),
        ("100", 1_000_000),
        (100, 1_000_000),
        (99.98, 999_800),
        (100.1, 1_001_000),
        ("0.00005", 0),
        ("0.00015", 2),
        ("0.00025", 2),
        ("100.00035", 1_000_004),
    ],
)
def test_to_ticks_converts_and_rounds_half_even_at_the_tick(value: object, ticks: int) -> None:
    """Prices convert to ticks of 0.0001, ties at the fifth decimal going to the even tick."""
    assert to_ticks(value) == ticks


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        "NaN",
        "Infinity",
        "-inf",
        "sNaN",
        Decimal("NaN"),
        Decimal("Infinity"),
        True,
        False,
        None,
        "12,50",
        "abc",
        "",
        [1],
    ],
)
@pytest.mark.parametrize("convert", [to_cents, to_ticks, to_fraction])
def test_non_finite_boolean_and_junk_values_raise_money_error(
    convert: object, value: object
) -> None:
    """NaN, infinities, booleans and non-numbers raise MoneyError (a ValueError)."""
    assert callable(convert)
    with pytest.raises(MoneyError):
        convert(value)
    assert issubclass(MoneyError, ValueError)


def test_money_error_message_names_the_value() -> None:
    """The MoneyError message repeats the value it refused."""
    with pytest.raises(MoneyError, match="'twelve'"):
        to_cents("twelve")
    with pytest.raises(MoneyError, match="True"):
        to_cents(True)


def test_to_decimal_reads_floats_by_their_shortest_repr() -> None:
    """A float becomes the Decimal of its repr, not of its binary expansion."""
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal("1.50") == Decimal("1.50")


def test_to_fraction_is_exact() -> None:
    """A decimal rate is read as an exact fraction."""
    assert to_fraction("0.001") == Fraction(1, 1000)
    assert to_fraction(0.1) == Fraction(1, 10)
    assert to_fraction(6) == 6


# --- rounding primitives -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "result"),
    [(7, 2, 4), (6, 2, 3), (0, 5, 0), (1, 100, 1), (-7, 2, -3), (-6, 2, -3), (199, 100, 2)],
)
def test_ceil_div_rounds_toward_positive_infinity(
    numerator: int, denominator: int, result: int
) -> None:
    """ceil_div rounds up for positive and toward zero for negative quotients."""
    assert ceil_div(numerator, denominator) == result


@pytest.mark.parametrize(
    ("notional", "cost", "proceeds"),
    [
        (0, 0, 0),
        (1, 1, 0),
        (99, 1, 0),
        (100, 1, 1),
        (101, 2, 1),
        (199, 2, 1),
        (8_003_200, 80_032, 80_032),
    ],
)
def test_cost_rounds_up_and_proceeds_round_down(notional: int, cost: int, proceeds: int) -> None:
    """A buy of N ticks costs ceil(N/100) cents; a sale pays floor(N/100) cents."""
    assert cost_cents(notional) == cost
    assert proceeds_cents(notional) == proceeds


@pytest.mark.parametrize(
    ("notional", "rate", "minimum", "fee"),
    [
        # 8 x 100.04 = 8_003_200 ticks = 800.32; 0.1% = 0.80032 -> 81 cents (up)
        (8_003_200, Fraction(1, 1000), 0, 81),
        # exactly 1000.00 at 0.1% is exactly 1.00: no rounding; one tick more rounds up
        (10_000_000, Fraction(1, 1000), 0, 100),
        (10_000_001, Fraction(1, 1000), 0, 101),
        # 100.00 at 0.1% = 0.10, raised to a 5.00 minimum
        (1_000_000, Fraction(1, 1000), 500, 500),
        # the rate part wins once it is above the minimum: 1_000_000.00 x 0.1% = 1000.00
        (10_000_000_000, Fraction(1, 1000), 500, 100_000),
        # a zero rate with a minimum still charges the minimum
        (1, Fraction(0), 500, 500),
        # one tick at 0.1% rounds up to a whole cent
        (1, Fraction(1, 1000), 0, 1),
        (1_000_000, Fraction(0), 0, 0),
    ],
)
def test_fee_rounds_up_and_honours_the_minimum(
    notional: int, rate: Fraction, minimum: int, fee: int
) -> None:
    """The commission is the rate part rounded up to the cent, at least the minimum."""
    assert fee_cents(notional, rate, minimum) == fee


@pytest.mark.parametrize("notional", [0, -1, -1_000_000])
def test_no_notional_pays_no_fee_not_even_the_minimum(notional: int) -> None:
    """A notional of zero (nothing traded) owes no commission, whatever the minimum."""
    assert fee_cents(notional, Fraction(1, 1000), 500) == 0


@pytest.mark.parametrize(
    ("price", "slippage", "buy", "sell"),
    [
        # 99.98 worsened by 5 bps (500 millionths): 1_000_299.9 up, 999_300.1 down
        (999_800, 500, 1_000_300, 999_300),
        # 6 bps: 1_000_399.88 up, 999_200.12 down
        (999_800, 600, 1_000_400, 999_200),
        # exact products need no rounding
        (1_000_000, 500, 1_000_500, 999_500),
        (1_000_000, 0, 1_000_000, 1_000_000),
        # a single tick: a buy rounds up to 2, a sale down to 0
        (1, 1, 2, 0),
    ],
)
def test_buy_price_rounds_up_and_sell_price_rounds_down(
    price: int, slippage: int, buy: int, sell: int
) -> None:
    """Slippage worsens a buy price upward and a sell price downward, to whole ticks."""
    assert buy_price(price, slippage) == buy
    assert sell_price(price, slippage) == sell


# --- formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (129_729, "1297.29"),
        (9_569, "95.69"),
        (5, "0.05"),
        (0, "0.00"),
        (-5, "-0.05"),
        (-129_729, "-1297.29"),
    ],
)
def test_format_cents_round_trips(cents: int, text: str) -> None:
    """format_cents writes two decimals and to_cents reads them back unchanged."""
    assert format_cents(cents) == text
    assert to_cents(text) == cents


@pytest.mark.parametrize(
    ("ticks", "text"),
    [(999_800, "99.9800"), (1, "0.0001"), (0, "0.0000"), (-1_000_400, "-100.0400")],
)
def test_format_ticks_round_trips(ticks: int, text: str) -> None:
    """format_ticks writes four decimals and to_ticks reads them back unchanged."""
    assert format_ticks(ticks) == text
    assert to_ticks(text) == ticks


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(1, 1000), "0.001"),
        (Fraction(6), "6"),
        (Fraction(1, 2), "0.5"),
        (Fraction(3, 8), "0.375"),
        (Fraction(0), "0"),
    ],
)
def test_format_fraction_round_trips_decimal_fractions(value: Fraction, text: str) -> None:
    """A fraction with a finite decimal form is written as that decimal and read back exactly."""
    assert format_fraction(value) == text
    assert to_fraction(text) == value


def test_format_fraction_keeps_a_repeating_fraction_exact() -> None:
    """A fraction without a finite decimal form is written as n/d, never as a rounded decimal."""
    assert format_fraction(Fraction(1, 3)) == "1/3"
