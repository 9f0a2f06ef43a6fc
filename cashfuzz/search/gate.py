"""``run_gate``: a deterministic, time-boxed Hypothesis search for a broken invariant.

Determinism: the search uses ``hypothesis.seed(seed)`` with ``derandomize=False``
and no example database, so the examples depend on the seed alone (not on the
test's source, as ``derandomize`` would, nor on earlier runs): the same seed
finds and shrinks to the same counterexample, byte for byte, unless a time limit
cut the search short (``GateResult.budget_exhausted`` / ``shrink_cut_short``).

Time: no new example is generated once ``budget_seconds`` have passed (the
search stops there if nothing broke). Shrinking gets ``shrink_seconds`` more
from the first failure; past that the search stops and the last failure seen
(the smallest, as the shrinker only moves to smaller failures) is the
counterexample. Without a cut, Hypothesis's final replay of its minimal example
is checked for real and is the counterexample.

The counterexample is written (atomically) to
``out_dir/counterexample-<engine>-<seed>-<hash8>.json`` before anything is
reported, then read back from that file and re-checked, so what is reported is
what ``cashfuzz run FILE`` shows.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.strategies import SearchStrategy

from cashfuzz.adapters import scenarios_for
from cashfuzz.engines import MODE_ENGINES, file_safe, pin_engine_mode, resolve_engine
from cashfuzz.errors import UsageError
from cashfuzz.invariants import CheckResult, check_scenario
from cashfuzz.output.results import RecordedCheck, check_recorded
from cashfuzz.reference_engine import (
    EngineFactory,
    Scenario,
    load_scenario,
    scenario_digest,
    write_scenario,
)
from cashfuzz.strategies import scenarios

CRASH = "crash"


@dataclass(frozen=True, slots=True)
class GateResult:
    """What a gate run found. ``invariant_counts`` maps each invariant (or ``crash``)
    to the number of distinct failing examples it broke first in.

    ``first_failure_seconds`` (from the start of the run until the first failing
    example had been checked) and ``examples_to_first_failure`` (examples checked
    up to and including it) are None when nothing failed."""

    engine_name: str
    seed: int
    examples_run: int
    failing_examples: int
    invariant_counts: tuple[tuple[str, int], ...]
    elapsed_seconds: float
    budget_exhausted: bool
    shrink_cut_short: bool = False
    counterexample: Scenario | None = None
    counterexample_path: Path | None = None
    recorded: RecordedCheck | None = None
    replay_command: str | None = None
    first_failure_seconds: float | None = None
    examples_to_first_failure: int | None = None

    @property
    def ok(self) -> bool:
        return self.counterexample is None

    @property
    def invariants_hit(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.invariant_counts)


class _BudgetSpent(BaseException):
    """Stops Hypothesis at once: a BaseException is not a test failure to shrink."""


class _GateFailure(AssertionError):
    """The property's failure; one exception type and one raise site, so Hypothesis
    treats every broken invariant as the same bug and shrinks toward the smallest."""


@dataclass(slots=True)
class _Tracker:
    generate_until: float
    shrink_seconds: float
    examples_run: int = 0
    first_failure_at: float | None = None
    first_failure_checked_at: float | None = None
    examples_to_first_failure: int | None = None
    shrink_cut_short: bool = False
    budget_exhausted: bool = False
    failing: dict[str, str] = field(default_factory=dict)
    last_failure: Scenario | None = None
    final: Scenario | None = None


def _is_final_replay() -> bool:
    """True while Hypothesis replays the minimal failing example for its report."""
    try:
        from hypothesis.control import current_build_context

        return bool(current_build_context().is_final)
    except Exception:  # noqa: BLE001 - outside a test, or an API change: assume a replay
        return True


def _first_problem(result: CheckResult) -> str:
    if result.violations:
        return result.violations[0].invariant
    return CRASH


def counterexample_name(engine_name: str, seed_value: int, scenario: Scenario) -> str:
    """``counterexample-<engine>-<seed>-<hash8>.json`` (engine name made file-safe)."""
    return (
        f"counterexample-{file_safe(engine_name)}-{seed_value}-{scenario_digest(scenario)[:8]}.json"
    )


def replay_command(engine_name: str, path: Path) -> str:
    """The command that replays a counterexample file on the engine it broke."""
    if engine_name in MODE_ENGINES:
        return f"cashfuzz run {path}"
    return f"cashfuzz run {path} --engine {engine_name}"


def search_settings(max_examples: int) -> settings:
    """The gate's Hypothesis settings (also the floor ``bench`` compares the gate with)."""
    return settings(
        max_examples=max_examples,
        derandomize=False,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )


def run_gate(
    factory: EngineFactory,
    *,
    seed: int,
    budget_seconds: float,
    max_examples: int,
    out_dir: Path,
    engine_name: str,
    shrink_seconds: float | None = None,
    strategy: SearchStrategy[Scenario] | None = None,
) -> GateResult:
    """Search ``strategy`` (default ``scenarios()``) for a scenario on which ``factory``'s
    engine breaks an invariant or crashes; write the shrunk one to ``out_dir``.

    ``shrink_seconds`` defaults to a quarter of the budget, at least 5 s.
    Raises UsageError for a negative budget or fewer than one example.
    """
    if not budget_seconds > 0:
        raise UsageError(f"--budget-seconds={budget_seconds!r} must be a positive number")
    if max_examples < 1:
        raise UsageError(f"--max-examples={max_examples!r} must be at least 1")
    if shrink_seconds is None:
        shrink_seconds = max(5.0, budget_seconds / 4)
    started = time.monotonic()
    tracker = _Tracker(generate_until=started + budget_seconds, shrink_seconds=shrink_seconds)

    def holds_every_invariant(scenario: Scenario) -> None:
        final = _is_final_replay()
        now = time.monotonic()
        if tracker.first_failure_at is None:
            if now > tracker.generate_until:
                tracker.budget_exhausted = True
                raise _BudgetSpent
        elif not final and now > tracker.first_failure_at + tracker.shrink_seconds:
            tracker.shrink_cut_short = True
            # stop at once: answering "passes" would let the shrinker keep drawing candidates
            raise _BudgetSpent
        if not final:
            tracker.examples_run += 1
        result = check_scenario(scenario, factory, fail_fast=True, determinism=True)
        if result.ok:
            return
        if tracker.first_failure_at is None:
            tracker.first_failure_at = now
            tracker.first_failure_checked_at = time.monotonic()
            tracker.examples_to_first_failure = tracker.examples_run
        tracker.failing.setdefault(scenario_digest(scenario), _first_problem(result))
        tracker.last_failure = scenario
        if final:
            tracker.final = scenario
        raise _GateFailure(_first_problem(result))

    search = search_settings(max_examples)
    # an engine that declares adapt_scenario (e.g. backtrader) gets scenarios it can run
    drawn = scenarios_for(factory, strategy or scenarios())
    test = hypothesis_seed(seed)(search(given(drawn)(holds_every_invariant)))
    try:
        test()
    except _BudgetSpent:
        pass
    except Exception:
        # our _GateFailure, or Hypothesis's Flaky* when the engine is not deterministic
        if tracker.last_failure is None:
            raise
    elapsed = time.monotonic() - started
    checked_at = tracker.first_failure_checked_at
    counts = Counter(tracker.failing.values())
    common = GateResult(
        engine_name=engine_name,
        seed=seed,
        examples_run=tracker.examples_run,
        failing_examples=len(tracker.failing),
        invariant_counts=tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        elapsed_seconds=elapsed,
        budget_exhausted=tracker.budget_exhausted,
        shrink_cut_short=tracker.shrink_cut_short,
        first_failure_seconds=None if checked_at is None else checked_at - started,
        examples_to_first_failure=tracker.examples_to_first_failure,
    )
    found = tracker.final or tracker.last_failure
    if found is None:
        return common
    path, recorded = _write_and_recheck(found, factory, engine_name, seed, out_dir)
    return dataclasses.replace(
        common,
        counterexample=recorded.result.scenario,
        counterexample_path=path,
        recorded=recorded,
        replay_command=replay_command(engine_name, path),
    )


def _write_and_recheck(
    scenario: Scenario, factory: EngineFactory, engine_name: str, seed_value: int, out_dir: Path
) -> tuple[Path, RecordedCheck]:
    first = check_scenario(scenario, factory, fail_fast=True, determinism=True)
    description = (
        f"Counterexample found by cashfuzz gate --engine {engine_name} --seed {seed_value}: "
        f"{first.violations[0] if first.violations else first.crash}"
    )
    written = dataclasses.replace(pin_engine_mode(scenario, engine_name), description=description)
    path = Path(out_dir) / counterexample_name(engine_name, seed_value, written)
    write_scenario(written, path)
    replayed = load_scenario(path)
    # replay exactly as the printed command will: by the file's mode, or on the named engine
    replay_factory = resolve_engine(None) if engine_name in MODE_ENGINES else factory
    return path, check_recorded(replayed, replay_factory, determinism=True)


__all__ = [
    "CRASH",
    "GateResult",
    "counterexample_name",
    "replay_command",
    "run_gate",
]
