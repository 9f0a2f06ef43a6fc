"""The engine-under-test protocol: what the harness needs from any engine.

The reference engine, the naive engine, every zoo engine and the adapters for
other people's engines implement it. An engine is built by a factory from a
config and an optional observer; it must call the observer after every event
it logs, with a snapshot of its books taken after that event. An engine that
reserves nothing for open orders says so with ``reserves_cash = False``
(read with ``getattr``, default True), and the reservation checks skip it; one
whose snapshot can only derive equity from cash and marks says
``reports_equity = False``, and the equity identity skips it.

An engine that runs a whole scenario at once (another process, a library with
no step API) may define ``begin(scenario)``: whoever drives it through a
scenario (``run_scenario``, ``invariants.check_scenario``) calls it once, after
building the engine and before the first ``step``. Its ``step`` calls then
replay what the whole run reported, calling the observer as a step-by-step
engine would. A driver that makes up steps as it goes (the stateful machine)
cannot drive such an engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from .config import EngineConfig
from .events import Bar, Cancel, Event, Signal, Timestamp
from .ledger import LedgerSnapshot

Observer = Callable[[Event, LedgerSnapshot], None]


@runtime_checkable
class EngineUnderTest(Protocol):
    events: list[Event]

    def step(
        self,
        timestamp: Timestamp,
        bars: Sequence[Bar] = (),
        signals: Sequence[Signal] = (),
        cancels: Sequence[Cancel] = (),
    ) -> None:
        """Process one timestamp (bars, then signals in order, then cancels)."""
        ...

    def snapshot(self) -> LedgerSnapshot:
        """The books now: cash, reserved, orders, positions, marks, equity."""
        ...


EngineFactory = Callable[[EngineConfig, Observer | None], EngineUnderTest]
