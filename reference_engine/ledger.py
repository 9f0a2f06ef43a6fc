"""The one mutable thing: cash, per-order reservations, positions and marks.

The ledger applies amounts it is given and keeps its books consistent; it
does not price anything (``costs`` does) and does not decide anything (the
engine does). ``reserved`` is always the sum of the open orders' remaining
reservations, because it is only ever changed together with one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .orders import TERMINAL_STATES, OrderState, OrderView, Side, TimeInForce

# enum members as module constants: a class attribute lookup on an Enum is slow
_BUY = Side.BUY
_ACCEPTED = OrderState.ACCEPTED
_PARTIALLY_FILLED = OrderState.PARTIALLY_FILLED
_FILLED = OrderState.FILLED


@dataclass(slots=True)
class OrderRecord:
    """An order's books. Read by the engine; changed only through the ledger."""

    order_id: int
    symbol: str
    side: Side
    quantity: int
    time_in_force: TimeInForce
    limit_price: int
    accepted_step: int
    state: OrderState = OrderState.NEW
    filled: int = 0
    notional: int = 0
    cash_flow: int = 0
    reserved_initial: int = 0
    reserved: int = 0
    released: int = 0

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled

    def view(self) -> OrderView:
        return OrderView(
            order_id=self.order_id,
            symbol=self.symbol,
            side=self.side,
            quantity=self.quantity,
            filled=self.filled,
            state=self.state,
            reserved=self.reserved,
            reserved_initial=self.reserved_initial,
            cash_flow=self.cash_flow,
            released=self.released,
            time_in_force=self.time_in_force,
            limit_price=self.limit_price,
        )


@dataclass(frozen=True, slots=True)
class PositionView:
    """Shares held; ``cost`` is the open shares' notional in ticks (average-cost),
    ``realized_pnl`` the ticks gained or lost on shares sold, kept after a close."""

    symbol: str
    quantity: int
    cost: int
    realized_pnl: int


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """The ledger at one instant. Money in cents; equity and marks in ticks."""

    initial_cash: int
    cash: int
    reserved: int
    equity: int
    orders: tuple[OrderView, ...]
    positions: tuple[PositionView, ...]
    marks: tuple[tuple[str, int], ...]

    @property
    def available(self) -> int:
        return self.cash - self.reserved

    def order(self, order_id: int) -> OrderView | None:
        """The order with ``order_id``, or None (ids run 1, 2, 3, ...)."""
        if 1 <= order_id <= len(self.orders):
            candidate = self.orders[order_id - 1]
            if candidate.order_id == order_id:
                return candidate
        return next((o for o in self.orders if o.order_id == order_id), None)

    def position(self, symbol: str) -> int:
        return next((p.quantity for p in self.positions if p.symbol == symbol), 0)


@dataclass(slots=True)
class _Position:
    quantity: int = 0
    cost: int = 0
    realized_pnl: int = 0


@dataclass(slots=True)
class Ledger:
    """Cash and everything that claims it."""

    initial_cash: int
    cash: int = -1
    reserved: int = 0
    orders: dict[int, OrderRecord] = field(default_factory=dict)
    _positions: dict[str, _Position] = field(default_factory=dict)
    _marks: dict[str, int] = field(default_factory=dict)
    _pending_buys: dict[str, int] = field(default_factory=dict)
    _pending_sells: dict[str, int] = field(default_factory=dict)
    _open: dict[int, OrderRecord] = field(default_factory=dict)
    _views: dict[int, OrderView | None] = field(default_factory=dict)
    _changed: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.cash == -1:
            self.cash = self.initial_cash

    # --- reads ----------------------------------------------------------------

    @property
    def available(self) -> int:
        return self.cash - self.reserved

    def position(self, symbol: str) -> int:
        position = self._positions.get(symbol)
        return position.quantity if position is not None else 0

    def pending_buys(self, symbol: str) -> int:
        return self._pending_buys.get(symbol, 0)

    def pending_sells(self, symbol: str) -> int:
        return self._pending_sells.get(symbol, 0)

    def mark(self, symbol: str) -> int | None:
        return self._marks.get(symbol)

    def equity(self) -> int:
        """Cash plus every position at its mark, in ticks."""
        marks = self._marks
        value = self.cash * 100
        for symbol, position in self._positions.items():
            if position.quantity:
                value += position.quantity * marks[symbol]
        return value

    def open_orders(self) -> list[OrderRecord]:
        """Live orders in id order."""
        return list(self._open.values())

    def snapshot(self) -> LedgerSnapshot:
        return LedgerSnapshot(
            initial_cash=self.initial_cash,
            cash=self.cash,
            reserved=self.reserved,
            equity=self.equity(),
            orders=self._order_views(),
            positions=tuple(
                PositionView(symbol, p.quantity, p.cost, p.realized_pnl)
                for symbol, p in sorted(self._positions.items())
            ),
            marks=tuple(sorted(self._marks.items())),
        )

    def _order_views(self) -> tuple[OrderView, ...]:
        views = self._views
        # views are rebuilt only for orders changed since the last snapshot
        for order_id in self._changed:
            views[order_id] = self.orders[order_id].view()
        self._changed.clear()
        return tuple(views.values())  # type: ignore[arg-type]

    # --- writes ---------------------------------------------------------------

    def set_mark(self, symbol: str, price: int) -> None:
        self._marks[symbol] = price

    def set_marks(self, marks: Iterable[tuple[str, int]]) -> None:
        """Set several marks at once (``(symbol, price)`` pairs)."""
        self._marks.update(marks)

    def accept(self, order: OrderRecord, reservation: int) -> None:
        """Make ``order`` live, holding ``reservation`` cents."""
        order.state = _ACCEPTED
        order.reserved_initial = order.reserved = reservation
        self.reserved += reservation
        pending = self._pending_buys if order.side is _BUY else self._pending_sells
        pending[order.symbol] = pending.get(order.symbol, 0) + order.quantity
        self._store(order)

    def reject(self, order: OrderRecord) -> None:
        """Record ``order`` as rejected; it holds nothing."""
        order.state = OrderState.REJECTED
        self._store(order)

    def fill(
        self,
        order: OrderRecord,
        quantity: int,
        price: int,
        cash_delta: int,
        release: int,
    ) -> None:
        """Apply a fill of ``quantity`` at ``price``: move cash, release
        ``release`` of the order's reservation, update the position."""
        self.cash += cash_delta
        order.reserved -= release
        order.released += release
        self.reserved -= release
        order.filled += quantity
        order.notional += quantity * price
        order.cash_flow += cash_delta
        order.state = _FILLED if order.filled == order.quantity else _PARTIALLY_FILLED
        symbol = order.symbol
        position = self._positions.get(symbol)
        if position is None:
            position = self._positions[symbol] = _Position()
        if order.side is _BUY:
            self._pending_buys[symbol] -= quantity
            position.quantity += quantity
            position.cost += quantity * price
        else:
            self._pending_sells[symbol] -= quantity
            held = position.quantity
            # average cost; the last share sold takes what rounding left behind
            removed = position.cost if quantity >= held else position.cost * quantity // held
            position.cost -= removed
            position.quantity -= quantity
            position.realized_pnl += quantity * price - removed
        if order.state is _FILLED:
            self._finish(order, _FILLED)
        else:
            self._store(order)

    def refuse_fill(self, order: OrderRecord) -> None:
        """An engine without reservations could not pay: the order dies REJECTED."""
        self._finish(order, OrderState.REJECTED)

    def close(self, order: OrderRecord, state: OrderState) -> int:
        """End a live order as CANCELLED or EXPIRED; return the cents released."""
        return self._finish(order, state)

    def _finish(self, order: OrderRecord, state: OrderState) -> int:
        released = order.reserved
        self.reserved -= released
        order.reserved = 0
        order.state = state
        remaining = order.quantity - order.filled
        if remaining:
            pending = self._pending_buys if order.side is _BUY else self._pending_sells
            pending[order.symbol] -= remaining
        self._store(order)
        return released

    def _store(self, order: OrderRecord) -> None:
        order_id = order.order_id
        self.orders[order_id] = order
        self._views[order_id] = None  # keeps id order; the view is built at the next snapshot
        self._changed.add(order_id)
        if order.state in TERMINAL_STATES:
            self._open.pop(order_id, None)
        else:
            self._open[order_id] = order
