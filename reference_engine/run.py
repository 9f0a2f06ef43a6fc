"""Drive an engine through a scenario's timeline."""

from __future__ import annotations

from dataclasses import dataclass

from .config import EngineConfig
from .engine import Engine
from .events import Event
from .gc_tuning import gc_tuned
from .ledger import LedgerSnapshot
from .protocol import EngineFactory, EngineUnderTest, Observer
from .scenario import Scenario


@dataclass(frozen=True, slots=True)
class RunResult:
    config: EngineConfig
    events: tuple[Event, ...]
    final: LedgerSnapshot


def reference_factory(config: EngineConfig, observer: Observer | None = None) -> EngineUnderTest:
    """The reference engine (its ``mode`` comes from the config)."""
    return Engine(config, observer)


def begin_run(engine: EngineUnderTest, scenario: Scenario) -> None:
    """Hand a whole-run engine the whole scenario before its first step (see
    ``protocol``); a step-by-step engine has no ``begin`` and is left alone."""
    begin = getattr(engine, "begin", None)
    if begin is not None:
        begin(scenario)


def run_scenario(
    scenario: Scenario,
    factory: EngineFactory = reference_factory,
    observer: Observer | None = None,
) -> RunResult:
    """Run every step of ``scenario`` on a new engine and return its log and final books."""
    with gc_tuned():
        engine = factory(scenario.config, observer)
        begin_run(engine, scenario)
        for step in scenario.steps():
            engine.step(step.timestamp, step.bars, step.signals, step.cancels)
        return RunResult(scenario.config, tuple(engine.events), engine.snapshot())
