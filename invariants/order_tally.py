"""Running totals over a run's orders, so the monitor's cost per event stays flat.

Four invariants look at every order (``reserved_matches_orders``,
``terminal_orders_hold_nothing``, ``no_oversell``, ``legal_lifecycle``). Walking
all of them after every event makes a run of n events cost n^2. ``OrderTally``
keeps what those walks compute (what open orders hold, the open sells per symbol,
which orders hold a negative or a terminal reservation) and updates it from the
orders an event changed, when the snapshot says which (see
``reference_engine.OrderViews``). The verdicts and messages are the pure checks'
own (``checks``), so the two ways cannot disagree; the monitor falls back to the
pure checks for snapshots that do not say what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cashfuzz.reference_engine import TERMINAL_STATES, LedgerSnapshot, OrderView, Side

from .checks import order_move, orders_vanished, oversold, reserved_mismatch, terminal_holding

_SELL = Side.SELL


class OrderTally:
    """What the order-walking invariants need, for one snapshot's orders."""

    __slots__ = ("negative", "open_reserved", "pending_sells", "terminal_holding")

    def __init__(self, orders: Iterable[OrderView] = ()) -> None:
        self.open_reserved = 0
        self.pending_sells: dict[str, int] = {}
        #: ids of orders holding a negative reservation
        self.negative: set[int] = set()
        #: ids of terminal orders still holding a reservation
        self.terminal_holding: set[int] = set()
        for order in orders:
            self._count(order, 1)

    def update(self, before: LedgerSnapshot, after: LedgerSnapshot, changed: Iterable[int]) -> None:
        """Move the totals from ``before``'s orders to ``after``'s, given the ids of
        every order that differs between them."""
        for order_id in changed:
            old = before.order(order_id)
            if old is not None:
                self._count(old, -1)
            new = after.order(order_id)
            if new is not None:
                self._count(new, 1)

    def _count(self, order: OrderView, sign: int) -> None:
        order_id = order.order_id
        if order.state in TERMINAL_STATES:
            if order.reserved != 0:
                _toggle(self.terminal_holding, order_id, sign)
        else:
            self.open_reserved += sign * order.reserved
            if order.side is _SELL:
                pending = self.pending_sells
                pending[order.symbol] = pending.get(order.symbol, 0) + sign * (
                    order.quantity - order.filled
                )
        if order.reserved < 0:
            _toggle(self.negative, order_id, sign)


def _toggle(ids: set[int], order_id: int, sign: int) -> None:
    if sign > 0:
        ids.add(order_id)
    else:
        ids.discard(order_id)


def _first(after: LedgerSnapshot, ids: set[int]) -> OrderView | None:
    # the ledger stores orders in id order, so the lowest id is the first the walk meets
    return after.order(min(ids)) if ids else None


def reserved_matches_orders(tally: OrderTally, after: LedgerSnapshot) -> str | None:
    """``checks.reserved_matches_orders`` from the running totals."""
    return reserved_mismatch(after, tally.open_reserved, _first(after, tally.negative))


def terminal_orders_hold_nothing(tally: OrderTally, after: LedgerSnapshot) -> str | None:
    """``checks.terminal_orders_hold_nothing`` from the running totals."""
    return terminal_holding(_first(after, tally.terminal_holding))


def no_oversell(tally: OrderTally, after: LedgerSnapshot) -> str | None:
    """``checks.no_oversell`` from the running totals."""
    return oversold(after, tally.pending_sells)


def legal_lifecycle(
    before: LedgerSnapshot, after: LedgerSnapshot, changed: Iterable[int]
) -> str | None:
    """``checks.legal_lifecycle`` looking only at the orders that changed (an unchanged
    order was checked when it last changed)."""
    for order_id in sorted(changed):
        order = after.order(order_id)
        if order is None:
            continue  # it vanished: orders_vanished names it
        message = order_move(before.order(order_id), order)
        if message is not None:
            return message
    return orders_vanished(before, after)


TalliedCheck = Callable[[OrderTally, LedgerSnapshot], str | None]

#: The state checks that walk every order, in their tallied form.
TALLIED_STATE_CHECKS: dict[str, TalliedCheck] = {
    "reserved_matches_orders": reserved_matches_orders,
    "terminal_orders_hold_nothing": terminal_orders_hold_nothing,
    "no_oversell": no_oversell,
}

__all__ = ["TALLIED_STATE_CHECKS", "OrderTally", "legal_lifecycle"]
