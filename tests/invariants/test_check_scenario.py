"""check_scenario's own contract: what it refuses to call a pass."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from cashfuzz.cli import main
from cashfuzz.examples import load_example
from cashfuzz.invariants import AdapterProtocolError, check_scenario
from cashfuzz.reference_engine import Engine, EngineConfig, Mode, Observer, ScenarioError


def _silent(config: EngineConfig, observer: Observer | None = None) -> Engine:
    """The naive engine, wired without its observer."""
    return Engine(dataclasses.replace(config, mode=Mode.NAIVE), None)


def test_an_engine_that_never_calls_its_observer_is_a_protocol_error() -> None:
    """A log the monitor never saw is the adapter's mistake, never 'every invariant held'."""
    with pytest.raises(AdapterProtocolError, match="called its observer with 0"):
        check_scenario(load_example("googl-aapl"), _silent)


class _CrashesTheSecondTime:
    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, config: EngineConfig, observer: Observer | None = None) -> Engine:
        self.runs += 1
        engine = Engine(config, observer)
        if self.runs > 1:
            engine.step = _explode  # type: ignore[method-assign]
        return engine


def _explode(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("second run")


def test_a_rerun_that_crashes_breaks_determinism() -> None:
    """When only the second run of a scenario crashes, determinism is reported broken."""
    result = check_scenario(load_example("googl-aapl"), _CrashesTheSecondTime())
    names = [v.invariant for v in result.violations]
    assert names == ["determinism"]
    assert "crashed: RuntimeError: second run (raised at " in result.violations[0].message


def test_replaced_signals_are_the_signals_that_run() -> None:
    """dataclasses.replace on a scenario never reuses the old scenario's timeline."""
    scenario = load_example("googl-aapl")
    scenario.steps()  # fill the cache
    fewer = dataclasses.replace(scenario, signals=scenario.signals[:1])
    assert sum(len(step.signals) for step in fewer.steps()) == 1
    assert check_scenario(fewer).ok


def _cannot_express(config: EngineConfig, observer: Observer | None = None) -> Engine:
    engine = Engine(config, observer)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ScenarioError("bars: this engine needs aligned bars")

    engine.step = refuse  # type: ignore[method-assign]
    return engine


def test_a_scenario_the_engine_cannot_express_is_bad_input() -> None:
    """ScenarioError from the engine is raised (exit 2 in the CLI), never a finding."""
    with pytest.raises(ScenarioError, match="aligned bars"):
        check_scenario(load_example("googl-aapl"), _cannot_express)
    assert main(["run", "--example", "googl-aapl", "--engine", f"{__name__}:_cannot_express"]) == 2


def _cannot_build(config: EngineConfig, observer: Observer | None = None) -> Engine:
    raise RuntimeError("no broker")


def test_a_factory_that_raises_is_a_finding_not_an_internal_error() -> None:
    """An engine factory that raises is reported as the engine's crash (exit 1), not exit 3."""
    result = check_scenario(load_example("googl-aapl"), _cannot_build)
    assert result.crash is not None
    assert result.crash.startswith("the engine factory raised RuntimeError: no broker (raised at ")
    assert main(["run", "--example", "googl-aapl", "--engine", f"{__name__}:_cannot_build"]) == 1
