"""The conformance oracle: an engine that claims the reference semantics must log,
event for event, what the reference engine logs on the same scenario.

Opt-in (``--oracle reference``): an engine may keep every invariant and still
differ from the reference (another fill price rule, another expiry rule); only an
engine that claims to implement the reference semantics should be held to this.
The first differing event is the finding, as the pseudo-invariant
``oracle_reference``, with both events.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

from cashfuzz.reference_engine import (
    EngineFactory,
    Event,
    Scenario,
    event_to_dict,
    reference_factory,
    run_scenario,
)

from .monitor import CheckResult, Violation

ORACLE_REFERENCE = "oracle_reference"
#: --oracle NAME -> the engine whose log is the standard (in the scenario's own mode)
ORACLES: dict[str, EngineFactory] = {"reference": reference_factory}


def _show(event: Event | None) -> str:
    if event is None:
        return "nothing (the log ends)"
    return json.dumps(event_to_dict(event), sort_keys=True, default=str)


def oracle_difference(
    scenario: Scenario, events: Sequence[Event], oracle: EngineFactory = reference_factory
) -> Violation | None:
    """The first event where ``events`` differs from the oracle engine's log, or None."""
    expected = run_scenario(scenario, oracle).events
    for index, (got, want) in enumerate(zip(events, expected, strict=False)):
        if got != want:
            return Violation(
                ORACLE_REFERENCE,
                index,
                f"the engine logged {_show(got)} where the reference logged {_show(want)}",
            )
    if len(events) != len(expected):
        index = min(len(events), len(expected))
        mine = events[index] if index < len(events) else None
        theirs = expected[index] if index < len(expected) else None
        return Violation(
            ORACLE_REFERENCE,
            index,
            f"the engine logged {len(events)} events and the reference {len(expected)}: "
            f"at event {index} the engine logged {_show(mine)}, the reference {_show(theirs)}",
        )
    return None


def with_oracle(result: CheckResult, oracle: EngineFactory = reference_factory) -> CheckResult:
    """``result`` plus the oracle's finding, when the engine ran to the end and differs."""
    if result.crash is not None:
        return result
    found = oracle_difference(result.scenario, result.events, oracle)
    if found is None:
        return result
    return dataclasses.replace(result, violations=(*result.violations, found))


__all__ = ["ORACLES", "ORACLE_REFERENCE", "oracle_difference", "with_oracle"]
