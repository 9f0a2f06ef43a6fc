"""Who is to blame: an engine that breaks the protocol, or one that crashes.

``check_scenario`` needs an engine built by ``factory(config, observer)`` with
``step``, ``snapshot`` and an ``events`` list, that calls the observer with a
``LedgerSnapshot`` after every event it logs. An adapter that does not is
wrong in a way its author must fix before anything can be checked: that is an
``AdapterProtocolError`` (the command line's usage error, exit 2), whose message
says what to change. An exception raised inside the engine or its factory is a
finding about the engine (exit 1): ``crash_report`` turns it into a one-line
description naming the file and line, plus the formatted traceback.
"""

from __future__ import annotations

import inspect
import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

from cashfuzz.reference_engine import (
    EVENT_TYPES,
    EngineError,
    Event,
    LedgerSnapshot,
    OrderView,
    OrderViews,
)
from cashfuzz.reference_engine.ledger import PositionView

#: What an adapter author reads after every protocol message.
_CONTRACT = (
    "(the protocol: factory(config, observer) returns an engine with step(timestamp, bars, "
    "signals, cancels), snapshot() -> LedgerSnapshot and an events list, and calls "
    "observer(event, snapshot) after each event it logs; see EngineUnderTest)"
)
#: This folder as the interpreter names it in tracebacks (through the cashfuzz symlink).
_HERE = os.path.dirname(__file__) + os.sep


class AdapterProtocolError(EngineError, TypeError):
    """An engine or its factory does not follow the engine protocol (a usage error)."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"the engine breaks the engine protocol: {problem} {_CONTRACT}")
        self.problem = problem


def check_factory(factory: object) -> None:
    """Raise AdapterProtocolError unless ``factory`` can be called as factory(config, observer)."""
    if not callable(factory):
        raise AdapterProtocolError(
            f"the engine factory is a {type(factory).__name__}, not something callable"
        )
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return  # a builtin or C callable: nothing to read, so let the call decide
    try:
        signature.bind(object(), None)
    except TypeError as error:
        name = getattr(factory, "__qualname__", type(factory).__name__)
        raise AdapterProtocolError(
            f"the engine factory {name}{signature} cannot be called as "
            f"factory(config, observer) ({error}): give it exactly those two parameters"
        ) from None


def check_engine(engine: object) -> None:
    """Raise AdapterProtocolError unless ``engine`` has step, snapshot and events."""
    if engine is None:
        raise AdapterProtocolError("the engine factory returned None instead of an engine")
    kind = type(engine).__name__
    for method in ("step", "snapshot"):
        if not callable(getattr(engine, method, None)):
            raise AdapterProtocolError(f"the engine ({kind}) has no {method}() method")
    engine_events(engine)


def engine_events(engine: object) -> tuple[Event, ...]:
    """The engine's ``events`` as a tuple. Raises AdapterProtocolError when it has none."""
    kind = type(engine).__name__
    try:
        events = engine.events  # type: ignore[attr-defined]
    except AttributeError:
        raise AdapterProtocolError(
            f"the engine ({kind}) has no events attribute: keep every event it logs in a "
            "list named events"
        ) from None
    if isinstance(events, str | bytes) or not isinstance(events, Sequence):
        raise AdapterProtocolError(
            f"the engine's ({kind}) events is a {type(events).__name__}, not a list of events"
        )
    logged = tuple(events)
    for index, event in enumerate(logged):
        problem = event_problem(event, f"events[{index}]")
        if problem is not None:
            raise AdapterProtocolError(problem)
    return logged


def event_problem(event: object, where: str) -> str | None:
    """Why ``event`` is not one of the engine protocol's event types, or None."""
    if isinstance(event, EVENT_TYPES):
        return None
    known = ", ".join(kind.__name__ for kind in EVENT_TYPES)
    return (
        f"{where} is a {type(event).__name__}, not one of the protocol's events ({known}, "
        "from cashfuzz.reference_engine)"
    )


_INT_FIELDS = ("initial_cash", "cash", "reserved", "equity")


def snapshot_problem(snapshot: object, where: str) -> str | None:
    """What is wrong with ``snapshot`` as a LedgerSnapshot, or None (a full check)."""
    if not isinstance(snapshot, LedgerSnapshot):
        return f"{where} is a {type(snapshot).__name__}, not a LedgerSnapshot"
    for name in _INT_FIELDS:
        value = getattr(snapshot, name)
        if type(value) is not int:
            return (
                f"in {where}, {name} is a {type(value).__name__} ({_short(value)}), not an "
                "int (money is integer cents; equity is integer ticks of 0.0001)"
            )
    for name, kind in (("orders", OrderView), ("positions", PositionView)):
        items = getattr(snapshot, name)
        # the reference ledger's orders are an OrderViews, a tuple-like read-only sequence
        if not isinstance(items, tuple | OrderViews):
            return f"in {where}, {name} is a {type(items).__name__}, not a tuple of {kind.__name__}"
        for index, item in enumerate(items):
            if not isinstance(item, kind):
                return (
                    f"in {where}, {name}[{index}] is a {type(item).__name__}, not a {kind.__name__}"
                )
    if not isinstance(snapshot.marks, tuple):
        return (
            f"in {where}, marks is a {type(snapshot.marks).__name__}, not a tuple of "
            "(symbol, ticks) pairs"
        )
    return None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class MonitorFault(Exception):
    """The invariant monitor itself failed on a well-formed snapshot: cashfuzz's own fault."""


@dataclass(slots=True)
class GuardedObserver:
    """The monitor as the engine sees it: refuses snapshots that are not LedgerSnapshots,
    and tells an adapter's malformed snapshot (protocol error) from a fault of the monitor.

    The first problem is kept in ``problem`` / ``fault`` as well as raised, because an
    engine may swallow what its observer raises."""

    monitor: Callable[[Event, LedgerSnapshot], None]
    problem: AdapterProtocolError | None = None
    fault: BaseException | None = None
    calls: int = 0

    def __call__(self, event: Event, after: LedgerSnapshot) -> None:
        self.calls += 1
        if self.calls == 1 or after.__class__ is not LedgerSnapshot:
            self._require_snapshot(after)
        try:
            self.monitor(event, after)
        except AssertionError:
            # a violation: first make sure it is about the engine's books, not their shape
            self._require_snapshot(after)
            self._require_event(event)
            raise
        except Exception as error:
            self._require_snapshot(after)
            self._require_event(event)
            if self.fault is None:
                self.fault = error
            raise MonitorFault(
                f"the invariant monitor failed on event {self.calls - 1}: "
                f"{type(error).__name__}: {error}"
            ) from error

    def _require_event(self, event: object) -> None:
        problem = event_problem(event, f"the event passed to the observer (call {self.calls})")
        if problem is not None:
            error = AdapterProtocolError(problem)
            if self.problem is None:
                self.problem = error
            raise error

    def _require_snapshot(self, after: object) -> None:
        problem = snapshot_problem(
            after, f"the snapshot passed to the observer (call {self.calls})"
        )
        if problem is not None:
            error = AdapterProtocolError(problem)
            if self.problem is None:
                self.problem = error
            raise error

    def raise_recorded(self) -> None:
        """Raise what an engine may have swallowed: a protocol problem, or a monitor fault."""
        if self.problem is not None:
            raise self.problem
        if self.fault is not None:
            raise MonitorFault(
                f"the invariant monitor failed: {type(self.fault).__name__}: {self.fault}"
            ) from self.fault


@dataclass(frozen=True, slots=True)
class CrashReport:
    """An exception from the engine: one line naming where it was raised, and the traceback."""

    summary: str
    traceback: str


def crash_report(error: BaseException, *, prefix: str = "") -> CrashReport:
    """Describe ``error`` raised inside the engine or its factory (cashfuzz's own frames
    at the top of its traceback are left out)."""
    tb = _without_own_frames(error.__traceback__)
    where = ""
    frames = traceback.extract_tb(tb) if tb is not None else []
    if frames:
        last = frames[-1]
        where = f" (raised at {last.filename}:{last.lineno} in {last.name})"
    text = "".join(traceback.format_exception(type(error), error, tb))
    return CrashReport(f"{prefix}{type(error).__name__}: {error}{where}", text)


def _without_own_frames(tb: TracebackType | None) -> TracebackType | None:
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_HERE):
        tb = tb.tb_next
    return tb


__all__ = [
    "AdapterProtocolError",
    "CrashReport",
    "GuardedObserver",
    "MonitorFault",
    "check_engine",
    "check_factory",
    "crash_report",
    "engine_events",
    "event_problem",
    "snapshot_problem",
]
