"""Inputs (bars, signals, cancels) and the events an engine logs, all immutable.

Each is a named tuple made to behave like a frozen dataclass (``records``):
read-only, equal only to the same class with the same values, and built in one
C call, because the engine builds one per fill, acceptance and bar.

Prices are integer ticks, money integer cents (see ``money``). ``timestamp`` is
the scenario's own label (an int or an ISO-8601 string); engines order time
by the scenario's timeline, never by comparing labels.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from .orders import OrderState, Reason, Side, TimeInForce
from .records import frozen_record

Timestamp = int | str


@frozen_record
class Bar(NamedTuple):
    timestamp: Timestamp
    symbol: str
    open: int
    high: int
    low: int
    close: int
    volume: int


@frozen_record
class Signal(NamedTuple):
    """A wish to trade. Without ``quantity`` the sizer decides (a SELL closes the
    position not already pending sale); with it, the order is that size, still
    checked against available cash and shares."""

    timestamp: Timestamp
    symbol: str
    side: Side
    quantity: int | None = None
    strength: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY


@frozen_record
class Cancel(NamedTuple):
    timestamp: Timestamp
    order_id: int


# --- events in the log -------------------------------------------------------


@frozen_record
class MarketUpdated(NamedTuple):
    """Bars arrived: marks moved to these closes (ticks)."""

    timestamp: Timestamp
    marks: tuple[tuple[str, int], ...]


@frozen_record
class OrderAccepted(NamedTuple):
    """A signal became an order; ``reason`` is set when it was resized from ``requested``."""

    timestamp: Timestamp
    order_id: int
    signal_index: int
    symbol: str
    side: Side
    quantity: int
    requested: int
    reference_price: int
    limit_price: int
    reserved: int
    time_in_force: TimeInForce
    reason: Reason | None = None


@frozen_record
class OrderRejected(NamedTuple):
    """A signal that could not become a live order (it exists, in state REJECTED)."""

    timestamp: Timestamp
    order_id: int
    signal_index: int
    symbol: str
    side: Side
    requested: int
    reason: Reason
    detail: str


@frozen_record
class OrderFilled(NamedTuple):
    """Part or all of an order traded. ``cash_delta`` is signed (a buy is negative)."""

    timestamp: Timestamp
    order_id: int
    symbol: str
    side: Side
    quantity: int
    price: int
    commission: int
    cash_delta: int
    released: int
    filled_total: int
    remaining: int


@frozen_record
class OrderCancelled(NamedTuple):
    timestamp: Timestamp
    order_id: int
    cancel_index: int
    released: int


@frozen_record
class CancelIgnored(NamedTuple):
    """A cancel that found no live order (unknown id, or already terminal)."""

    timestamp: Timestamp
    order_id: int
    cancel_index: int
    reason: Reason
    state: OrderState | None


@frozen_record
class OrderExpired(NamedTuple):
    timestamp: Timestamp
    order_id: int
    released: int


@frozen_record
class FillRefused(NamedTuple):
    """A fill the ledger could not pay for (only engines without reservation get here)."""

    timestamp: Timestamp
    order_id: int
    symbol: str
    side: Side
    quantity: int
    price: int
    needed: int
    cash: int


Event = (
    MarketUpdated
    | OrderAccepted
    | OrderRejected
    | OrderFilled
    | OrderCancelled
    | CancelIgnored
    | OrderExpired
    | FillRefused
)

EVENT_TYPES: tuple[type, ...] = (
    MarketUpdated,
    OrderAccepted,
    OrderRejected,
    OrderFilled,
    OrderCancelled,
    CancelIgnored,
    OrderExpired,
    FillRefused,
)


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready dict of ``event`` with its type under ``"event"``."""
    body: dict[str, Any] = {"event": type(event).__name__}
    for name, value in zip(event._fields, event, strict=True):
        body[name] = [list(pair) for pair in value] if isinstance(value, tuple) else value
    return body


__all__ = [
    "EVENT_TYPES",
    "Bar",
    "Cancel",
    "CancelIgnored",
    "Event",
    "FillRefused",
    "MarketUpdated",
    "OrderAccepted",
    "OrderCancelled",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "Signal",
    "Timestamp",
    "event_to_dict",
]
