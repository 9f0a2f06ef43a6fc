"""The event loop: one call of ``step`` per timestamp, sequencing only.

One step: fill live orders at this bar's open (``next_open``) and expire the
DAY orders that had their chance -> mark positions at the closes -> turn
signals into orders, sizing from available cash and reserving or rejecting
each in turn -> apply cancels -> fill at the close (``same_close``) and expire.
Every change is logged as an event; a rejection is an event with a reason.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from operator import attrgetter

from .config import EngineConfig, FillAt, Mode, Policy
from .costs import SlippageSource
from .errors import InputError
from .events import (
    Bar,
    Cancel,
    CancelIgnored,
    Event,
    FillRefused,
    MarketUpdated,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    Signal,
    Timestamp,
)
from .ledger import Ledger, LedgerSnapshot, OrderRecord
from .money import buy_price, format_cents, sell_price
from .orders import TERMINAL_STATES, OrderState, Reason, Side, TimeInForce
from .protocol import Observer

_FULL_STRENGTH = Fraction(1)
# events are named tuples: building one with tuple.__new__ skips the generated
# keyword-taking __new__ (every field is given, in order)
_new = tuple.__new__
_ORDER_ID = attrgetter("order_id")
# enum members as module constants: a class attribute lookup on an Enum is slow
_BUY = Side.BUY
_DAY = TimeInForce.DAY


def _strength(value: object) -> Fraction:
    """A signal strength as a fraction; NaN, infinities and non-numbers become -1 (invalid)."""
    if not isinstance(value, int | float | Decimal | Fraction | str):
        return Fraction(-1)
    try:
        return Fraction(value)
    except (ValueError, OverflowError, ZeroDivisionError):
        return Fraction(-1)


def _plainly_valid(
    bars: Sequence[Bar], signals: Sequence[Signal], cancels: Sequence[Cancel]
) -> bool:
    """A fast pass over ``Engine._validate``'s checks, with exact types only: True
    when every input certainly passes them; False sends the step through the
    detailed checks, which name the first problem. Keep the two in step."""
    symbols = set()
    for bar in bars:
        low, high, open_, close, volume = bar.low, bar.high, bar.open, bar.close, bar.volume
        if not (
            type(low) is int
            and type(high) is int
            and type(open_) is int
            and type(close) is int
            and type(volume) is int
            and 0 < low <= open_ <= high
            and low <= close <= high
            and volume >= 0
        ):
            return False
        symbols.add(bar.symbol)
    if len(symbols) != len(bars):
        return False
    for signal in signals:
        quantity, strength = signal.quantity, signal.strength
        if not (
            type(signal.side) is Side
            and type(signal.time_in_force) is TimeInForce
            and (quantity is None or (type(quantity) is int and quantity > 0))
            and (
                strength is None
                or (type(strength) is Decimal and strength.is_finite() and 0 <= strength <= 1)
            )
        ):
            return False
    for cancel in cancels:
        order_id = cancel.order_id
        if not (type(order_id) is int and order_id > 0):
            return False
    return True


class Engine:
    """The reference engine: exact money, per-order reservations, no races."""

    def __init__(self, config: EngineConfig, observer: Observer | None = None) -> None:
        self.config = config
        self.ledger = Ledger(initial_cash=config.initial_cash)
        self.events: list[Event] = []
        self.observer = observer
        self._costs = config.costs
        self._slippage = SlippageSource(config.costs, config.seed)
        costs = config.costs
        self._fixed_slippage = None if costs.random_slippage else costs.max_slippage
        participation = config.max_participation
        self._cap_ratio = (
            None if participation is None else (participation.numerator, participation.denominator)
        )
        self._reserving = config.mode is Mode.RESERVATION
        self._fill_at_open = config.fill_at is FillAt.NEXT_OPEN
        self._step = 0
        self._signals_seen = 0
        self._cancels_seen = 0
        self._bars: dict[str, Bar] = {}
        self._single_marks: dict[tuple[str, int], tuple[tuple[str, int], ...]] = {}
        # parked GTC BUYs by symbol: heaps of (-limit price, order id, order)
        self._parked: dict[str, list[tuple[int, int, OrderRecord]]] = {}
        self._can_park = self._reserving and self._fixed_slippage is not None
        self._signal_equity: int | None = None

    # --- public API -------------------------------------------------------------

    def step(
        self,
        timestamp: Timestamp,
        bars: Sequence[Bar] = (),
        signals: Sequence[Signal] = (),
        cancels: Sequence[Cancel] = (),
    ) -> None:
        """Process one timestamp. Raises InputError (before changing anything)."""
        self._validate(bars, signals, cancels)
        self._step += 1
        self._bars = {bar.symbol: bar for bar in bars}
        if bars:
            if self._fill_at_open:
                self._fill_phase(timestamp, use_open=True)
            if len(bars) == 1:
                bar = bars[0]
                # equal marks share one tuple: a long single-symbol run repeats its closes,
                # and the log keeps one MarketUpdated per bar
                key = (bar.symbol, bar.close)
                shared = self._single_marks.get(key)
                if shared is None:
                    shared = self._single_marks[key] = (key,)
                marks: tuple[tuple[str, int], ...] = shared
            else:
                marks = tuple([(bar.symbol, bar.close) for bar in bars])
            self.ledger.set_marks(marks)
            self._emit(
                _new(
                    MarketUpdated,
                    (timestamp, marks),
                )
            )
        handle_signal = self._handle_signal
        self._signal_equity = None
        for signal in signals:
            handle_signal(timestamp, signal)
        for cancel in cancels:
            self._handle_cancel(timestamp, cancel)
        if bars and not self._fill_at_open:
            self._fill_phase(timestamp, use_open=False)

    def snapshot(self) -> LedgerSnapshot:
        return self.ledger.snapshot()

    @property
    def reserves_cash(self) -> bool:
        """Whether open orders hold reservations (False in ``naive`` mode)."""
        return self._reserving

    # --- input checks -------------------------------------------------------------

    @staticmethod
    def _validate(
        bars: Sequence[Bar], signals: Sequence[Signal], cancels: Sequence[Cancel]
    ) -> None:
        # a check added here must be added to _plainly_valid too
        if _plainly_valid(bars, signals, cancels):
            return
        seen: set[str] = set()
        for i, bar in enumerate(bars):
            where = f"bars[{i}] ({bar.symbol})"
            if bar.symbol in seen:
                raise InputError(f"{where}: a second bar for symbol={bar.symbol!r} in one step")
            seen.add(bar.symbol)
            for name in ("open", "high", "low", "close", "volume"):
                value = getattr(bar, name)
                # a float or bool here would leak binary rounding into the ledger
                if isinstance(value, bool) or not isinstance(value, int):
                    unit = "shares" if name == "volume" else "ticks"
                    raise InputError(f"{where}: {name}={value!r} must be an integer ({unit})")
            if bar.low <= 0:
                raise InputError(f"{where}: low={bar.low} must be a positive price")
            if bar.high < bar.low:
                raise InputError(f"{where}: high={bar.high} is below low={bar.low}")
            for name in ("open", "close"):
                value = getattr(bar, name)
                if not bar.low <= value <= bar.high:
                    raise InputError(
                        f"{where}: {name}={value} is outside low..high {bar.low}..{bar.high}"
                    )
            if bar.volume < 0:
                raise InputError(f"{where}: volume={bar.volume} must not be negative")
        for i, signal in enumerate(signals):
            # the engine dispatches with `is`: a plain "BUY" string would be handled as a SELL
            if not isinstance(signal.side, Side):
                raise InputError(f"signals[{i}].side={signal.side!r} must be Side.BUY or Side.SELL")
            if not isinstance(signal.time_in_force, TimeInForce):
                raise InputError(
                    f"signals[{i}].time_in_force={signal.time_in_force!r} must be "
                    "TimeInForce.DAY or TimeInForce.GTC"
                )
            quantity = signal.quantity
            if quantity is not None and (
                isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0
            ):
                raise InputError(f"signals[{i}].quantity={quantity!r} must be a positive integer")
            if signal.strength is not None and not 0 <= _strength(signal.strength) <= 1:
                raise InputError(f"signals[{i}].strength={signal.strength} must be within 0..1")
        for i, cancel in enumerate(cancels):
            order_id = cancel.order_id
            if isinstance(order_id, bool) or not isinstance(order_id, int) or order_id <= 0:
                raise InputError(
                    f"cancels[{i}].order_id={cancel.order_id} must be a positive integer"
                )

    # --- signals --------------------------------------------------------------------

    def _handle_signal(self, timestamp: Timestamp, signal: Signal) -> None:
        self._signals_seen += 1
        order_id = self._signals_seen
        if signal.side is _BUY:
            self._handle_buy(timestamp, order_id, signal)
        else:
            self._handle_sell(timestamp, order_id, signal)

    def _handle_buy(self, timestamp: Timestamp, order_id: int, signal: Signal) -> None:
        ledger = self.ledger
        symbol = signal.symbol
        reference = ledger.mark(symbol)
        if reference is None:
            self._reject(timestamp, order_id, signal, 0, Reason.NO_PRICE, "no bar seen yet")
            return
        if signal.quantity is not None:
            requested = signal.quantity
        else:
            strength = _FULL_STRENGTH if signal.strength is None else Fraction(signal.strength)
            if self._signal_equity is None:
                # equity cannot move between a step's marks and its fills: price it once
                self._signal_equity = ledger.equity()
            target = self.config.sizer.target(reference, self._signal_equity, strength)
            held = self._held_for_sizing(symbol)
            requested = target - held
            if requested <= 0:
                reason = Reason.TARGET_REACHED if target > 0 else Reason.ZERO_SIZE
                detail = f"target {target} shares, holding or buying {held}"
                self._reject(timestamp, order_id, signal, max(requested, 0), reason, detail)
                return
        limit = self._costs.limit_price(reference)
        budget = ledger.available if self._reserving else ledger.cash
        # worst-case cost is monotonic in quantity: when the whole order fits, its total
        # is the reservation and the largest affordable quantity is not needed
        total = self._buy_reservation(requested, limit)
        quantity, resized = requested, None
        if total > budget:
            affordable = self._costs.affordable(budget, limit)
            if self.config.policy is Policy.REJECT or affordable == 0:
                detail = f"{requested} shares need more than the {format_cents(budget)} available"
                self._reject(
                    timestamp, order_id, signal, requested, Reason.INSUFFICIENT_CASH, detail
                )
                return
            quantity, resized = affordable, Reason.INSUFFICIENT_CASH
            total = self._buy_reservation(quantity, limit)
        reservation = total if self._reserving else 0
        self._accept(
            timestamp, order_id, signal, quantity, requested, reference, limit, reservation, resized
        )

    def _handle_sell(self, timestamp: Timestamp, order_id: int, signal: Signal) -> None:
        ledger = self.ledger
        symbol = signal.symbol
        sellable = self._sellable(symbol)
        requested = signal.quantity if signal.quantity is not None else max(sellable, 0)
        if sellable <= 0:
            self._reject(
                timestamp,
                order_id,
                signal,
                requested,
                Reason.NOTHING_TO_SELL,
                "no shares held that are not already pending sale",
            )
            return
        quantity, reason = requested, None
        if requested > sellable:
            if self.config.policy is Policy.REJECT:
                self._reject(
                    timestamp,
                    order_id,
                    signal,
                    requested,
                    Reason.EXCEEDS_POSITION,
                    f"only {sellable} shares can be sold",
                )
                return
            quantity, reason = sellable, Reason.EXCEEDS_POSITION
        reservation = self._costs.sell_reserve() if self._reserving else 0
        if reservation > ledger.available:
            self._reject(
                timestamp,
                order_id,
                signal,
                requested,
                Reason.CANNOT_COVER_FEE,
                f"the sale needs {format_cents(reservation)} to cover its commission",
            )
            return
        reference = ledger.mark(symbol) or 0
        self._accept(
            timestamp, order_id, signal, quantity, requested, reference, 0, reservation, reason
        )

    def _held_for_sizing(self, symbol: str) -> int:
        """Shares the sizer's target is measured against: position plus pending buys."""
        held = self.ledger.position(symbol)
        if self._reserving:
            held += self.ledger.pending_buys(symbol)
        return held

    def _sellable(self, symbol: str) -> int:
        """Shares a SELL may take: position minus pending sells (long-only)."""
        sellable = self.ledger.position(symbol)
        if self._reserving:
            sellable -= self.ledger.pending_sells(symbol)
        return sellable

    def _buy_reservation(self, quantity: int, limit: int) -> int:
        return self._costs.buy_total(quantity * limit)

    def _accept(
        self,
        timestamp: Timestamp,
        order_id: int,
        signal: Signal,
        quantity: int,
        requested: int,
        reference: int,
        limit: int,
        reservation: int,
        reason: Reason | None,
    ) -> None:
        # positional: order_id, symbol, side, quantity, time_in_force, limit_price,
        # accepted_step (keywords cost half a microsecond per order)
        order = OrderRecord(
            order_id, signal.symbol, signal.side, quantity, signal.time_in_force, limit, self._step
        )
        self.ledger.accept(order, reservation)
        self._emit(
            _new(
                OrderAccepted,
                (
                    timestamp,
                    order_id,
                    order_id - 1,
                    signal.symbol,
                    signal.side,
                    quantity,
                    requested,
                    reference,
                    limit,
                    reservation,
                    signal.time_in_force,
                    reason,
                ),
            )
        )

    def _reject(
        self,
        timestamp: Timestamp,
        order_id: int,
        signal: Signal,
        requested: int,
        reason: Reason,
        detail: str,
    ) -> None:
        order = OrderRecord(
            order_id=order_id,
            symbol=signal.symbol,
            side=signal.side,
            quantity=requested,
            time_in_force=signal.time_in_force,
            limit_price=0,
            accepted_step=self._step,
        )
        self.ledger.reject(order)
        self._emit(
            _new(
                OrderRejected,
                (
                    timestamp,
                    order_id,
                    order_id - 1,
                    signal.symbol,
                    signal.side,
                    requested,
                    reason,
                    detail,
                ),
            )
        )

    # --- cancels ----------------------------------------------------------------------

    def _handle_cancel(self, timestamp: Timestamp, cancel: Cancel) -> None:
        index = self._cancels_seen
        self._cancels_seen += 1
        order = self.ledger.orders.get(cancel.order_id)
        if order is None:
            self._emit(
                _new(
                    CancelIgnored,
                    (timestamp, cancel.order_id, index, Reason.UNKNOWN_ORDER, None),
                )
            )
        elif order.state in TERMINAL_STATES:
            self._emit(
                _new(
                    CancelIgnored,
                    (timestamp, cancel.order_id, index, Reason.ALREADY_TERMINAL, order.state),
                )
            )
        else:
            released = self.ledger.close(order, OrderState.CANCELLED)
            self._emit(
                _new(
                    OrderCancelled,
                    (timestamp, order.order_id, index, released),
                )
            )

    # --- fills ------------------------------------------------------------------------

    def _fill_phase(self, timestamp: Timestamp, *, use_open: bool) -> None:
        bars = self._bars
        ledger = self.ledger
        # orders placed in this step wait for the next bar when filling at the open
        newest_step = self._step - 1 if use_open else self._step
        # only the live orders of the symbols with a bar: parked ones cannot fill yet
        candidates: list[OrderRecord] = []
        merged = 0
        for symbol, bar in bars.items():
            if self._parked and symbol in self._parked:
                self._unpark(symbol, bar.open if use_open else bar.close)
            live = ledger.live_orders(symbol)
            if live:
                candidates.extend(live.values())
                merged += 1
        if merged > 1:
            # fills are logged in id order, across symbols, as if every order were visited
            candidates.sort(key=_ORDER_ID)
        try_fill = self._try_fill
        expiring: list[OrderRecord] = []
        for order in candidates:
            if order.accepted_step > newest_step:
                continue
            bar = bars[order.symbol]
            try_fill(timestamp, order, bar, bar.open if use_open else bar.close)
            if order.time_in_force is _DAY and order.state not in TERMINAL_STATES:
                expiring.append(order)
        for order in expiring:
            released = self.ledger.close(order, OrderState.EXPIRED)
            self._emit(_new(OrderExpired, (timestamp, order.order_id, released)))

    def _park(self, order: OrderRecord) -> None:
        """Set aside a GTC BUY whose limit is below this bar's fill price, until a bar
        whose price it can meet (only with fixed slippage: a random draw per visit
        is part of the seeded sequence, so every order must be visited then)."""
        self.ledger.park(order)
        heapq.heappush(
            self._parked.setdefault(order.symbol, []), (-order.limit_price, order.order_id, order)
        )

    def _unpark(self, symbol: str, base: int) -> None:
        """Return the parked orders of ``symbol`` a fill at ``base`` can meet to the live ones."""
        heap = self._parked[symbol]
        slippage = self._fixed_slippage
        price = buy_price(base, slippage) if slippage else base
        revived = []
        while heap and -heap[0][0] >= price:
            revived.append(heapq.heappop(heap)[2])
        if revived:
            self.ledger.unpark(revived)
        if not heap:
            del self._parked[symbol]

    def _try_fill(self, timestamp: Timestamp, order: OrderRecord, bar: Bar, base: int) -> None:
        slippage = self._fixed_slippage
        if slippage is None:
            slippage = self._slippage.draw()
        buying = order.side is _BUY
        if buying:
            price = buy_price(base, slippage) if slippage else base
            if self._reserving and price > order.limit_price:
                # protected: it never pays more than it reserved for
                if self._can_park and order.time_in_force is not _DAY:
                    self._park(order)
                return
        else:
            price = sell_price(base, slippage) if slippage else base
        remaining = order.quantity - order.filled
        quantity = remaining
        if self._cap_ratio is not None:
            numerator, denominator = self._cap_ratio
            cap = bar.volume * numerator // denominator
            if cap < quantity:
                quantity = cap
        if quantity <= 0:
            return
        before = order.notional
        after = before + quantity * price
        # the final fill releases whatever the order still holds
        completes = quantity == remaining
        if buying:
            cash_delta, commission = self._costs.buy_fill(before, after)
            release = order.reserved if completes else self._buy_release(order, quantity)
        else:
            cash_delta, commission = self._costs.sell_fill(before, after)
            release = order.reserved if completes else self._sell_release(order, after)
        if self.ledger.cash + cash_delta < 0:
            self._refuse(timestamp, order, quantity, price, cash_delta, commission)
            return
        self._book_fill(timestamp, order, quantity, price, cash_delta, commission, release)

    def _book_fill(
        self,
        timestamp: Timestamp,
        order: OrderRecord,
        quantity: int,
        price: int,
        cash_delta: int,
        commission: int,
        release: int,
    ) -> None:
        """Apply a priced fill to the ledger, then log it."""
        self.ledger.fill(order, quantity, price, cash_delta, release)
        self._emit(
            _new(
                OrderFilled,
                (
                    timestamp,
                    order.order_id,
                    order.symbol,
                    order.side,
                    quantity,
                    price,
                    commission,
                    cash_delta,
                    release,
                    order.filled,
                    order.quantity - order.filled,
                ),
            )
        )

    def _buy_release(self, order: OrderRecord, quantity: int) -> int:
        """The reservation of a partial fill: worst-case cost of the shares filled so far
        minus that of the shares filled before."""
        limit = order.limit_price
        costs = self._costs
        released = costs.buy_total((order.filled + quantity) * limit) - costs.buy_total(
            order.filled * limit
        )
        return min(released, order.reserved)

    def _sell_release(self, order: OrderRecord, new_notional: int) -> int:
        """A partial sale gives back as much of its fee reserve as its net so far has used."""
        used = max(order.released, -self._costs.sell_net(new_notional))
        return min(used, order.reserved_initial) - order.released

    def _refuse(
        self,
        timestamp: Timestamp,
        order: OrderRecord,
        quantity: int,
        price: int,
        delta: int,
        commission: int,
    ) -> None:
        """A fill cash cannot pay (only an engine without reservations gets here)."""
        self.ledger.refuse_fill(order)
        self._emit(
            _new(
                FillRefused,
                (
                    timestamp,
                    order.order_id,
                    order.symbol,
                    order.side,
                    quantity,
                    price,
                    -delta,
                    self.ledger.cash,
                ),
            )
        )

    # --- log ------------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        self.events.append(event)
        if self.observer is not None:
            self.observer(event, self.ledger.snapshot())
