"""``run_gate``: a deterministic Hypothesis search for broken invariants.

Determinism: the search uses ``hypothesis.seed(seed)`` with ``derandomize=False``
and no example database, so the examples depend on the seed alone (not on the
test's source, as ``derandomize`` would, nor on earlier runs): the same seed
finds and shrinks to the same counterexamples, byte for byte, unless a time limit
cut the search short.

Budget: the search checks at most ``max_examples`` generated scenarios
(``examples_generated``). Hypothesis counts only passing examples against its
``max_examples`` and, after a failure, generates on for a while to find others; the
gate lets what it proposes past the budget pass unchecked and uncounted. The checks
Hypothesis makes while shrinking the failures are counted apart (``shrink_checks``),
and ``examples_run`` is their sum. A time limit
(``budget_seconds``) is opt-in; when it stops the search before the example
budget ran and nothing broke, the result is ``incomplete``, never a pass.

Each invariant that broke first in some example is its own bug to Hypothesis (one
exception type per invariant), so each is shrunk on its own and written to its
own file: ``out_dir/counterexample-<engine>-<seed>-<invariant>-<hash8>.json``,
with a ``provenance`` record (see ``cashfuzz.provenance``), atomically, before
anything is reported; the file is then read back and re-checked, so what is
reported is what ``cashfuzz run FILE`` shows. After the first failure the search
may check ``shrink_examples`` more scenarios (and, opt-in, run ``shrink_seconds``
more); past that the smallest failure seen for each invariant is written.

``only`` (``--only``) restricts the search to the named invariants: the result says
which were checked, and a pass with ``only`` claims nothing about the others. A
counterexample file records ``only`` in its provenance; it is re-checked against
every invariant (its ``broken`` list), as its replay command ``cashfuzz run FILE``
checks them, and it fails there because the invariant it was found for still breaks.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.strategies import SearchStrategy

from cashfuzz import provenance
from cashfuzz.adapters import scenarios_for
from cashfuzz.engines import MODE_ENGINES, pin_engine_mode, resolve_engine
from cashfuzz.errors import Unusable, UsageError
from cashfuzz.invariants import ALL_INVARIANTS, ORACLES, CheckResult, check_scenario, with_oracle
from cashfuzz.output.results import RecordedCheck, check_recorded
from cashfuzz.reference_engine import (
    EngineFactory,
    Scenario,
    load_scenario,
    scenario_digest,
)
from cashfuzz.search.findings import broken_invariants, check_out_dir, save_counterexample
from cashfuzz.search.unusable import checked
from cashfuzz.strategies import scenarios

CRASH = "crash"
#: Checks allowed after the first failure (searching on for other invariants, then
#: shrinking): a count, not a clock, so a loaded machine finds the same files.
DEFAULT_SHRINK_EXAMPLES = 2_000


@dataclass(frozen=True, slots=True)
class Counterexample:
    """One shrunk failing scenario, as written and as replayed from its file.

    ``invariant`` is the one it was shrunk for (or ``crash``); ``broken`` lists every
    invariant the written file breaks."""

    invariant: str
    path: Path
    scenario: Scenario
    recorded: RecordedCheck
    broken: tuple[str, ...]
    replay_command: str
    #: False when the file could not be written (the scenario went to stderr in full)
    saved: bool = True


@dataclass(frozen=True, slots=True)
class GateResult:
    """What a gate run found. ``invariant_counts`` maps each invariant (or ``crash``)
    to the number of distinct failing examples it broke first in.

    ``first_failure_seconds`` (from the start of the run until the first failing
    example had been checked) and ``examples_to_first_failure`` (examples checked
    up to and including it) are None when nothing failed. ``incomplete`` is set when
    the search stopped before ``max_examples`` with nothing found: not a pass.

    ``examples_run`` counts every check; ``examples_generated`` (at most
    ``max_examples``) those Hypothesis generated, the search for other broken
    invariants after the first failure included; ``shrink_checks`` the rest, made
    while shrinking the failures."""

    engine_name: str
    seed: int
    examples_run: int
    max_examples: int
    failing_examples: int
    invariant_counts: tuple[tuple[str, int], ...]
    elapsed_seconds: float
    budget_exhausted: bool
    shrink_cut_short: bool = False
    counterexamples: tuple[Counterexample, ...] = ()
    first_failure_seconds: float | None = None
    examples_to_first_failure: int | None = None
    #: the invariants the search was restricted to (``--only``); None: all of them
    only: tuple[str, ...] | None = None
    #: the invariants the engine declared do not apply to it (skipped in every example)
    not_applicable: tuple[str, ...] = ()
    #: the checks of generated examples (None: all of ``examples_run``)
    generated: int | None = None

    @property
    def examples_generated(self) -> int:
        """The examples Hypothesis generated: at most ``max_examples``."""
        return self.examples_run if self.generated is None else self.generated

    @property
    def shrink_checks(self) -> int:
        """The checks made while shrinking the failures, beyond the generated examples."""
        return self.examples_run - self.examples_generated

    @property
    def checks_after_first_failure(self) -> int:
        """The checks after the first failing example (bounded by ``--shrink-examples``)."""
        first = self.examples_to_first_failure
        return 0 if first is None else self.examples_run - first

    @property
    def checked_invariants(self) -> tuple[str, ...]:
        """The invariants the search checked: all of them (or ``only``), less those the
        engine declared do not apply to it."""
        chosen = ALL_INVARIANTS if self.only is None else self.only
        return tuple(name for name in chosen if name not in self.not_applicable)

    @property
    def ok(self) -> bool:
        """Nothing broke and the whole example budget ran."""
        return not self.counterexamples and not self.incomplete

    @property
    def incomplete(self) -> bool:
        return not self.counterexamples and self.examples_generated < self.max_examples

    @property
    def broken_in_files(self) -> tuple[str, ...]:
        """Every invariant (or ``crash``) the written counterexamples break, once each, in
        ``ALL_INVARIANTS`` order (``oracle_reference`` and ``crash`` last)."""
        names = {name for found in self.counterexamples for name in found.broken}
        order = {name: rank for rank, name in enumerate(ALL_INVARIANTS)}
        return tuple(sorted(names, key=lambda name: (order.get(name, len(order)), name)))

    @property
    def invariants_hit(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.invariant_counts)

    # the first counterexample, for callers that show one
    @property
    def counterexample(self) -> Scenario | None:
        return self.counterexamples[0].scenario if self.counterexamples else None

    @property
    def counterexample_path(self) -> Path | None:
        return self.counterexamples[0].path if self.counterexamples else None

    @property
    def recorded(self) -> RecordedCheck | None:
        return self.counterexamples[0].recorded if self.counterexamples else None

    @property
    def replay_command(self) -> str | None:
        return self.counterexamples[0].replay_command if self.counterexamples else None


class _BudgetSpent(BaseException):
    """Stops Hypothesis at once: a BaseException is not a test failure to shrink."""


class _GateFailure(AssertionError):
    """A broken invariant. Each invariant raises its own subclass (see ``_failure_type``),
    so Hypothesis keeps and shrinks one example per invariant."""


_FAILURE_TYPES: dict[str, type[_GateFailure]] = {}


def _failure_type(problem: str) -> type[_GateFailure]:
    if problem not in _FAILURE_TYPES:
        name = "Broke_" + "".join(c if c.isalnum() else "_" for c in problem)
        _FAILURE_TYPES[problem] = type(name, (_GateFailure,), {"__module__": __name__})
    return _FAILURE_TYPES[problem]


@dataclass(slots=True)
class _Tracker:
    generate_until: float | None
    shrink_seconds: float | None
    shrink_examples: int
    examples_run: int = 0
    generated: int = 0
    calls_after_failure: int = 0
    first_failure_at: float | None = None
    first_failure_checked_at: float | None = None
    examples_to_first_failure: int | None = None
    shrink_cut_short: bool = False
    budget_exhausted: bool = False
    failing: dict[str, str] = field(default_factory=dict)
    last_by_problem: dict[str, Scenario] = field(default_factory=dict)
    final_by_problem: dict[str, Scenario] = field(default_factory=dict)
    not_applicable: set[str] = field(default_factory=set)


@contextmanager
def _seed_alone_decides() -> Iterator[None]:
    """Within the block, Hypothesis draws no constants from the modules that happen to
    be loaded.

    Hypothesis mixes into its draws constants it finds in every local module in
    ``sys.modules``: cashfuzz's own when run from a checkout, none when installed, and the
    user's project's. A gate seed would then find different counterexamples after any
    code change, from another entry point, or in another project; without them, the
    search depends on the seed and the strategies alone. Where this Hypothesis has no
    such pool, nothing changes.
    """
    try:
        from hypothesis.internal.conjecture import providers

        original = providers._get_local_constants
        empty = providers.Constants()  # type: ignore[attr-defined]
        cache = providers.CONSTANTS_CACHE
    except (ImportError, AttributeError):
        yield
        return
    cache.cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()


def select_invariants(names: Iterable[str], *, where: str = "--only") -> tuple[str, ...]:
    """``names`` as invariants, in ``ALL_INVARIANTS`` order without repeats. Raises
    UsageError, naming ``where`` and listing the valid names, for an unknown name or
    none at all."""
    chosen = list(names)
    if not chosen:
        raise UsageError(f"{where} names no invariant; valid: {', '.join(ALL_INVARIANTS)}")
    for name in chosen:
        if name not in ALL_INVARIANTS:
            shown = name if len(name) <= 40 else name[:37] + "..."
            raise UsageError(
                f"{where} {shown!r} is not an invariant; valid: {', '.join(ALL_INVARIANTS)}"
            )
    return tuple(name for name in ALL_INVARIANTS if name in chosen)


def _size(scenario: Scenario) -> tuple[int, int, int, int]:
    return (len(scenario.steps()), len(scenario.signals), len(scenario.bars), len(scenario.cancels))


def _is_final_replay() -> bool:
    """True while Hypothesis replays a minimal failing example for its report."""
    try:
        from hypothesis.control import current_build_context

        return bool(current_build_context().is_final)
    except Exception:  # noqa: BLE001 - outside a test, or an API change: assume a replay
        return True


def _hypothesis_phase() -> str | None:
    """The phase Hypothesis is in (``generate`` or ``shrink``), or None when that cannot
    be told.

    Hypothesis has no public way to ask; its runner keeps the phase in
    ``_current_phase``, found on the call stack. Only the gate's budget accounting uses
    it: when it cannot be found, the checks after the first failure all count as
    shrinking and none is skipped."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        phase = getattr(frame.f_locals.get("self"), "_current_phase", None)
        if isinstance(phase, str):
            return phase
        frame = frame.f_back
    return None


def _first_problem(result: CheckResult) -> str:
    if result.violations:
        return result.violations[0].invariant
    return CRASH


def counterexample_name(
    engine_name: str, seed_value: int, scenario: Scenario, invariant: str | None = None
) -> str:
    """``counterexample-<engine>-<seed>[-<invariant>]-<hash8>.json``; the engine part is
    short and unique per spec (``provenance.engine_file_part``)."""
    middle = f"-{invariant}" if invariant else ""
    return (
        f"counterexample-{provenance.engine_file_part(engine_name)}-{seed_value}{middle}"
        f"-{scenario_digest(scenario)[:8]}.json"
    )


def replay_command(engine_name: str, path: Path) -> str:
    """The command that replays a counterexample file on the engine it broke."""
    return provenance.replay_command(engine_name, path)


def search_settings(max_examples: int, *, report_multiple_bugs: bool = False) -> settings:
    """The gate's Hypothesis settings (also the floor ``bench`` compares the gate with)."""
    return settings(
        max_examples=max_examples,
        derandomize=False,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=report_multiple_bugs,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )


def run_gate(
    factory: EngineFactory,
    *,
    seed: int,
    max_examples: int,
    out_dir: Path,
    engine_name: str,
    budget_seconds: float | None = None,
    shrink_examples: int = DEFAULT_SHRINK_EXAMPLES,
    shrink_seconds: float | None = None,
    strategy: SearchStrategy[Scenario] | None = None,
    found_by: str = "gate",
    every_invariant: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
    oracle: str | None = None,
    only: Iterable[str] | None = None,
) -> GateResult:
    """Search ``strategy`` (default ``scenarios()``) for scenarios on which ``factory``'s
    engine breaks an invariant or crashes; write one shrunk file per broken invariant
    to ``out_dir``.

    ``budget_seconds`` (default: none) stops generating new examples after that long;
    ``shrink_examples`` bounds the checks after the first failure, ``shrink_seconds``
    (default: none) their time. ``every_invariant=False``
    stops at the first broken invariant instead of searching on for the others.
    ``on_progress(examples_generated, failing_examples)`` is called after every check. With
    ``oracle`` (``--oracle reference``) a scenario also fails when the engine's event
    log differs from that engine's (the pseudo-invariant ``oracle_reference``).
    ``only`` checks just the named invariants (crashes are always findings).
    Raises UsageError for a
    non-positive budget, fewer than one example, an ``out_dir`` that cannot be
    written (checked before the search), an unknown name in ``only``, or one the
    engine declares does not apply to it (nothing would be checked for it).
    """
    if budget_seconds is not None and not budget_seconds > 0:
        raise UsageError(f"--budget-seconds={budget_seconds!r} must be a positive number")
    if max_examples < 1:
        raise UsageError(f"--max-examples={max_examples!r} must be at least 1")
    if shrink_examples < 1:
        raise UsageError(f"--shrink-examples={shrink_examples!r} must be at least 1")
    if oracle is not None and oracle not in ORACLES:
        raise UsageError(f"--oracle {oracle!r} is not one of: {', '.join(ORACLES)}")
    oracle_factory = None if oracle is None else ORACLES[oracle]
    selected = None if only is None else select_invariants(only)
    check_out_dir(out_dir)
    started = time.monotonic()
    tracker = _Tracker(
        generate_until=None if budget_seconds is None else started + budget_seconds,
        shrink_seconds=shrink_seconds,
        shrink_examples=shrink_examples,
    )

    def holds_every_invariant(scenario: Scenario) -> None:
        final = _is_final_replay()
        now = time.monotonic()
        phase = None if tracker.first_failure_at is None or final else _hypothesis_phase()
        if phase == "generate" and tracker.generated >= max_examples:
            # Hypothesis counts only passing examples against max_examples and goes on
            # generating after a failure; the gate checks at most max_examples generated
            # scenarios, as --max-examples promises: the extra ones pass unchecked and
            # uncounted, which ends the generate phase
            return
        if tracker.first_failure_at is None:
            if tracker.generate_until is not None and now > tracker.generate_until:
                tracker.budget_exhausted = True
                raise _BudgetSpent
        elif not final:
            tracker.calls_after_failure += 1
            out_of_time = (
                tracker.shrink_seconds is not None
                and now > tracker.first_failure_at + tracker.shrink_seconds
            )
            if out_of_time or tracker.calls_after_failure > tracker.shrink_examples:
                tracker.shrink_cut_short = True
                # stop at once: answering "passes" would let the shrinker keep going
                raise _BudgetSpent
        if not final:
            tracker.examples_run += 1
            if tracker.first_failure_at is None or phase == "generate":
                tracker.generated += 1
        result = checked(scenario, factory, fail_fast=True, determinism=True, only=selected)
        tracker.not_applicable.update(result.not_applicable)
        if selected is not None:
            _require_applicable(selected, result, engine_name)
        if result.ok and oracle_factory is not None:
            result = with_oracle(result, oracle_factory)
        if on_progress is not None:
            new = not result.ok and scenario_digest(scenario) not in tracker.failing
            on_progress(tracker.generated, len(tracker.failing) + new)
        if result.ok:
            return
        problem = _first_problem(result)
        if tracker.first_failure_at is None:
            tracker.first_failure_at = now
            tracker.first_failure_checked_at = time.monotonic()
            tracker.examples_to_first_failure = tracker.examples_run
        tracker.failing.setdefault(scenario_digest(scenario), problem)
        smallest = tracker.last_by_problem.get(problem)
        if smallest is None or _size(scenario) <= _size(smallest):
            tracker.last_by_problem[problem] = scenario
        if final:
            tracker.final_by_problem[problem] = scenario
        raise _failure_type(problem)(problem)

    search = search_settings(max_examples, report_multiple_bugs=every_invariant)
    # an engine that declares adapt_scenario (e.g. backtrader) gets scenarios it can run
    drawn = scenarios_for(factory, strategy or scenarios())
    test = hypothesis_seed(seed)(search(given(drawn)(holds_every_invariant)))
    try:
        with _seed_alone_decides():
            test()
    except _BudgetSpent:
        pass
    except Unusable as stop:
        raise stop.error from None
    except Exception:
        # our _GateFailure(s), or Hypothesis's Flaky* when the engine is not deterministic
        if not tracker.last_by_problem:
            raise
    elapsed = time.monotonic() - started
    checked_at = tracker.first_failure_checked_at
    counts = Counter(tracker.failing.values())
    found = {**tracker.last_by_problem, **tracker.final_by_problem}
    written = tuple(
        _write_and_recheck(
            found[problem], problem, factory, engine_name, seed, out_dir, found_by, oracle, selected
        )
        for problem in sorted(found)
    )
    return GateResult(
        engine_name=engine_name,
        seed=seed,
        examples_run=tracker.examples_run,
        generated=tracker.generated,
        max_examples=max_examples,
        failing_examples=len(tracker.failing),
        invariant_counts=tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        elapsed_seconds=elapsed,
        budget_exhausted=tracker.budget_exhausted,
        shrink_cut_short=tracker.shrink_cut_short,
        counterexamples=written,
        first_failure_seconds=None if checked_at is None else checked_at - started,
        examples_to_first_failure=tracker.examples_to_first_failure,
        only=selected,
        not_applicable=tuple(n for n in ALL_INVARIANTS if n in tracker.not_applicable),
    )


def _require_applicable(selected: tuple[str, ...], result: CheckResult, engine_name: str) -> None:
    """Stop the search (a usage error) when the engine declares a selected invariant does
    not apply to it: a search for it alone would check nothing and pass."""
    declined = [name for name in selected if name in result.not_applicable]
    if declined:
        raise Unusable(
            UsageError(
                f"--only {declined[0]}: engine {engine_name} declares that {declined[0]} does "
                "not apply to it (see its adapter's declarations), so the gate would check "
                "nothing for it; choose invariants that apply"
            )
        )


def _write_and_recheck(
    scenario: Scenario,
    problem: str,
    factory: EngineFactory,
    engine_name: str,
    seed_value: int,
    out_dir: Path,
    found_by: str,
    oracle: str | None = None,
    only: tuple[str, ...] | None = None,
) -> Counterexample:
    oracle_factory = None if oracle is None else ORACLES[oracle]
    first = check_scenario(scenario, factory, fail_fast=False, determinism=True)
    if oracle_factory is not None:
        first = with_oracle(first, oracle_factory)
    broken = broken_invariants(first) or (problem,)
    # the violation the search was after (with --only, others may come first)
    detail = next(
        (v for v in first.violations if v.invariant == problem),
        first.violations[0] if first.violations else first.crash,
    )
    description = (
        f"Counterexample found by cashfuzz {found_by} --engine {engine_name} "
        f"--seed {seed_value}: {detail}"
    )
    pinned = dataclasses.replace(pin_engine_mode(scenario, engine_name), description=description)
    path = Path(out_dir) / counterexample_name(engine_name, seed_value, pinned, problem)
    record = provenance.record(
        found_by=found_by,
        engine=engine_name,
        invariants=broken,
        seed=seed_value,
        path=path,
        traceback=getattr(first, "traceback", None),
    )
    if oracle is not None:
        record["replay"] += f" --oracle {oracle}"
    if only is not None:
        record["only"] = list(only)
    complete = dataclasses.replace(pinned, provenance=record)
    saved = save_counterexample(complete, path)
    replayed = load_scenario(path) if saved else complete
    # replay exactly as the printed command will: by the file's mode, or on the named engine
    replay_factory = resolve_engine(None) if engine_name in MODE_ENGINES else factory
    return Counterexample(
        invariant=problem,
        path=path,
        scenario=replayed,
        recorded=check_recorded(replayed, replay_factory, determinism=True, oracle=oracle_factory),
        broken=broken,
        replay_command=record["replay"],
        saved=saved,
    )


__all__ = [
    "CRASH",
    "DEFAULT_SHRINK_EXAMPLES",
    "Counterexample",
    "GateResult",
    "counterexample_name",
    "replay_command",
    "run_gate",
    "select_invariants",
]
