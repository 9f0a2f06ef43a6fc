"""The one mutable thing: cash, per-order reservations, positions and marks.

The ledger applies amounts it is given and keeps its books consistent; it
does not price anything (``costs`` does) and does not decide anything (the
engine does). ``reserved`` is always the sum of the open orders' remaining
reservations, because it is only ever changed together with one of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .order_views import CHUNK, CHUNK_BITS, OrderViews
from .orders import TERMINAL_STATES, OrderState, OrderView, Side, TimeInForce
from .records import frozen_record

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


@frozen_record
class PositionView(NamedTuple):
    """Shares held; ``cost`` is the open shares' notional in ticks (average-cost),
    ``realized_pnl`` the ticks gained or lost on shares sold, kept after a close."""

    symbol: str
    quantity: int
    cost: int
    realized_pnl: int


@frozen_record
class LedgerSnapshot(NamedTuple):
    """The ledger at one instant. Money in cents; equity and marks in ticks.

    ``orders`` is any sequence of views in id order: a tuple, or the ledger's
    ``OrderViews``, which shares unchanged views with the snapshot before it."""

    initial_cash: int
    cash: int
    reserved: int
    equity: int
    orders: Sequence[OrderView]
    positions: tuple[PositionView, ...]
    marks: tuple[tuple[str, int], ...]

    @property
    def available(self) -> int:
        return self.cash - self.reserved

    def order(self, order_id: int) -> OrderView | None:
        """The order with ``order_id``, or None (ids run 1, 2, 3, ...)."""
        if type(self.orders) is OrderViews:
            return self.orders.order(order_id)
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
    # open orders by symbol that a bar may fill: the engine parks the rest
    _live: dict[str, dict[int, OrderRecord]] = field(default_factory=dict)
    # order views in chunks of CHUNK, by the position an order was first stored at
    _slots: dict[int, int] = field(default_factory=dict)
    _chunk_lists: list[list[OrderView | None]] = field(default_factory=list)
    _chunks: list[tuple[OrderView, ...]] = field(default_factory=list)
    _changed: set[int] = field(default_factory=set)
    _book: OrderViews | None = None
    _dense: bool = True  # every order so far was stored at position id - 1
    _positions_view: tuple[PositionView, ...] | None = None
    _marks_view: tuple[tuple[str, int], ...] | None = None

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

    def live_orders(self, symbol: str) -> dict[int, OrderRecord] | None:
        """Open orders of ``symbol`` that are not parked, by id (read only)."""
        return self._live.get(symbol)

    def snapshot(self) -> LedgerSnapshot:
        positions = self._positions_view
        if positions is None:
            positions = self._positions_view = tuple(
                [
                    PositionView(symbol, p.quantity, p.cost, p.realized_pnl)
                    for symbol, p in sorted(self._positions.items())
                ]
            )
        marks = self._marks_view
        if marks is None:
            marks = self._marks_view = tuple(sorted(self._marks.items()))
        return LedgerSnapshot(
            self.initial_cash,
            self.cash,
            self.reserved,
            self.equity(),
            self._order_views(),
            positions,
            marks,
        )

    def _order_views(self) -> OrderViews:
        book = self._book
        changed = self._changed
        if book is not None and not changed:
            return book
        # views are rebuilt only for orders changed since the last snapshot, and only
        # their chunks are copied; the other chunks are shared with earlier snapshots
        chunk_lists, chunks, slots, orders = (
            self._chunk_lists,
            self._chunks,
            self._slots,
            self.orders,
        )
        dirty = set()
        for order_id in changed:
            slot = slots[order_id]
            index = slot >> CHUNK_BITS
            chunk_lists[index][slot & (CHUNK - 1)] = orders[order_id].view()
            dirty.add(index)
        for index in dirty:
            chunks[index] = tuple(chunk_lists[index])  # type: ignore[arg-type]
        book = self._book = OrderViews.assemble(
            tuple(chunks),
            len(slots),
            self._dense,
            0 if book is None else book.stamp,
            frozenset(changed),
        )
        changed.clear()
        return book

    # --- writes ---------------------------------------------------------------

    def set_mark(self, symbol: str, price: int) -> None:
        self._marks[symbol] = price
        self._marks_view = None

    def set_marks(self, marks: Iterable[tuple[str, int]]) -> None:
        """Set several marks at once (``(symbol, price)`` pairs)."""
        self._marks.update(marks)
        self._marks_view = None

    def park(self, order: OrderRecord) -> None:
        """Take an open order out of ``live_orders`` until ``unpark`` (the engine parks
        a GTC BUY the current prices cannot fill)."""
        live = self._live.get(order.symbol)
        if live is not None:
            live.pop(order.order_id, None)

    def unpark(self, orders: Iterable[OrderRecord]) -> None:
        """Put parked orders of one symbol back into ``live_orders`` (those still open),
        keeping that symbol's live orders in id order."""
        returned = [order for order in orders if order.order_id in self._open]
        if not returned:
            return
        live = self._live.setdefault(returned[0].symbol, {})
        for order in returned:
            live[order.order_id] = order
        ordered = sorted(live.items())
        live.clear()
        live.update(ordered)

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
        self._positions_view = None
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
        if order_id not in self._slots:
            # keeps first-stored (id) order; the view is built at the next snapshot
            slot = self._slots[order_id] = len(self._slots)
            if slot + 1 != order_id:
                self._dense = False
            if slot & (CHUNK - 1) == 0:
                self._chunk_lists.append([])
                self._chunks.append(())
            self._chunk_lists[-1].append(None)
        self._changed.add(order_id)
        if order.state in TERMINAL_STATES:
            if self._open.pop(order_id, None) is not None:
                live = self._live.get(order.symbol)
                if live is not None:
                    live.pop(order_id, None)
        else:
            self._open[order_id] = order
            live = self._live.get(order.symbol)
            if live is None:
                live = self._live[order.symbol] = {}
            live[order_id] = order
