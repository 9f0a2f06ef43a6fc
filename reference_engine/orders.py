"""Order vocabulary: sides, time in force, lifecycle states and their legal moves."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from .records import frozen_record


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class TimeInForce(StrEnum):
    #: Lives through the first bar of its symbol at which it is due to fill (filled there
    #: or not), then its remainder expires.
    DAY = "DAY"
    #: Lives until filled or cancelled.
    GTC = "GTC"


class OrderState(StrEnum):
    NEW = "NEW"
    ACCEPTED = "ACCEPTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"


TERMINAL_STATES = frozenset(
    {OrderState.FILLED, OrderState.CANCELLED, OrderState.EXPIRED, OrderState.REJECTED}
)

#: Every legal (from, to) move; terminal states have none.
LEGAL_TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.NEW: frozenset({OrderState.ACCEPTED, OrderState.REJECTED}),
    OrderState.ACCEPTED: frozenset(
        {
            OrderState.PARTIALLY_FILLED,
            OrderState.FILLED,
            OrderState.CANCELLED,
            OrderState.EXPIRED,
        }
    ),
    OrderState.PARTIALLY_FILLED: frozenset(
        {
            OrderState.PARTIALLY_FILLED,
            OrderState.FILLED,
            OrderState.CANCELLED,
            OrderState.EXPIRED,
        }
    ),
}


def is_legal_transition(before: OrderState, after: OrderState) -> bool:
    """True when an order may move from ``before`` to ``after``."""
    return after in LEGAL_TRANSITIONS.get(before, frozenset())


class Reason(StrEnum):
    """Why a signal was resized or rejected, or a cancel ignored."""

    INSUFFICIENT_CASH = "INSUFFICIENT_CASH"
    TARGET_REACHED = "TARGET_REACHED"
    NOTHING_TO_SELL = "NOTHING_TO_SELL"
    EXCEEDS_POSITION = "EXCEEDS_POSITION"
    CANNOT_COVER_FEE = "CANNOT_COVER_FEE"
    NO_PRICE = "NO_PRICE"
    ZERO_SIZE = "ZERO_SIZE"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    ALREADY_TERMINAL = "ALREADY_TERMINAL"
    INSUFFICIENT_CASH_AT_FILL = "INSUFFICIENT_CASH_AT_FILL"


@frozen_record
class OrderView(NamedTuple):
    """An order as a snapshot shows it. Money in cents, prices in ticks.

    ``reserved`` is what the order still holds; ``limit_price`` is the price a
    BUY never fills above (its reservation was computed from it; 0 for SELLs).
    ``cash_flow`` is the signed sum of its fills' cash deltas and ``released``
    the reservation those fills gave back (terminal releases not included).
    """

    order_id: int
    symbol: str
    side: Side
    quantity: int
    filled: int
    state: OrderState
    reserved: int
    reserved_initial: int
    cash_flow: int
    released: int
    time_in_force: TimeInForce
    limit_price: int

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled

    @property
    def is_open(self) -> bool:
        return self.state not in TERMINAL_STATES
