"""Position sizers: each turns a signal into a target position in shares.

A sizer only says how many shares the strategy wants to hold. The engine then
subtracts what is held and pending, and caps the order by the cash it can
reserve; so a sizer never sees stale cash and never decides to sell.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

from .money import format_cents, format_fraction


class Sizer(Protocol):
    @property
    def kind(self) -> str:
        """The scenario file's name for this sizer."""
        ...

    def target(self, reference_price: int, equity: int, strength: Fraction) -> int:
        """Target shares at ``reference_price`` ticks given ``equity`` in ticks."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """The scenario-file form, e.g. ``{"kind": "kelly", "fraction": "1"}``."""
        ...


@dataclass(frozen=True, slots=True)
class FixedAmount:
    """Hold ``amount`` cents worth of the symbol."""

    amount: int
    kind: str = "fixed_amount"

    def target(self, reference_price: int, equity: int, strength: Fraction) -> int:
        return self.amount * 100 // reference_price

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "amount": format_cents(self.amount)}


@dataclass(frozen=True, slots=True)
class PercentEquity:
    """Hold ``fraction`` of equity (cash plus positions at their marks)."""

    fraction: Fraction
    kind: str = "percent_equity"

    def target(self, reference_price: int, equity: int, strength: Fraction) -> int:
        fraction = self.fraction
        return max(0, equity * fraction.numerator // (fraction.denominator * reference_price))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "fraction": format_fraction(self.fraction)}


@dataclass(frozen=True, slots=True)
class Kelly:
    """Hold ``fraction`` x Kelly of equity, with the signal's strength as the win
    probability p and ``payoff`` b as the win/loss ratio: f = p - (1 - p) / b."""

    fraction: Fraction
    payoff: Fraction = Fraction(2)
    kind: str = "kelly"

    def target(self, reference_price: int, equity: int, strength: Fraction) -> int:
        kelly = strength - (1 - strength) / self.payoff
        if kelly <= 0 or equity <= 0:
            return 0
        share = self.fraction * kelly
        return equity * share.numerator // (share.denominator * reference_price)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "fraction": format_fraction(self.fraction),
            "payoff": format_fraction(self.payoff),
        }


@dataclass(frozen=True, slots=True)
class FixedShares:
    """Hold ``shares`` shares."""

    shares: int
    kind: str = "fixed_shares"

    def target(self, reference_price: int, equity: int, strength: Fraction) -> int:
        return self.shares

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "shares": self.shares}


SIZER_KINDS: tuple[str, ...] = ("fixed_amount", "percent_equity", "kelly", "fixed_shares")
