"""backtrader's broker as an engine under test, through ``reference_engine.EngineUnderTest``.

backtrader runs a whole data set in one ``cerebro.run()``. So ``step()`` records
the step's inputs, re-runs backtrader from scratch on every step so far (it is
deterministic) and emits, to ``events`` and the observer, only the events beyond
those already emitted, each with the snapshot taken after it. n steps cost n
runs over 1..n bars, O(n^2) bar-steps: about 3 ms a run for the few-step
scenarios the fuzzer draws. A re-run that changes an event already emitted
raises RuntimeError (it would mean backtrader looked ahead).

How backtrader maps onto our vocabulary:

* Each step's bars -> ``MarketUpdated`` (marks = closes), logged after the
  broker has processed the bar (the fills of earlier orders come first, as in
  the reference engine's ``next_open`` mode).
* Each signal -> one order placed from the strategy's ``next()``. An explicit
  ``quantity`` is placed as given. Without one, it is sized the way a typical
  backtrader strategy does, like the reference engine's ``naive`` mode: the
  sizer's target at the close from ``broker.getvalue()``, minus the *filled*
  position, capped (policy shrink/reject) by what ``broker.getcash()`` affords.
  Neither sees the orders placed earlier in the same bar: the seed's race. A
  SELL without quantity sells the filled position (what ``close()`` does).
* backtrader hands the strategy a live order at once (status Submitted) and
  decides on it when the next bar arrives: its submission check, then the
  execution. The live order is our ``OrderAccepted`` (reserved 0, limit 0);
  a signal that makes no order (nothing to sell, zero size, unaffordable) is an
  ``OrderRejected`` with its Reason. ``Margin`` or ``Rejected`` from the broker
  after that, at the submission check or at execution, is a ``FillRefused``:
  the order goes ACCEPTED -> REJECTED, which the invariants flag.
* Executions -> ``OrderFilled``. backtrader's float cash is converted once per
  event with ``round(cash * 100)``; ``cash_delta`` is the difference of those
  rounded cumulative figures, so our cash is exactly initial + the logged
  deltas. Prices are ``round(price * 10_000)`` ticks and commissions
  ``round(commission * 100)`` cents, per execution.
* Cancels go through ``broker.cancel()`` -> ``OrderCancelled``. backtrader can
  only cancel orders it has accepted: one still in its submission queue (placed
  in the same bar) is not found, and the cancel is logged as ``CancelIgnored``
  (UNKNOWN_ORDER to the broker, with the order's live state); the order then
  executes. ``Expired`` -> ``OrderExpired``.

Settings: ``fill_at`` next_open (backtrader's default) or same_close
(``set_coc``: the creation bar's close, processed when the next bar arrives, so
orders placed on the last bar are never processed in either mode);
``commission_rate`` via ``setcommission``; ``commission_min`` via a
CommissionInfo that charges max(rate x value, minimum) *per execution* (the
reference charges the minimum once per order: the same for orders filled at
once); a fixed ``slippage_bps`` via ``set_slippage_perc`` (slipping the open
and the cheat-on-close price, not clamped to the bar); ``max_participation`` via
a filler capping each execution at floor(bar volume x fraction) (in same_close
mode backtrader takes the volume of the bar it processes the order on, the
next one). DAY orders are placed with ``valid=Order.DAY``, but backtrader never
expires market orders, so they behave as GTC. ``mode`` does not apply
(``reserves_cash = False``: backtrader reserves nothing for open orders) and
``seed`` is unused.

Not expressible, raised as ScenarioError naming the field: bounded random
slippage (``costs.max_slippage_bps``), bars missing for a symbol at a
timestamp (backtrader's clock needs aligned bars), and a timestamp with
signals or cancels but no bars. ``adapt_scenario`` turns any scenario into the
nearest one backtrader can run; the gate maps its strategy through it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cashfuzz.adapters.backtrader.runner import EPOCH, backtrader_classes
from cashfuzz.errors import UsageError
from cashfuzz.reference_engine import (
    TERMINAL_STATES,
    Bar,
    Cancel,
    CancelIgnored,
    EngineConfig,
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
    TimeInForce,
    Timestamp,
)
from cashfuzz.reference_engine.money import (
    CENTS_PER_UNIT,
    MILLIONTHS_PER_BP,
    SLIPPAGE_SCALE,
    TICKS_PER_UNIT,
    format_cents,
    format_fraction,
)

# Only what a broker replay needs: no observers, preloaded in-memory feeds,
# vectorised stepping (the strategy has no indicators).
_CEREBRO_OPTIONS: dict[str, Any] = {
    "stdstats": False,
    "preload": True,
    "runonce": True,
    "exactbars": False,
    "maxcpus": 1,
    "optdatas": False,
    "optreturn": False,
    "tradehistory": False,
    "quicknotify": False,
}
_FULL_STRENGTH = Fraction(1)


# --- what backtrader can run ----------------------------------------------------------


def unsupported_config(config: EngineConfig) -> str | None:
    """Why backtrader cannot run a scenario with ``config`` (naming the field), or None."""
    costs = config.costs
    if costs.random_slippage and costs.max_slippage > 0:
        bps = format_fraction(Fraction(costs.max_slippage, MILLIONTHS_PER_BP))
        return (
            f"costs.max_slippage_bps={bps} draws bounded random slippage, which backtrader "
            "cannot model (its slippage is one fixed percentage): use costs.slippage_bps "
            "for a fixed slippage"
        )
    return None


def _unaligned(
    timestamp: Timestamp, bars: Sequence[Bar], symbols: frozenset[str] | None
) -> str | None:
    """Why one step's bars do not fit backtrader's aligned clock, or None."""
    if not bars:
        return (
            f"timestamp={timestamp!r} has signals or cancels but no bars: backtrader's "
            "strategy runs only on bars; give every timestamp a bar for each symbol"
        )
    names = [bar.symbol for bar in bars]
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        return f"bars at timestamp={timestamp!r}: a second bar for symbol={twice!r}"
    if symbols is not None and set(names) != symbols:
        missing = sorted(symbols - set(names))
        if missing:
            return (
                f"bars at timestamp={timestamp!r} miss symbol={missing[0]!r}: backtrader "
                "needs a bar for every symbol at every timestamp (aligned bars)"
            )
        extra = sorted(set(names) - symbols)[0]
        return (
            f"bars at timestamp={timestamp!r} bring symbol={extra!r}, which has no bar at "
            "earlier timestamps: backtrader needs a bar for every symbol at every "
            "timestamp (aligned bars)"
        )
    return None


def unsupported(scenario: Scenario) -> str | None:
    """Why backtrader cannot run ``scenario`` as given (naming the field), or None."""
    problem = unsupported_config(scenario.config)
    if problem is not None:
        return problem
    symbols: frozenset[str] | None = None
    for step in scenario.steps():
        problem = _unaligned(step.timestamp, step.bars, symbols)
        if problem is not None:
            return problem
        symbols = frozenset(bar.symbol for bar in step.bars)
    return None


def adapt_scenario(scenario: Scenario) -> Scenario:
    """The nearest scenario backtrader can run: bounded random slippage becomes fixed at
    its maximum, and a symbol missing at a timestamp gets a flat, volume-0 bar at its
    last close (before its first bar: at that bar's open). Unchanged when supported."""
    config = scenario.config
    costs = config.costs
    if costs.random_slippage:
        config = EngineConfig(
            initial_cash=config.initial_cash,
            mode=config.mode,
            fill_at=config.fill_at,
            policy=config.policy,
            max_participation=config.max_participation,
            seed=config.seed,
            costs=type(costs)(
                commission_rate=costs.commission_rate,
                commission_min=costs.commission_min,
                max_slippage=costs.max_slippage,
                random_slippage=False,
            ),
            sizer=config.sizer,
        )
    first_open: dict[str, int] = {}
    for bar in scenario.bars:
        first_open.setdefault(bar.symbol, bar.open)
    symbols = scenario.symbols
    last: dict[str, int] = {}
    added: list[Bar] = []
    for step in scenario.steps():
        present = {bar.symbol: bar for bar in step.bars}
        for symbol in symbols:
            found = present.get(symbol)
            if found is not None:
                last[symbol] = found.close
                continue
            price = last.get(symbol, first_open[symbol])
            added.append(Bar(step.timestamp, symbol, price, price, price, price, 0))
    if config is scenario.config and not added:
        return scenario
    return Scenario(
        config=config,
        bars=(*scenario.bars, *added),
        signals=scenario.signals,
        cancels=scenario.cancels,
        description=scenario.description,
    )


# --- backtrader classes, built once and only when needed -----------------------------------


class _Participation:
    """A backtrader filler: each execution takes at most floor(volume x fraction) shares."""

    def __init__(self, fraction: Fraction) -> None:
        self._numerator = fraction.numerator
        self._denominator = fraction.denominator

    def __call__(self, order: Any, price: float, ago: int) -> int:
        volume = round(order.data.volume[ago])
        cap = volume * self._numerator // self._denominator
        return int(min(cap, abs(order.executed.remsize)))


@dataclass(frozen=True, slots=True)
class _Classes:
    bt: Any
    feed: Any
    broker: Any
    strategy: Any
    minimum_commission: Any


@functools.cache
def _classes() -> _Classes:
    bt, feed_cls, stamp_broker_cls = backtrader_classes()

    class Broker(stamp_broker_cls):  # type: ignore[misc,valid-type]
        # Stamps each notification with the positions at that moment, and each
        # order with its last cash check: (cash it was checked against, cash
        # needed, price), which a Margin notification reports.
        def _execute(
            self,
            order: Any,
            ago: Any = None,
            price: Any = None,
            cash: Any = None,
            position: Any = None,
            dtcoc: Any = None,
        ) -> Any:
            if ago is None:  # the submission check's pseudo-execution
                after = super()._execute(order, ago, price, cash, position, dtcoc)
                order.cashfuzz_check = (cash, cash - after, order.created.price)
                return after
            if price is not None:
                size = abs(order.executed.remsize)
                if self.p.filler is not None:
                    size = self.p.filler(order, price, ago)
                comminfo = self.getcommissioninfo(order.data)
                needed = comminfo.getcommission(size, price)
                if order.isbuy():
                    needed += size * price
                order.cashfuzz_check = (self.cash, needed, price)
            return super()._execute(order, ago, price, cash, position, dtcoc)

        def notify(self, order: Any) -> None:
            super().notify(order)
            self.notifs[-1].cashfuzz_positions = {
                data.p.symbol: (int(position.size), float(position.price))
                for data, position in self.positions.items()
            }

    class MinimumCommission(bt.CommInfoBase):  # type: ignore[misc,name-defined]
        # a percentage of the traded value, at least `minimum`, per execution
        params = (
            ("stocklike", True),
            ("commtype", bt.CommInfoBase.COMM_PERC),
            ("percabs", True),
            ("minimum", 0.0),
        )

        def _getcommission(self, size: float, price: float, pseudoexec: bool) -> float:
            return float(max(abs(size) * price * self.p.commission, self.p.minimum))

    class Drive(bt.Strategy):  # type: ignore[misc,name-defined]
        params = (("run", None),)

        def notify_order(self, order: Any) -> None:
            self.p.run.on_notification(self, order)

        def next(self) -> None:
            self.p.run.on_bar(self)

    return _Classes(bt, feed_cls, Broker, Drive, MinimumCommission)


# --- one backtrader run, as our events --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    timestamp: Timestamp
    bars: tuple[Bar, ...]
    signals: tuple[Signal, ...]
    cancels: tuple[Cancel, ...]


@dataclass(slots=True)
class _Book:
    """One order as we report it (backtrader's own order object lives in the run)."""

    order_id: int
    symbol: str
    side: Side
    quantity: int
    time_in_force: TimeInForce
    state: OrderState
    filled: int = 0
    cash_flow: int = 0

    def view(self) -> OrderView:
        return OrderView(
            order_id=self.order_id,
            symbol=self.symbol,
            side=self.side,
            quantity=self.quantity,
            filled=self.filled,
            state=self.state,
            reserved=0,
            reserved_initial=0,
            cash_flow=self.cash_flow,
            released=0,
            time_in_force=self.time_in_force,
            limit_price=0,
        )


def _cents(value: float) -> int:
    return round(value * CENTS_PER_UNIT)


def _ticks(value: float) -> int:
    return round(value * TICKS_PER_UNIT)


@dataclass(slots=True)
class _Run:
    """Turns what backtrader does during one ``cerebro.run()`` into events + snapshots."""

    config: EngineConfig
    steps: tuple[_Step, ...]
    epoch: float
    feeds: dict[str, Any] = field(default_factory=dict)
    entries: list[tuple[Event, LedgerSnapshot]] = field(default_factory=list)
    cash: int = 0
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    marks: dict[str, int] = field(default_factory=dict)
    books: dict[int, _Book] = field(default_factory=dict)
    bt_orders: dict[int, Any] = field(default_factory=dict)
    ids_by_ref: dict[int, int] = field(default_factory=dict)
    signals_seen: int = 0
    cancels_seen: int = 0

    def __post_init__(self) -> None:
        self.cash = self.config.initial_cash

    # --- books ---------------------------------------------------------------------------

    def snapshot(self) -> LedgerSnapshot:
        marks = self.marks
        equity = self.cash * 100
        for symbol, (quantity, _) in self.positions.items():
            if quantity:
                equity += quantity * marks[symbol]
        return LedgerSnapshot(
            initial_cash=self.config.initial_cash,
            cash=self.cash,
            reserved=0,
            equity=equity,
            orders=tuple(self.books[i].view() for i in sorted(self.books)),
            positions=tuple(
                # backtrader keeps no realized P&L per position: reported as 0
                PositionView(symbol, quantity, cost, 0)
                for symbol, (quantity, cost) in sorted(self.positions.items())
            ),
            marks=tuple(sorted(marks.items())),
        )

    def _emit(self, event: Event) -> None:
        self.entries.append((event, self.snapshot()))

    def _take_positions(self, stamped: dict[str, tuple[int, float]]) -> None:
        for symbol, (quantity, price) in stamped.items():
            if quantity or symbol in self.positions:
                self.positions[symbol] = (quantity, _ticks(quantity * price))

    def _step_index(self, strategy: Any) -> int:
        day: float = strategy.datas[0].datetime[0] - self.epoch
        return round(day)

    # --- the broker's notifications (delivered before next() on the bar it processed) -----

    def on_notification(self, strategy: Any, order: Any) -> None:
        order_id = self.ids_by_ref[order.ref]
        book = self.books[order_id]
        timestamp = self.steps[self._step_index(strategy)].timestamp
        cash = _cents(order.cashfuzz_cash)
        self._take_positions(order.cashfuzz_positions)
        for bit in order.executed.iterpending():
            quantity = abs(int(bit.size))
            delta = cash - self.cash
            self.cash = cash
            book.filled += quantity
            book.cash_flow += delta
            book.state = (
                OrderState.FILLED if book.filled >= book.quantity else OrderState.PARTIALLY_FILLED
            )
            self._emit(
                OrderFilled(
                    timestamp,
                    order_id,
                    book.symbol,
                    book.side,
                    quantity,
                    _ticks(bit.price),
                    _cents(bit.comm),
                    delta,
                    0,
                    book.filled,
                    book.quantity - book.filled,
                )
            )
        # any cash change not explained by an execution shows up in cash_conservation
        self.cash = cash
        if book.state in TERMINAL_STATES:
            return
        status = order.getstatusname()
        if status in ("Margin", "Rejected"):
            checked, needed, price = getattr(order, "cashfuzz_check", (0.0, 0.0, 0.0))
            book.state = OrderState.REJECTED
            self._emit(
                FillRefused(
                    timestamp,
                    order_id,
                    book.symbol,
                    book.side,
                    book.quantity - book.filled,
                    _ticks(price),
                    _cents(needed),
                    _cents(checked),
                )
            )
        elif status == "Canceled":
            book.state = OrderState.CANCELLED
            self._emit(OrderCancelled(timestamp, order_id, -1, 0))
        elif status == "Expired":
            book.state = OrderState.EXPIRED
            self._emit(OrderExpired(timestamp, order_id, 0))

    # --- the strategy's next(): marks, signals, cancels --------------------------------------

    def on_bar(self, strategy: Any) -> None:
        step = self.steps[self._step_index(strategy)]
        broker = strategy.broker
        self.cash = _cents(broker.getcash())
        self._take_positions(
            {
                symbol: (int(position.size), float(position.price))
                for symbol, feed in self.feeds.items()
                for position in (broker.getposition(feed),)
            }
        )
        marks = tuple((bar.symbol, bar.close) for bar in step.bars)
        self.marks.update(marks)
        self._emit(MarketUpdated(step.timestamp, marks))
        for signal in step.signals:
            self._signal(strategy, step.timestamp, signal)
        for cancel in step.cancels:
            self._cancel(strategy, step.timestamp, cancel)

    def _signal(self, strategy: Any, timestamp: Timestamp, signal: Signal) -> None:
        self.signals_seen += 1
        order_id = self.signals_seen
        feed = self.feeds[signal.symbol]
        broker = strategy.broker
        reference = self.marks[signal.symbol]
        requested = signal.quantity
        resized: Reason | None = None
        if signal.side is Side.BUY:
            if requested is None:
                held = int(broker.getposition(feed).size)
                strength = _FULL_STRENGTH if signal.strength is None else Fraction(signal.strength)
                equity = _ticks(broker.getvalue())
                target = self.config.sizer.target(reference, equity, strength)
                requested = target - held
                if requested <= 0:
                    reason = Reason.TARGET_REACHED if target > 0 else Reason.ZERO_SIZE
                    detail = f"target {target} shares, holding {held}"
                    self._reject(timestamp, order_id, signal, max(requested, 0), reason, detail)
                    return
                quantity, resized = self._affordable(broker, requested, reference)
                if quantity == 0:
                    detail = (
                        f"{requested} shares need more than the broker's cash "
                        f"{format_cents(_cents(broker.getcash()))}"
                    )
                    self._reject(
                        timestamp, order_id, signal, requested, Reason.INSUFFICIENT_CASH, detail
                    )
                    return
            else:
                quantity = requested
            placed = strategy.buy(data=feed, size=quantity, valid=self._valid(signal))
        else:
            if requested is None:
                requested = int(broker.getposition(feed).size)
                if requested <= 0:
                    self._reject(
                        timestamp,
                        order_id,
                        signal,
                        0,
                        Reason.NOTHING_TO_SELL,
                        "the broker's position is flat or short",
                    )
                    return
            quantity = requested
            placed = strategy.sell(data=feed, size=quantity, valid=self._valid(signal))
        self.bt_orders[order_id] = placed
        self.ids_by_ref[placed.ref] = order_id
        self.books[order_id] = _Book(
            order_id,
            signal.symbol,
            signal.side,
            quantity,
            signal.time_in_force,
            OrderState.ACCEPTED,
        )
        self._emit(
            OrderAccepted(
                timestamp,
                order_id,
                order_id - 1,
                signal.symbol,
                signal.side,
                quantity,
                requested,
                reference,
                0,
                0,
                signal.time_in_force,
                resized,
            )
        )

    def _affordable(self, broker: Any, requested: int, reference: int) -> tuple[int, Reason | None]:
        """The sizer's order capped by the broker's cash now, which does not know about the
        orders placed earlier in this bar (``naive`` mode's rule, with backtrader's cash)."""
        costs = self.config.costs
        budget = _cents(broker.getcash())
        limit = costs.limit_price(reference)
        if costs.buy_total(requested * limit) <= budget:
            return requested, None
        affordable = costs.affordable(budget, limit)
        if self.config.policy is Policy.REJECT:
            return 0, None
        return affordable, Reason.INSUFFICIENT_CASH

    def _valid(self, signal: Signal) -> Any:
        # what a backtrader user writes; backtrader ignores it for market orders
        return _classes().bt.Order.DAY if signal.time_in_force is TimeInForce.DAY else None

    def _reject(
        self,
        timestamp: Timestamp,
        order_id: int,
        signal: Signal,
        requested: int,
        reason: Reason,
        detail: str,
    ) -> None:
        self.books[order_id] = _Book(
            order_id,
            signal.symbol,
            signal.side,
            requested,
            signal.time_in_force,
            OrderState.REJECTED,
        )
        self._emit(
            OrderRejected(
                timestamp,
                order_id,
                order_id - 1,
                signal.symbol,
                signal.side,
                requested,
                reason,
                detail,
            )
        )

    def _cancel(self, strategy: Any, timestamp: Timestamp, cancel: Cancel) -> None:
        index = self.cancels_seen
        self.cancels_seen += 1
        book = self.books.get(cancel.order_id)
        if book is None:
            self._emit(CancelIgnored(timestamp, cancel.order_id, index, Reason.UNKNOWN_ORDER, None))
        elif book.state in TERMINAL_STATES:
            self._emit(
                CancelIgnored(
                    timestamp, cancel.order_id, index, Reason.ALREADY_TERMINAL, book.state
                )
            )
        elif strategy.broker.cancel(self.bt_orders[cancel.order_id]):
            book.state = OrderState.CANCELLED
            self._emit(OrderCancelled(timestamp, cancel.order_id, index, 0))
        else:
            # still in the broker's submission queue: backtrader's cancel does not find it
            self._emit(
                CancelIgnored(timestamp, cancel.order_id, index, Reason.UNKNOWN_ORDER, book.state)
            )


def _replay(config: EngineConfig, steps: tuple[_Step, ...]) -> list[tuple[Event, LedgerSnapshot]]:
    """Run backtrader on ``steps`` from scratch; every event with the snapshot after it."""
    classes = _classes()
    bt = classes.bt
    epoch = float(bt.date2num(EPOCH))
    cerebro = bt.Cerebro(**_CEREBRO_OPTIONS)
    broker = classes.broker()
    broker.set_cash(config.initial_cash / CENTS_PER_UNIT)
    costs = config.costs
    rate = float(costs.commission_rate)
    if costs.commission_min:
        broker.addcommissioninfo(
            classes.minimum_commission(
                commission=rate, minimum=costs.commission_min / CENTS_PER_UNIT
            )
        )
    else:
        broker.setcommission(commission=rate)
    broker.set_coc(config.fill_at is FillAt.SAME_CLOSE)
    if costs.max_slippage:
        broker.set_slippage_perc(
            costs.max_slippage / SLIPPAGE_SCALE,
            slip_open=True,
            slip_limit=True,
            slip_match=True,
            slip_out=True,
        )
    if config.max_participation is not None:
        broker.set_filler(_Participation(config.max_participation))
    cerebro.setbroker(broker)
    run = _Run(config, steps, epoch)
    for symbol in sorted(bar.symbol for bar in steps[0].bars):
        series = [next(b for b in step.bars if b.symbol == symbol) for step in steps]
        columns = (
            [epoch + day for day in range(len(steps))],
            [bar.open / TICKS_PER_UNIT for bar in series],
            [bar.high / TICKS_PER_UNIT for bar in series],
            [bar.low / TICKS_PER_UNIT for bar in series],
            [bar.close / TICKS_PER_UNIT for bar in series],
            [float(bar.volume) for bar in series],
        )
        feed = classes.feed(columns=columns, symbol=symbol, timeframe=bt.TimeFrame.Days)
        cerebro.adddata(feed, name=symbol)
        run.feeds[symbol] = feed
    cerebro.addstrategy(classes.strategy, run=run)
    cerebro.run()
    return run.entries


# --- the engine ------------------------------------------------------------------------------


def _opening(config: EngineConfig) -> LedgerSnapshot:
    cash = config.initial_cash
    return LedgerSnapshot(cash, cash, 0, cash * 100, (), (), ())


class BacktraderEngine:
    """backtrader's BackBroker behind ``EngineUnderTest``; see the module docstring.

    Raises ScenarioError for a setting backtrader cannot model (at construction) or
    bars it cannot run (in ``step``, before recording anything), and UsageError when
    backtrader is not installed.
    """

    reserves_cash = False
    #: backtrader's value is a float; the snapshot derives equity from cash and marks
    #: instead, so the equity identity would only check that derivation against itself
    reports_equity = False
    #: backtrader cancels an order still in its submission queue only at the next bar,
    #: and notifies cancels and fills before the strategy's next(): lifecycle rules
    #: that assume the reference engine's phases do not apply
    cancels_immediately = False
    logs_documented_phase_order = False

    def __init__(self, config: EngineConfig, observer: Observer | None = None) -> None:
        problem = unsupported_config(config)
        if problem is not None:
            raise ScenarioError(problem)
        try:
            _classes()
        except ImportError:
            raise UsageError(
                "--engine backtrader needs the backtrader package: "
                "pip install -e '.[bench]' in a cashfuzz checkout (backtrader==1.9.78.123)"
            ) from None
        self.config = config
        self.observer = observer
        self.events: list[Event] = []
        self._steps: list[_Step] = []
        self._symbols: frozenset[str] | None = None
        self._after: list[LedgerSnapshot] = []
        self._snapshot = _opening(config)

    def step(
        self,
        timestamp: Timestamp,
        bars: Sequence[Bar] = (),
        signals: Sequence[Signal] = (),
        cancels: Sequence[Cancel] = (),
    ) -> None:
        """Record the step, re-run backtrader on every step so far, emit the new events."""
        problem = _unaligned(timestamp, bars, self._symbols)
        if problem is not None:
            raise ScenarioError(problem)
        self._symbols = frozenset(bar.symbol for bar in bars)
        self._steps.append(_Step(timestamp, tuple(bars), tuple(signals), tuple(cancels)))
        entries = _replay(self.config, tuple(self._steps))
        done = len(self.events)
        for index, (event, after) in enumerate(entries[:done]):
            if event != self.events[index] or after != self._after[index]:
                raise RuntimeError(
                    f"backtrader's re-run changed event {index} after it was emitted: "
                    f"{self.events[index]!r} became {event!r}"
                )
        if len(entries) < done:
            raise RuntimeError(f"backtrader's re-run lost events {len(entries)}..{done - 1}")
        for event, after in entries[done:]:
            self.events.append(event)
            self._after.append(after)
            self._snapshot = after
            if self.observer is not None:
                self.observer(event, after)

    def snapshot(self) -> LedgerSnapshot:
        """The books after the last event: cash, orders, positions, marks, equity (ticks)."""
        return self._snapshot


class BacktraderFactory:
    """``backtrader_factory(config, observer)`` builds a BacktraderEngine. It also declares
    the engine's limits: ``unsupported(scenario)`` says why a scenario cannot run (or
    None) and ``adapt_scenario(scenario)`` maps any scenario to the nearest one that can,
    which the gate applies to its strategy."""

    unsupported = staticmethod(unsupported)
    adapt_scenario = staticmethod(adapt_scenario)

    def __call__(self, config: EngineConfig, observer: Observer | None = None) -> BacktraderEngine:
        return BacktraderEngine(config, observer)

    def __repr__(self) -> str:
        return "backtrader_factory"


backtrader_factory = BacktraderFactory()

__all__ = [
    "BacktraderEngine",
    "BacktraderFactory",
    "adapt_scenario",
    "backtrader_factory",
    "unsupported",
    "unsupported_config",
]
