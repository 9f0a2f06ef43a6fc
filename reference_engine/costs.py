"""Commission and slippage, priced per order on its cumulative notional.

Commission is charged on an order's cumulative notional (the minimum applies
once per order), and each fill pays the difference from the previous fill. So
partial fills never add rounding or minimum fees: an order filled in ten parts
pays to the cent what it would pay in one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

from .money import (
    MILLIONTHS_PER_BP,
    buy_price,
    cost_cents,
    fee_cents,
    proceeds_cents,
)


@dataclass(frozen=True, slots=True)
class Costs:
    """Commission ``rate`` (0 <= rate < 1) with a per-order ``commission_min`` in
    cents, and slippage in millionths: fixed (``slippage``) or, when
    ``random_slippage`` is set, drawn uniformly from 0..``max_slippage`` with
    the scenario seed."""

    commission_rate: Fraction = Fraction(0)
    commission_min: int = 0
    max_slippage: int = 0
    random_slippage: bool = False

    def buy_total(self, notional: int) -> int:
        """Cents a buy of cumulative ``notional`` ticks costs, commission included."""
        if notional <= 0:
            return 0
        return cost_cents(notional) + fee_cents(notional, self.commission_rate, self.commission_min)

    def sell_net(self, notional: int) -> int:
        """Signed cents a sale of cumulative ``notional`` ticks pays, net of commission."""
        if notional <= 0:
            return 0
        return proceeds_cents(notional) - fee_cents(
            notional, self.commission_rate, self.commission_min
        )

    def buy_fill(self, before: int, after: int) -> tuple[int, int]:
        """(cash delta, commission) of a buy fill taking an order's cumulative notional
        from ``before`` to ``after`` ticks (0 <= before <= after): exactly
        ``buy_total(before) - buy_total(after)``, with each fee computed once."""
        rate, minimum = self.commission_rate, self.commission_min
        fee_before = fee_cents(before, rate, minimum)
        fee_after = fee_cents(after, rate, minimum)
        delta = cost_cents(before) + fee_before - cost_cents(after) - fee_after
        return delta, fee_after - fee_before

    def sell_fill(self, before: int, after: int) -> tuple[int, int]:
        """(cash delta, commission) of a sell fill taking an order's cumulative notional
        from ``before`` to ``after`` ticks (0 <= before <= after): exactly
        ``sell_net(after) - sell_net(before)``, with each fee computed once."""
        rate, minimum = self.commission_rate, self.commission_min
        fee_before = fee_cents(before, rate, minimum)
        fee_after = fee_cents(after, rate, minimum)
        delta = proceeds_cents(after) - fee_after - proceeds_cents(before) + fee_before
        return delta, fee_after - fee_before

    def limit_price(self, reference_price: int) -> int:
        """The worst price a BUY reserved for: reference plus the maximum slippage."""
        return buy_price(reference_price, self.max_slippage)

    def sell_reserve(self) -> int:
        """Cents a SELL must hold: its worst cumulative net, never worse than this.

        With rate < 1 a sale's net proceeds are at least ``-commission_min``, or
        -1 cent from rounding when the rate alone applies.
        """
        rounding = 1 if self.commission_rate.numerator > 0 else 0
        return max(self.commission_min, rounding)

    def affordable(self, cash: int, limit_price: int) -> int:
        """Largest quantity whose worst-case cost at ``limit_price`` fits in ``cash``."""
        if cash <= 0 or limit_price <= 0:
            return 0
        rate = self.commission_rate
        # cost + fee <= cash splits into cost + minimum <= cash and cost + rate part <= cash
        by_minimum = (cash - self.commission_min) * 100 // limit_price
        if by_minimum <= 0:
            return 0
        by_rate = int(
            cash * 100 * rate.denominator // (limit_price * (rate.denominator + rate.numerator))
        )
        # both are upper bounds (cost >= notional/100 and fee >= rate x notional/100), so
        # the answer is at most their minimum and a short walk down (rounding) finds it
        quantity = min(by_minimum, by_rate)
        while quantity > 0 and self.buy_total(quantity * limit_price) > cash:
            quantity -= 1
        return quantity


class SlippageSource:
    """Slippage per fill attempt, in millionths: fixed, or seeded and bounded."""

    __slots__ = ("_maximum", "_random")

    def __init__(self, costs: Costs, seed: int) -> None:
        self._maximum = costs.max_slippage
        self._random = random.Random(seed) if costs.random_slippage else None

    def draw(self) -> int:
        if self._random is None:
            return self._maximum
        return self._random.randint(0, self._maximum)


def bps_to_millionths(bps: Fraction) -> int:
    """Basis points to millionths, rounded up (a reservation must not be too small)."""
    value = bps * MILLIONTHS_PER_BP
    return -(-value.numerator // value.denominator)
