"""backtesting.py (``backtesting==0.6.6``) as an engine under test: ``--engine backtesting``.

One ``Backtest.run()`` per scenario (a whole-run engine). backtesting.py trades one
asset, calls its strategy from the second bar on (the adapter repeats the first bar
in front), and has no order callbacks, so the adapter watches its broker:

* each bar, before the broker touches it -> ``MarketUpdated``;
* a signal -> ``Strategy.buy/sell(size=..., tag=...)``, a live order: ``OrderAccepted``
  (it reserves nothing: ``reserves_cash = False``); sized by the kit's naive rule
  against the broker's cash when the signal has no quantity;
* at the next open (or the signal bar's close with ``fill_at`` same_close, its
  ``trade_on_close``) the broker takes the order off its queue: the shares it traded,
  closing trades first then opening one, are one ``OrderFilled`` at that price with
  the broker's own commission; when it traded fewer shares than ordered it had
  cancelled the rest "due to insufficient margin" (a UserWarning, silenced here and
  reported instead): ``FillRefused``, a BUY it cannot afford or the opening part of
  a SELL beyond the position, which the invariants flag;
* a scenario cancel -> ``Order.cancel()`` -> ``OrderCancelled`` (orders never expire).

Cash is reported in cash-account terms from the broker's own figures: its cash
(initial, less commissions, plus realised P&L) less what its open trades cost at
entry; positions are the sum of its trade sizes. Its equity is not reported
(``reports_equity = False``): backtesting.py keeps fractional cents, so a float
equity rounded to ticks and a cash rounded to cents cannot meet exactly.
Costs: ``commission_rate`` and ``commission_min`` as a commission function (per
trade opened or closed), a fixed ``slippage_bps`` as its ``spread``; volume caps are
not modelled. ``unsupported`` names what it cannot express and ``adapt_scenario``
projects a scenario onto one symbol with a bar at every timestamp.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator
from typing import Any

from cashfuzz.adapters.kit import Account, Factory, Limits, WholeRunEngine
from cashfuzz.reference_engine import Bar, FillAt, Scenario, ScenarioError, Side, Step
from cashfuzz.reference_engine.money import CENTS_PER_UNIT, SLIPPAGE_SCALE, TICKS_PER_UNIT


LIMITS = Limits(max_symbols=1, random_slippage=False, aligned=True)


class BacktestingEngine(WholeRunEngine):
    """backtesting.py's broker behind the kit; see the module docstring."""

    reports_equity = False
    broker: Any = None
    taken: list[float] = [0, 0.0, 0.0]  # shares, price, commission of the order in process

    def account(self) -> Account:
        trades = self.broker.trades if self.broker else []
        cost = sum(trade.size * trade.entry_price for trade in trades)
        cash = (self.broker._cash if self.broker else self.config.initial_cash / 100) - cost
        return Account(cash, {self.symbol: sum(t.size for t in trades)} if trades else {})

    def run(self, steps: tuple[Step, ...]) -> None:
        import backtesting
        import pandas as pd

        if problem := LIMITS.unsupported(Scenario(self.config, tuple(_bars(steps)))):
            raise ScenarioError(problem)
        self.symbol, bars = steps[0].bars[0].symbol, [steps[0].bars[0]]
        bars += [step.bars[0] for step in steps]  # the strategy first runs on the second bar
        frame = pd.DataFrame(
            [[b.open, b.high, b.low, b.close] for b in bars], columns=["Open", "High", "Low", "Close"]
        ).set_index(pd.date_range("2000-01-03", periods=len(bars), freq="D")) / TICKS_PER_UNIT
        costs, tape, engine = self.config.costs, self.tape, self

        class Orders(list[Any]):
            def remove(self, order: Any) -> None:
                super().remove(order)
                shares, price, fee = engine.taken
                engine.taken = [0, 0.0, 0.0]
                if order is engine.cancelling or not tape.is_open(order):
                    return
                if shares:
                    tape.filled(order, shares, price, fee)
                if shares < abs(order.size):
                    tape.rejected(order, "insufficient margin", price=price)

        class Broker(backtesting.backtesting._Broker):  # type: ignore[misc]
            def __init__(self, **kwargs: Any) -> None:
                super().__init__(**kwargs)
                self.orders, engine.broker, engine.cancelling = Orders(), self, None

            def next(self) -> None:
                tape.begin(len(self._data) - 2)
                super().next()

            def _open_trade(self, price: float, size: int, *rest: Any) -> None:
                engine.taken = [engine.taken[0] + abs(size), price, engine.taken[2]]
                engine.taken[2] += self._commission(size, price)
                super()._open_trade(price, size, *rest)

            def _close_trade(self, trade: Any, price: float, time_index: int) -> None:
                engine.taken = [engine.taken[0] + abs(trade.size), price, engine.taken[2]]
                engine.taken[2] += self._commission(trade.size, price)
                super()._close_trade(trade, price, time_index)

        class Drive(backtesting.Strategy):  # type: ignore[misc]
            def init(self) -> None:
                pass

            def next(self) -> None:
                for signal in tape.step.signals:
                    if quantity := tape.size(signal):
                        place = self.buy if signal.side is Side.BUY else self.sell
                        tape.placed(place(size=quantity), quantity)
                for cancel in tape.step.cancels:
                    tape.cancel(cancel, engine.cancel)

        rate, minimum = float(costs.commission_rate), costs.commission_min / CENTS_PER_UNIT
        with warnings.catch_warnings(), _quiet(backtesting.backtesting):
            # "insufficient margin" is reported as FillRefused; the others are about stats
            warnings.simplefilter("ignore", UserWarning)
            test = backtesting.Backtest(
                frame,
                Drive,
                cash=self.config.initial_cash / CENTS_PER_UNIT,
                spread=costs.max_slippage / SLIPPAGE_SCALE,
                commission=lambda size, price: max(minimum, abs(size) * price * rate),
                trade_on_close=self.config.fill_at is FillAt.SAME_CLOSE,
            )
            test._broker = functools.partial(Broker, **test._broker.keywords)
            test.run()

    def cancel(self, order: Any) -> bool:
        self.cancelling = order
        order.cancel()
        return True


def _bars(steps: tuple[Step, ...]) -> Iterator[Bar]:
    return (bar for step in steps for bar in step.bars)


@contextlib.contextmanager
def _quiet(module: Any) -> Iterator[None]:
    """Skip ``compute_stats`` (about 90 % of a short run; the adapter reads no stats)
    and the progress bar."""
    saved = module.compute_stats, module._tqdm
    module.compute_stats, module._tqdm = (lambda **_: None), (lambda steps, **_: steps)
    try:
        yield
    finally:
        module.compute_stats, module._tqdm = saved


backtesting_factory = Factory(BacktestingEngine, LIMITS, name="backtesting")
unsupported = LIMITS.unsupported
adapt_scenario = LIMITS.adapt

__all__ = ["BacktestingEngine", "adapt_scenario", "backtesting_factory", "unsupported"]
