"""backtesting.py behind the kit: its queue and trades as events, its drops as findings."""

from __future__ import annotations

import pytest

from tests.adapters.engine_kit import broken, kinds, require_engine, scenario

require_engine("backtesting")
pytestmark = pytest.mark.backtesting

from cashfuzz.adapters.backtesting import BacktestingEngine, backtesting_factory  # noqa: E402
from cashfuzz.cli import main  # noqa: E402
from cashfuzz.engines import resolve_engine  # noqa: E402
from cashfuzz.examples import load_example  # noqa: E402
from cashfuzz.invariants import check_scenario  # noqa: E402
from cashfuzz.reference_engine import (  # noqa: E402
    FillRefused,
    OrderFilled,
    ScenarioError,
    run_scenario,
)


def bars(*closes: str) -> list[tuple[int, str, str, str, int]]:
    return [(t, "AAA", close, close, 1000) for t, close in enumerate(closes)]


def test_engine_name_resolves_to_the_adapter() -> None:
    """``--engine backtesting`` is the backtesting.py adapter, declaring its limits."""
    factory = resolve_engine("backtesting")
    assert factory is backtesting_factory
    assert factory.limits.max_symbols == 1


def test_race_fills_two_and_drops_the_third_as_fill_refused() -> None:
    """Three BUYs sized against the same cash: the third is dropped at the open, a finding."""
    race = scenario(
        bars("100", "100"),
        [{"timestamp": 0, "symbol": "AAA", "side": "BUY", "quantity": q} for q in (5, 4, 2)],
        fill_at="next_open",
    )
    result = check_scenario(race, backtesting_factory)
    assert kinds(result.events) == [
        "MarketUpdated",
        "OrderAccepted",
        "OrderAccepted",
        "OrderAccepted",
        "OrderFilled",  # at the next open, before that bar's marks
        "OrderFilled",
        "FillRefused",
        "MarketUpdated",
    ]
    assert broken(result.violations)[0] == ("accepted_orders_funded", 6)
    fills = [e for e in result.events if isinstance(e, OrderFilled)]
    assert [(f.order_id, f.quantity, f.price, f.cash_delta) for f in fills] == [
        (1, 5, 1_000_000, -50_000),
        (2, 4, 1_000_000, -40_000),
    ]
    refused = result.events[-2]
    assert isinstance(refused, FillRefused)
    assert refused.order_id == 3


def test_commission_and_spread_come_from_the_broker() -> None:
    """commission_rate and a fixed slippage_bps reach backtesting.py as commission and spread."""
    trade = scenario(
        bars("100", "100"),
        [{"timestamp": 0, "symbol": "AAA", "side": "BUY", "quantity": 2}],
        fill_at="next_open",
        costs={"commission_rate": "0.01", "slippage_bps": "10"},
    )
    result = run_scenario(trade, backtesting_factory)
    fill = next(e for e in result.events if isinstance(e, OrderFilled))
    assert (fill.price, fill.commission, fill.cash_delta) == (1_001_000, 200, -20_220)
    assert result.final.cash == 100_000 - 20_220
    assert result.final.position("AAA") == 2


def test_an_oversized_sell_closes_the_position_then_opens_a_short() -> None:
    """A SELL of 3 against 1 held: a fill closing the long, one opening a short (no_oversell)."""
    sell = scenario(
        bars("10", "10", "10"),
        [
            {"timestamp": 0, "symbol": "AAA", "side": "BUY", "quantity": 1},
            {"timestamp": 1, "symbol": "AAA", "side": "SELL", "quantity": 3},
        ],
        fill_at="next_open",
    )
    result = check_scenario(sell, backtesting_factory)
    fills = [
        (e.order_id, e.side.value, e.quantity) for e in result.events if isinstance(e, OrderFilled)
    ]
    assert fills == [(1, "BUY", 1), (2, "SELL", 1), (2, "SELL", 2)]
    assert result.final is None or result.final.position("AAA") == -2
    assert broken(result.violations)[0][0] == "no_oversell"


def test_cancel_takes_the_order_off_the_queue() -> None:
    """A cancel in the bar of its order reaches the broker; the order never fills."""
    cancelled = scenario(
        bars("10", "10"),
        [{"timestamp": 0, "symbol": "AAA", "side": "BUY", "quantity": 1}],
        [{"timestamp": 0, "order_id": 1}],
        fill_at="next_open",
    )
    result = check_scenario(cancelled, backtesting_factory)
    assert result.ok, result.violations
    assert "OrderCancelled" in kinds(result.events)
    assert "OrderFilled" not in kinds(result.events)


def test_several_symbols_are_bad_input_and_adapt_projects_them() -> None:
    """backtesting.py trades one asset: two symbols is a ScenarioError; adapt keeps one."""
    race = load_example("googl-aapl-two-bars")
    with pytest.raises(ScenarioError, match="at most 1"):
        check_scenario(race, backtesting_factory)
    adapted = backtesting_factory.adapt_scenario(race)
    assert adapted.symbols == ("AAPL",)
    assert check_scenario(adapted, backtesting_factory).events


def test_the_adapter_is_one_run_per_scenario() -> None:
    """The broker runs once however many steps the scenario has."""
    runs: list[int] = []
    original = BacktestingEngine.run

    def counted(self: BacktestingEngine, steps: tuple[object, ...]) -> None:
        runs.append(len(steps))
        original(self, steps)  # type: ignore[arg-type]

    BacktestingEngine.run = counted  # type: ignore[method-assign]
    try:
        run_scenario(scenario(bars(*["10"] * 20)), backtesting_factory)
    finally:
        BacktestingEngine.run = original  # type: ignore[method-assign]
    assert runs == [20]


def test_gate_finds_a_counterexample_that_run_replays(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The gate on backtesting.py fails with a shrunk file; ``run`` on it exits 1."""
    code = main(
        ["gate", "--engine", "backtesting", "--seed", "1", "--max-examples", "200",
         "--out", str(tmp_path)]
    )  # fmt: skip
    assert code == 1
    written = sorted(tmp_path.glob("counterexample-backtesting-1-*.json"))
    assert written
    capsys.readouterr()
    for path in written:  # one shrunk file per broken invariant, each still failing
        assert main(["run", str(path), "--engine", "backtesting"]) == 1
