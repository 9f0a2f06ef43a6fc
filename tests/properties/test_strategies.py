"""The strategies generate valid inputs by construction, and reject impossible bounds."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import cashfuzz.strategies._internal.core as core
from cashfuzz import strategies
from cashfuzz.reference_engine import (
    Bar,
    Mode,
    Scenario,
    Side,
    run_scenario,
    scenario_from_dict,
    scenario_from_json,
    scenario_to_dict,
    scenario_to_json,
)
from cashfuzz.strategies import (
    bar_streams,
    bars,
    cancels,
    cash,
    cost_models,
    order_ids_by_signal,
    participation_caps,
    prices,
    scenarios,
    signal_batches,
    sizers,
)

#: ``find`` without shrinking: the first example found (the simplest one is tried first)
FIRST = settings(phases=(Phase.generate,), database=None, max_examples=500)
#: ``find`` with shrinking, seeded so the result does not depend on the run
SHRUNK = settings(
    phases=(Phase.generate, Phase.shrink), database=None, max_examples=500, derandomize=True
)


def _consistent(bar: Bar) -> bool:
    return 0 < bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high


@given(scenarios(mode=None))
def test_scenarios_round_trip_and_run(scenario: Scenario) -> None:
    """Every generated scenario survives the file format unchanged and passes input validation."""
    assert scenario_from_dict(scenario_to_dict(scenario)) == scenario
    assert scenario_from_json(scenario_to_json(scenario)) == scenario
    result = run_scenario(scenario)  # InputError would fail the test
    assert len(result.events) >= len(scenario.steps()) - len(scenario.signals) - len(
        scenario.cancels
    )


@given(scenarios())
def test_cancels_name_real_orders_no_earlier_than_their_signal(scenario: Scenario) -> None:
    """A cancel names an order id 1..n whose signal is at or before it, or an id above n
    that no signal issues (at most 8 above)."""
    timeline = [step.timestamp for step in scenario.steps()]
    ids = order_ids_by_signal(scenario.signals, timeline)
    signal_at = {order_id: scenario.signals[i].timestamp for i, order_id in enumerate(ids)}
    for cancel in scenario.cancels:
        assert 1 <= cancel.order_id <= len(scenario.signals) + 8
        if cancel.order_id in signal_at:
            assert timeline.index(cancel.timestamp) >= timeline.index(signal_at[cancel.order_id])


@given(bars(symbol="MSFT", timestamp=3, min_price=100, max_price=1_000))
def test_bars_are_consistent_and_within_bounds(bar: Bar) -> None:
    """A bar's open and close lie within low..high, all within the price bounds."""
    assert _consistent(bar)
    assert bar.low >= 100
    assert bar.high <= 1_000
    assert (bar.symbol, bar.timestamp) == ("MSFT", 3)
    assert bar.volume >= 0


@given(bar_streams(symbols=("AAPL", "GOOGL"), max_steps=4))
def test_bar_streams_start_complete_and_stay_aligned(stream: tuple[tuple[Bar, ...], ...]) -> None:
    """Step 0 has every symbol; every step holds at most one bar per symbol at its own timestamp."""
    assert 1 <= len(stream) <= 4
    assert {bar.symbol for bar in stream[0]} == {"AAPL", "GOOGL"}
    for timestamp, step in enumerate(stream):
        assert len({bar.symbol for bar in step}) == len(step)
        assert all(bar.timestamp == timestamp and _consistent(bar) for bar in step)


@given(signal_batches(("AAPL", "GOOGL"), "2025-01-02T10:00:00", max_size=5))
def test_signal_batches_share_one_timestamp(batch: tuple[Any, ...]) -> None:
    """A batch's signals are at the given timestamp, for the given symbols, with valid fields."""
    assert len(batch) <= 5
    for signal in batch:
        assert signal.timestamp == "2025-01-02T10:00:00"
        assert signal.symbol in ("AAPL", "GOOGL")
        assert signal.quantity is None or signal.quantity >= 1
        assert signal.strength is None or 0 <= signal.strength <= 1


@given(cost_models(), sizers(), participation_caps(), cash())
def test_config_parts_are_in_range(costs: Any, sizer: Any, cap: Any, cents: int) -> None:
    """Costs, sizers, caps and cash are within their documented ranges."""
    assert 0 <= costs.commission_rate <= Fraction(1, 100)
    assert 0 <= costs.max_slippage <= 10_000
    assert 0 <= costs.commission_min <= 500
    assert sizer.kind in strategies.SIZER_KINDS
    assert cap is None or 0 < cap <= 1
    assert strategies.MIN_CASH <= cents <= strategies.MAX_CASH


def test_every_sizer_kind_is_generated() -> None:
    """Each of the four sizer kinds can be drawn."""
    for kind in strategies.SIZER_KINDS:
        assert (
            find(sizers(), lambda sizer, kind=kind: sizer.kind == kind, settings=FIRST).kind == kind
        )


def test_scenarios_shrink_to_one_symbol_and_one_bar() -> None:
    """The simplest scenario has one symbol, one bar and no signals."""
    simplest = find(scenarios(), lambda scenario: True, settings=FIRST)
    assert len(simplest.symbols) == 1
    assert len(simplest.bars) == 1
    assert simplest.signals == ()


def test_later_bars_shrink_to_gaps() -> None:
    """The simplest stream over three steps has every symbol's first bar and no later bar."""
    stream = find(
        bar_streams(symbols=("AAPL", "GOOGL"), min_steps=3, max_steps=3),
        lambda drawn: True,
        settings=FIRST,
    )
    assert len(stream) == 3
    assert [bar.symbol for bar in stream[0]] == ["AAPL", "GOOGL"]
    assert stream[1:] == ((), ())


def test_a_late_signal_shrinks_to_one_bar() -> None:
    """A scenario needing a signal at step 2 shrinks to that one signal and the first bar."""
    late = find(
        scenarios(),
        lambda scenario: any(signal.timestamp == 2 for signal in scenario.signals),
        settings=SHRUNK,
    )
    assert len(late.bars) == 1
    assert len(late.signals) == 1
    assert late.cancels == ()


class _NoStrategies:
    """Stands in for ``hypothesis.strategies`` and fails on any use."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"st.{name} used while drawing: build strategies once, up front")


def test_drawing_scenarios_builds_no_strategies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once ``scenarios()`` returns, drawing from it builds no new strategy."""
    strategy = scenarios(mode=None, max_cancels=3)
    monkeypatch.setattr(core, "st", _NoStrategies())
    found = find(
        strategy,
        lambda scenario: len(scenario.symbols) > 1 and bool(scenario.cancels),
        settings=FIRST,
    )
    assert found.cancels


def test_same_bounds_give_the_same_strategy() -> None:
    """``scenarios()`` and ``bar_streams()`` return one cached strategy per set of bounds."""
    assert scenarios(max_steps=3) is scenarios(max_steps=3)
    assert scenarios(max_steps=3) is not scenarios(max_steps=4)
    assert bar_streams(symbols=["AAPL"]) is bar_streams(symbols=("AAPL",))


def test_race_shape_is_reachable() -> None:
    """Several BUYs in one bar whose requested cost exceeds the cash are generated."""

    def racy(scenario: Scenario) -> bool:
        buys = [s for s in scenario.signals if s.side is Side.BUY and s.quantity]
        first = scenario.steps()[0]
        price = {bar.symbol: bar.close for bar in first.bars}
        same_bar = [s for s in buys if s.timestamp == first.timestamp]
        cost = sum(s.quantity * price[s.symbol] for s in same_bar if s.quantity)
        return len(same_bar) >= 3 and cost > scenario.config.initial_cash * 100

    found = find(scenarios(mode=Mode.NAIVE), racy, settings=FIRST)
    assert racy(found)


@pytest.mark.parametrize(
    ("make", "word"),
    [
        (lambda: prices(min_price=10, max_price=5), "min_price"),
        (lambda: prices(min_price=0), "min_price"),
        (lambda: bars(symbol=""), "symbol"),
        (lambda: bar_streams(symbols=()), "symbols"),
        (lambda: bar_streams(symbols=("A", "A")), "symbols"),
        (lambda: bar_streams(min_steps=3, max_steps=2), "min_steps"),
        (lambda: signal_batches(("A",), 0, min_size=3, max_size=1), "min_size"),
        (lambda: cash(min_cents=5, max_cents=1), "min_cents"),
        (lambda: cost_models(max_commission_rate="1.5"), "max_commission_rate"),
        (lambda: cost_models(max_slippage_bps=6_000), "max_slippage_bps"),
        (lambda: sizers(kinds=("martingale",)), "martingale"),
        (lambda: scenarios(min_symbols=3, max_symbols=2), "min_symbols"),
        (lambda: scenarios(max_symbols=99), "max_symbols"),
        (lambda: scenarios(mode="naive"), "mode"),
        (lambda: cancels(signals=(), timestamps=(0, 0)), "timestamps"),
    ],
)
def test_impossible_bounds_raise_invalid_argument(make: Any, word: str) -> None:
    """An impossible or malformed bound raises InvalidArgument naming the argument."""
    with pytest.raises(InvalidArgument, match=word):
        make()


@given(st.data())
def test_cancels_reject_signals_off_the_timeline(data: st.DataObject) -> None:
    """A signal whose timestamp is not on the given timeline is refused up front."""
    batch = data.draw(signal_batches(("AAPL",), 5, min_size=1))
    with pytest.raises(InvalidArgument, match="timestamp"):
        cancels(signals=batch, timestamps=(0, 1))


#: what only the widened default scenarios reach, each with a predicate
_BEYOND_OLD_BOUNDS = {
    "a ninth signal": lambda s: len(s.signals) > 8,
    "more than 6 steps": lambda s: len(s.steps()) > 6,
    "more than 8 symbols": lambda s: len(s.symbols) > 8,
    "more than 3 cancels": lambda s: len(s.cancels) > 3,
    "a cancel of an id no signal issues": lambda s: any(
        c.order_id > len(s.signals) for c in s.cancels
    ),
    "an explicit quantity above 1,000": lambda s: any(
        (signal.quantity or 0) > 1_000 for signal in s.signals
    ),
    "cash above 5,000,000": lambda s: s.config.initial_cash > 500_000_000,
    "commission above 1 %": lambda s: s.config.costs.commission_rate > Fraction(1, 100),
    "a commission minimum above 5.00": lambda s: s.config.costs.commission_min > 500,
    "slippage above 100 bps": lambda s: s.config.costs.max_slippage > 10_000,
    "ISO-8601 timestamps over several days": lambda s: (
        isinstance(s.bars[0].timestamp, str)
        and len({str(bar.timestamp)[:10] for bar in s.bars}) >= 3
    ),
}


@pytest.mark.parametrize("name", sorted(_BEYOND_OLD_BOUNDS))
def test_default_scenarios_reach_beyond_the_old_bounds(name: str) -> None:
    """The default strategy generates each case the old bounds never could."""
    wanted = _BEYOND_OLD_BOUNDS[name]
    found = find(
        scenarios(), wanted, settings=settings(FIRST, max_examples=3_000, derandomize=True)
    )
    assert wanted(found)


def test_a_defect_needing_nine_signals_shrinks_to_nine_signals_and_one_bar() -> None:
    """A scenario needing nine signals shrinks to nine signals on one bar, no cancels."""
    nine = find(scenarios(), lambda s: len(s.signals) >= 9, settings=SHRUNK)
    assert len(nine.signals) == 9
    assert len(nine.bars) == 1
    assert nine.cancels == ()


def test_a_defect_needing_a_stray_cancel_shrinks_to_that_cancel_alone() -> None:
    """A scenario needing a cancel of an unknown id shrinks to one bar and that cancel."""
    stray = find(
        scenarios(), lambda s: any(c.order_id > len(s.signals) for c in s.cancels), settings=SHRUNK
    )
    assert (len(stray.bars), len(stray.signals), len(stray.cancels)) == (1, 0, 1)
