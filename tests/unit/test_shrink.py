"""The domain reducer: valid edits (order ids follow their orders), and shrinking that
keeps the failure while it removes steps, symbols, signals, cancels and simplifies numbers."""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from cashfuzz.cli import main
from cashfuzz.engines import pin_engine_mode, resolve_engine
from cashfuzz.invariants import check_scenario
from cashfuzz.reference_engine import (
    Bar,
    Cancel,
    Engine,
    EngineConfig,
    Observer,
    PercentEquity,
    Scenario,
    Side,
    Signal,
    TimeInForce,
    Timestamp,
    load_scenario,
    scenario_from_json,
    scenario_to_json,
    write_scenario,
)
from cashfuzz.search.shrink import (
    CRASH,
    Failure,
    ScenarioSize,
    ShrinkLimits,
    failures_of,
    order_ids,
    round_significant,
    shrink_scenario,
    with_signals,
)
from cashfuzz.search.soak_generator import Features, SizeClass, draw_scenario

LONG_RUN = SizeClass("long-run", 2, 3, 1_000, 1_000, 300, 40, 5)


def _bar(timestamp: Timestamp, symbol: str = "AAPL", price: int = 1_000_000) -> Bar:
    return Bar(timestamp, symbol, price, price, price, price, 1_000_000)


def _signal(timestamp: Timestamp, side: Side = Side.BUY, quantity: int | None = 1) -> Signal:
    return Signal(timestamp, "AAPL", side, quantity, None, TimeInForce.GTC)


def _failing_long_scenario(engine: str) -> tuple[Scenario, Failure]:
    """The first 1,000-step generated scenario (seeds 0, 1, ...) that ``engine`` fails."""
    factory = resolve_engine(engine)
    for seed in range(200):
        rng = random.Random(seed)
        features = dataclasses.replace(Features.draw(rng), cancels=True, gaps=False)
        scenario = draw_scenario(rng, LONG_RUN, features)
        result = check_scenario(scenario, factory, fail_fast=True)
        if not result.ok:
            return pin_engine_mode(scenario, engine), failures_of(result)[0]
    raise AssertionError(f"no 1,000-step scenario among 200 fails on {engine}")


def test_order_ids_follow_time_then_file_order() -> None:
    """Order ids run by timestamp, then by file order within one timestamp."""
    signals = [_signal(2), _signal(1), _signal(2), _signal(1)]
    assert order_ids(signals) == [3, 1, 4, 2]


def test_removing_a_signal_remaps_every_cancel_to_its_order() -> None:
    """Dropping a signal drops the cancels of its order and renumbers the others' ids."""
    scenario = Scenario(
        config=EngineConfig(initial_cash=1_000_000),
        bars=(_bar(0), _bar(1)),
        signals=(_signal(0), _signal(0), _signal(1)),
        cancels=(Cancel(1, 1), Cancel(1, 2), Cancel(1, 3), Cancel(0, 3)),
    )
    reduced = with_signals(scenario, [1, 2])
    assert reduced.signals == scenario.signals[1:]
    assert reduced.cancels == (Cancel(1, 1), Cancel(1, 2), Cancel(0, 2))
    # still a scenario the file format accepts
    assert scenario_from_json(scenario_to_json(reduced)) == reduced


def test_round_significant_rounds_to_the_nearest_and_never_to_zero() -> None:
    """Rounding keeps the given significant digits and stays at least 1."""
    assert round_significant(123_456, 1) == 100_000
    assert round_significant(123_456, 2) == 120_000
    assert round_significant(4, 1) == 4
    assert round_significant(1, 3) == 1
    assert round_significant(0, 1) == 0


@pytest.mark.parametrize("engine", ["naive", "zoo:no_release_on_cancel"])
def test_a_failing_1000_step_scenario_shrinks_to_a_handful_and_replays(
    engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 1,000-step failure shrinks to at most a handful of bars and signals, and the
    written result breaks the same invariant when `cashfuzz run` replays it (exit 1)."""
    scenario, failure = _failing_long_scenario(engine)
    assert ScenarioSize.of(scenario).steps == 1_000
    factory = resolve_engine(engine)
    result = shrink_scenario(scenario, factory, failure)
    after = result.after
    assert result.stopped_by == "fixpoint"
    assert after.bars <= 4, after
    assert after.signals <= 4, after
    assert after.steps <= 3, after
    assert after.cancels <= len(scenario.cancels)
    path = write_scenario(result.shrunk, tmp_path / "shrunk.json")
    assert main(["run", str(path), "--engine", engine, "--json"]) == 1
    assert failure.invariant in capsys.readouterr().out
    replayed = check_scenario(load_scenario(path), factory, only=[failure.invariant])
    assert failure in failures_of(replayed)


def _late_race(steps: int = 1_000, race_at: int = 700) -> Scenario:
    """``steps`` steps of harmless one-share trades and cancels on AAPL, and at ``race_at``
    two MSFT BUYs that each size to 60 % of equity: the naive engine cannot pay the second."""
    signals = [Signal(t, "AAPL", Side.BUY if t % 2 == 0 else Side.SELL, 1) for t in range(steps)]
    signals[race_at:race_at] = [
        Signal(race_at, "MSFT", Side.BUY),
        Signal(race_at, "MSFT", Side.BUY),
    ]
    ids = order_ids(signals)
    cancels = tuple(Cancel(t, ids[t - 3]) for t in range(3, steps, 7))
    bars = tuple(
        bar for t in range(steps) for bar in (_bar(t, "AAPL", 1_000_000), _bar(t, "MSFT", 500_000))
    )
    return Scenario(
        config=EngineConfig(initial_cash=100_000_000, sizer=PercentEquity(Fraction(6, 10))),
        bars=bars,
        signals=tuple(signals),
        cancels=cancels,
    )


def test_a_late_failure_in_1000_steps_shrinks_to_the_race_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A race at step 700 of 1,000 busy steps shrinks to its two signals on two bars of
    one symbol, and `cashfuzz run` replays it with exit 1."""
    scenario = pin_engine_mode(_late_race(), "naive")
    factory = resolve_engine("naive")
    found = check_scenario(scenario, factory, fail_fast=True)
    failure = failures_of(found)[0]
    assert found.events[found.violations[0].event_index].timestamp == 701
    result = shrink_scenario(scenario, factory, failure)
    assert (result.before.steps, result.before.signals) == (1_000, 1_002)
    assert result.after.symbols == 1
    assert result.after.steps <= 2
    assert result.after.signals == 2
    assert result.after.bars <= 2
    assert result.after.cancels == 0
    path = write_scenario(result.shrunk, tmp_path / "race.json")
    assert main(["run", str(path), "--json"]) == 1
    assert failure.invariant in capsys.readouterr().out


def test_a_cancel_that_matters_survives_with_its_order_renumbered() -> None:
    """When the failure needs a cancel, the shrunk scenario keeps it, naming a live order."""
    factory = resolve_engine("zoo:no_release_on_cancel")
    signals = tuple(_signal(t) for t in range(6))
    scenario = Scenario(
        config=EngineConfig(initial_cash=100_000_000),
        bars=tuple(_bar(t) for t in range(8)),
        signals=signals,
        cancels=(Cancel(7, 6), Cancel(5, 6)),
    )
    failure = failures_of(check_scenario(scenario, factory, fail_fast=True))[0]
    shrunk = shrink_scenario(scenario, factory, failure).shrunk
    assert len(shrunk.signals) == 1
    assert [cancel.order_id for cancel in shrunk.cancels] == [1]
    assert failure in failures_of(check_scenario(shrunk, factory, only=[failure.invariant]))


def test_numbers_get_simpler() -> None:
    """Costs, odd cash, strengths and large explicit quantities are simplified away."""
    factory = resolve_engine("naive")
    bars = (Bar(0, "AAPL", 123_457, 130_001, 120_003, 127_771, 987_654), _bar(1, price=133_333))
    scenario = Scenario(
        config=EngineConfig(initial_cash=12_345),
        bars=bars,
        signals=(
            Signal(0, "AAPL", Side.BUY, 600, Decimal("0.37")),
            Signal(0, "AAPL", Side.BUY, 700, Decimal("0.81")),
        ),
    )
    failure = failures_of(check_scenario(scenario, factory, fail_fast=True))[0]
    shrunk = shrink_scenario(scenario, factory, failure).shrunk
    assert all(signal.strength is None for signal in shrunk.signals)
    assert sum(signal.quantity or 0 for signal in shrunk.signals) < 1_300
    assert len(str(shrunk.config.initial_cash).rstrip("0")) <= 3
    assert failure in failures_of(check_scenario(shrunk, factory, only=[failure.invariant]))


class _CrashOnSell(Engine):
    """Raises as soon as it handles a SELL signal."""

    def _handle_signal(self, timestamp: Timestamp, signal: Signal) -> None:
        if signal.side is Side.SELL:
            raise ZeroDivisionError("sell")
        super()._handle_signal(timestamp, signal)


def _crash_on_sell(config: EngineConfig, observer: Observer | None = None) -> Engine:
    return _CrashOnSell(config, observer)


def test_a_crash_shrinks_to_what_raises_the_same_exception() -> None:
    """A crash is kept by its exception type: one SELL signal is left."""
    scenario = Scenario(
        config=EngineConfig(initial_cash=1_000_000),
        bars=tuple(_bar(t) for t in range(10)),
        signals=(*(_signal(t) for t in range(9)), _signal(9, Side.SELL)),
    )
    result = shrink_scenario(scenario, _crash_on_sell, Failure(CRASH, "ZeroDivisionError"))
    assert [signal.side for signal in result.shrunk.signals] == [Side.SELL]
    assert result.after.steps == 1


def test_a_scenario_that_does_not_fail_is_refused() -> None:
    """Shrinking a scenario that does not fail that way raises ValueError."""
    scenario = Scenario(config=EngineConfig(initial_cash=1_000_000), bars=(_bar(0),))
    with pytest.raises(ValueError, match="does not fail"):
        shrink_scenario(scenario, resolve_engine("reference"), Failure("cash_non_negative"))


def test_the_check_limit_stops_with_a_failing_scenario() -> None:
    """Out of checks, the reducer returns the smallest failure so far, never a passing one."""
    scenario, failure = _failing_long_scenario("naive")
    factory = resolve_engine("naive")
    result = shrink_scenario(scenario, factory, failure, ShrinkLimits(checks=3))
    assert result.stopped_by == "checks"
    assert result.checks == 3
    assert failure in failures_of(check_scenario(result.shrunk, factory, only=[failure.invariant]))


def test_an_unknown_invariant_is_refused() -> None:
    """A failure naming no invariant is a ValueError, before any check."""
    scenario = Scenario(config=EngineConfig(initial_cash=1), bars=(_bar(0),))
    with pytest.raises(ValueError, match="not one of"):
        shrink_scenario(scenario, resolve_engine("reference"), Failure("no_such_check"))


def test_gathering_signals_in_one_step_renumbers_the_cancels() -> None:
    """Moving every signal to one timestamp changes the handling order; cancels follow."""
    from cashfuzz.search.shrink import _one_step

    scenario = Scenario(
        config=EngineConfig(initial_cash=1_000_000),
        bars=(_bar(0), _bar(1)),
        signals=(_signal(1), _signal(0), _signal(1, Side.SELL)),
        cancels=(Cancel(1, 1), Cancel(1, 3)),  # orders of signals 1 and 2
    )
    gathered = _one_step(scenario, 0)
    assert gathered is not None
    assert {signal.timestamp for signal in gathered.signals} == {1}
    # handled in file order now: signal 1 is order 2, signal 2 is order 3
    assert [cancel.order_id for cancel in gathered.cancels] == [2, 3]
