"""The online monitor, whole-run checks, and ``check_scenario`` that runs them all."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cashfuzz.reference_engine import (
    EngineFactory,
    Event,
    LedgerSnapshot,
    OrderAccepted,
    OrderRejected,
    RunResult,
    Scenario,
    ScenarioError,
    begin_run,
    event_to_dict,
    gc_tuned,
    orders_changed,
    reference_factory,
    run_scenario,
)

from .checks import STATE_CHECKS, TRANSITION_CHECKS, LogTotals
from .lifecycle import (
    DECLARATIONS,
    LIFECYCLE_CHECKS,
    LifecycleMonitor,
    cancels_answered,
    lifecycle_not_applicable,
)
from .order_tally import TALLIED_STATE_CHECKS, OrderTally
from .order_tally import legal_lifecycle as tallied_lifecycle
from .protocol import (
    AdapterProtocolError,
    CrashReport,
    GuardedObserver,
    MonitorFault,
    check_engine,
    check_factory,
    crash_report,
    engine_events,
    snapshot_problem,
)

#: Checks that look at a whole run rather than one event.
RUN_CHECKS = ("signals_accounted", "determinism")
#: Checks that only mean something for an engine that reserves cash for open
#: orders; an engine without reservations (``reserves_cash = False``) skips them.
RESERVATION_CHECKS = ("fill_within_reservation",)
#: Checks of an engine's own equity figure; an engine whose snapshot can only derive
#: equity from cash and marks (``reports_equity = False``) skips them, as they would
#: compare that derivation with itself.
EQUITY_CHECKS = ("equity_identity",)
ALL_INVARIANTS: tuple[str, ...] = (
    *STATE_CHECKS,
    *TRANSITION_CHECKS,
    *LIFECYCLE_CHECKS,
    *RUN_CHECKS,
)


def declared_by(invariant: str) -> str:
    """The engine declaration that makes ``invariant`` not apply (``"reserves_cash = False"``)."""
    if invariant in RESERVATION_CHECKS:
        return "reserves_cash = False"
    if invariant in EQUITY_CHECKS:
        return "reports_equity = False"
    flag = next((flag for flag, name in DECLARATIONS.items() if name == invariant), None)
    return "a declaration" if flag is None else f"{flag} = False"


def declarations_text(invariants: Iterable[str]) -> str:
    """``"fill_within_reservation (reserves_cash = False), ..."`` for not-applicable names."""
    return ", ".join(f"{name} ({declared_by(name)})" for name in invariants)


def not_applicable(engine: object) -> tuple[str, ...]:
    """The invariants ``engine`` declares do not apply to it (``reserves_cash = False``,
    ``reports_equity = False``, or a lifecycle declaration), in ``ALL_INVARIANTS`` order."""
    skipped = set(lifecycle_not_applicable(engine))
    if not getattr(engine, "reserves_cash", True):
        skipped.update(RESERVATION_CHECKS)
    if not getattr(engine, "reports_equity", True):
        skipped.update(EQUITY_CHECKS)
    return tuple(name for name in ALL_INVARIANTS if name in skipped)


@dataclass(frozen=True, slots=True)
class Violation:
    """An invariant that broke: its name, the event index (-1: the whole run), and why."""

    invariant: str
    event_index: int
    message: str

    def __str__(self) -> str:
        where = "the run" if self.event_index < 0 else f"event {self.event_index}"
        return f"{self.invariant} broke at {where}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "invariant": self.invariant,
            "event_index": self.event_index,
            "message": self.message,
        }


class InvariantViolation(AssertionError):
    """Raised by a fail-fast monitor; carries the Violation."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(str(violation))
        self.violation = violation


class Monitor:
    """Runs every selected invariant after every event. The engine's only observer.

    With ``fail_fast`` the first violation raises InvariantViolation (stopping
    the engine where it broke); otherwise violations are collected, first one
    per invariant. It never corrects anything it sees.

    When a snapshot says which orders changed since the one before (the reference
    ledger's ``OrderViews`` does), the checks that would walk every order use
    running totals instead (``order_tally``; same verdicts, same messages), so a
    run's cost grows linearly; ``running_totals=False`` always walks.
    """

    def __init__(
        self,
        *,
        fail_fast: bool = True,
        only: Iterable[str] | None = None,
        running_totals: bool = True,
    ) -> None:
        selected = set(ALL_INVARIANTS if only is None else only)
        unknown = selected - set(ALL_INVARIANTS)
        if unknown:
            raise ValueError(
                f"unknown invariant {sorted(unknown)[0]!r}; known: {', '.join(ALL_INVARIANTS)}"
            )
        self._state = [(n, c) for n, c in STATE_CHECKS.items() if n in selected]
        self._transition = [(n, c) for n, c in TRANSITION_CHECKS.items() if n in selected]
        self._lifecycle = LifecycleMonitor(selected)
        self.fail_fast = fail_fast
        self.violations: list[Violation] = []
        self.events_seen = 0
        self.observed: list[Event] = []
        self._before: LedgerSnapshot | None = None
        self._totals = LogTotals()
        self._broken: set[str] = set()
        self._running_totals = running_totals
        # the tally of the last snapshot's orders, or None when it must be rebuilt
        self._tally: OrderTally | None = None

    def exclude(self, names: Iterable[str]) -> None:
        """Stop running the named checks (for an engine they do not apply to)."""
        dropped = set(names)
        self._state = [(n, c) for n, c in self._state if n not in dropped]
        self._transition = [(n, c) for n, c in self._transition if n not in dropped]
        self._lifecycle.exclude(dropped)

    def __call__(self, event: Event, after: LedgerSnapshot) -> None:
        index = self.events_seen
        self.events_seen += 1
        self.observed.append(event)
        before = self._before or _opening(after)
        self._totals.add(event)
        changed = orders_changed(before.orders, after.orders) if self._running_totals else None
        if changed is None:
            self._tally = None
            for name, state_check in self._state:
                self._report(name, index, state_check(after))
        else:
            self._check_state_changed(index, before, after, changed)
        # before the transition checks: when an order or cancel is mishandled these name
        # the lifecycle rule it broke, not the bookkeeping that follows from it
        for name, message in self._lifecycle.observe(before, event, after):
            self._report(name, index, message)
        for name, transition_check in self._transition:
            if changed is not None and name == "legal_lifecycle":
                # only the orders that changed can have moved
                verdict = tallied_lifecycle(before, after, changed)
            else:
                verdict = transition_check(before, event, after, self._totals)
            self._report(name, index, verdict)
        self._before = after

    def _check_state_changed(
        self,
        index: int,
        before: LedgerSnapshot,
        after: LedgerSnapshot,
        changed: frozenset[int],
    ) -> None:
        """The state checks, from running totals moved by the orders that changed."""
        tally = self._tally
        if tally is None:
            tally = self._tally = OrderTally(before.orders)
        tally.update(before, after, changed)
        for name, state_check in self._state:
            tallied = TALLIED_STATE_CHECKS.get(name)
            message = state_check(after) if tallied is None else tallied(tally, after)
            self._report(name, index, message)

    def _report(self, name: str, index: int, message: str | None) -> None:
        if message is None or name in self._broken:
            return
        violation = Violation(name, index, message)
        self._broken.add(name)
        self.violations.append(violation)
        if self.fail_fast:
            raise InvariantViolation(violation)


def _opening(after: LedgerSnapshot) -> LedgerSnapshot:
    """The books before the first event: initial cash, nothing else."""
    return LedgerSnapshot(
        initial_cash=after.initial_cash,
        cash=after.initial_cash,
        reserved=0,
        equity=after.initial_cash * 100,
        orders=(),
        positions=(),
        marks=(),
    )


def signals_accounted(scenario: Scenario, events: Sequence[Event]) -> Violation | None:
    """Every signal ends as exactly one order, accepted or rejected, with ids 1, 2, 3, ..."""
    outcomes: dict[int, int] = {}
    for index, event in enumerate(events):
        if isinstance(event, OrderAccepted | OrderRejected):
            if event.signal_index in outcomes:
                return Violation(
                    "signals_accounted",
                    index,
                    f"signal {event.signal_index} became a second order ({event.order_id})",
                )
            if event.order_id != event.signal_index + 1:
                return Violation(
                    "signals_accounted",
                    index,
                    f"signal {event.signal_index} became order {event.order_id}, "
                    f"not {event.signal_index + 1}",
                )
            outcomes[event.signal_index] = index
    missing = [i for i in range(len(scenario.signals)) if i not in outcomes]
    if missing:
        signal = scenario.signals[missing[0]]
        return Violation(
            "signals_accounted",
            -1,
            f"signal {missing[0]} ({signal.side.value} {signal.symbol} at {signal.timestamp!r}) "
            f"was neither accepted nor rejected ({len(missing)} signal(s) unaccounted for)",
        )
    return None


def event_log_bytes(events: Sequence[Event]) -> bytes:
    """The canonical byte form of an event log (one JSON object per line)."""
    return b"".join(
        json.dumps(event_to_dict(event), sort_keys=True, default=str).encode() + b"\n"
        for event in events
    )


def first_difference(left: Sequence[Event], right: Sequence[Event]) -> int:
    """Index of the first event that differs between two logs (or the shorter length)."""
    for index, (a, b) in enumerate(zip(left, right, strict=False)):
        if event_log_bytes([a]) != event_log_bytes([b]):
            return index
    return min(len(left), len(right))


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What checking one scenario found. ``final`` is None when the engine crashed;
    then ``crash`` says what it raised and where, and ``traceback`` holds the
    formatted traceback (cashfuzz's own frames left out)."""

    scenario: Scenario
    events: tuple[Event, ...]
    final: LedgerSnapshot | None
    violations: tuple[Violation, ...]
    crash: str | None = None
    traceback: str | None = None
    #: invariants the engine declares do not apply to it (skipped, shown as such)
    not_applicable: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.violations and self.crash is None


def check_scenario(
    scenario: Scenario,
    factory: EngineFactory = reference_factory,
    *,
    fail_fast: bool = False,
    determinism: bool = True,
    only: Iterable[str] | None = None,
) -> CheckResult:
    """Run ``scenario`` under the monitor and the whole-run checks.

    An exception from the engine or its factory is reported as a crash (a finding),
    with its traceback, not raised. Raises ScenarioError when the engine cannot
    express the scenario (bad input, not a finding), AdapterProtocolError when the
    engine does not follow the engine protocol (no events, a snapshot that is not a
    LedgerSnapshot, observer calls that do not match its log, a factory that cannot
    be called as factory(config, observer)), and MonitorFault when the monitor
    itself fails on a well-formed snapshot.
    """
    selected = set(ALL_INVARIANTS if only is None else only)
    monitor = Monitor(fail_fast=fail_fast, only=selected - set(RUN_CHECKS))
    guard = GuardedObserver(monitor)
    check_factory(factory)
    try:
        engine = factory(scenario.config, guard)
    except (ScenarioError, AdapterProtocolError):
        raise
    except Exception as error:  # noqa: BLE001 - a factory that cannot build is a finding too
        report = crash_report(error, prefix="the engine factory raised ")
        return CheckResult(scenario, (), None, (), report.summary, report.traceback)
    check_engine(engine)
    skipped = not_applicable(engine)
    monitor.exclude(skipped)
    crashed: CrashReport | None = None
    try:
        begin_run(engine, scenario)
        with gc_tuned():
            for step in scenario.steps():
                engine.step(step.timestamp, step.bars, step.signals, step.cancels)
    except InvariantViolation:
        pass
    except (ScenarioError, AdapterProtocolError, MonitorFault):
        raise
    except Exception as error:  # noqa: BLE001 - an engine crash is a finding, not our error
        crashed = crash_report(error)
    guard.raise_recorded()
    events = engine_events(engine)
    if crashed is None:
        _require_observed(monitor, events, stopped_early=fail_fast and bool(monitor.violations))
    violations = list(monitor.violations)
    complete = crashed is None and not (fail_fast and violations)
    if complete and "signals_accounted" in selected:
        found = signals_accounted(scenario, events)
        if found is not None:
            violations.append(found)
    if complete and "stray_cancels_logged" in selected and "stray_cancels_logged" not in skipped:
        unanswered = cancels_answered(scenario, events)
        if unanswered is not None:
            violations.append(Violation("stray_cancels_logged", *unanswered))
    if complete and determinism and "determinism" in selected:
        again, rerun_crash = _rerun(scenario, factory)
        if rerun_crash is not None:
            violations.append(
                Violation(
                    "determinism",
                    -1,
                    f"a second run of the same scenario and seed crashed: {rerun_crash}",
                )
            )
        elif again is not None and _logs_differ(events, again.events):
            index = first_difference(events, again.events)
            violations.append(
                Violation(
                    "determinism",
                    index,
                    f"a second run of the same scenario and seed differs from event {index} on",
                )
            )
    final: LedgerSnapshot | None = None
    if crashed is None:
        try:
            final = engine.snapshot()
        except Exception as error:  # noqa: BLE001 - the engine's own snapshot() crashed
            crashed = crash_report(error, prefix="snapshot() raised ")
        else:
            problem = snapshot_problem(final, "the engine's snapshot()")
            if problem is not None:
                raise AdapterProtocolError(problem)
    return CheckResult(
        scenario=scenario,
        events=events,
        final=final,
        violations=tuple(violations),
        crash=None if crashed is None else crashed.summary,
        traceback=None if crashed is None else crashed.traceback,
        not_applicable=skipped,
    )


def _logs_differ(first: Sequence[Event], second: Sequence[Event]) -> bool:
    """Whether two runs' logs differ as bytes. Equal event objects (same class, equal
    fields) serialise to the same bytes, so only unequal logs are serialised."""
    if len(first) == len(second) and all(
        a is b or a == b for a, b in zip(first, second, strict=True)
    ):
        return False
    return event_log_bytes(first) != event_log_bytes(second)


def _rerun(scenario: Scenario, factory: EngineFactory) -> tuple[RunResult | None, str | None]:
    try:
        return run_scenario(scenario, factory), None
    except Exception as error:  # noqa: BLE001 - the first run completed, so this is a finding
        return None, crash_report(error).summary


def _require_observed(monitor: Monitor, events: tuple[Event, ...], *, stopped_early: bool) -> None:
    """Raise AdapterProtocolError unless the monitor saw exactly the logged events."""
    observed = monitor.observed
    if stopped_early:
        # a fail-fast stop interrupts the engine mid-event: compare what both have so far
        shared = min(len(observed), len(events))
        observed, events = observed[:shared], events[:shared]
    mismatch = len(observed) != len(events) or any(
        a is not b for a, b in zip(observed, events, strict=True)
    )
    if mismatch:
        raise AdapterProtocolError(
            f"the engine logged {len(events)} event(s) in its events list but called its "
            f"observer with {len(observed)} (or with other event objects), so the invariants "
            "could not check its log: call observer(event, snapshot) once after each event "
            "you append to events, with that same event object"
        )
