"""Adapters: other people's engines behind ``reference_engine.EngineUnderTest``.

``kit`` (re-exported here: ``Account``, ``Factory``, ``StepEngine``,
``WholeRunEngine``, ``Tape``) turns what a broker reports into cashfuzz events and
snapshots; each engine's adapter is one module or package beside it.

An engine factory may declare its limits with two optional attributes, read
with ``getattr``: ``unsupported(scenario) -> str | None`` (why a scenario cannot
run, naming the field) and ``adapt_scenario(scenario) -> Scenario`` (the nearest
scenario it can run). ``scenarios_for`` applies the latter to a Hypothesis
strategy, so the gate fuzzes only what the engine can express. backtrader
itself is imported only when a backtrader engine is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cashfuzz.adapters.backtrader.adapter import (
    BacktraderEngine,
    BacktraderFactory,
    backtrader_factory,
)
from cashfuzz.adapters.kit import (
    Account,
    Factory,
    KitEngine,
    Limits,
    StepEngine,
    Tape,
    WholeRunEngine,
    reason_for,
    whole,
)

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from cashfuzz.reference_engine import Scenario


def scenarios_for(
    factory: object, strategy: SearchStrategy[Scenario] | None = None
) -> SearchStrategy[Scenario]:
    """``strategy`` (default ``strategies.scenarios()``) mapped through the factory's
    ``adapt_scenario`` when it declares one, else unchanged."""
    if strategy is None:
        from cashfuzz.strategies import scenarios

        strategy = scenarios()
    adapt = getattr(factory, "adapt_scenario", None)
    return strategy if adapt is None else strategy.map(adapt)


__all__ = [
    "Account",
    "BacktraderEngine",
    "BacktraderFactory",
    "Factory",
    "KitEngine",
    "Limits",
    "StepEngine",
    "Tape",
    "WholeRunEngine",
    "backtrader_factory",
    "reason_for",
    "scenarios_for",
    "whole",
]
