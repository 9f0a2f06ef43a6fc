"""sizers.py: each sizer's target position, computed by hand in ticks.

Equity 1297.29 is 12_972_900 ticks; the price 99.98 is 999_800 ticks.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from cashfuzz.reference_engine import FixedAmount, FixedShares, Kelly, PercentEquity

EQUITY = 12_972_900
PRICE = 999_800
FULL = Fraction(1)


@pytest.mark.parametrize(
    ("amount", "shares"),
    [
        # 1000.00 / 99.98 = 10.002
        (100_000, 10),
        # 999.80 / 99.98 = 10 exactly
        (99_980, 10),
        # 999.79 / 99.98 = 9.9999
        (99_979, 9),
        (1, 0),
    ],
)
def test_fixed_amount_targets_the_whole_shares_the_amount_buys(amount: int, shares: int) -> None:
    """fixed_amount targets floor(amount / price), whatever the equity or strength."""
    sizer = FixedAmount(amount)
    assert sizer.target(PRICE, EQUITY, FULL) == shares
    assert sizer.target(PRICE, 0, Fraction(1, 2)) == shares


@pytest.mark.parametrize(
    ("fraction", "equity", "shares"),
    [
        # 10% of 1297.29 = 129.729 -> 1.2975 shares
        (Fraction(1, 10), EQUITY, 1),
        # 50% = 648.645 -> 6.4877 shares
        (Fraction(1, 2), EQUITY, 6),
        # 100% -> 12.9755 shares
        (Fraction(1), EQUITY, 12),
        (Fraction(1, 2), 0, 0),
        (Fraction(1, 2), -EQUITY, 0),
    ],
)
def test_percent_equity_targets_a_fraction_of_equity(
    fraction: Fraction, equity: int, shares: int
) -> None:
    """percent_equity targets floor(fraction x equity / price), never below zero."""
    assert PercentEquity(fraction).target(PRICE, equity, FULL) == shares


@pytest.mark.parametrize(
    ("strength", "shares"),
    [
        # f = 0.78 - 0.22 / 2 = 0.67: 8_691_843 / 999_800 = 8.69
        (Fraction(78, 100), 8),
        # f = 0.56 - 0.44 / 2 = 0.34: 4_410_786 / 999_800 = 4.41
        (Fraction(56, 100), 4),
        # f = 0.46 - 0.54 / 2 = 0.19: 2_464_851 / 999_800 = 2.47
        (Fraction(46, 100), 2),
        # f = 1: 12.98
        (Fraction(1), 12),
    ],
)
def test_kelly_targets_the_seed_quantities(strength: Fraction, shares: int) -> None:
    """Full Kelly with payoff 2 at equity 1297.29 and price 99.98 gives 8, 4 and 2 shares."""
    assert Kelly(Fraction(1)).target(PRICE, EQUITY, strength) == shares


@pytest.mark.parametrize(
    "strength",
    [
        # f = 0.30 - 0.70 / 2 = -0.05
        Fraction(3, 10),
        # f = 1/3 - (2/3) / 2 = 0 exactly
        Fraction(1, 3),
        Fraction(0),
    ],
)
def test_kelly_with_no_edge_targets_nothing(strength: Fraction) -> None:
    """A Kelly fraction of zero or below targets zero shares, never a negative position."""
    assert Kelly(Fraction(1)).target(PRICE, EQUITY, strength) == 0


def test_kelly_scales_by_fraction_and_payoff() -> None:
    """Half Kelly of 0.67 is 0.335 (4.35 shares); payoff 1 makes f = 0.56 (7.27 shares)."""
    assert Kelly(Fraction(1, 2)).target(PRICE, EQUITY, Fraction(78, 100)) == 4
    assert Kelly(Fraction(1), payoff=Fraction(1)).target(PRICE, EQUITY, Fraction(78, 100)) == 7


@pytest.mark.parametrize("equity", [0, -EQUITY])
def test_kelly_without_equity_targets_nothing(equity: int) -> None:
    """Kelly targets zero shares when equity is zero or negative, whatever the edge."""
    assert Kelly(Fraction(1)).target(PRICE, equity, Fraction(78, 100)) == 0


def test_fixed_shares_targets_its_share_count() -> None:
    """fixed_shares targets its count, whatever the price, equity or strength."""
    assert FixedShares(5).target(PRICE, EQUITY, FULL) == 5
    assert FixedShares(5).target(1, 0, Fraction(0)) == 5


@pytest.mark.parametrize(
    ("sizer", "data"),
    [
        (FixedAmount(100_000), {"kind": "fixed_amount", "amount": "1000.00"}),
        (PercentEquity(Fraction(1, 10)), {"kind": "percent_equity", "fraction": "0.1"}),
        (Kelly(Fraction(1, 2)), {"kind": "kelly", "fraction": "0.5", "payoff": "2"}),
        (FixedShares(5), {"kind": "fixed_shares", "shares": 5}),
    ],
)
def test_sizers_write_their_scenario_form(sizer: object, data: dict[str, object]) -> None:
    """Each sizer writes the scenario-file dict it is read from, money and fractions as strings."""
    assert sizer.to_dict() == data  # type: ignore[attr-defined]
