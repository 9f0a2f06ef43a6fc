"""Resting orders are indexed: a bar visits only its symbols' live orders, and a GTC BUY
priced out of the market is parked until a bar it can meet. The log is the same as when
every open order is visited on every bar."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cashfuzz import strategies as cst
from cashfuzz.invariants.monitor import event_log_bytes
from cashfuzz.reference_engine import (
    Bar,
    Engine,
    EngineConfig,
    FillAt,
    Scenario,
    Side,
    Signal,
    TimeInForce,
)


class _VisitsEverything(Engine):
    """The engine with parking switched off: every open order is tried on every bar."""

    def __init__(self, config: EngineConfig, observer: object = None) -> None:
        super().__init__(config)
        self._can_park = False


def _log(engine: Engine, scenario: Scenario) -> bytes:
    for step in scenario.steps():
        engine.step(step.timestamp, step.bars, step.signals, step.cancels)
    return event_log_bytes(engine.events)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(cst.scenarios(max_steps=10, max_signals=16, max_cancels=4))
def test_parking_never_changes_the_log(scenario: Scenario) -> None:
    """With or without parking, a scenario logs exactly the same bytes."""
    parked = _log(Engine(scenario.config), scenario)
    assert parked == _log(_VisitsEverything(scenario.config), scenario)


def _bar(t: int, price: int) -> Bar:
    return Bar(t, "A", price, price, price, price, 1_000)


def test_a_gap_parks_a_gtc_buy_until_the_price_comes_back() -> None:
    """A GTC BUY limited below a gap up waits parked, then fills when the price returns."""
    engine = Engine(EngineConfig(initial_cash=1_000_000))
    engine.step(0, (_bar(0, 10_000),), (Signal(0, "A", Side.BUY, 1, None, TimeInForce.GTC),))
    engine.step(1, (_bar(1, 12_000),))  # gaps above the limit: parked, not filled
    assert engine.ledger.live_orders("A") == {}
    assert engine.ledger.open_orders()[0].order_id == 1
    engine.step(2, (_bar(2, 11_000),))  # still above: stays parked
    assert engine.ledger.live_orders("A") == {}
    engine.step(3, (_bar(3, 9_000),))  # back below the limit: fills at the open
    assert engine.ledger.open_orders() == []
    fills = [event for event in engine.events if type(event).__name__ == "OrderFilled"]
    assert [(fill.order_id, fill.price) for fill in fills] == [(1, 9_000)]


def test_a_parked_order_can_be_cancelled() -> None:
    """Cancelling a parked order releases it, and a later bar does not bring it back."""
    from cashfuzz.reference_engine import Cancel

    engine = Engine(EngineConfig(initial_cash=1_000_000))
    engine.step(0, (_bar(0, 10_000),), (Signal(0, "A", Side.BUY, 1, None, TimeInForce.GTC),))
    engine.step(1, (_bar(1, 12_000),))
    engine.step(2, (), (), (Cancel(2, 1),))
    engine.step(3, (_bar(3, 9_000),))
    assert engine.ledger.reserved == 0
    assert engine.ledger.open_orders() == []
    assert engine.ledger.live_orders("A") == {}
    assert [type(event).__name__ for event in engine.events][-2:] == [
        "OrderCancelled",
        "MarketUpdated",
    ]


@st.composite
def _gappy_gtc_scenarios(draw: st.DrawFn) -> Scenario:
    """Two symbols whose prices jump around, GTC orders of both sides, fixed slippage:
    many BUYs are priced out for a while, so parking and unparking happen often."""
    from fractions import Fraction

    from cashfuzz.reference_engine import Cancel, Costs

    steps = draw(st.integers(2, 12))
    bars = []
    for t in range(steps):
        for symbol in draw(st.sampled_from([("A",), ("B",), ("A", "B")])):
            price = draw(st.integers(9_000, 13_000))
            bars.append(Bar(t, symbol, price, price, price, price, draw(st.integers(0, 5))))
    signals = [
        Signal(
            draw(st.integers(0, steps - 1)),
            draw(st.sampled_from(["A", "B"])),
            draw(st.sampled_from([Side.BUY, Side.BUY, Side.SELL])),
            draw(st.integers(1, 4)),
            None,
            draw(st.sampled_from([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.DAY])),
        )
        for _ in range(draw(st.integers(0, 14)))
    ]
    signals.sort(key=lambda signal: signal.timestamp)
    cancels = [
        Cancel(draw(st.integers(0, steps - 1)), draw(st.integers(1, len(signals) + 1)))
        for _ in range(draw(st.integers(0, 3)))
    ]
    config = EngineConfig(
        initial_cash=draw(st.integers(5_000, 200_000)),
        costs=Costs(Fraction(1, 1000), 0, draw(st.sampled_from([0, 500, 3_000]))),
        fill_at=draw(st.sampled_from(list(FillAt))),
        max_participation=draw(st.sampled_from([None, Fraction(1, 2)])),
    )
    return Scenario(config, tuple(bars), tuple(signals), tuple(cancels))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(_gappy_gtc_scenarios())
def test_parking_keeps_the_log_on_gappy_gtc_runs(scenario: Scenario) -> None:
    """On runs built to park and unpark GTC BUYs, the log is still byte-identical."""
    parked = _log(Engine(scenario.config), scenario)
    assert parked == _log(_VisitsEverything(scenario.config), scenario)


def test_a_parked_buy_is_revived_by_the_open_it_fills_at_not_by_the_close() -> None:
    """Filling at the open, a parked GTC BUY comes back when the open meets its limit, even
    if that bar closes above it (mutation testing found nothing pinned the open here)."""
    engine = Engine(EngineConfig(initial_cash=1_000_000))
    engine.step(0, (_bar(0, 10_000),), (Signal(0, "A", Side.BUY, 1, None, TimeInForce.GTC),))
    engine.step(1, (_bar(1, 12_000),))  # gaps above the limit: parked
    assert engine.ledger.live_orders("A") == {}
    engine.step(2, (Bar(2, "A", 9_000, 12_000, 9_000, 12_000, 1_000),))  # opens below, closes above
    assert engine.ledger.open_orders() == []
    fills = [e for e in engine.events if type(e).__name__ == "OrderFilled"]
    assert [(fill.timestamp, fill.price) for fill in fills] == [(2, 9_000)]
