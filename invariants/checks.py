"""The invariants, each a pure function.

A state check takes the snapshot after an event; a transition check takes
(before, event, after) and the running totals of the log so far. Each returns
a message naming the offending values, or None. ``event_index`` is added by
the monitor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cashfuzz.reference_engine import (
    Event,
    FillRefused,
    LedgerSnapshot,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderState,
    OrderView,
    Side,
    is_legal_transition,
)
from cashfuzz.reference_engine.money import TICKS_PER_CENT, format_cents


def _money(cents: int) -> str:
    return format_cents(cents)


@dataclass(slots=True)
class LogTotals:
    """What the event log says so far: the sums conservation checks compare to."""

    cash_delta: int = 0
    shares: dict[str, int] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        if isinstance(event, OrderFilled):
            self.cash_delta += event.cash_delta
            signed = event.quantity if event.side is Side.BUY else -event.quantity
            self.shares[event.symbol] = self.shares.get(event.symbol, 0) + signed


StateCheck = Callable[[LedgerSnapshot], str | None]
TransitionCheck = Callable[[LedgerSnapshot, Event, LedgerSnapshot, LogTotals], str | None]


# --- state checks --------------------------------------------------------------------


def cash_non_negative(after: LedgerSnapshot) -> str | None:
    """Cash is never negative."""
    if after.cash < 0:
        return f"cash={_money(after.cash)} is negative"
    return None


def reserved_within_cash(after: LedgerSnapshot) -> str | None:
    """0 <= reserved <= cash: what is promised to open orders exists."""
    if after.reserved < 0:
        return f"reserved={_money(after.reserved)} is negative"
    if after.reserved > after.cash:
        return (
            f"reserved={_money(after.reserved)} exceeds cash={_money(after.cash)} "
            f"(available={_money(after.available)})"
        )
    return None


def reserved_matches_orders(after: LedgerSnapshot) -> str | None:
    """The total reserved equals the sum of the open orders' remaining reservations."""
    held = sum(o.reserved for o in after.orders if o.is_open)
    negative = next((o for o in after.orders if o.reserved < 0), None)
    return reserved_mismatch(after, held, negative)


def reserved_mismatch(after: LedgerSnapshot, held: int, negative: OrderView | None) -> str | None:
    """``reserved_matches_orders``'s verdict given what the open orders hold and the
    first order holding a negative amount (shared with the monitor's running totals)."""
    if held != after.reserved:
        return (
            f"reserved={_money(after.reserved)} but open orders hold {_money(held)} "
            f"(difference {_money(after.reserved - held)})"
        )
    if negative is not None:
        return f"order {negative.order_id} holds a negative reservation {_money(negative.reserved)}"
    return None


def terminal_orders_hold_nothing(after: LedgerSnapshot) -> str | None:
    """A FILLED, CANCELLED, EXPIRED or REJECTED order holds no reservation."""
    return terminal_holding(
        next((o for o in after.orders if not o.is_open and o.reserved != 0), None)
    )


def terminal_holding(order: OrderView | None) -> str | None:
    """``terminal_orders_hold_nothing``'s message for the first offending order, if any."""
    if order is None:
        return None
    return f"order {order.order_id} is {order.state.value} yet still holds {_money(order.reserved)}"


def no_oversell(after: LedgerSnapshot) -> str | None:
    """Long-only: no position below zero, and pending sells never exceed the position."""
    pending: dict[str, int] = {}
    for order in after.orders:
        if order.is_open and order.side is Side.SELL:
            pending[order.symbol] = pending.get(order.symbol, 0) + order.remaining
    return oversold(after, pending)


def oversold(after: LedgerSnapshot, pending: dict[str, int]) -> str | None:
    """``no_oversell``'s verdict given the open sells' remaining shares per symbol."""
    for position in after.positions:
        if position.quantity < 0:
            return f"position {position.symbol}={position.quantity} is short"
    for symbol, shares in sorted(pending.items()):
        held = after.position(symbol)
        if shares > held:
            return f"pending sells of {symbol}={shares} exceed the position {held}"
    return None


def equity_identity(after: LedgerSnapshot) -> str | None:
    """equity = cash + sum(quantity x mark), exactly (ticks)."""
    marks = dict(after.marks)
    value = after.cash * 100
    for position in after.positions:
        if position.quantity:
            mark = marks.get(position.symbol)
            if mark is None:
                return f"position {position.symbol}={position.quantity} has no mark"
            value += position.quantity * mark
    if value != after.equity:
        return f"equity={after.equity} ticks but cash + positions at marks = {value} ticks"
    return None


# --- transition checks -------------------------------------------------------------------


def legal_lifecycle(
    before: LedgerSnapshot, event: Event, after: LedgerSnapshot, totals: LogTotals
) -> str | None:
    """Orders move only along legal transitions; terminal states are final; an order's
    side, symbol and size never change and its filled quantity never falls or overshoots."""
    known = {o.order_id: o for o in before.orders}
    for order in after.orders:
        message = order_move(known.get(order.order_id), order)
        if message is not None:
            return message
    return orders_vanished(before, after)


def order_move(old: OrderView | None, order: OrderView) -> str | None:
    """``legal_lifecycle`` for one order: its view before (None: it is new) and after."""
    if not 0 <= order.filled <= order.quantity:
        return f"order {order.order_id} filled={order.filled} of quantity={order.quantity}"
    if old is None:
        if order.state not in (OrderState.ACCEPTED, OrderState.REJECTED) or order.filled:
            return (
                f"order {order.order_id} appeared as {order.state.value}, "
                "not by NEW -> ACCEPTED/REJECTED"
            )
        return None
    if old is order or old == order:
        return None  # the ledger hands out the same view for an unchanged order
    if (old.side, old.symbol, old.quantity) != (order.side, order.symbol, order.quantity):
        return f"order {order.order_id} changed from {old.side} {old.quantity} {old.symbol}"
    if order.filled < old.filled:
        return f"order {order.order_id} filled went from {old.filled} down to {order.filled}"
    if old.state != order.state and not is_legal_transition(old.state, order.state):
        return (
            f"order {order.order_id} moved {old.state.value} -> {order.state.value}, "
            "which is not a legal transition"
        )
    if old.state == order.state and not order.is_open:
        return f"order {order.order_id} changed after reaching {order.state.value}"
    return None


def orders_vanished(before: LedgerSnapshot, after: LedgerSnapshot) -> str | None:
    """``legal_lifecycle``'s last word: no order may disappear from the books."""
    if len(after.orders) < len(before.orders):
        return f"orders vanished: {len(before.orders)} before, {len(after.orders)} after"
    return None


def release_exact(
    before: LedgerSnapshot, event: Event, after: LedgerSnapshot, totals: LogTotals
) -> str | None:
    """Reservations move only as logged: an acceptance adds its reservation, a fill,
    cancel or expiry takes away exactly what it says it released, from that order."""
    delta = after.reserved - before.reserved
    if isinstance(event, OrderAccepted):
        expected = event.reserved
    elif isinstance(event, OrderFilled | OrderCancelled | OrderExpired):
        expected = -event.released
        old, new = before.order(event.order_id), after.order(event.order_id)
        if old is not None and new is not None and old.reserved - new.reserved != event.released:
            return (
                f"order {event.order_id} went from holding {_money(old.reserved)} to "
                f"{_money(new.reserved)} but the event released {_money(event.released)}"
            )
        if (
            not isinstance(event, OrderFilled)
            and old is not None
            and event.released != old.reserved
        ):
            return (
                f"order {event.order_id} ended holding {_money(old.reserved)} but "
                f"{type(event).__name__} released {_money(event.released)}"
            )
    elif isinstance(event, FillRefused):
        old = before.order(event.order_id)
        expected = -(old.reserved if old is not None else 0)
    else:
        expected = 0
    if delta != expected:
        return (
            f"reserved moved by {_money(delta)} on {type(event).__name__}, "
            f"which accounts for {_money(expected)}"
        )
    return None


def fill_within_reservation(
    before: LedgerSnapshot, event: Event, after: LedgerSnapshot, totals: LogTotals
) -> str | None:
    """The cash an order's fills took never exceeds the reservation they released, and a
    partial BUY fill releases no more than its share: what the order still holds covers
    its remaining shares at its limit price."""
    if not isinstance(event, OrderFilled):
        return None
    order = after.order(event.order_id)
    if order is None:
        return f"fill for order {event.order_id}, which does not exist"
    if event.released < 0:
        return f"fill of order {event.order_id} released a negative {_money(event.released)}"
    if -order.cash_flow > order.released:
        return (
            f"order {order.order_id} fills cost {_money(-order.cash_flow)} but released only "
            f"{_money(order.released)} of the {_money(order.reserved_initial)} reserved "
            f"(last fill {event.quantity} @ {event.price} ticks, limit {order.limit_price})"
        )
    if order.side is Side.BUY and order.is_open:
        # notional only, rounded down: the reservation's commission part comes on top
        needed = order.remaining * order.limit_price // TICKS_PER_CENT
        if order.reserved < needed:
            return (
                f"order {order.order_id} released {_money(event.released)} on a partial fill "
                f"and holds {_money(order.reserved)}, less than the {_money(needed)} its "
                f"{order.remaining} remaining shares cost at its limit {order.limit_price} ticks"
            )
    return None


def cash_conservation(
    before: LedgerSnapshot, event: Event, after: LedgerSnapshot, totals: LogTotals
) -> str | None:
    """cash = initial - buys - commissions + sells, exactly, by the fills in the log."""
    expected = after.initial_cash + totals.cash_delta
    if after.cash != expected:
        return (
            f"cash={_money(after.cash)} but initial {_money(after.initial_cash)} plus the "
            f"logged fills ({_money(totals.cash_delta)}) is {_money(expected)}"
        )
    if isinstance(event, OrderFilled):
        if event.commission < 0:
            return f"fill of order {event.order_id} has a negative commission"
        if event.side is Side.BUY and event.cash_delta > -event.commission:
            return (
                f"buy fill of order {event.order_id} debited {_money(-event.cash_delta)}, "
                f"less than its commission {_money(event.commission)}"
            )
    return None


def position_conservation(
    before: LedgerSnapshot, event: Event, after: LedgerSnapshot, totals: LogTotals
) -> str | None:
    """Each position equals the signed sum of its fills in the log."""
    held = {p.symbol: p.quantity for p in after.positions}
    for symbol in sorted(set(held) | set(totals.shares)):
        if held.get(symbol, 0) != totals.shares.get(symbol, 0):
            return (
                f"position {symbol}={held.get(symbol, 0)} but its fills add up to "
                f"{totals.shares.get(symbol, 0)}"
            )
    return None


def accepted_orders_funded(
    before: LedgerSnapshot, event: Event, after: LedgerSnapshot, totals: LogTotals
) -> str | None:
    """No accepted order is refused at fill time for want of cash."""
    if isinstance(event, FillRefused):
        return _unfunded(before, event)
    return None


def _unfunded(before: LedgerSnapshot, event: FillRefused) -> str:
    """Why a refused fill's order should not have been accepted, from what the books show."""
    order_text = f"order {event.order_id} ({event.side.value} {event.quantity} {event.symbol})"
    text = (
        f"{order_text} was accepted but its fill needed {_money(event.needed)} with cash "
        f"{_money(event.cash)}"
        if event.needed
        # an engine that drops the order without saying what it would have cost
        else f"{order_text} was accepted, then refused at fill time with cash "
        f"{_money(event.cash)} (the engine did not say what the fill needed)"
    )
    order = before.order(event.order_id)
    if order is not None:
        text += (
            "; its acceptance reserved nothing"
            if order.reserved_initial == 0
            else f"; its acceptance reserved {_money(order.reserved_initial)}"
        )
    spent = [
        str(o.order_id)
        for o in before.orders
        if o.order_id != event.order_id and o.side is Side.BUY and o.filled
    ]
    if spent:
        text += (
            f"; order {spent[0]} was filled from the same cash"
            if len(spent) == 1
            else f"; orders {', '.join(spent)} were filled from the same cash"
        )
    return text


def new_orders_match_events(
    before: LedgerSnapshot, event: Event, after: LedgerSnapshot, totals: LogTotals
) -> str | None:
    """An acceptance or rejection creates exactly its order, in the state it says."""
    if isinstance(event, OrderAccepted | OrderRejected):
        order = after.order(event.order_id)
        want = OrderState.ACCEPTED if isinstance(event, OrderAccepted) else OrderState.REJECTED
        if order is None or before.order(event.order_id) is not None:
            return f"{type(event).__name__} for order {event.order_id} did not create that order"
        if order.state is not want:
            return f"order {event.order_id} is {order.state.value} after {type(event).__name__}"
        if isinstance(event, OrderAccepted) and order.reserved != event.reserved:
            return (
                f"order {event.order_id} holds {_money(order.reserved)}, "
                f"not the {_money(event.reserved)} its acceptance reserved"
            )
    return None


STATE_CHECKS: dict[str, StateCheck] = {
    "cash_non_negative": cash_non_negative,
    "reserved_within_cash": reserved_within_cash,
    "reserved_matches_orders": reserved_matches_orders,
    "terminal_orders_hold_nothing": terminal_orders_hold_nothing,
    "no_oversell": no_oversell,
    "equity_identity": equity_identity,
}

TRANSITION_CHECKS: dict[str, TransitionCheck] = {
    "accepted_orders_funded": accepted_orders_funded,
    "fill_within_reservation": fill_within_reservation,
    "release_exact": release_exact,
    "cash_conservation": cash_conservation,
    "position_conservation": position_conservation,
    "legal_lifecycle": legal_lifecycle,
    "new_orders_match_events": new_orders_match_events,
}
