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
    KitMisuse,
    Limits,
    StepEngine,
    Tape,
    WholeRunEngine,
    reason_for,
    whole,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from hypothesis.strategies import SearchStrategy

    from cashfuzz.reference_engine import Scenario


def scenarios_for(
    factory: object, strategy: SearchStrategy[Scenario] | None = None
) -> SearchStrategy[Scenario]:
    """``strategy`` (default ``strategies.scenarios()``) mapped through the factory's
    ``adapt_scenario`` when it declares one, else unchanged. An ``adapt_scenario`` that
    raises or returns something other than a Scenario stops the search with an
    AdapterProtocolError (a usage error: there is no engine run to report)."""
    if strategy is None:
        from cashfuzz.strategies import scenarios

        strategy = scenarios()
    adapt = getattr(factory, "adapt_scenario", None)
    return strategy if adapt is None else strategy.map(_guarded(adapt))


def _guarded(adapt: Callable[[Scenario], Scenario]) -> Callable[[Scenario], Scenario]:
    from cashfuzz.errors import Unusable
    from cashfuzz.invariants import AdapterProtocolError
    from cashfuzz.invariants.protocol import crash_report
    from cashfuzz.reference_engine import Scenario, ScenarioError

    def adapted(scenario: Scenario) -> Scenario:
        try:
            result = adapt(scenario)
        except ScenarioError:
            raise
        except Exception as error:
            report = crash_report(error, prefix="the factory's adapt_scenario raised ")
            problem = f"{report.summary}; it must return the nearest Scenario the engine can run"
            raise Unusable(AdapterProtocolError(problem)) from error
        if not isinstance(result, Scenario):
            problem = (
                f"the factory's adapt_scenario returned a {type(result).__name__}, not a Scenario"
            )
            raise Unusable(AdapterProtocolError(problem))
        return result

    return adapted


__all__ = [
    "Account",
    "BacktraderEngine",
    "BacktraderFactory",
    "Factory",
    "KitEngine",
    "KitMisuse",
    "Limits",
    "StepEngine",
    "Tape",
    "WholeRunEngine",
    "backtrader_factory",
    "reason_for",
    "scenarios_for",
    "whole",
]
