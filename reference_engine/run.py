"""Drive an engine through a scenario's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .config import EngineConfig
from .engine import Engine
from .events import Event
from .ledger import LedgerSnapshot
from .protocol import EngineFactory, EngineUnderTest, Observer
from .scenario import Scenario, Step


@dataclass(frozen=True, slots=True)
class RunResult:
    config: EngineConfig
    events: tuple[Event, ...]
    final: LedgerSnapshot


def reference_factory(config: EngineConfig, observer: Observer | None = None) -> EngineUnderTest:
    """The reference engine (its ``mode`` comes from the config)."""
    return Engine(config, observer)


@runtime_checkable
class RunsWholeData(Protocol):
    """An engine that runs a whole data set at once: it takes every step in one call."""

    def run_steps(self, steps: Sequence[Step]) -> None: ...


def drive(engine: EngineUnderTest, steps: Sequence[Step]) -> None:
    """Feed ``steps`` to ``engine``: all at once to an engine with ``run_steps(steps)``
    (one that runs a whole data set at once), else one ``step()`` per timestamp."""
    if isinstance(engine, RunsWholeData):
        engine.run_steps(steps)
        return
    for step in steps:
        engine.step(step.timestamp, step.bars, step.signals, step.cancels)


def run_scenario(
    scenario: Scenario,
    factory: EngineFactory = reference_factory,
    observer: Observer | None = None,
) -> RunResult:
    """Run every step of ``scenario`` on a new engine and return its log and final books."""
    engine = factory(scenario.config, observer)
    drive(engine, scenario.steps())
    return RunResult(scenario.config, tuple(engine.events), engine.snapshot())
