"""backtrader (``backtrader==1.9.78.123``) as an engine under test: ``--engine backtrader``.

One ``cerebro.run()`` per scenario (a kit whole-run engine): one daily in-memory feed
per symbol (step i is day i), backtrader's ``BackBroker`` set up as ``runner.
cerebro_for`` does for the bench, and a strategy that places each signal from its
``next()``. The broker tells the adapter of each bar and each notification as it
happens, so each event's snapshot holds the broker's cash and positions at that
moment. How backtrader maps onto cashfuzz events:

* each bar -> ``MarketUpdated`` (marks = closes), after the broker has processed it
  (the fills of earlier orders come first, as in the reference engine's
  ``next_open`` mode);
* each signal -> a market order placed from ``next()``. An explicit ``quantity`` is
  placed as given. Without one it is sized as a typical backtrader strategy does, the
  kit's naive rule: the sizer's target at the close from ``broker.getvalue()``, minus
  the *filled* position, capped (policy shrink/reject) by ``broker.getcash()``; neither
  sees the orders placed earlier in the same bar (the seed's race). A SELL without
  quantity sells the filled position (what ``close()`` does). A signal that makes no
  order (nothing to sell, zero size, unaffordable) is an ``OrderRejected``;
* backtrader hands the strategy a live order at once (``Submitted``) and decides on it
  when the next bar arrives: its submission check, then the execution. The live
  order is ``OrderAccepted`` (reserved 0, limit 0: ``reserves_cash = False``);
  backtrader's own ``Accepted`` adds nothing. ``Margin`` after that, at the
  submission check or at execution, is a ``FillRefused`` with the cash it was checked
  against (the check's running figure, or the broker's cash at execution): ACCEPTED ->
  REJECTED, which the invariants flag. ``Rejected`` would be logged the same way, but
  backtrader rejects only bracket children, which the adapter never places;
* each execution (``Partial``, ``Completed``) -> ``OrderFilled`` with backtrader's
  price and commission. Float cash, prices and commissions are converted once per
  event (``round(x * 100)`` cents, ``round(x * 10_000)`` ticks); ``cash_delta`` is the
  change of the rounded cash, so cash is exactly initial + the logged deltas;
* a scenario cancel -> ``broker.cancel()``: ``Canceled`` -> ``OrderCancelled``.
  backtrader cancels only orders it has accepted: one still in its submission queue
  (placed in the same bar) is not found, the cancel is ``CancelIgnored``
  (UNKNOWN_ORDER, with the order's live state) and the order then executes
  (``cancels_immediately = False``). backtrader cancels nothing on its own (no OCO or
  bracket orders here) and never expires a market order (``Expired`` never comes: a
  DAY order acts as GTC), so no ``OrderExpired`` is logged.

Settings: ``fill_at`` next_open (backtrader's default) or same_close (``set_coc``: the
creation bar's close, processed when the next bar arrives, so orders placed on the
last bar are never processed in either mode); ``commission_rate`` per execution, with
``commission_min`` as a minimum per execution (the reference charges it once per
order: the same for an order filled at once); a fixed ``slippage_bps`` via
``set_slippage_perc`` (slipping the open and the cheat-on-close price, not clamped to
the bar); ``max_participation`` caps each execution at floor(bar volume x fraction)
(in same_close mode, of the bar the order is processed on, the next one). ``mode``
does not apply (backtrader reserves nothing) and ``seed`` is unused. Equity is
backtrader's float value, so it is not reported (``reports_equity = False``: the
snapshot derives it from cash and marks). A step's events follow the documented
phases: backtrader decides on orders only in ``broker.next()``, before the strategy's
``next()``, so its executions and refusals come first (the open), then the marks,
the signals and the cancels (an execution at a cheat-on-close price is logged when
backtrader makes it, at the next bar's open).

Not expressible (``unsupported`` names the field; ``adapt_scenario`` gives the
nearest scenario): bounded random slippage (fixed at its maximum), and a timestamp
without a bar for every symbol (a flat volume-0 bar at the last close is added).
``cashfuzz diff``'s rules for backtrader (``difference_rules``) are in
``backtrader.differential``.
"""

from __future__ import annotations

from typing import Any

from cashfuzz.adapters.backtrader.differential import BACKTRADER_RULES
from cashfuzz.adapters.backtrader.runner import (
    EPOCH,
    BrokerSettings,
    backtrader_module,
    cerebro_for,
)
from cashfuzz.adapters.kit import Account, Factory, Limits, WholeRunEngine
from cashfuzz.errors import UsageError
from cashfuzz.reference_engine import (
    EngineConfig,
    FillAt,
    Observer,
    Side,
    Signal,
    Step,
    TimeInForce,
)
from cashfuzz.reference_engine.money import CENTS_PER_UNIT, SLIPPAGE_SCALE, TICKS_PER_UNIT


class BacktraderEngine(WholeRunEngine):
    """backtrader's BackBroker behind the kit; see the module docstring. Raises
    ScenarioError for a scenario backtrader cannot run and UsageError when backtrader
    is not installed."""

    reports_equity = False
    cancels_immediately = False
    limits = Limits(random_slippage=False, aligned=True)
    difference_rules = BACKTRADER_RULES

    def __init__(self, config: EngineConfig, observer: Observer | None = None) -> None:
        super().__init__(config, observer)
        try:
            self.bt = backtrader_module()
        except ImportError:
            raise UsageError(
                "--engine backtrader needs the backtrader package: "
                "pip install -e '.[bench]' in a cashfuzz checkout (backtrader==1.9.78.123)"
            ) from None
        self.orders: dict[int, Any] = {}  # backtrader ref -> its order, for cancels
        self.traded: set[str] = set()  # symbols with an execution: the positions shown

    def account(self) -> Account:
        broker = self.broker
        positions = {
            data._name: position for data, position in broker.positions.items()
            if data._name in self.traded
        }  # fmt: skip
        return Account(
            broker.cash,
            {symbol: position.size for symbol, position in positions.items()},
            equity=broker.getvalue(),
            costs={symbol: p.size * p.price for symbol, p in positions.items()},
        )

    def run(self, steps: tuple[Step, ...]) -> None:
        config, costs = self.config, self.config.costs
        epoch = float(self.bt.date2num(EPOCH))
        by_symbol = [{bar.symbol: bar for bar in step.bars} for step in steps]
        columns = {}
        for symbol in sorted(by_symbol[0]):
            bars = [step[symbol] for step in by_symbol]
            columns[symbol] = (
                [epoch + day for day in range(len(steps))],
                [bar.open / TICKS_PER_UNIT for bar in bars],
                [bar.high / TICKS_PER_UNIT for bar in bars],
                [bar.low / TICKS_PER_UNIT for bar in bars],
                [bar.close / TICKS_PER_UNIT for bar in bars],
                [float(bar.volume) for bar in bars],
            )
        settings = BrokerSettings(
            cash=config.initial_cash / CENTS_PER_UNIT,
            commission_rate=float(costs.commission_rate),
            commission_min=costs.commission_min / CENTS_PER_UNIT,
            cheat_on_close=config.fill_at is FillAt.SAME_CLOSE,
            slippage=costs.max_slippage / SLIPPAGE_SCALE,
            participation=config.max_participation,
        )
        self.bars_seen = 0
        cerebro, self.broker, self.feeds = cerebro_for(settings, columns, self, self.on_next)
        cerebro.run()

    # --- what the broker tells (runner.Watcher) ---------------------------------------------

    def bar(self) -> None:
        self.tape.begin(self.bars_seen)
        self.bars_seen += 1

    def notified(self, order: Any) -> None:
        tape, key = self.tape, order.ref
        if not tape.knows(key):  # Submitted, while buy()/sell() has not returned yet
            return
        for execution in order.executed.iterpending():
            self.traded.add(order.data._name)
            tape.filled(key, execution.size, execution.price, execution.comm)
        status = order.getstatusname()
        if status in ("Margin", "Rejected"):
            checked, needed, price = getattr(order, "cashfuzz_check", (0.0, 0.0, 0.0))
            tape.rejected(key, status, needed=needed, price=price, checked=checked)

    # --- the strategy's next(): signals, then cancels ---------------------------------------

    def on_next(self, strategy: Any) -> None:
        self.tape.trade(lambda signal, quantity: self._place(strategy, signal, quantity))
        self.tape.cancels(lambda ref: bool(self.broker.cancel(self.orders[ref])))

    def _place(self, strategy: Any, signal: Signal, quantity: int) -> int:
        # DAY is what a backtrader user writes; backtrader ignores it for market orders
        valid = self.bt.Order.DAY if signal.time_in_force is TimeInForce.DAY else None
        place = strategy.buy if signal.side is Side.BUY else strategy.sell
        order = place(data=self.feeds[signal.symbol], size=quantity, valid=valid)
        self.orders[order.ref] = order
        return int(order.ref)


class BacktraderFactory(Factory):
    """``BacktraderFactory()`` is the kit factory of BacktraderEngine, with its limits
    (``unsupported``, ``adapt_scenario``)."""

    def __init__(self) -> None:
        super().__init__(BacktraderEngine, name="backtrader_factory")

    def __call__(self, config: EngineConfig, observer: Observer | None = None) -> BacktraderEngine:
        return BacktraderEngine(config, observer)


backtrader_factory = BacktraderFactory()
#: why backtrader cannot run a scenario as given (naming the field), or None
unsupported = backtrader_factory.unsupported
#: the nearest scenario backtrader can run (the gate maps its strategy through it)
adapt_scenario = backtrader_factory.adapt_scenario

__all__ = [
    "BacktraderEngine",
    "BacktraderFactory",
    "adapt_scenario",
    "backtrader_factory",
    "unsupported",
]
