"""The bug zoo: the reference engine with one seeded cash-management defect each.

Every zoo engine subclasses the reference ``Engine`` (and, where the defect
lives in the books, its ``Ledger``) and overrides as little as possible. Each
entry names the invariants expected to catch it, and the test suite shows
that fuzzing does (``tests/zoo``) and that a hand-written scenario does
(``tests/invariants``). ``cashfuzz --engine zoo:NAME`` picks one by name.
Every engine is deterministic except ``unseeded_slippage``, whose defect is
exactly that it is not.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial

from cashfuzz.reference_engine import (
    Bar,
    Cancel,
    CancelIgnored,
    Costs,
    Engine,
    EngineConfig,
    EngineFactory,
    EngineUnderTest,
    Event,
    Ledger,
    Mode,
    Observer,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRecord,
    OrderState,
    Reason,
    Side,
    Signal,
    TimeInForce,
    Timestamp,
)
from cashfuzz.reference_engine.money import SLIPPAGE_SCALE


@dataclass(frozen=True, slots=True)
class ZooEngine:
    """A deliberately broken engine: its ``defect`` in one sentence, the invariants
    expected to report it (``caught_by``), and how to build it (``factory``)."""

    name: str
    defect: str
    caught_by: tuple[str, ...]
    factory: EngineFactory


class _ZooEngine(Engine):
    """The reference engine with its books kept by ``ledger_type``."""

    ledger_type: type[Ledger] = Ledger

    def __init__(self, config: EngineConfig, observer: Observer | None = None) -> None:
        super().__init__(config, observer)
        self.ledger = self.ledger_type(initial_cash=config.initial_cash)


def _reserving(config: EngineConfig) -> EngineConfig:
    return dataclasses.replace(config, mode=Mode.RESERVATION)


def _naive(config: EngineConfig) -> EngineConfig:
    return dataclasses.replace(config, mode=Mode.NAIVE)


# --- keyed_reservation ---------------------------------------------------------------

_Key = tuple[str, Timestamp, int]


@dataclass
class _KeyedLedger(Ledger):
    now: Timestamp = 0
    by_key: dict[_Key, int] = field(default_factory=dict)

    def accept(self, order: OrderRecord, reservation: int) -> None:
        super().accept(order, reservation)
        # the seed's key: a second identical order overwrites the first's entry
        self.by_key[(order.symbol, self.now, order.quantity)] = reservation

    def fill(
        self, order: OrderRecord, quantity: int, price: int, cash_delta: int, release: int
    ) -> None:
        total = self.reserved
        super().fill(order, quantity, price, cash_delta, release)
        # the total is released only when the fill's own key matches an entry
        self.reserved = total - self.by_key.pop((order.symbol, self.now, quantity), 0)

    def close(self, order: OrderRecord, state: OrderState) -> int:
        total = self.reserved
        released = super().close(order, state)
        self.reserved = total  # looked up by order id, which is never a key
        return released


class _KeyedEngine(_ZooEngine):
    ledger_type = _KeyedLedger

    def step(
        self,
        timestamp: Timestamp,
        bars: Sequence[Bar] = (),
        signals: Sequence[Signal] = (),
        cancels: Sequence[Cancel] = (),
    ) -> None:
        assert isinstance(self.ledger, _KeyedLedger)
        self.ledger.now = timestamp
        super().step(timestamp, bars, signals, cancels)


# --- lump_reservation_wiped -----------------------------------------------------------


class _LumpEngine(Engine):
    def step(
        self,
        timestamp: Timestamp,
        bars: Sequence[Bar] = (),
        signals: Sequence[Signal] = (),
        cancels: Sequence[Cancel] = (),
    ) -> None:
        super().step(timestamp, bars, signals, cancels)
        self.ledger.reserved = 0  # "a new bar, nothing reserved": orders still open hold cash


# --- estimate_below_slippage -------------------------------------------------------------


class _ThinEstimateEngine(Engine):
    def _buy_reservation(self, quantity: int, limit: int) -> int:
        # the estimate leaves out the slippage buffer the limit price includes
        reference = limit * SLIPPAGE_SCALE // (SLIPPAGE_SCALE + self._costs.max_slippage)
        return self._costs.buy_total(quantity * reference)


# --- no_release_on_cancel --------------------------------------------------------------


class _CancelKeepsLedger(Ledger):
    def close(self, order: OrderRecord, state: OrderState) -> int:
        held = order.reserved
        released = super().close(order, state)
        if state is OrderState.CANCELLED:
            order.reserved = held
            self.reserved += held
            self._store(order)
            return 0
        return released


class _CancelKeepsEngine(_ZooEngine):
    ledger_type = _CancelKeepsLedger


# --- partial_fill_releases_all -----------------------------------------------------------


class _ReleaseAllEngine(Engine):
    def _buy_release(self, order: OrderRecord, quantity: int) -> int:
        return order.reserved


# --- sell_ignores_pending_sells ---------------------------------------------------------


class _OversellEngine(Engine):
    def _sellable(self, symbol: str) -> int:
        return self.ledger.position(symbol)


# --- overdraft_fills --------------------------------------------------------------------


class _OverdraftEngine(Engine):
    def _refuse(
        self,
        timestamp: Timestamp,
        order: OrderRecord,
        quantity: int,
        price: int,
        delta: int,
        commission: int,
    ) -> None:
        # like nautilus_trader's cash account: the fill goes through and the balance goes short
        self._book_fill(timestamp, order, quantity, price, delta, commission, 0)


# --- unlogged_commission ------------------------------------------------------------------


class _UnloggedCommissionEngine(Engine):
    def _emit(self, event: Event) -> None:
        if isinstance(event, OrderFilled):
            event = event._replace(cash_delta=event.cash_delta + event.commission)
        super()._emit(event)


# --- entry_price_equity -------------------------------------------------------------------


class _EntryPriceLedger(Ledger):
    def equity(self) -> int:
        return self.cash * 100 + sum(p.cost for p in self._positions.values())


class _EntryPriceEngine(_ZooEngine):
    ledger_type = _EntryPriceLedger


# --- double_counted_fill -----------------------------------------------------------------


class _DoubleFillLedger(Ledger):
    def fill(
        self, order: OrderRecord, quantity: int, price: int, cash_delta: int, release: int
    ) -> None:
        super().fill(order, quantity, price, cash_delta, release)
        if order.side is Side.BUY and order.state is OrderState.FILLED:
            # the completion handler books the order's shares again
            self._positions[order.symbol].quantity += order.filled


class _DoubleFillEngine(_ZooEngine):
    ledger_type = _DoubleFillLedger


# --- released_not_logged ------------------------------------------------------------------


class _SilentReleaseLedger(Ledger):
    def close(self, order: OrderRecord, state: OrderState) -> int:
        super().close(order, state)
        return 0


class _SilentReleaseEngine(_ZooEngine):
    ledger_type = _SilentReleaseLedger


# --- cancel_filled_order -----------------------------------------------------------------


class _CancelFilledEngine(Engine):
    def _handle_cancel(self, timestamp: Timestamp, cancel: Cancel) -> None:
        order = self.ledger.orders.get(cancel.order_id)
        if order is None or order.state is not OrderState.FILLED:
            super()._handle_cancel(timestamp, cancel)
            return
        # the terminal check forgot FILLED
        index = self._cancels_seen
        self._cancels_seen += 1
        released = self.ledger.close(order, OrderState.CANCELLED)
        self._emit(OrderCancelled(timestamp, order.order_id, index, released))


# --- unrecorded_rejection ----------------------------------------------------------------


class _ForgetfulLedger(Ledger):
    def reject(self, order: OrderRecord) -> None:
        order.state = OrderState.REJECTED  # logged by the engine, never booked


class _ForgetfulEngine(_ZooEngine):
    ledger_type = _ForgetfulLedger


# --- dropped_sell_signal -----------------------------------------------------------------


class _DroppingEngine(Engine):
    def _reject(
        self,
        timestamp: Timestamp,
        order_id: int,
        signal: Signal,
        requested: int,
        reason: Reason,
        detail: str,
    ) -> None:
        if reason is Reason.NOTHING_TO_SELL:
            return  # "nothing to do": the signal vanishes without a trace
        super()._reject(timestamp, order_id, signal, requested, reason, detail)


# --- unseeded_slippage -------------------------------------------------------------------


class _UnseededSlippage:
    __slots__ = ("_maximum", "_random")

    def __init__(self, maximum: int) -> None:
        self._maximum = maximum
        self._random = random.Random()  # seeded from the OS, not from the scenario

    def draw(self) -> int:
        return self._random.randint(0, self._maximum)


class _UnseededEngine(Engine):
    def __init__(self, config: EngineConfig, observer: Observer | None = None) -> None:
        super().__init__(config, observer)
        self._slippage = _UnseededSlippage(config.costs.max_slippage)  # type: ignore[assignment]
        self._fixed_slippage = None  # fixed slippage is drawn too


# --- cancel_ignored_while_live --------------------------------------------------------------


class _IgnoresLiveCancelEngine(Engine):
    def _handle_cancel(self, timestamp: Timestamp, cancel: Cancel) -> None:
        order = self.ledger.orders.get(cancel.order_id)
        if order is None or order.state in (OrderState.FILLED, OrderState.REJECTED):
            super()._handle_cancel(timestamp, cancel)
            return
        # "only orders with a fill can be cancelled": the books stay consistent, the order lives on
        index = self._cancels_seen
        self._cancels_seen += 1
        self._emit(
            CancelIgnored(timestamp, cancel.order_id, index, Reason.ALREADY_TERMINAL, order.state)
        )


# --- cancels_before_signals ----------------------------------------------------------------


class _CancelsFirstEngine(Engine):
    def step(
        self,
        timestamp: Timestamp,
        bars: Sequence[Bar] = (),
        signals: Sequence[Signal] = (),
        cancels: Sequence[Cancel] = (),
    ) -> None:
        if not (signals and cancels):
            super().step(timestamp, bars, signals, cancels)
            return
        # cancels handled as soon as the step arrives, before its bars and signals
        self._validate(bars, signals, cancels)
        for cancel in cancels:
            self._handle_cancel(timestamp, cancel)
        super().step(timestamp, bars, signals, ())


# --- reused_order_id ------------------------------------------------------------------------


class _ReusedIdEngine(Engine):
    def _reject(
        self,
        timestamp: Timestamp,
        order_id: int,
        signal: Signal,
        requested: int,
        reason: Reason,
        detail: str,
    ) -> None:
        super()._reject(timestamp, order_id, signal, requested, reason, detail)
        # "a rejected order never reached the exchange": its id is handed out again
        self._signals_seen -= 1


# --- silent_unknown_cancel ------------------------------------------------------------------


class _SilentUnknownCancelEngine(Engine):
    def _handle_cancel(self, timestamp: Timestamp, cancel: Cancel) -> None:
        if cancel.order_id not in self.ledger.orders:
            self._cancels_seen += 1
            return  # "nothing to cancel": no trace that the cancel arrived
        super()._handle_cancel(timestamp, cancel)


# --- unknown_cancel_crashes -----------------------------------------------------------------


class _UnknownCancelCrashEngine(Engine):
    def _handle_cancel(self, timestamp: Timestamp, cancel: Cancel) -> None:
        self.ledger.orders[cancel.order_id]
        super()._handle_cancel(timestamp, cancel)


# --- ninth_order_unreserved -----------------------------------------------------------------

#: a fixed table of open-order slots, as some engines size their books
_ORDER_SLOTS = 8


class _EightSlotLedger(Ledger):
    def accept(self, order: OrderRecord, reservation: int) -> None:
        super().accept(order, reservation)
        if order.order_id > _ORDER_SLOTS:
            self.reserved -= reservation  # no slot for its reservation in the total


class _EightSlotEngine(_ZooEngine):
    ledger_type = _EightSlotLedger


# --- position_wraps_20_bits -----------------------------------------------------------------

_POSITION_BITS = 20


class _NarrowPositionLedger(Ledger):
    def fill(
        self, order: OrderRecord, quantity: int, price: int, cash_delta: int, release: int
    ) -> None:
        super().fill(order, quantity, price, cash_delta, release)
        position = self._positions[order.symbol]
        position.quantity %= 1 << _POSITION_BITS  # a 20-bit share counter


class _NarrowPositionEngine(_ZooEngine):
    ledger_type = _NarrowPositionLedger


# --- reservation_wraps_int32 ----------------------------------------------------------------


class _Int32ReservationEngine(Engine):
    def _buy_reservation(self, quantity: int, limit: int) -> int:
        total = super()._buy_reservation(quantity, limit)
        return (total + 2**31) % 2**32 - 2**31  # cents kept in a signed 32-bit field


# --- commission_min_capped / commission_rate_capped / slippage_capped ----------------------

#: the caps a form-based engine might put on its cost settings
_MIN_CAP_CENTS = 500
_RATE_CAP = 100  # in 1/10,000 (basis points): 1 %
_SLIPPAGE_CAP = 10_000  # millionths: 100 bps


class _CappedCostsEngine(Engine):
    """Reserves with costs clamped to ``capped``; fills charge the real ones."""

    def capped(self, costs: Costs) -> Costs:
        return costs

    def _buy_reservation(self, quantity: int, limit: int) -> int:
        costs = self._costs
        reserving = self.capped(costs)
        # the reservation's limit price too, from the reference price and the capped slippage
        reference = limit * SLIPPAGE_SCALE // (SLIPPAGE_SCALE + costs.max_slippage)
        if reserving.max_slippage == costs.max_slippage:
            reference = limit
        else:
            reference = reserving.limit_price(reference)
        return reserving.buy_total(quantity * reference)


class _MinCappedEngine(_CappedCostsEngine):
    def capped(self, costs: Costs) -> Costs:
        return dataclasses.replace(costs, commission_min=min(costs.commission_min, _MIN_CAP_CENTS))


class _RateCappedEngine(_CappedCostsEngine):
    def capped(self, costs: Costs) -> Costs:
        rate = min(costs.commission_rate, Fraction(_RATE_CAP, 10_000))
        return dataclasses.replace(costs, commission_rate=rate)


class _SlippageCappedEngine(_CappedCostsEngine):
    def capped(self, costs: Costs) -> Costs:
        return dataclasses.replace(costs, max_slippage=min(costs.max_slippage, _SLIPPAGE_CAP))


# --- session_day_expiry ---------------------------------------------------------------------


class _SessionExpiryEngine(Engine):
    def __init__(self, config: EngineConfig, observer: Observer | None = None) -> None:
        super().__init__(config, observer)
        self._session: str | None = None

    def step(
        self,
        timestamp: Timestamp,
        bars: Sequence[Bar] = (),
        signals: Sequence[Signal] = (),
        cancels: Sequence[Cancel] = (),
    ) -> None:
        # DAY orders live for the calendar date of the ISO timestamp ("the session")
        session = timestamp[:10] if isinstance(timestamp, str) else None
        if session is not None and self._session is not None and session != self._session:
            for order in self.ledger.open_orders():
                if order.time_in_force is TimeInForce.DAY:
                    # the session roll marks it expired but forgets its reservation
                    order.state = OrderState.EXPIRED
                    self.ledger._store(order)
                    self._emit(OrderExpired(timestamp, order.order_id, 0))
        self._session = session
        super().step(timestamp, bars, signals, cancels)


# --- sell_fee_unchecked ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _NoSellReserveCosts(Costs):
    def sell_reserve(self) -> int:
        return 0


class _SellFeeUncheckedEngine(_OverdraftEngine):
    """Holds nothing back for a SELL's commission and books a sale whose commission exceeds
    its proceeds and the cash left (backtrader and backtesting.py, README finding [c])."""

    def __init__(self, config: EngineConfig, observer: Observer | None = None) -> None:
        super().__init__(config, observer)
        costs = self._costs
        self._costs = _NoSellReserveCosts(
            costs.commission_rate, costs.commission_min, costs.max_slippage, costs.random_slippage
        )

    def _refuse(self, timestamp: Timestamp, order: OrderRecord, *fill: int) -> None:
        # a sale goes through as the overdraft engine's fills do; a BUY is refused as usual
        refuse = super()._refuse if order.side is Side.SELL else partial(Engine._refuse, self)
        refuse(timestamp, order, *fill)


# --- the zoo -------------------------------------------------------------------------------


def _in_mode(engine: type[Engine], naive: bool = False) -> EngineFactory:
    def factory(config: EngineConfig, observer: Observer | None = None) -> EngineUnderTest:
        return engine(_naive(config) if naive else _reserving(config), observer)

    factory.__qualname__ = f"zoo.{engine.__name__}"
    return factory


_ENTRIES = (
    ZooEngine(
        "naive_sizing",
        "Sizes every signal against total cash and reserves nothing (the seed's race), so "
        "the last of several BUYs in one bar cannot be paid at its fill.",
        ("accepted_orders_funded", "legal_lifecycle", "no_oversell"),
        _in_mode(Engine, naive=True),
    ),
    ZooEngine(
        "keyed_reservation",
        "Keeps the reserved total by symbol/timestamp/quantity key: identical orders overwrite "
        "one entry, fills at another bar or of a partial quantity never match, so it leaks.",
        ("reserved_matches_orders", "reserved_within_cash", "release_exact"),
        _in_mode(_KeyedEngine),
    ),
    ZooEngine(
        "lump_reservation_wiped",
        "Resets the reserved total to 0 at the end of every step while orders are still open.",
        (
            "reserved_within_cash",
            "reserved_matches_orders",
            "release_exact",
            "accepted_orders_funded",
        ),
        _in_mode(_LumpEngine),
    ),
    ZooEngine(
        "estimate_below_slippage",
        "Reserves a BUY at the reference price without the slippage buffer, so a fill that "
        "slips costs more than was reserved for it.",
        ("fill_within_reservation", "accepted_orders_funded", "reserved_within_cash"),
        _in_mode(_ThinEstimateEngine),
    ),
    ZooEngine(
        "no_release_on_cancel",
        "A cancelled order is marked CANCELLED but keeps its reservation.",
        ("reserved_matches_orders", "terminal_orders_hold_nothing", "release_exact"),
        _in_mode(_CancelKeepsEngine),
    ),
    ZooEngine(
        "partial_fill_releases_all",
        "A partial BUY fill releases the order's whole reservation, so its remaining fills "
        "spend cash that other orders were sized against.",
        ("fill_within_reservation", "reserved_within_cash", "accepted_orders_funded"),
        _in_mode(_ReleaseAllEngine),
    ),
    ZooEngine(
        "sell_ignores_pending_sells",
        "A SELL is sized against the position without the shares already pending sale, "
        "so two SELLs in one bar oversell.",
        ("no_oversell",),
        _in_mode(_OversellEngine),
    ),
    ZooEngine(
        "overdraft_fills",
        "Sizes naively and, like nautilus_trader's cash account, applies a fill that cash "
        "cannot pay, driving the balance negative.",
        ("cash_non_negative", "reserved_within_cash", "no_oversell"),
        _in_mode(_OverdraftEngine, naive=True),
    ),
    ZooEngine(
        "unlogged_commission",
        "Takes each fill's commission from cash but leaves it out of the fill's logged cash delta.",
        ("cash_conservation",),
        _in_mode(_UnloggedCommissionEngine),
    ),
    ZooEngine(
        "entry_price_equity",
        "Values positions at their entry prices instead of the latest marks.",
        ("equity_identity",),
        _in_mode(_EntryPriceEngine),
    ),
    ZooEngine(
        "double_counted_fill",
        "Books a completed BUY order's shares into the position a second time.",
        ("position_conservation",),
        _in_mode(_DoubleFillEngine),
    ),
    ZooEngine(
        "released_not_logged",
        "Releases a cancelled or expired order's reservation but logs released=0.",
        ("release_exact",),
        _in_mode(_SilentReleaseEngine),
    ),
    ZooEngine(
        "cancel_filled_order",
        "A cancel of a FILLED order succeeds and moves it to CANCELLED.",
        ("stray_cancels_logged", "legal_lifecycle"),
        _in_mode(_CancelFilledEngine),
    ),
    ZooEngine(
        "unrecorded_rejection",
        "Logs OrderRejected but never books the rejected order.",
        ("new_orders_match_events",),
        _in_mode(_ForgetfulEngine),
    ),
    ZooEngine(
        "dropped_sell_signal",
        "Drops a SELL signal with nothing to sell silently instead of rejecting it.",
        ("signals_accounted",),
        _in_mode(_DroppingEngine),
    ),
    ZooEngine(
        "unseeded_slippage",
        "Draws slippage from a generator seeded by the OS instead of the scenario seed.",
        ("determinism",),
        _in_mode(_UnseededEngine),
    ),
    ZooEngine(
        "cancel_ignored_while_live",
        "Answers a cancel of an order without fills with CancelIgnored and leaves it live "
        "(its books stay consistent).",
        ("cancel_takes_effect",),
        _in_mode(_IgnoresLiveCancelEngine),
    ),
    ZooEngine(
        "cancels_before_signals",
        "Applies a step's cancels before its bars and signals, so a cancel of an order "
        "placed in the same step finds nothing.",
        ("phase_order",),
        _in_mode(_CancelsFirstEngine),
    ),
    ZooEngine(
        "reused_order_id",
        "Hands a rejected signal's order id to the next signal again.",
        (
            "order_ids_unique",
            "new_orders_match_events",
            "legal_lifecycle",
            "signals_accounted",
        ),
        _in_mode(_ReusedIdEngine),
    ),
    ZooEngine(
        "silent_unknown_cancel",
        "Drops a cancel of an order id it never issued without logging it.",
        ("stray_cancels_logged",),
        _in_mode(_SilentUnknownCancelEngine),
    ),
    ZooEngine(
        "unknown_cancel_crashes",
        "Looks a cancel's order up without checking it exists, so a cancel of an id it "
        "never issued raises KeyError.",
        ("crash",),
        _in_mode(_UnknownCancelCrashEngine),
    ),
    ZooEngine(
        "ninth_order_unreserved",
        "Keeps reservations in a table of 8 order slots: from the ninth order on, the "
        "order holds its reservation but the total does not.",
        ("reserved_matches_orders", "release_exact", "reserved_within_cash"),
        _in_mode(_EightSlotEngine),
    ),
    ZooEngine(
        "position_wraps_20_bits",
        "Keeps positions in a 20-bit share counter, which wraps above 1,048,575 shares.",
        ("position_conservation", "no_oversell", "equity_identity"),
        _in_mode(_NarrowPositionEngine),
    ),
    ZooEngine(
        "reservation_wraps_int32",
        "Keeps a BUY's reservation in signed 32-bit cents, which wrap above 21,474,836.47.",
        (
            "fill_within_reservation",
            "accepted_orders_funded",
            "reserved_within_cash",
            "reserved_matches_orders",
            "new_orders_match_events",
            "release_exact",
        ),
        _in_mode(_Int32ReservationEngine),
    ),
    ZooEngine(
        "commission_min_capped",
        "Reserves with the commission minimum capped at 5.00, so a fill under a higher "
        "minimum costs more than was reserved.",
        ("fill_within_reservation", "accepted_orders_funded", "reserved_within_cash"),
        _in_mode(_MinCappedEngine),
    ),
    ZooEngine(
        "commission_rate_capped",
        "Reserves with the commission rate capped at 1 %, so a fill under a higher rate "
        "costs more than was reserved.",
        ("fill_within_reservation", "accepted_orders_funded", "reserved_within_cash"),
        _in_mode(_RateCappedEngine),
    ),
    ZooEngine(
        "slippage_capped",
        "Reserves a BUY with its slippage buffer capped at 100 bps, so a fill that slips "
        "further costs more than was reserved.",
        ("fill_within_reservation", "accepted_orders_funded", "reserved_within_cash"),
        _in_mode(_SlippageCappedEngine),
    ),
    ZooEngine(
        "session_day_expiry",
        "Expires DAY orders when the ISO timestamp's calendar date changes, without "
        "releasing their reservation.",
        (
            "terminal_orders_hold_nothing",
            "reserved_matches_orders",
            "legal_lifecycle",
            "release_exact",
        ),
        _in_mode(_SessionExpiryEngine),
    ),
    ZooEngine(
        "sell_fee_unchecked",
        "Holds nothing back for a SELL's commission and books a sale whose commission exceeds "
        "its proceeds and the cash left, as backtrader and backtesting.py do.",
        # a sale that nets less than the nothing it reserved shows before cash goes negative
        ("fill_within_reservation", "cash_non_negative", "reserved_within_cash"),
        _in_mode(_SellFeeUncheckedEngine),
    ),
)

#: name -> zoo engine, in a fixed order.
ZOO: dict[str, ZooEngine] = {entry.name: entry for entry in _ENTRIES}

__all__ = ["ZOO", "ZooEngine"]
