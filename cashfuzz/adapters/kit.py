"""The adapter kit: say what a broker did, in its own terms; get cashfuzz events and snapshots.

An adapter subclasses ``StepEngine`` (its broker is driven one timestamp at a time)
or ``WholeRunEngine`` (its broker runs a whole data set at once, driven once per
scenario), implements ``account()`` (the broker's cash, positions and, when it
has one, equity, read live), and reports what the broker does to ``self.tape``:

* ``tape.begin(i)`` when the broker has step ``i``'s bars but has filled nothing
  on them: logs ``MarketUpdated`` (marks = the bars' closes);
* ``tape.size(signal)`` sizes a signal without a quantity as a typical strategy on
  that broker would (the ``naive`` rule: the sizer's target from the broker's
  equity minus its position, capped by the broker's cash; a SELL sells the
  position) and logs the rejection when nothing is left to trade (``NO_PRICE`` for a
  BUY before its symbol's first bar, as the reference engine);
* ``tape.placed(key, quantity)`` / ``tape.rejected(key, reason)`` for each signal,
  in signal order: order ids follow signal order across the whole scenario, so
  the n-th signal is order n whatever the broker calls it (``key``, one per order;
  ``tape.rejected(None, reason)`` for a signal refused before it had one). A broker that
  answers later is told ``tape.submitted(key, quantity)`` in signal order, then
  ``tape.accepted(key)`` (or a fill), or ``tape.rejected(key, reason)``: an
  ``OrderRejected``. ``rejected`` of an order already live is the broker refusing it
  later (``FillRefused``: ACCEPTED -> REJECTED, which the invariants flag);
* ``tape.filled(key, quantity, price, commission)``, ``tape.cancelled(key)``,
  ``tape.expired(key)``; ``tape.cancel(cancel, broker_cancel)`` for a scenario cancel.

Conversion (``reference_engine.money``, rounding half-to-even): cash, commissions and
amounts in currency units (float, Decimal, int or str) become cents, prices ticks of
0.0001, equity ticks (a refusal's amount needed, a cost, rounds up to the cent);
quantities must be whole. Nothing the invariants check is derived: after each event
the snapshot holds ``account()`` as the broker reports it then, and a fill's
``cash_delta`` is the change of that reported cash (in cents) since the previous
event, so ``cash_conservation`` shows cash moving without a fill, and a BUY fill that
takes less than its commission. An engine that reports no equity sets ``reports_equity
= False`` (the snapshot then derives it from cash and marks, and the equity identity
is skipped). ``reserves_cash`` is False by default (``fill_within_reservation`` is then
skipped); an engine whose broker holds cash back for open orders sets it True and passes
``reserved=`` to ``placed`` and ``released=`` to ``filled`` (required on a fill that leaves
shares open; the fill that completes an order, a cancel, an expiry or a refusal releases
what it still holds).

What the adapter reports that cannot have happened (a key reused for another order, a
fill of a key never placed, a reservation while ``reserves_cash`` is False) raises
``KitMisuse``, an ``AdapterProtocolError``: the command line exits 2 saying what to
change, where an exception from the broker itself is a crash of the engine (exit 1).

Events reach ``events`` and the observer at ``flush()``: after each step for a step
engine; for a whole-run engine, the broker runs once in ``begin(scenario)`` (its
per-event snapshots are taken while it runs) and each ``step()`` replays its own
step's events, so ``observer`` is never called from inside the broker's own code.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from cashfuzz.adapters.diff_rules import Rule
from cashfuzz.invariants import AdapterProtocolError
from cashfuzz.reference_engine import (
    TERMINAL_STATES,
    Bar,
    Cancel,
    CancelIgnored,
    EngineConfig,
    EngineError,
    Event,
    FillAt,
    FillRefused,
    LedgerSnapshot,
    MarketUpdated,
    Observer,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderState,
    OrderView,
    Policy,
    PositionView,
    Reason,
    Scenario,
    ScenarioError,
    Side,
    Signal,
    Step,
    Timestamp,
)
from cashfuzz.reference_engine.money import (
    MILLIONTHS_PER_BP,
    TICKS_PER_UNIT,
    cost_cents,
    format_cents,
    format_fraction,
    to_cents,
    to_ticks,
)

Amount = float | int | str | object
"""A money amount or price as the broker reports it (float, Decimal, int or str)."""


class KitMisuse(AdapterProtocolError):
    """The adapter told the kit something that cannot have happened (a key used for two
    orders, a fill of an order never placed, a reservation while ``reserves_cash`` is
    False): the adapter is wrong, not the broker, so the command line exits 2 with what
    to change. A broker's own exceptions stay crashes (exit 1)."""

    def __init__(self, problem: str) -> None:
        EngineError.__init__(self, f"the adapter misreports to the kit: {problem}")
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Account:
    """The broker's books as it reports them, in currency units and shares. ``equity``,
    when given, is what ``Tape.size`` sizes from (and the snapshot's equity when the
    engine ``reports_equity``); ``costs`` each position's cost (its open shares'
    notional at entry) when the broker keeps one."""

    cash: Amount
    positions: Mapping[str, Amount] = field(default_factory=dict)
    equity: Amount | None = None
    costs: Mapping[str, Amount] = field(default_factory=dict)


#: Words in a broker's reason string -> the Reason it is logged under (first match wins).
_REASON_WORDS: tuple[tuple[tuple[str, ...], Reason], ...] = (
    (("nothing to sell", "no position"), Reason.NOTHING_TO_SELL),
    (("short", "exceed"), Reason.EXCEEDS_POSITION),
    (
        ("margin", "cash", "fund", "balance", "afford", "buying power", "liquidity"),
        Reason.INSUFFICIENT_CASH,
    ),
    (("price",), Reason.NO_PRICE),
)


def reason_for(text: str) -> Reason:
    """The Reason a broker's rejection text is logged under (ZERO_SIZE when none fits)."""
    lowered = text.lower()
    for words, reason in _REASON_WORDS:
        if any(word in lowered for word in words):
            return reason
    return Reason.ZERO_SIZE


def whole(quantity: Amount) -> int:
    """A share quantity as an int; raise ValueError for a fractional one."""
    value = float(quantity)  # type: ignore[arg-type]
    if value != int(value):
        raise ValueError(f"quantity={quantity!r} is not a whole number of shares")
    return abs(int(value))


@dataclass(slots=True)
class _Order:
    order_id: int
    symbol: str
    side: Side
    quantity: int
    signal: Signal
    state: OrderState
    filled: int = 0
    cash_flow: int = 0
    reserved: int = 0
    reserved_initial: int = 0
    released: int = 0
    limit_price: int = 0
    reference: int = 0
    requested: int = 0

    def view(self) -> OrderView:
        return OrderView(
            self.order_id,
            self.symbol,
            self.side,
            self.quantity,
            self.filled,
            self.state,
            self.reserved,
            self.reserved_initial,
            self.cash_flow,
            self.released,
            self.signal.time_in_force,
            self.limit_price,
        )


#: Events that may come before a step's marks (fills and expiries at the open).
_OPEN_PHASE = (OrderFilled, OrderExpired, FillRefused)


class Tape:
    """What one broker did in one scenario, as cashfuzz events with the snapshot after each.

    Raises KitMisuse (a usage error: the command line exits 2) when the adapter reports
    something impossible: a fill of an unknown order, more signals than the step has, one
    key for two orders, a reservation while ``reserves_cash`` is False. A fractional
    quantity is the broker's (ValueError, a crash).
    """

    def __init__(
        self,
        config: EngineConfig,
        observer: Observer | None,
        account: Callable[[], Account],
        *,
        reports_equity: bool = True,
        reserves_cash: bool = False,
    ) -> None:
        self.config = config
        self.observer = observer
        self.events: list[Event] = []
        self.steps: list[Step] = []
        self._account = account
        self._reports_equity = reports_equity
        self._reserves_cash = reserves_cash
        self._pending: list[tuple[Event, LedgerSnapshot, int]] = []
        self._marks_due = False
        self._index = -1
        self._orders: dict[int, _Order] = {}
        self._views: dict[int, OrderView] = {}
        self._ids: dict[Hashable, int] = {}
        self._keys: dict[int, Hashable] = {}
        self._marks: dict[str, int] = {}
        self._signals = 0
        self._cancels = 0
        #: order id -> the quantity the sizer wanted, for an order the cash cap shrank
        self._wanted: dict[int, int] = {}
        self._cash = config.initial_cash
        self._step: Step | None = None
        self._signal_base = 0
        self._last_account = Account(Decimal(config.initial_cash) / 100)
        self._last = LedgerSnapshot(
            config.initial_cash, config.initial_cash, 0, config.initial_cash * 100, (), (), ()
        )

    # --- time ---------------------------------------------------------------------------

    @property
    def step(self) -> Step:
        if self._step is None:
            raise KitMisuse("report nothing before tape.begin(step index)")
        return self._step

    @property
    def timestamp(self) -> Timestamp:
        return self.step.timestamp

    def begin(self, index: int) -> Step:
        """Step ``index`` starts: its bars are in the broker, nothing filled on them yet.
        Logs MarketUpdated (when it has bars) and returns the step."""
        step = self.steps[index]
        self._mark()  # the previous step's marks, if nothing of that step came after fills
        self._index = index
        if self._step is not None:
            # every signal of the previous step must have been placed or rejected
            self._signal_base += len(self._step.signals)
            self._signals = max(self._signals, self._signal_base)
        self._step = step
        self._marks_due = bool(step.bars)
        return step

    def _mark(self) -> None:
        """Log the step's MarketUpdated once its fills at the open are in: before its first
        signal, cancel or fill at the close, or at its end (the documented phase order)."""
        if self._marks_due and self._step is not None:
            self._marks_due = False
            marks = tuple((bar.symbol, bar.close) for bar in self._step.bars)
            self._marks.update(marks)
            self._record(MarketUpdated(self._step.timestamp, marks))

    # --- signals ------------------------------------------------------------------------

    def _next_signal(self) -> tuple[int, Signal]:
        self._mark()
        offset = self._signals - self._signal_base
        signals = self.step.signals
        if offset >= len(signals):
            raise KitMisuse(
                f"step at {self.timestamp!r} has {len(signals)} signal(s); "
                f"order {self._signals + 1} was reported beyond them: report each signal "
                "once (placed, submitted or rejected), in signal order"
            )
        self._signals += 1
        return self._signals, signals[offset]

    def size(self, signal: Signal) -> int:
        """The quantity a typical strategy on this broker orders for ``signal`` (0: the
        rejection is logged and the adapter places nothing). A BUY for a symbol with no
        bar yet is rejected NO_PRICE, as the reference engine rejects it; otherwise a
        signal's own quantity is taken as it is. (An adapter that places an order without
        a price anyway may: ``placed`` and ``submitted`` need no mark.)"""
        self._mark()
        if signal.side is Side.BUY and signal.symbol not in self._marks:
            detail = f"no bar of {signal.symbol} seen yet"
            self._reject_signal(0, Reason.NO_PRICE, detail)
            return 0
        if signal.quantity is not None:
            return signal.quantity
        account = self._account()
        held = _signed(account.positions.get(signal.symbol, 0))
        if signal.side is Side.SELL:
            if held <= 0:
                detail = "the broker's position is flat or short"
                self._reject_signal(0, Reason.NOTHING_TO_SELL, detail)
                return 0
            return held
        reference = self._marks[signal.symbol]  # a BUY without one was rejected above
        cash = to_cents(account.cash)
        equity = self._equity(account, cash) if account.equity is None else to_ticks(account.equity)
        strength = Fraction(1) if signal.strength is None else Fraction(signal.strength)
        target = self.config.sizer.target(reference, equity, strength)
        wanted = target - held
        if wanted <= 0:
            reason = Reason.TARGET_REACHED if target > 0 else Reason.ZERO_SIZE
            self._reject_signal(0, reason, f"target {target} shares, holding {held}")
            return 0
        costs = self.config.costs
        limit = costs.limit_price(reference)
        if costs.buy_total(wanted * limit) <= cash:
            return wanted
        fits = 0 if self.config.policy is Policy.REJECT else costs.affordable(cash, limit)
        if fits == 0:
            detail = f"{wanted} shares need more than the broker's cash {format_cents(cash)}"
            self._reject_signal(wanted, Reason.INSUFFICIENT_CASH, detail)
        else:  # the order it places is logged as resized from what the sizer wanted
            self._wanted[self._signals + 1] = wanted
        return fits

    def _reject_signal(self, requested: int, reason: Reason, detail: str) -> None:
        order_id, signal = self._next_signal()
        order = _Order(order_id, signal.symbol, signal.side, requested, signal, OrderState.REJECTED)
        order.requested = requested
        self._orders[order_id] = order
        self._log_rejection(order, reason, detail)

    def _log_rejection(self, order: _Order, reason: Reason, detail: str) -> None:
        """OrderRejected for ``order``, which never became live."""
        self._record(
            OrderRejected(
                self.timestamp,
                order.order_id,
                order.order_id - 1,
                order.symbol,
                order.side,
                order.requested,
                reason,
                detail,
            ),
            order.order_id,
        )

    def trade(self, place: Callable[[Signal, int], Any]) -> None:
        """Each signal of the step, in order: sized (``size``), then ``place(signal,
        quantity)`` asks the broker for the order and returns its key (``placed``)."""
        for signal in self.step.signals:
            quantity = self.size(signal)
            if quantity:
                self.placed(place(signal, quantity), quantity)

    def cancels(self, broker_cancel: Callable[[Any], bool]) -> None:
        """Each scenario cancel of the step, in order, through ``cancel``."""
        for cancel in self.step.cancels:
            self.cancel(cancel, broker_cancel)

    def placed(self, key: Hashable, quantity: Amount, *, reserved: Amount = 0) -> int:
        """The next signal became the broker's live order ``key`` for ``quantity`` shares
        (``submitted`` and ``accepted`` at once); returns its cashfuzz order id."""
        order_id = self.submitted(key, quantity, reserved=reserved)
        self.accepted(key)
        return order_id

    def submitted(self, key: Hashable, quantity: Amount, *, reserved: Amount = 0) -> int:
        """The next signal was sent to the broker as order ``key``, which has not answered:
        nothing is logged until it accepts (``accepted``, or a fill), or rejects it.
        ``reserved``: the cash the broker holds back for the order (its currency units),
        only when the engine ``reserves_cash``. Raises KitMisuse for a key already used
        or a reservation the engine does not declare."""
        self._fresh(key)
        held = to_cents(reserved)
        if held and not self._reserves_cash:
            raise KitMisuse(
                f"placed/submitted({key!r}, reserved={reserved!r}) but the engine's "
                "reserves_cash is False, so fill_within_reservation would not be checked: "
                "set reserves_cash = True on the engine class"
            )
        order_id, signal = self._next_signal()
        shares = whole(quantity)
        reference = self._marks.get(signal.symbol, 0)
        requested = signal.quantity if signal.quantity is not None else shares
        self._orders[order_id] = _Order(
            order_id,
            signal.symbol,
            signal.side,
            shares,
            signal,
            OrderState.NEW,
            reserved=held,
            reserved_initial=held,
            limit_price=self.config.costs.limit_price(reference) if held else 0,
            reference=reference,
            requested=self._wanted.pop(order_id, requested),
        )
        self._ids[key] = order_id
        self._keys[order_id] = key
        return order_id

    def _fresh(self, key: Hashable) -> None:
        """Raise KitMisuse when ``key`` already names an order on this tape."""
        order_id = self._ids.get(key)
        if order_id is not None:
            raise self._reused(key, order_id)

    def _reused(self, key: Hashable, order_id: int) -> KitMisuse:
        state = self._orders[order_id].state.value
        return KitMisuse(
            f"key {key!r} is already order {order_id} ({state}); give each order its own "
            "key, or reject a signal that never became an order with "
            "tape.rejected(None, reason)"
        )

    def accepted(self, key: Hashable, *, as_last_reported: bool = False) -> None:
        """The broker accepted submitted order ``key``: it is live (``OrderAccepted``).
        ``as_last_reported``: the snapshot holds the books as last reported (an acceptance
        implied by a fill or cancel the broker has already booked)."""
        order = self._orders[self.order_id(key)]
        if order.state is not OrderState.NEW:
            return
        order.state = OrderState.ACCEPTED
        signal = order.signal
        requested = order.requested
        self._record(
            OrderAccepted(
                self.timestamp,
                order.order_id,
                order.order_id - 1,
                order.symbol,
                order.side,
                order.quantity,
                requested,
                order.reference,
                order.limit_price,
                order.reserved,
                signal.time_in_force,
                Reason.INSUFFICIENT_CASH if order.quantity < requested else None,
            ),
            order.order_id,
            self._last_account if as_last_reported else None,
        )

    def rejected(
        self,
        key: Hashable | None,
        reason: str,
        *,
        needed: Amount = 0,
        price: Amount = 0,
        checked: Amount | None = None,
    ) -> int:
        """The broker refused: the next signal (``key`` None or never sent) or submitted
        order ``key``, logged as OrderRejected; or live order ``key`` (it needed
        ``needed`` at ``price``, against the cash ``checked``, by default the broker's
        cash now), logged as FillRefused. Returns the order id. Raises KitMisuse for
        the key of an order already finished (a key reused for another signal)."""
        order_id = self._ids.get(key) if key is not None else None
        if order_id is None:
            order_id = self._signals + 1
            offset = self._signals - self._signal_base
            signals = self.step.signals
            requested = signals[offset].quantity or 0 if offset < len(signals) else 0
            self._reject_signal(requested, reason_for(reason), reason)
            if key is not None:
                self._ids[key] = order_id
                self._keys[order_id] = key
            return order_id
        order = self._orders[order_id]
        if order.state is OrderState.NEW:
            order.state, order.reserved = OrderState.REJECTED, 0
            self._log_rejection(order, reason_for(reason), reason)
            return order_id
        if order.state in TERMINAL_STATES:
            raise self._reused(key, order_id)
        order.state = OrderState.REJECTED
        self._release_rest(order)
        self._record(
            FillRefused(
                self.timestamp,
                order_id,
                order.symbol,
                order.side,
                order.quantity - order.filled,
                to_ticks(price),
                # a cost: rounded up, so a refusal for a fraction of a cent never reads as
                # "needed 0.01 with cash 0.01"
                cost_cents(to_ticks(needed)),
                to_cents(self._account().cash if checked is None else checked),
            ),
            order_id,
        )
        return order_id

    # --- what happened to live orders ---------------------------------------------------

    def order_id(self, key: Hashable) -> int:
        """The cashfuzz order id of the broker's order ``key``."""
        try:
            return self._ids[key]
        except KeyError:
            raise KitMisuse(
                f"the broker's order {key!r} was never placed: report each order with "
                "tape.placed or tape.submitted (with that key) before its fills, "
                "cancellations or expiry"
            ) from None

    def key(self, order_id: int) -> Hashable | None:
        """The broker's key of cashfuzz order ``order_id`` (None: not placed)."""
        return self._keys.get(order_id)

    def live(self) -> list[Hashable]:
        """The keys of the broker's orders still live as far as the tape knows, in id order."""
        return [
            self._keys[i] for i, order in self._orders.items() if order.state not in TERMINAL_STATES
        ]

    def dropped(self, still_queued: Callable[[Any], bool], reason: str) -> None:
        """For a broker without order callbacks: each live order it no longer holds
        (``still_queued(key)`` false) was dropped unfilled, for ``reason``."""
        for key in self.live():
            if not still_queued(key):
                self.rejected(key, reason)

    def knows(self, key: Hashable) -> bool:
        """Whether the broker's order ``key`` was placed or rejected on this tape."""
        return key in self._ids

    def is_open(self, key: Hashable) -> bool:
        """Whether the broker's order ``key`` is still live as far as the tape knows."""
        return self._orders[self.order_id(key)].state not in TERMINAL_STATES

    def filled(
        self,
        key: Hashable,
        quantity: Amount,
        price: Amount,
        commission: Amount = 0,
        *,
        released: Amount | None = None,
        cash: Amount | None = None,
        positions: Mapping[str, Amount] | None = None,
    ) -> None:
        """The broker filled ``quantity`` of order ``key`` at ``price`` for ``commission``.
        ``cash``, when given, is the cash the broker says this fill left (for a broker that
        books a fill it cannot pay only after the fact); otherwise ``account().cash``;
        ``positions`` likewise overrides ``account().positions``.

        ``released`` (only when the engine ``reserves_cash``): the part of the order's
        reservation the broker stopped holding for this fill. Required for a fill that
        leaves shares open while the order holds a reservation; the fill that completes
        the order releases whatever it still holds (as the reference engine's does), so
        there it may be left out. Raises KitMisuse when it is given while
        ``reserves_cash`` is False, or missing where it is required."""
        order = self._orders[self.order_id(key)]
        shares = whole(quantity)
        completes = order.filled + shares >= order.quantity
        if released is not None and to_cents(released) and not self._reserves_cash:
            raise KitMisuse(
                f"filled({key!r}, ..., released={released!r}) but the engine's reserves_cash "
                "is False: set reserves_cash = True on the engine class"
            )
        if released is None and order.reserved and not completes:
            raise KitMisuse(
                f"order {order.order_id} ({key!r}) holds {format_cents(order.reserved)} and "
                f"this fill of {shares} leaves {order.quantity - order.filled - shares} "
                "share(s) open: pass released= to tape.filled, the part of the reservation "
                "the broker stopped holding for this fill"
            )
        # a broker may fill a submitted order without accepting it first
        self.accepted(key, as_last_reported=True)
        account = self._account()
        if cash is not None:  # what the broker says this fill left, for later events too
            account = replace(account, cash=cash)
        if positions is not None:
            account = replace(account, positions=positions)
        after = to_cents(account.cash)
        delta = after - self._cash
        order.filled += shares
        order.cash_flow += delta
        # the fill that completes the order releases all it holds, in the event and in the
        # order view alike (fill_within_reservation reads the view)
        freed = order.reserved if completes else min(to_cents(released or 0), order.reserved)
        order.reserved -= freed
        order.released += freed
        order.state = OrderState.FILLED if completes else OrderState.PARTIALLY_FILLED
        event = OrderFilled(
            self.timestamp,
            order.order_id,
            order.symbol,
            order.side,
            shares,
            to_ticks(price),
            to_cents(commission),
            delta,
            freed,
            order.filled,
            order.quantity - order.filled,
        )
        self._record(event, order.order_id, account, after)

    def cancelled(self, key: Hashable) -> None:
        """The broker cancelled live order ``key`` on its own (not for a scenario cancel)."""
        self._close(key, OrderState.CANCELLED, -1)

    def expired(self, key: Hashable) -> None:
        """Live order ``key`` expired at the broker."""
        self._close(key, OrderState.EXPIRED, -1)

    def cancel(self, cancel: Cancel, broker_cancel: Callable[[Any], bool]) -> None:
        """Handle a scenario cancel: ``broker_cancel(key)`` asks the broker and says whether
        it cancelled; an unknown or finished order is logged as CancelIgnored."""
        self._mark()
        index = self._cancels
        self._cancels += 1
        order = self._orders.get(cancel.order_id)
        key = self._keys.get(cancel.order_id)
        if order is None or key is None:
            state = None if order is None else order.state
            reason = Reason.UNKNOWN_ORDER if state is None else Reason.ALREADY_TERMINAL
            self._record(CancelIgnored(self.timestamp, cancel.order_id, index, reason, state))
        elif order.state in TERMINAL_STATES:
            self._record(
                CancelIgnored(
                    self.timestamp, cancel.order_id, index, Reason.ALREADY_TERMINAL, order.state
                )
            )
        elif broker_cancel(key):
            self._close(key, OrderState.CANCELLED, index)
        else:
            self._record(
                CancelIgnored(
                    self.timestamp, cancel.order_id, index, Reason.UNKNOWN_ORDER, order.state
                )
            )

    def _close(self, key: Hashable, state: OrderState, cancel_index: int) -> None:
        self.accepted(key, as_last_reported=True)
        order = self._orders[self.order_id(key)]
        if order.state in TERMINAL_STATES:
            return
        order.state = state
        released = self._release_rest(order)
        event: Event = (
            OrderCancelled(self.timestamp, order.order_id, cancel_index, released)
            if state is OrderState.CANCELLED
            else OrderExpired(self.timestamp, order.order_id, released)
        )
        self._record(event, order.order_id)

    @staticmethod
    def _release_rest(order: _Order) -> int:
        rest = order.reserved
        order.reserved = 0
        return rest

    # --- snapshots and delivery ---------------------------------------------------------

    def _equity(self, account: Account, cash: int) -> int:
        if self._reports_equity:
            if account.equity is None:
                raise KitMisuse(
                    "reports_equity is True but account() gave no equity: return "
                    "Account(cash, positions, equity), or set reports_equity = False"
                )
            return to_ticks(account.equity)
        value = cash * 100
        for symbol, quantity in account.positions.items():
            value += _signed(quantity) * self._marks.get(symbol, 0)
        return value

    def _record(
        self,
        event: Event,
        order_id: int | None = None,
        account: Account | None = None,
        cash: int | None = None,
    ) -> None:
        if self._marks_due and not isinstance(event, _OPEN_PHASE):
            self._mark()
        if account is None:
            account = self._account()
        self._last_account = account
        if cash is None:
            cash = to_cents(account.cash)
        self._cash = cash
        if order_id is not None:
            self._views[order_id] = self._orders[order_id].view()
        orders = tuple(self._views.values())
        reserved = sum(o.reserved for o in orders if o.is_open)
        costs = account.costs
        positions = tuple(
            PositionView(symbol, _signed(quantity), to_ticks(costs.get(symbol, 0)), 0)
            for symbol, quantity in sorted(account.positions.items())
        )
        self._last = LedgerSnapshot(
            self.config.initial_cash,
            cash,
            reserved,
            self._equity(account, cash),
            orders,
            positions,
            tuple(sorted(self._marks.items())),
        )
        self._pending.append((event, self._last, self._index))

    def flush(self, through: int | None = None) -> None:
        """Deliver the recorded events, in order, to ``events`` and the observer: all of
        them, or those of steps up to index ``through``."""
        if through is None:
            self._mark()
        count = len(self._pending)
        if through is not None:
            count = next(
                (i for i, (_, _, step) in enumerate(self._pending) if step > through), count
            )
        delivered, self._pending = self._pending[:count], self._pending[count:]
        for event, after, _ in delivered:
            self.events.append(event)
            if self.observer is not None:
                self.observer(event, after)

    @property
    def reported(self) -> Account:
        """The broker's books as the last recorded event took them."""
        return self._last_account

    def snapshot(self) -> LedgerSnapshot:
        """The books after the last recorded event."""
        return self._last


def ohlc_frame(bars: Sequence[Bar]) -> Any:
    """``bars`` of one symbol as a pandas DataFrame of float prices (Open, High, Low,
    Close, Volume) on a daily DatetimeIndex from 2000-01-03, as pandas-based engines
    take them."""
    import pandas as pd

    rows = [
        [b.open / TICKS_PER_UNIT, b.high / TICKS_PER_UNIT, b.low / TICKS_PER_UNIT,
         b.close / TICKS_PER_UNIT, float(b.volume)]
        for b in bars
    ]  # fmt: skip
    index = pd.date_range("2000-01-03", periods=len(rows), freq="D")
    return pd.DataFrame(rows, columns=["Open", "High", "Low", "Close", "Volume"], index=index)


def _signed(quantity: Amount) -> int:
    shares = whole(quantity)
    return -shares if float(quantity) < 0 else shares  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Limits:
    """What an engine cannot express: more than ``max_symbols`` symbols, bounded random
    slippage (``random_slippage=False``), a timestamp without a bar for every symbol
    (``aligned=True``), ``fill_at`` other than ``fill_at`` (None: either), a minimum
    commission (``commission_min=False``)."""

    max_symbols: int | None = None
    random_slippage: bool = True
    aligned: bool = False
    fill_at: FillAt | None = None
    commission_min: bool = True

    def unsupported(self, scenario: Scenario) -> str | None:
        """Why the engine cannot run ``scenario`` (naming the field), or None."""
        symbols = scenario.symbols
        if self.max_symbols is not None and len(symbols) > self.max_symbols:
            return (
                f"bars name {len(symbols)} symbols ({', '.join(symbols[:3])}): the engine "
                f"trades at most {self.max_symbols}; adapt_scenario keeps the first"
            )
        costs = scenario.config.costs
        if not self.random_slippage and costs.random_slippage and costs.max_slippage:
            bps = format_fraction(Fraction(costs.max_slippage, MILLIONTHS_PER_BP))
            return (
                f"costs.max_slippage_bps={bps} draws bounded random slippage, which the "
                "engine cannot model: use costs.slippage_bps (fixed)"
            )
        if not self.commission_min and costs.commission_min:
            return (
                f"costs.commission_min={format_cents(costs.commission_min)}: the engine's fee "
                "model has no minimum commission"
            )
        if self.fill_at is not None and scenario.config.fill_at is not self.fill_at:
            return f"fill_at={scenario.config.fill_at.value}: the engine fills {self.fill_at.value}"
        if self.aligned:
            for step in scenario.steps():
                if not step.bars:
                    return (
                        f"timestamp={step.timestamp!r} has signals or cancels but no bars: the "
                        "engine acts only on bars; give every timestamp a bar for each symbol"
                    )
                present = {bar.symbol for bar in step.bars}
                if present != set(symbols):
                    missing = sorted(set(symbols) - present)[0]
                    return (
                        f"timestamp={step.timestamp!r} has no bar for symbol={missing!r}: the "
                        "engine needs a bar for every symbol at every timestamp"
                    )
        return None

    def adapt(self, scenario: Scenario) -> Scenario:
        """The nearest scenario the engine can run: the first ``max_symbols`` symbols (the
        others' signals dropped, cancels renumbered), random slippage fixed at its
        maximum, ``fill_at`` set, and flat volume-0 bars where a symbol has none."""
        config, signals, cancels = scenario.config, scenario.signals, scenario.cancels
        bars = scenario.bars
        if self.max_symbols is not None and len(scenario.symbols) > self.max_symbols:
            keep = set(scenario.symbols[: self.max_symbols])
            bars = tuple(bar for bar in bars if bar.symbol in keep)
            ids: dict[int, int] = {}
            ordered = [s for step in scenario.steps() for s in step.signals]
            for index, signal in enumerate(ordered):
                if signal.symbol in keep:
                    ids[index + 1] = len(ids) + 1
            signals = tuple(s for s in signals if s.symbol in keep)
            cancels = tuple(
                Cancel(c.timestamp, ids[c.order_id]) for c in cancels if c.order_id in ids
            )
        costs = config.costs
        if not self.random_slippage and costs.random_slippage:
            config = replace(config, costs=replace(costs, random_slippage=False))
        if not self.commission_min and costs.commission_min:
            config = replace(config, costs=replace(config.costs, commission_min=0))
        if self.fill_at is not None:
            config = replace(config, fill_at=self.fill_at)
        if self.aligned:
            bars = _aligned(Scenario(config, bars, signals, cancels))
        adapted = Scenario(config, bars, signals, cancels, scenario.description)
        return scenario if adapted == scenario else adapted


def _aligned(scenario: Scenario) -> tuple[Bar, ...]:
    """``scenario``'s bars plus a flat, volume-0 bar at the last close (before a
    symbol's first bar: at that bar's open) wherever a timestamp lacks one."""
    first: dict[str, int] = {}
    for bar in scenario.bars:
        first.setdefault(bar.symbol, bar.open)
    last: dict[str, int] = {}
    added: list[Bar] = []
    for step in scenario.steps():
        present = {bar.symbol: bar for bar in step.bars}
        for symbol in scenario.symbols:
            if symbol in present:
                last[symbol] = present[symbol].close
                continue
            price = last.get(symbol, first[symbol])
            added.append(Bar(step.timestamp, symbol, price, price, price, price, 0))
    return (*scenario.bars, *added)


class KitEngine:
    """What step and whole-run adapters share: the tape, ``events``, ``snapshot``, and
    ``limits`` (what the engine cannot express; a config it cannot run raises
    ScenarioError at construction, a whole-run engine's scenario before it runs)."""

    reserves_cash = False
    reports_equity = True
    limits = Limits()
    #: ``cashfuzz diff``'s rules for this engine (``cashfuzz.adapters.diff_rules``)
    difference_rules: tuple[Rule, ...] = ()
    #: the engine's broker, for ``account()`` (set by the adapter once it has one)
    broker: Any = None

    def __init__(self, config: EngineConfig, observer: Observer | None = None) -> None:
        problem = self.limits.unsupported(Scenario(config, ()))
        if problem is not None:
            raise ScenarioError(problem)
        self.config = config
        self.tape = Tape(
            config,
            observer,
            self.account,
            reports_equity=self.reports_equity,
            reserves_cash=self.reserves_cash,
        )
        self.events = self.tape.events

    def account(self) -> Account:
        """The broker's cash, positions (and equity) now, as it reports them."""
        raise NotImplementedError

    def snapshot(self) -> LedgerSnapshot:
        return self.tape.snapshot()


class StepEngine(KitEngine):
    """An adapter for a broker driven one timestamp at a time: implement ``on_step``."""

    def step(
        self,
        timestamp: Timestamp,
        bars: Sequence[Bar] = (),
        signals: Sequence[Signal] = (),
        cancels: Sequence[Cancel] = (),
    ) -> None:
        tape = self.tape
        tape.steps.append(Step(timestamp, tuple(bars), tuple(signals), tuple(cancels)))
        try:
            self.on_step(tape.begin(len(tape.steps) - 1))
        finally:
            tape.flush()

    def on_step(self, step: Step) -> None:
        """Feed the step to the broker and report to ``self.tape`` what it did."""
        raise NotImplementedError


class WholeRunEngine(KitEngine):
    """An adapter for a broker that runs a whole data set at once: implement ``run``.

    The harness calls ``begin(scenario)`` once before the first step: the broker runs
    then, once per scenario, and the tape records every event with its snapshot; each
    ``step()`` then delivers its own step's events to the observer, as a step engine
    would (a crash of the broker is raised at the step it happened in, after that
    step's events). Driven by ``step()`` alone, it collects the steps and runs at the
    first ``snapshot()``.
    """

    def __init__(self, config: EngineConfig, observer: Observer | None = None) -> None:
        super().__init__(config, observer)
        self._ran = False
        self._stepped = 0
        self._failure: tuple[int, BaseException] | None = None

    def begin(self, scenario: Scenario) -> None:
        """Run the broker once over ``scenario``; ScenarioError when it cannot run it."""
        self._run_all(scenario.steps(), deliver=False)

    def _run_all(self, steps: Iterable[Step], *, deliver: bool) -> None:
        if self._ran:
            raise RuntimeError("a whole-run engine runs once; build a new one")
        self._ran = True
        self.tape.steps.extend(steps)
        steps = self.tape.steps
        # the whole scenario, signals and cancels too: a timestamp with signals but no bars
        # is refused here, before the broker runs, not met inside it
        whole_run = Scenario(
            self.config,
            tuple(bar for step in steps for bar in step.bars),
            tuple(signal for step in steps for signal in step.signals),
            tuple(cancel for step in steps for cancel in step.cancels),
        )
        problem = self.limits.unsupported(whole_run)
        if problem is not None:
            raise ScenarioError(problem)
        try:
            self.run(tuple(self.tape.steps))
        except Exception as error:  # noqa: BLE001 - re-raised at its step, after its events
            self._failure = (max(self.tape._index, 0), error)
        if deliver:
            self.tape.flush()
            if self._failure is not None:
                raise self._failure[1]

    def step(
        self,
        timestamp: Timestamp,
        bars: Sequence[Bar] = (),
        signals: Sequence[Signal] = (),
        cancels: Sequence[Cancel] = (),
    ) -> None:
        if not self._ran:
            self.tape.steps.append(Step(timestamp, tuple(bars), tuple(signals), tuple(cancels)))
            return
        index = self._stepped
        self._stepped += 1
        last = self._stepped >= len(self.tape.steps)
        self.tape.flush(None if last else index)
        if self._failure is not None and (last or self._failure[0] <= index):
            failure, self._failure = self._failure[1], None
            raise failure

    def snapshot(self) -> LedgerSnapshot:
        if not self._ran:
            self._run_all((), deliver=True)
        return self.tape.snapshot()

    def run(self, steps: tuple[Step, ...]) -> None:
        """Run the broker over ``steps``, calling ``tape.begin(i)`` as each step starts."""
        raise NotImplementedError


class Factory:
    """``Factory(Engine)`` is an engine factory ``factory(config, observer)`` that also
    declares the engine's ``limits`` as the gate reads them:
    ``unsupported(scenario)`` (why it cannot run, or None) and
    ``adapt_scenario(scenario)`` (the nearest scenario it can run); and passes on the
    engine's ``difference_rules`` for ``cashfuzz diff``."""

    def __init__(self, engine: type[KitEngine], *, name: str | None = None) -> None:
        self._engine = engine
        self._name = name or engine.__name__
        self.limits = engine.limits
        self.unsupported = self.limits.unsupported
        self.adapt_scenario = self.limits.adapt
        self.difference_rules = engine.difference_rules

    def __call__(self, config: EngineConfig, observer: Observer | None = None) -> KitEngine:
        return self._engine(config, observer)

    def __repr__(self) -> str:
        return self._name


__all__ = [
    "Account",
    "Factory",
    "KitEngine",
    "KitMisuse",
    "Limits",
    "StepEngine",
    "Tape",
    "WholeRunEngine",
    "ohlc_frame",
    "reason_for",
    "whole",
]
