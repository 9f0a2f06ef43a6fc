"""The gate catches every zoo engine by fuzzing, not by hand-written scenarios.

Each zoo engine gets one ``run_gate`` with a fixed seed and a small example
budget; the gate must fail with one of the engine's expected invariants and
write a counterexample that replays. Per engine it prints the detection time,
the examples needed, and the shrunk counterexample's size (``pytest -s``); the
terminal summary prints the whole table.

Detection time and examples are measured by counting the gate's calls of
``check_scenario`` up to the first failing one (GateResult does not say).
Time limits here are generous ceilings, never assertions: with the seed fixed,
``MAX_EXAMPLES`` decides what is generated, and ``SHRINK_SECONDS`` only how
small the counterexample gets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from zoo_table import Catch

import cashfuzz.gate as gate_module
from cashfuzz.gate import run_gate
from cashfuzz.zoo import ZOO
from invariants import CheckResult, check_scenario
from reference_engine import load_scenario

#: seeds 0-5 each caught every engine within MAX_EXAMPLES (measured); 4 was the quickest
SEED = 4
MAX_EXAMPLES = 600
#: a ceiling on generation that a loaded machine still stays under; the budget is MAX_EXAMPLES
BUDGET_SECONDS = 60.0
SHRINK_SECONDS = 1.5
#: the one zoo engine whose failure need not reproduce: its defect is nondeterminism
NONDETERMINISTIC = "unseeded_slippage"


class _FirstFailure:
    """Wraps ``check_scenario``: counts calls and notes the first failing one."""

    def __init__(self, check: Callable[..., CheckResult]) -> None:
        self._check = check
        self._started = time.perf_counter()
        self.calls = 0
        self.examples: int | None = None
        self.seconds: float | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> CheckResult:
        result = self._check(*args, **kwargs)
        self.calls += 1
        if not result.ok and self.examples is None:
            self.examples = self.calls
            self.seconds = time.perf_counter() - self._started
        return result


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ZOO))
def test_gate_catches_zoo_engine_by_fuzzing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zoo_table: list[Catch]
) -> None:
    """Fuzzing finds a scenario on which the zoo engine breaks one of its expected invariants."""
    entry = ZOO[name]
    probe = _FirstFailure(check_scenario)
    # raises AttributeError if the gate stops calling check_scenario by that name
    monkeypatch.setattr(gate_module, "check_scenario", probe)
    result = run_gate(
        entry.factory,
        seed=SEED,
        budget_seconds=BUDGET_SECONDS,
        max_examples=MAX_EXAMPLES,
        out_dir=tmp_path,
        engine_name=f"zoo:{name}",
        shrink_seconds=SHRINK_SECONDS,
    )
    assert not result.ok, (
        f"{name} survived {result.examples_run} examples "
        f"(budget exhausted: {result.budget_exhausted})"
    )
    assert result.invariants_hit, "a failure names the invariant it broke"
    unexpected = set(result.invariants_hit) - set(entry.caught_by)
    assert not unexpected, f"{name} broke {sorted(unexpected)}, expected one of {entry.caught_by}"
    assert probe.examples is not None
    assert probe.seconds is not None
    assert result.counterexample is not None
    assert result.counterexample_path is not None
    assert result.recorded is not None
    assert load_scenario(result.counterexample_path) == result.counterexample
    replayed = result.recorded.result
    if name != NONDETERMINISTIC:
        assert replayed.violations, f"the counterexample of {name} does not replay"
        assert replayed.violations[0].invariant in entry.caught_by

    counterexample = result.counterexample
    caught = replayed.violations[0].invariant if replayed.violations else result.invariants_hit[0]
    catch = Catch(
        engine=name,
        invariant=caught,
        detect_seconds=probe.seconds,
        detect_examples=probe.examples,
        examples_run=result.examples_run,
        gate_seconds=result.elapsed_seconds,
        signals=len(counterexample.signals),
        bars=len(counterexample.bars),
        steps=len(counterexample.steps()),
    )
    zoo_table.append(catch)
    print(f"\n{Catch.HEADER}\n{catch.row()}")
