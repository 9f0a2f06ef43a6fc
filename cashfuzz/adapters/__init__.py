"""Adapters: other people's engines behind ``reference_engine.EngineUnderTest``.

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


__all__ = ["BacktraderEngine", "BacktraderFactory", "backtrader_factory", "scenarios_for"]
