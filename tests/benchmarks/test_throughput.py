"""Engine throughput on the shared workload: symbol-bars through ``Engine.step``.

``pytest tests/benchmarks --benchmark-enable`` runs them; divide the symbol-bars
in ``extra_info`` by the mean time for symbol-bars per second. Backtrader runs
on the same bars and orders in the ``versus backtrader`` group (needs the
``bench`` extra).
"""

from __future__ import annotations

from typing import Any

import pytest

from cashfuzz.bench import Workload, make_workload, run_engine
from cashfuzz.reference_engine import OrderFilled

SHAPES = [(1, 2_000), (10, 200), (100, 20)]
VERSUS = (10, 300)


def _fills(workload: Workload) -> int:
    engine, _ = run_engine(workload)
    return sum(isinstance(event, OrderFilled) for event in engine.events)


@pytest.mark.parametrize(("symbols", "bars"), SHAPES, ids=lambda value: str(value))
def test_reference_engine(benchmark: Any, symbols: int, bars: int) -> None:
    """Steps the reference engine through symbols x bars, filling every order but the last bar's."""
    workload = make_workload(symbols, bars)
    benchmark.group = "throughput"
    benchmark.extra_info["symbol_bars"] = workload.symbol_bars
    benchmark.pedantic(run_engine, args=(workload,), rounds=10, iterations=1)
    last = len(workload.steps[-1].signals)
    assert _fills(workload) == workload.order_count - last


def test_reference_engine_versus(benchmark: Any) -> None:
    """Steps the reference engine through the workload backtrader gets below."""
    workload = make_workload(*VERSUS)
    benchmark.group = "versus backtrader"
    benchmark.extra_info["symbol_bars"] = workload.symbol_bars
    benchmark.pedantic(run_engine, args=(workload,), rounds=5, iterations=1)
    assert _fills(workload) == workload.order_count - len(workload.steps[-1].signals)


def test_backtrader_versus(benchmark: Any) -> None:
    """Runs backtrader's broker on the same bars and orders, filling the same orders."""
    pytest.importorskip("backtrader")
    from cashfuzz.adapters.backtrader.runner import run_backtrader

    workload = make_workload(*VERSUS)
    bars, orders = workload.bt_bars(), workload.bt_orders()
    benchmark.group = "versus backtrader"
    benchmark.extra_info["symbol_bars"] = workload.symbol_bars

    def run() -> Any:
        return run_backtrader(
            bars,
            orders,
            initial_cash=workload.initial_cash / 100,
            commission_rate=float(workload.commission_rate),
            fill_at="next_open",
        )

    result = benchmark.pedantic(run, rounds=3, iterations=1)
    assert len(result.fills) == _fills(workload)
