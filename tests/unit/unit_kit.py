"""Helpers for the engine unit tests: bars, configs, and an observer that audits the books.

Prices are ticks (1_000_000 = 100.0000), money cents. The default config has
1000.00 of cash, a 0.1% commission, no minimum and no slippage, so a BUY's
limit price is its reference close and every number in the tests is short.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, TypeVar

from cashfuzz.reference_engine import (
    Bar,
    Costs,
    Engine,
    EngineConfig,
    Event,
    LedgerSnapshot,
    OrderFilled,
    Side,
    Signal,
    Timestamp,
)

#: 100.0000 in ticks.
PRICE = 1_000_000
#: 1000.00 in cents.
CASH = 100_000
#: 0.1% commission, no minimum, no slippage.
COSTS = Costs(commission_rate=Fraction(1, 1000))

E = TypeVar("E")


def bar(
    timestamp: Timestamp,
    symbol: str,
    open_: int,
    close: int | None = None,
    volume: int = 1_000_000,
) -> Bar:
    """A bar whose high and low are its open and close."""
    close = open_ if close is None else close
    return Bar(timestamp, symbol, open_, max(open_, close), min(open_, close), close, volume)


def buy(timestamp: Timestamp, symbol: str, quantity: int | None = None, **kw: Any) -> Signal:
    return Signal(timestamp, symbol, Side.BUY, quantity, **kw)


def sell(timestamp: Timestamp, symbol: str, quantity: int | None = None, **kw: Any) -> Signal:
    return Signal(timestamp, symbol, Side.SELL, quantity, **kw)


def config(**overrides: Any) -> EngineConfig:
    values: dict[str, Any] = {"initial_cash": CASH, "costs": COSTS}
    values.update(overrides)
    return EngineConfig(**values)


@dataclass
class Books:
    """An observer that checks, after every event, that the reservation total
    equals the open orders' reservations, terminal orders hold nothing, and
    cash equals initial cash plus the logged fills' cash deltas."""

    events: list[Event] = field(default_factory=list)
    snapshots: list[LedgerSnapshot] = field(default_factory=list)
    fill_cash: int = 0

    def __call__(self, event: Event, after: LedgerSnapshot) -> None:
        self.events.append(event)
        self.snapshots.append(after)
        if isinstance(event, OrderFilled):
            self.fill_cash += event.cash_delta
        open_held = sum(o.reserved for o in after.orders if o.is_open)
        assert after.reserved == open_held, (event, after.reserved, open_held)
        assert all(o.reserved == 0 for o in after.orders if not o.is_open), event
        assert after.cash == after.initial_cash + self.fill_cash, (event, after.cash)
        assert after.cash >= 0, event


def engine(**overrides: Any) -> tuple[Engine, Books]:
    """A reference engine with ``config(**overrides)`` and an auditing observer."""
    books = Books()
    return Engine(config(**overrides), books), books


def only(events: list[Event], kind: type[E]) -> list[E]:
    """The events of one type, in log order."""
    return [event for event in events if isinstance(event, kind)]


#: One valid bar as a scenario file writes it (the loader tests mutate copies of it).
RAW_BAR: dict[str, Any] = {
    "timestamp": 1,
    "symbol": "A",
    "open": "100.00",
    "high": "101.00",
    "low": "99.00",
    "close": "100.50",
    "volume": 1000,
}
