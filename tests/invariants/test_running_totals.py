"""The monitor's running totals reach the verdicts the pure checks reach by walking
every order: same invariants, same event indices, same messages, on the reference
engine, the naive engine and every zoo engine."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cashfuzz import strategies as cst
from cashfuzz.engines import resolve_engine
from cashfuzz.invariants import Monitor
from cashfuzz.reference_engine import EngineFactory, Scenario
from cashfuzz.zoo import ZOO

#: every engine whose runs repeat (unseeded_slippage draws from the OS on purpose)
ENGINES = ["reference", "naive", *(f"zoo:{name}" for name in ZOO if name != "unseeded_slippage")]


def _violations(
    scenario: Scenario, factory: EngineFactory, *, running_totals: bool
) -> tuple[list[tuple[str, int, str]], int]:
    monitor = Monitor(fail_fast=False, running_totals=running_totals)
    engine = factory(scenario.config, monitor)
    try:
        for step in scenario.steps():
            engine.step(step.timestamp, step.bars, step.signals, step.cancels)
    except Exception:  # noqa: BLE001 - a crashing zoo engine: compare what was seen
        pass
    found = [(v.invariant, v.event_index, v.message) for v in monitor.violations]
    return found, monitor.events_seen


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    scenario=cst.scenarios(max_steps=8, max_signals=12, max_cancels=4, mode=None),
    engine=st.sampled_from(ENGINES),
)
def test_running_totals_match_the_pure_checks(scenario: Scenario, engine: str) -> None:
    """Both ways of checking report exactly the same violations over the same events."""
    factory = resolve_engine(engine)
    tallied = _violations(scenario, factory, running_totals=True)
    walked = _violations(scenario, factory, running_totals=False)
    assert tallied == walked


def test_every_zoo_engine_is_caught_the_same_way_on_a_busy_run() -> None:
    """On a long golden scenario every engine's first violations agree, and at least
    half of the zoo engines break something (so the comparison is not vacuous)."""
    from pathlib import Path

    from cashfuzz.reference_engine import load_scenario

    golden = Path(__file__).parents[1] / "regressions" / "event_logs"
    scenario = load_scenario(golden / "busy-reservation-next_open.scenario.json")
    broken = 0
    for engine in ENGINES:
        factory = resolve_engine(engine)
        tallied = _violations(scenario, factory, running_totals=True)
        assert tallied == _violations(scenario, factory, running_totals=False), engine
        broken += bool(tallied[0]) and engine.startswith("zoo:")
    assert broken >= len(ZOO) // 2, broken
