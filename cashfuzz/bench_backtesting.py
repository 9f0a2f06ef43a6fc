"""The benchmark workload through backtesting.py 0.6.6 (single asset), for
``engine_vs_backtesting``: the same bars and the same one-share market orders,
placed at a bar and filled at the next bar's open, with the same commission rate.
Needs the ``bench`` extra."""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, Any

from cashfuzz.reference_engine import Side
from cashfuzz.reference_engine.money import TICKS_PER_UNIT

if TYPE_CHECKING:
    from cashfuzz.bench import Workload


def backtesting_available() -> bool:
    """Whether backtesting.py is installed."""
    import importlib.util

    return importlib.util.find_spec("backtesting") is not None


def run_backtesting(workload: Workload) -> tuple[float, int]:
    """Run ``workload`` (one symbol) through ``backtesting.Backtest.run``; return the
    CPU seconds of ``run()`` (its statistics included: a run always computes them)
    and the number of fills (each closed trade is two, an open one one).
    Raises ValueError for a workload of more than one symbol, ImportError without
    backtesting.py."""
    import pandas as pd
    from backtesting import Backtest, Strategy

    if len(workload.symbols) != 1:
        raise ValueError(f"backtesting.py is single-asset; got {len(workload.symbols)} symbols")
    scale = float(TICKS_PER_UNIT)
    # backtesting.py first calls next() at its second bar: a copy of the first bar goes
    # in front, so next() sees every workload bar
    bars = [workload.steps[0].bars[0]] + [step.bars[0] for step in workload.steps]
    frame = pd.DataFrame(
        {
            "Open": [bar.open / scale for bar in bars],
            "High": [bar.high / scale for bar in bars],
            "Low": [bar.low / scale for bar in bars],
            "Close": [bar.close / scale for bar in bars],
            "Volume": [float(bar.volume) for bar in bars],
        },
        index=pd.date_range("2020-01-01", periods=len(bars), freq="min"),
    )
    # bar index -> True for BUY, False for SELL
    orders = {
        index: signal.side is Side.BUY
        for index, step in enumerate(workload.steps, 1)
        for signal in step.signals
    }

    class Replay(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            pass

        def next(self) -> None:
            buy = orders.get(len(self.data) - 1)
            if buy is True:
                self.buy(size=1)
            elif buy is False:
                self.sell(size=1)

    backtest = Backtest(
        frame,
        Replay,
        cash=workload.initial_cash / 100,
        commission=float(workload.commission_rate),
        trade_on_close=False,
        exclusive_orders=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.process_time()
        stats: Any = backtest.run()
        seconds = time.process_time() - started
    closed = len(stats["_trades"])
    still_open = len(stats["_strategy"].trades)
    return seconds, 2 * closed + still_open


__all__ = ["backtesting_available", "run_backtesting"]
