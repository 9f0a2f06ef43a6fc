"""``run_soak``: the soak tier. Many fast scenarios, checked until a budget runs out.

Scenarios come from ``soak_generator`` (a seeded ``random.Random``, no
Hypothesis), small ones like the gate's and very long or wide ones the gate never
draws. Each is checked by the same monitor and whole-run checks as the gate's
(``invariants.check_scenario``, fail-fast); the determinism check reruns the
scenario and compares the two logs event by event (same class, equal fields)
before falling back to their byte form, which is what makes it cheap.

Budget: ``minutes`` (no new scenario starts after that) or ``scenarios`` (that
many checked). Scenario ``i`` depends on ``seed`` and ``i`` alone, so a run with a
scenario budget is reproducible, and one with a time budget checks a prefix of
the same sequence. The run stops at the first failure: the scenario is written
as it was generated, shrunk (``shrink.shrink_scenario``), the shrunk one written,
read back and checked again, all before anything is reported.

Ctrl-C stops the run and returns what it has (``interrupted``); during shrinking
it keeps the smallest failure found so far.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cashfuzz import provenance
from cashfuzz.engines import MODE_ENGINES, pin_engine_mode, resolve_engine
from cashfuzz.errors import UsageError
from cashfuzz.invariants import (
    CheckResult,
    check_scenario,
)
from cashfuzz.output.results import RecordedCheck, check_recorded
from cashfuzz.reference_engine import (
    EngineFactory,
    Scenario,
    load_scenario,
)
from cashfuzz.search.findings import check_out_dir, save_counterexample
from cashfuzz.search.shrink import (
    DEFAULT_LIMITS,
    Failure,
    ScenarioSize,
    ShrinkLimits,
    ShrinkResult,
    failures_of,
    shrink_scenario,
)
from cashfuzz.search.soak_generator import SOAK_MIX, SizeMix, generate_case

#: Consecutive scenarios an adapter may refuse (``unsupported``) before the run gives up.
MAX_REFUSED_IN_A_ROW = 1_000
#: Seconds between progress reports.
PROGRESS_EVERY = 10.0


@dataclass(frozen=True, slots=True)
class SoakFinding:
    """The first failure of a soak run, as written to disk."""

    index: int
    failure: Failure
    message: str
    original: Scenario
    original_path: Path
    shrink: ShrinkResult | None
    shrunk_path: Path | None
    #: the shrunk file read back and checked again (every invariant, not fail-fast)
    recorded: RecordedCheck | None
    replay_command: str
    seconds_to_failure: float
    #: scenarios checked up to and including the failing one
    scenarios_to_failure: int


@dataclass(frozen=True, slots=True)
class SoakResult:
    """What a soak run checked and found. ``ok`` is earned: the whole budget ran,
    at least one scenario was checked, and nothing failed."""

    engine_name: str
    seed: int
    scenarios_checked: int
    events_checked: int
    steps_checked: int
    refused: int
    by_size: tuple[tuple[str, int], ...]
    largest: ScenarioSize | None
    elapsed_seconds: float
    cpu_seconds: float
    budget_spent: bool
    interrupted: bool
    finding: SoakFinding | None = None
    gave_up: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.finding is None
            and self.budget_spent
            and not self.interrupted
            and self.gave_up is None
            and self.scenarios_checked > 0
        )


def check_soak_scenario(scenario: Scenario, factory: EngineFactory) -> CheckResult:
    """The soak's check: ``check_scenario``, fail-fast, every invariant, determinism
    included (its rerun compares events by value and serialises only unequal logs)."""
    return check_scenario(scenario, factory, fail_fast=True, determinism=True)


def soak_file_name(engine_name: str, seed: int, index: int, kind: str) -> str:
    """``soak-<engine>-<seed>-<index>-<kind>.json`` (``kind``: original or shrunk)."""
    return f"soak-{provenance.engine_file_part(engine_name)}-{seed}-{index}-{kind}.json"


def run_soak(
    factory: EngineFactory,
    *,
    engine_name: str,
    out_dir: Path,
    seed: int = 0,
    minutes: float | None = None,
    scenarios: int | None = None,
    mix: SizeMix = SOAK_MIX,
    shrink_limits: ShrinkLimits = DEFAULT_LIMITS,
    progress: Callable[[str], None] | None = None,
) -> SoakResult:
    """Check generated scenarios on ``factory``'s engine until ``minutes`` have passed or
    ``scenarios`` have been checked (exactly one of the two), or one fails.

    Raises UsageError for a missing, doubled or non-positive budget, a negative seed, or
    an ``out_dir`` that cannot be written (checked before the first scenario).
    """
    if (minutes is None) == (scenarios is None):
        raise UsageError("give a soak budget: --minutes M or --scenarios N (one of them)")
    if minutes is not None and not 0 < minutes < float("inf"):
        raise UsageError(f"--minutes={minutes!r} must be a positive, finite number")
    if scenarios is not None and scenarios < 1:
        raise UsageError(f"--scenarios={scenarios!r} must be at least 1")
    if seed < 0:
        raise UsageError(f"--seed={seed!r} must be 0 or more")
    check_out_dir(out_dir)
    adapt: Callable[[Scenario], Scenario] | None = getattr(factory, "adapt_scenario", None)
    unsupported: Callable[[Scenario], str | None] | None = getattr(factory, "unsupported", None)
    started, cpu_started = time.monotonic(), time.process_time()
    deadline = None if minutes is None else started + minutes * 60
    next_report = started + PROGRESS_EVERY
    checked = events = steps = refused = refused_in_a_row = index = 0
    sizes: Counter[str] = Counter()
    largest: ScenarioSize | None = None
    budget_spent = interrupted = False
    gave_up: str | None = None
    failing: tuple[int, Scenario, CheckResult, float] | None = None
    try:
        while True:
            now = time.monotonic()
            if (scenarios is not None and checked >= scenarios) or (
                deadline is not None and now >= deadline
            ):
                budget_spent = True
                break
            if progress is not None and now >= next_report:
                next_report = now + PROGRESS_EVERY
                progress(
                    f"{checked:,} scenarios, {events:,} events checked in {now - started:.0f} s"
                )
            size, scenario = generate_case(seed, index, mix)
            index += 1
            if adapt is not None:
                scenario = adapt(scenario)
            if unsupported is not None and unsupported(scenario) is not None:
                refused += 1
                refused_in_a_row += 1
                if refused_in_a_row >= MAX_REFUSED_IN_A_ROW:
                    gave_up = (
                        f"the engine refused {refused_in_a_row} generated scenarios in a row "
                        f"(last: {unsupported(scenario)})"
                    )
                    break
                continue
            refused_in_a_row = 0
            result = check_soak_scenario(scenario, factory)
            checked += 1
            events += len(result.events)
            scenario_steps = len(scenario.steps())
            steps += scenario_steps
            sizes[size.name] += 1
            if largest is None or scenario_steps * len(scenario.symbols) > (
                largest.steps * largest.symbols
            ):
                largest = ScenarioSize.of(scenario)
            if not result.ok:
                failing = (index - 1, scenario, result, time.monotonic() - started)
                break
    except KeyboardInterrupt:
        interrupted = True
    finding = None
    if failing is not None:
        finding, shrink_interrupted = _record_finding(
            factory, engine_name, seed, out_dir, failing, checked, shrink_limits
        )
        interrupted = interrupted or shrink_interrupted
    return SoakResult(
        engine_name=engine_name,
        seed=seed,
        scenarios_checked=checked,
        events_checked=events,
        steps_checked=steps,
        refused=refused,
        by_size=tuple(sorted(sizes.items(), key=lambda kv: -kv[1])),
        largest=largest,
        elapsed_seconds=time.monotonic() - started,
        cpu_seconds=time.process_time() - cpu_started,
        budget_spent=budget_spent,
        interrupted=interrupted,
        finding=finding,
        gave_up=gave_up,
    )


def _describe(result: CheckResult) -> str:
    if result.violations:
        return str(result.violations[0])
    return f"the engine crashed: {result.crash}"


def _record_finding(
    factory: EngineFactory,
    engine_name: str,
    seed: int,
    out_dir: Path,
    failing: tuple[int, Scenario, CheckResult, float],
    checked: int,
    limits: ShrinkLimits,
) -> tuple[SoakFinding, bool]:
    """Write the failing scenario, shrink it, write and re-check the shrunk one."""
    index, scenario, result, seconds = failing
    failure = failures_of(result)[0]
    message = _describe(result)
    origin = f"cashfuzz soak --engine {engine_name} --seed {seed}, scenario {index}"
    original_path = Path(out_dir) / soak_file_name(engine_name, seed, index, "original")
    original = _with_provenance(
        dataclasses.replace(
            pin_engine_mode(scenario, engine_name), description=f"Found by {origin}: {message}"
        ),
        result,
        engine_name,
        seed,
        original_path,
    )
    shrunk: ShrinkResult | None = None
    # a ValueError: the failure did not recur on a second check; keep the original only
    with contextlib.suppress(ValueError):
        shrunk = shrink_scenario(original, factory, failure, limits)
    unshrunk = SoakFinding(
        index=index,
        failure=failure,
        message=message,
        original=original,
        original_path=original_path,
        shrink=None,
        shrunk_path=None,
        recorded=None,
        replay_command=provenance.replay_command(engine_name, original_path),
        seconds_to_failure=seconds,
        scenarios_to_failure=checked,
    )
    if shrunk is None:
        return unshrunk, False
    described = dataclasses.replace(
        shrunk.shrunk, description=f"Shrunk from {origin} ({shrunk.before}): {failure}"
    )
    path = Path(out_dir) / soak_file_name(engine_name, seed, index, "shrunk")
    # replay exactly as the printed command will: by the file's mode, or on the named engine
    replay_factory = resolve_engine(None) if engine_name in MODE_ENGINES else factory
    reduced = _with_provenance(
        described, check_scenario(described, factory), engine_name, seed, path
    )
    replayed = load_scenario(path) if path.exists() else reduced
    finding = dataclasses.replace(
        unshrunk,
        shrink=dataclasses.replace(shrunk, shrunk=reduced),
        shrunk_path=path,
        recorded=check_recorded(replayed, replay_factory, determinism=True),
        replay_command=provenance.replay_command(engine_name, path),
    )
    return finding, shrunk.stopped_by == "interrupted"


def _with_provenance(
    scenario: Scenario, result: CheckResult, engine_name: str, seed: int, path: Path
) -> Scenario:
    """``scenario`` with its provenance record, saved to ``path`` (or printed in full on
    stderr when it cannot be written: the finding is never lost)."""
    record = provenance.record(
        found_by="soak",
        engine=engine_name,
        invariants=[str(f.invariant) for f in failures_of(result)],
        seed=seed,
        path=path,
        traceback=result.traceback,
    )
    complete = dataclasses.replace(scenario, provenance=record)
    save_counterexample(complete, path)
    return complete


__all__ = [
    "SoakFinding",
    "SoakResult",
    "check_soak_scenario",
    "run_soak",
    "soak_file_name",
]
