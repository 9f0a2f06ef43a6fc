"""backtesting.py (``backtesting==0.6.6``) as an engine under test: ``--engine backtesting``.

One ``Backtest.run()`` per scenario (a whole-run engine). backtesting.py trades one
asset, calls its strategy from the second bar on (the adapter repeats the first bar
in front), and has no order callbacks, so the adapter watches its broker:

* each bar, before the broker touches it -> ``MarketUpdated``;
* a signal -> ``Strategy.buy/sell(size=..., tag=...)``, a live order: ``OrderAccepted``
  (it reserves nothing: ``reserves_cash = False``); sized by the kit's naive rule
  against the broker's cash when the signal has no quantity;
* at the next open (or the signal bar's close with ``fill_at`` same_close, its
  ``trade_on_close``) the broker executes the order: each trade it closes, then the
  one it opens, is an ``OrderFilled`` at that price with the broker's own commission
  (so a SELL larger than the position is a partial fill that closes it, then a fill
  that opens a short); an order it takes off its queue without trading all of it was
  cancelled "due to insufficient margin" (a UserWarning, silenced here and reported
  instead): ``FillRefused`` at the strategy's next call, which the invariants flag;
* a scenario cancel -> ``Order.cancel()`` -> ``OrderCancelled`` once the order has left
  the broker's queue (orders never expire); one of an order it no longer holds (filled or
  dropped) is answered ``CancelIgnored`` by the kit.

Cash is reported in cash-account terms from the broker's own figures: its cash
(initial, less commissions, plus realised P&L) less what its open trades cost at
entry; positions are the sum of its trade sizes. Its equity is not reported
(``reports_equity = False``): backtesting.py keeps fractional cents, so a float
equity rounded to ticks and a cash rounded to cents cannot meet exactly.
Costs: ``commission_rate`` and ``commission_min`` as a commission function (per
trade opened or closed), a fixed ``slippage_bps`` as its ``spread``; volume caps are
not modelled. ``unsupported`` names what it cannot express and ``adapt_scenario``
projects a scenario onto one symbol with a bar at every timestamp.

``cashfuzz diff --against backtesting`` explains with ``BACKTESTING_RULES`` (below)
before the generic rules: it stops the run once its equity is zero or less (closing
every trade, cash set to 0), executes a bar's orders only when the next bar arrives,
never expires an order, and charges commission per trade opened and per trade closed.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any
from unittest import mock

import backtesting

from cashfuzz.adapters.diff_rules import Explanation, Question, Rule
from cashfuzz.adapters.kit import Account, Factory, Limits, WholeRunEngine, ohlc_frame
from cashfuzz.reference_engine import FillAt, Side, Step
from cashfuzz.reference_engine.money import CENTS_PER_UNIT, SLIPPAGE_SCALE

#: No stats (about 90 % of a short run; the adapter reads none) and no progress bar.
_QUIET: dict[str, Any] = {"compute_stats": lambda **_: None, "_tqdm": lambda bars, **_: bars}


def out_of_money(q: Question) -> Explanation | None:
    """backtesting.py stops once equity is zero or less: it closes every trade at the last
    price, sets cash to 0 and never calls the strategy again (``_OutOfMoneyError``)."""
    if q.other_cash != 0:
        return None
    stopped = "backtesting.py stops the run once its equity is zero or less: it closes every "
    if q.field == "exists" and q.stopped:
        return "out_of_money", (
            f"{stopped}trade at the last price, sets its cash to 0 and never calls the strategy "
            f"again, so neither {q.name} nor any later signal became an order"
        )
    went_under = "cash_non_negative" in q.other_broke or _any_missing(q)
    if q.order_id is None and went_under and q.field in ("cash", "shares"):
        if q.field == "shares" and q.other_value != "0":
            return None
        return "out_of_money", (
            f"{stopped}trade at the last price and sets its cash to 0 (here after its cash "
            "went below zero), so its books end with no cash and no positions"
        )
    return None


def _any_missing(q: Question) -> bool:
    return any(order_id not in q.other_orders for order_id in q.reference_orders)


def spread_at_entry(q: Question) -> Explanation | None:
    """backtesting.py charges its spread (our fixed slippage) when a trade opens and closes
    trades at the bar's unadjusted price."""
    if q.field != "price" or q.order_id is None or not q.scenario.config.costs.max_slippage:
        return None
    ref, oth = q.orders()
    if ref.side is not Side.SELL or ref.filled != oth.filled:
        return None
    on_close = q.scenario.config.fill_at is FillAt.SAME_CLOSE
    bars = {(bar.timestamp, bar.symbol): bar for bar in q.scenario.bars}
    placed = bars.get((oth.placed_at, oth.symbol))
    for fill in oth.fills:
        bar = placed if on_close else bars.get((fill.timestamp, oth.symbol))
        if bar is None or fill.price != (bar.close if on_close else bar.open):
            return None
    return "spread_at_entry", (
        "backtesting.py charges its spread (the scenario's slippage) when a trade opens and "
        "closes trades at the bar's unadjusted price, so this SELL, which closed trades, got "
        f"{oth.average_price()} where the reference engine slipped it to {ref.average_price()}"
    )


def next_bar_never_came(q: Question) -> Explanation | None:
    """An order placed on the last bar: backtesting.py executes a bar's orders only when
    the next bar arrives (at its open, or at the order bar's close with trade_on_close)."""
    if not q.left_unprocessed:
        return None
    ref, _ = q.orders()
    return "last_bar_never_processed", (
        f"backtesting.py executes a bar's orders only when the next bar arrives (at its open, "
        f"or with trade_on_close at the order bar's close), so order {ref.order_id}, placed on "
        f"the last bar, stays queued; the reference engine's order ended {ref.outcome}"
    )


def orders_never_expire(q: Question) -> Explanation | None:
    """backtesting.py has no time in force: an order stays queued until it fills or is
    cancelled, where the reference expires a DAY order after its first chance."""
    if not q.expired_on_reference_only:
        return None
    ref, oth = q.orders()
    return "orders_never_expire", (
        f"backtesting.py has no time in force: its orders stay queued until they fill or are "
        f"cancelled, so DAY order {ref.order_id}, which the reference engine expired after its "
        f"first chance to fill, ended {oth.outcome}"
    )


def commission_per_trade(q: Question) -> Explanation | None:
    """Commission, with its minimum, charged on each trade an order opens or closes."""
    if q.field != "commission" or q.order_id is None or q.within_rounding:
        return None
    ref, oth = q.orders()
    if not q.scenario.config.costs.commission_min or oth.commission <= ref.commission:
        return None
    return "commission_per_trade", (
        "backtesting.py charges its commission function, minimum included, on every trade "
        "an order opens and on every trade it closes (a SELL closing three BUY trades pays "
        "three minimums); the reference charges the minimum once per order"
    )


#: Asked before the generic rules, in this order.
BACKTESTING_RULES: tuple[Rule, ...] = (
    out_of_money,
    next_bar_never_came,
    orders_never_expire,
    commission_per_trade,
    spread_at_entry,
)


class BacktestingEngine(WholeRunEngine):
    """backtesting.py's broker behind the kit; see the module docstring."""

    reports_equity = False
    difference_rules = BACKTESTING_RULES
    limits = Limits(max_symbols=1, random_slippage=False, aligned=True)

    def account(self) -> Account:
        trades, cash = self.broker.trades, self.broker._cash
        cost = sum(trade.size * trade.entry_price for trade in trades)
        return Account(cash - cost, {self.symbol: sum(trade.size for trade in trades)})

    def run(self, steps: tuple[Step, ...]) -> None:
        bars = [steps[0].bars[0], *(step.bars[0] for step in steps)]  # next() starts on bar 2
        self.symbol, costs = bars[0].symbol, self.config.costs
        rate, minimum = float(costs.commission_rate), costs.commission_min / CENTS_PER_UNIT
        with warnings.catch_warnings(), mock.patch.multiple(backtesting.backtesting, **_QUIET):
            warnings.simplefilter("ignore", UserWarning)  # "insufficient margin": FillRefused
            test = backtesting.Backtest(
                ohlc_frame(bars), _Drive, cash=self.config.initial_cash / CENTS_PER_UNIT,
                spread=costs.max_slippage / SLIPPAGE_SCALE,
                commission=lambda size, price: max(minimum, abs(size) * price * rate),
                trade_on_close=self.config.fill_at is FillAt.SAME_CLOSE,
            )  # fmt: skip
            test._broker = functools.partial(_Broker, **test._broker.keywords, engine=self)
            test.run(engine=self)


class _Broker(backtesting.backtesting._Broker):  # type: ignore[misc]
    def __init__(self, *, engine: BacktestingEngine, **options: Any) -> None:
        super().__init__(**options)
        self.tape, self.busy, engine.broker = engine.tape, False, self

    def _process_orders(self) -> None:
        self.tape.begin(self._i - 1)  # the bar is in; nothing filled on it yet
        self.busy = True  # the order in process is self.orders[0]: market orders only
        super()._process_orders()
        self.busy = False

    def _open_trade(self, price: float, size: int, *rest: Any) -> None:
        super()._open_trade(price, size, *rest)
        self.tape.filled(self.orders[0], abs(size), price, self._commission(size, price))

    def _close_trade(self, trade: Any, price: float, time_index: int) -> None:
        super()._close_trade(trade, price, time_index)
        if self.busy:  # not a liquidation at zero equity, which no order asked for
            fee = self._commission(trade.size, price)
            self.tape.filled(self.orders[0], abs(trade.size), price, fee)


class _Drive(backtesting.Strategy):  # type: ignore[misc]
    engine: BacktestingEngine | None = None

    def init(self) -> None:
        pass

    def next(self) -> None:
        tape = self.engine.tape  # type: ignore[union-attr]
        tape.dropped(lambda order: order in self._broker.orders, "insufficient margin")
        tape.trade(lambda s, n: (self.buy if s.side is Side.BUY else self.sell)(size=n))
        # cancelled when the order has left the broker's queue, as the engine reports it
        tape.cancels(lambda order: order.cancel() or order not in self._broker.orders)


backtesting_factory = Factory(BacktestingEngine, name="backtesting")

__all__ = ["BACKTESTING_RULES", "BacktestingEngine", "backtesting_factory"]
