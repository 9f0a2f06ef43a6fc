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

``cashfuzz diff --against backtesting`` explains with ``BACKTESTING_RULES`` (in
``differential.py`` beside this module) before the generic rules: it stops the run once
its equity is zero or less (closing every trade, cash set to 0), executes a bar's orders
only when the next bar arrives, never expires an order, and charges commission per trade
opened and per trade closed.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any
from unittest import mock

import backtesting

from cashfuzz.adapters.backtesting.differential import BACKTESTING_RULES
from cashfuzz.adapters.kit import Account, Factory, Limits, WholeRunEngine, ohlc_frame
from cashfuzz.reference_engine import FillAt, Side, Step
from cashfuzz.reference_engine.money import CENTS_PER_UNIT, SLIPPAGE_SCALE

#: No stats (about 90 % of a short run; the adapter reads none) and no progress bar.
_QUIET: dict[str, Any] = {"compute_stats": lambda **_: None, "_tqdm": lambda bars, **_: bars}


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
