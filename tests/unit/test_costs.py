"""costs.py: per-order commission on the cumulative notional, affordability, slippage."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashfuzz.reference_engine import Costs
from cashfuzz.reference_engine.costs import SlippageSource, bps_to_millionths

RATE = Fraction(1, 1000)


def test_buy_total_adds_the_rounded_up_commission_to_the_rounded_up_cost() -> None:
    """8 shares at 100.04 cost 800.32 plus 0.81 of commission (0.80032 rounded up)."""
    assert Costs(RATE).buy_total(8 * 1_000_400) == 80_032 + 81


def test_sell_net_takes_the_commission_from_the_rounded_down_proceeds() -> None:
    """3 shares at 101.00 pay 303.00 minus 0.31 of commission (0.303 rounded up)."""
    assert Costs(RATE).sell_net(3 * 1_010_000) == 30_300 - 31


@pytest.mark.parametrize("notional", [0, -5])
def test_nothing_traded_costs_and_pays_nothing(notional: int) -> None:
    """A zero notional costs nothing, even with a commission minimum."""
    costs = Costs(RATE, commission_min=500)
    assert costs.buy_total(notional) == 0
    assert costs.sell_net(notional) == 0


def test_buy_and_sell_in_parts_telescope_to_one_fill() -> None:
    """Filling 2 + 2 + 1 shares at 100.0030 pays exactly what one fill of 5 pays,
    the 1.00 commission minimum included once.

    One fill of 5: 5_000_150 ticks -> cost 50_002 (up) + max(51, 100) = 50_102 cents.
    In parts on the cumulative notional: 20_101, 40_102 - 20_101 = 20_001, 50_102 -
    40_102 = 10_000, summing to 50_102; priced one fill at a time they would be
    20_101 + 20_101 + 10_101 = 50_303. A sale: 50_001 (down) - 100 = 49_901 both ways.
    """
    costs = Costs(RATE, commission_min=100)
    cumulative = [0, 2_000_060, 4_000_120, 5_000_150]
    buys = [costs.buy_total(b) - costs.buy_total(a) for a, b in itertools.pairwise(cumulative)]
    sells = [costs.sell_net(b) - costs.sell_net(a) for a, b in itertools.pairwise(cumulative)]
    assert buys == [20_101, 20_001, 10_000]
    assert sum(buys) == costs.buy_total(5_000_150) == 50_102
    assert sum(costs.buy_total(b - a) for a, b in itertools.pairwise(cumulative)) == 50_303
    assert sells == [19_900, 20_001, 10_000]
    assert sum(sells) == costs.sell_net(5_000_150) == 49_901


@given(
    parts=st.lists(st.integers(1, 50), min_size=1, max_size=8),
    price=st.integers(1, 3_000_000),
    rate=st.sampled_from([Fraction(0), RATE, Fraction(37, 10_000)]),
    minimum=st.sampled_from([0, 1, 500]),
)
def test_any_split_of_an_order_pays_what_one_fill_pays(
    parts: list[int], price: int, rate: Fraction, minimum: int
) -> None:
    """However an order's quantity is split into fills at one price, the per-fill
    amounts sum to the single-fill amount, for buys and for sales."""
    costs = Costs(rate, minimum)
    cumulative = [0, *itertools.accumulate(q * price for q in parts)]
    pairs = list(itertools.pairwise(cumulative))
    assert sum(costs.buy_total(b) - costs.buy_total(a) for a, b in pairs) == costs.buy_total(
        cumulative[-1]
    )
    assert sum(costs.sell_net(b) - costs.sell_net(a) for a, b in pairs) == costs.sell_net(
        cumulative[-1]
    )


# --- affordable ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("costs", "cash", "limit", "quantity"),
    [
        # 12 x 100.04 = 1200.48 + 1.21 = 1201.69 fits 1297.29; 13 needs 1300.52 + 1.31
        (Costs(RATE), 129_729, 1_000_400, 12),
        # the seed's third signal: one share needs 100.04 + 0.11 > 95.59
        (Costs(RATE), 9_559, 1_000_400, 0),
        # 1000.00 buys 10 x 100.00 only without commission; with 0.1% it is 9 (1000.10 > 1000.00)
        (Costs(), 100_000, 1_000_000, 10),
        (Costs(RATE), 100_000, 1_000_000, 9),
        # the 5.00 minimum: one share at 100.00 costs exactly 105.00
        (Costs(RATE, commission_min=500), 10_500, 1_000_000, 1),
        (Costs(RATE, commission_min=500), 10_499, 1_000_000, 0),
        # a minimum above the cash buys nothing
        (Costs(Fraction(0), commission_min=500), 400, 1, 0),
        # tiny prices: 100 shares at one tick are one cent, plus a one-cent fee rounded up
        (Costs(RATE), 2, 1, 100),
        (Costs(RATE), 1, 1, 0),
        (Costs(), 1, 1, 100),
        # 33 x 3 ticks = 99 ticks round up to one cent; 34 x 3 = 102 ticks are two cents
        (Costs(), 1, 3, 33),
        (Costs(RATE), 0, 1_000_000, 0),
        (Costs(RATE), -100, 1_000_000, 0),
        (Costs(RATE), 100_000, 0, 0),
    ],
)
def test_affordable_is_the_largest_quantity_that_fits(
    costs: Costs, cash: int, limit: int, quantity: int
) -> None:
    """affordable() returns the hand-computed largest quantity whose buy_total fits the cash."""
    assert costs.affordable(cash, limit) == quantity


_GRID = list(
    itertools.product(
        [Fraction(0), RATE, Fraction(1, 400), Fraction(37, 10_000)],
        [0, 1, 500],
        [1, 99, 10_015, 129_729, 1_000_000],
        [1, 3, 97, 123_457, 999_800, 1_000_400],
    )
)


@pytest.mark.parametrize(("rate", "minimum", "cash", "limit"), _GRID)
def test_affordable_fits_and_one_more_does_not(
    rate: Fraction, minimum: int, cash: int, limit: int
) -> None:
    """Over a grid of rates, minimums, cash and prices, affordable() fits and one more does not."""
    costs = Costs(rate, minimum)
    quantity = costs.affordable(cash, limit)
    assert quantity >= 0
    if quantity:
        assert costs.buy_total(quantity * limit) <= cash
    assert costs.buy_total((quantity + 1) * limit) > cash


# --- sell reserve, limit price, slippage ----------------------------------------------------


@pytest.mark.parametrize(
    ("costs", "reserve"),
    [
        (Costs(), 0),
        (Costs(RATE), 1),
        (Costs(RATE, commission_min=500), 500),
        (Costs(Fraction(0), commission_min=500), 500),
    ],
)
def test_sell_reserve_covers_the_worst_net_of_a_sale(costs: Costs, reserve: int) -> None:
    """A SELL holds the minimum commission, or one cent of rounding when only a rate applies."""
    assert costs.sell_reserve() == reserve
    worst = min(costs.sell_net(n) for n in [*range(1, 400), 1_000_000, 123_456_789])
    assert worst >= -reserve


def test_limit_price_is_the_reference_worsened_by_the_maximum_slippage() -> None:
    """99.98 plus 5 bps (500 millionths) is 100.02999 rounded up to 100.0300."""
    assert Costs(max_slippage=500).limit_price(999_800) == 1_000_300
    assert Costs().limit_price(999_800) == 999_800


@pytest.mark.parametrize(
    ("bps", "millionths"),
    [
        (Fraction(6), 600),
        (Fraction(5), 500),
        (Fraction(0), 0),
        (Fraction(1, 3), 34),
        (Fraction(1, 1000), 1),
    ],
)
def test_bps_to_millionths_rounds_up(bps: Fraction, millionths: int) -> None:
    """Basis points become millionths (x100), rounded up so a reservation is never too small."""
    assert bps_to_millionths(bps) == millionths


def test_fixed_slippage_is_always_the_maximum() -> None:
    """A fixed slippage draws its value every time, whatever the seed."""
    for seed in (0, 7):
        source = SlippageSource(Costs(max_slippage=600), seed)
        assert {source.draw() for _ in range(20)} == {600}


def test_random_slippage_is_deterministic_for_a_seed_and_bounded() -> None:
    """Two sources with one seed draw the same sequence, within 0..max, reaching both ends."""
    costs = Costs(max_slippage=600, random_slippage=True)
    first, second = SlippageSource(costs, 7), SlippageSource(costs, 7)
    draws = [first.draw() for _ in range(200)]
    assert draws == [second.draw() for _ in range(200)]
    assert all(0 <= d <= 600 for d in draws)
    other = SlippageSource(costs, 8)
    assert [other.draw() for _ in range(200)] != draws
    narrow = SlippageSource(Costs(max_slippage=3, random_slippage=True), 1)
    assert {narrow.draw() for _ in range(200)} == {0, 1, 2, 3}


def test_random_slippage_with_zero_maximum_is_zero() -> None:
    """A random slippage bounded by zero always draws zero."""
    source = SlippageSource(Costs(max_slippage=0, random_slippage=True), 3)
    assert {source.draw() for _ in range(20)} == {0}
