"""Inputs (bars, signals, cancels) and the events an engine logs, all immutable.

Prices are integer ticks, money integer cents (see ``money``). ``timestamp`` is
the scenario's own label (an int or an ISO-8601 string); engines order time
by the scenario's timeline, never by comparing labels.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from .orders import OrderState, Reason, Side, TimeInForce

Timestamp = int | str


@dataclass(frozen=True, slots=True)
class Bar:
    timestamp: Timestamp
    symbol: str
    open: int
    high: int
    low: int
    close: int
    volume: int


@dataclass(frozen=True, slots=True)
class Signal:
    """A wish to trade. Without ``quantity`` the sizer decides (a SELL closes the
    position not already pending sale); with it, the order is that size, still
    checked against available cash and shares."""

    timestamp: Timestamp
    symbol: str
    side: Side
    quantity: int | None = None
    strength: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.DAY


@dataclass(frozen=True, slots=True)
class Cancel:
    timestamp: Timestamp
    order_id: int


# --- events in the log -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarketUpdated:
    """Bars arrived: marks moved to these closes (ticks)."""

    timestamp: Timestamp
    marks: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class OrderAccepted:
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


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """A signal that could not become a live order (it exists, in state REJECTED)."""

    timestamp: Timestamp
    order_id: int
    signal_index: int
    symbol: str
    side: Side
    requested: int
    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class OrderFilled:
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


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    timestamp: Timestamp
    order_id: int
    cancel_index: int
    released: int


@dataclass(frozen=True, slots=True)
class CancelIgnored:
    """A cancel that found no live order (unknown id, or already terminal)."""

    timestamp: Timestamp
    order_id: int
    cancel_index: int
    reason: Reason
    state: OrderState | None


@dataclass(frozen=True, slots=True)
class OrderExpired:
    timestamp: Timestamp
    order_id: int
    released: int


@dataclass(frozen=True, slots=True)
class FillRefused:
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
    for field in fields(event):
        value = getattr(event, field.name)
        body[field.name] = [list(pair) for pair in value] if isinstance(value, tuple) else value
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
