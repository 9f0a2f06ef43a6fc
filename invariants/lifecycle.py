"""Invariants of order and lifecycle, read from the event log as it grows.

Four checks the cash invariants cannot see, because an engine can break them
while keeping its books consistent:

- ``cancel_takes_effect``: a cancel of a live order (accepted, not yet terminal,
  by the log) ends it in the cancel's step: the answer is ``OrderCancelled`` and
  the order is CANCELLED right after it, never ``CancelIgnored``.
- ``phase_order``: within one step the events follow the documented phases:
  fills at the open, expiries, marks, signals, cancels, fills at the close,
  expiries. A fill or expiry before the step's first mark, signal or cancel
  belongs to the open; after it, to the close.
- ``order_ids_unique``: no order id is issued twice.
- ``stray_cancels_logged``: every cancel is answered, in order, by exactly one
  event; a cancel of an unknown or terminal id changes nothing (cash, reserved,
  positions, that order) and is logged as ``CancelIgnored``.

Each check is a pure function of the running ``LifecycleLog`` (what the log said
so far: ids issued, orders live, the step's phase, cancels answered), the event
and the snapshots around it; ``LifecycleLog.add`` then folds the event in. Both
cost O(1) per event. An engine that deviates on purpose declares it with a
class attribute set to False (see ``DECLARATIONS``), and these checks skip it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from cashfuzz.reference_engine import (
    CancelIgnored,
    Event,
    FillRefused,
    LedgerSnapshot,
    MarketUpdated,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderState,
    Scenario,
    Timestamp,
)

#: The phases of one step, in the documented order (their index is their rank).
PHASES: tuple[str, ...] = (
    "fills at the open",
    "expiries at the open",
    "marks",
    "signals",
    "cancels",
    "fills at the close",
    "expiries at the close",
)
_OPEN_FILLS, _OPEN_EXPIRIES, _MARKS, _SIGNALS, _CANCELS, _CLOSE_FILLS, _CLOSE_EXPIRIES = range(7)


@dataclass(slots=True)
class LifecycleLog:
    """What the event log has said so far, as running state (nothing is re-walked)."""

    #: order id -> timestamp of the event that issued it
    issued: dict[int, Timestamp] = field(default_factory=dict)
    #: ids accepted and not yet filled, cancelled, expired or refused
    live: set[int] = field(default_factory=set)
    #: cancels answered so far (OrderCancelled or CancelIgnored with an index)
    answered: int = 0
    #: the current step's timestamp and the rank of the latest phase seen in it
    step: Timestamp | None = None
    phase: int = -1
    #: for messages: the latest event of that phase, and the event that held the step's
    #: latest phase before it (why a fill or expiry counts as at the close)
    phase_event: Event | None = None
    before_phase_event: Event | None = None

    def rank(self, event: Event) -> int:
        """The phase ``event`` belongs to, given the phases already seen in its step."""
        phase = self.phase if event.timestamp == self.step else -1
        if isinstance(event, OrderFilled | FillRefused):
            return _OPEN_FILLS if phase <= _OPEN_FILLS else _CLOSE_FILLS
        if isinstance(event, OrderExpired):
            return _OPEN_EXPIRIES if phase <= _OPEN_EXPIRIES else _CLOSE_EXPIRIES
        if isinstance(event, MarketUpdated):
            return _MARKS
        if isinstance(event, OrderAccepted | OrderRejected):
            return _SIGNALS
        return _CANCELS

    def add(self, event: Event) -> None:
        """Fold ``event`` into the running state."""
        rank = self.rank(event)
        if event.timestamp != self.step:
            self.step, self.phase = event.timestamp, rank
            self.phase_event, self.before_phase_event = event, None
        else:
            if rank > self.phase:
                self.before_phase_event = self.phase_event
            if rank >= self.phase:
                self.phase_event = event
            self.phase = max(self.phase, rank)
        if isinstance(event, OrderAccepted):
            self.issued.setdefault(event.order_id, event.timestamp)
            self.live.add(event.order_id)
        elif isinstance(event, OrderRejected):
            self.issued.setdefault(event.order_id, event.timestamp)
        elif isinstance(event, OrderFilled):
            if event.remaining == 0:
                self.live.discard(event.order_id)
        elif isinstance(event, OrderCancelled | OrderExpired | FillRefused):
            self.live.discard(event.order_id)
        if isinstance(event, OrderCancelled | CancelIgnored) and event.cancel_index >= 0:
            self.answered += 1

    def describe(self, order_id: int) -> str:
        if order_id not in self.issued:
            return f"order {order_id}, which was never issued"
        if order_id in self.live:
            return f"live order {order_id}"
        return f"order {order_id}, already terminal"


LifecycleCheck = Callable[[LifecycleLog, LedgerSnapshot, Event, LedgerSnapshot], str | None]


def cancel_takes_effect(
    log: LifecycleLog, before: LedgerSnapshot, event: Event, after: LedgerSnapshot
) -> str | None:
    """A cancel of a live order cancels it at once; it is never answered CancelIgnored."""
    if isinstance(event, CancelIgnored) and event.order_id in log.live:
        held = before.order(event.order_id)
        state = "live" if held is None else held.state.value
        return (
            f"cancel {event.cancel_index} of order {event.order_id} ({state}, live by the log) "
            f"was ignored ({event.reason.value}) instead of cancelling it in its step"
        )
    if isinstance(event, OrderCancelled) and event.order_id in log.live:
        order = after.order(event.order_id)
        if order is None or order.state is not OrderState.CANCELLED:
            state = "missing" if order is None else order.state.value
            return (
                f"order {event.order_id} is {state} right after OrderCancelled, "
                "not CANCELLED: the cancel did not take effect in its step"
            )
    return None


def phase_order(
    log: LifecycleLog, before: LedgerSnapshot, event: Event, after: LedgerSnapshot
) -> str | None:
    """Within a step, events follow the documented phases (see ``PHASES``)."""
    if event.timestamp != log.step:
        return None
    rank = log.rank(event)
    if rank < log.phase:
        # name the events seen: an engine that never fills at the close can still have
        # a fill counted there (one after the step's expiries, marks or signals)
        seen = "an earlier event" if log.phase_event is None else _named(log.phase_event)
        why = f" ({PHASES[log.phase]})"
        if log.phase in (_CLOSE_FILLS, _CLOSE_EXPIRIES) and log.before_phase_event is not None:
            why = (
                f", which counts among {PHASES[log.phase]} because it came after "
                f"{_named(log.before_phase_event)}"
            )
        return (
            f"{type(event).__name__} at {event.timestamp!r} belongs to {PHASES[rank]}, but the "
            f"step had already logged {seen}{why}: documented order is " + " -> ".join(PHASES)
        )
    return None


def _named(event: Event) -> str:
    order_id = getattr(event, "order_id", None)
    name = type(event).__name__
    return name if order_id is None else f"{name} of order {order_id}"


def order_ids_unique(
    log: LifecycleLog, before: LedgerSnapshot, event: Event, after: LedgerSnapshot
) -> str | None:
    """An order id is issued once: no acceptance or rejection reuses one."""
    if isinstance(event, OrderAccepted | OrderRejected) and event.order_id in log.issued:
        return (
            f"{type(event).__name__} reuses order id {event.order_id}, already issued at "
            f"{log.issued[event.order_id]!r} (signal {event.signal_index})"
        )
    return None


def stray_cancels_logged(
    log: LifecycleLog, before: LedgerSnapshot, event: Event, after: LedgerSnapshot
) -> str | None:
    """Every cancel is answered once, in order; one of an unknown or terminal id is
    logged as CancelIgnored and changes nothing."""
    if not isinstance(event, OrderCancelled | CancelIgnored):
        return None
    if event.cancel_index >= 0 and event.cancel_index != log.answered:
        if event.cancel_index > log.answered:
            return (
                f"cancel {log.answered} was never answered: the next answer logged is for "
                f"cancel {event.cancel_index} (order {event.order_id})"
            )
        return f"cancel {event.cancel_index} (order {event.order_id}) was answered twice"
    if isinstance(event, OrderCancelled):
        if event.order_id not in log.live:
            return (
                f"a cancel of {log.describe(event.order_id)} was answered OrderCancelled: it "
                "must change nothing and be logged as CancelIgnored"
            )
        return None
    if event.order_id in log.live:
        return None  # a live order: cancel_takes_effect's finding, not this one
    changes = [
        f"{name} {old} -> {new}"
        for name, old, new in (
            ("cash", before.cash, after.cash),
            ("reserved", before.reserved, after.reserved),
        )
        if old != new
    ]
    if before.order(event.order_id) != after.order(event.order_id):
        changes.append(f"order {event.order_id}")
    if before.positions != after.positions:
        changes.append("positions")
    if changes:
        return (
            f"CancelIgnored for {log.describe(event.order_id)} changed "
            f"{', '.join(changes)}; an ignored cancel changes nothing"
        )
    return None


#: The lifecycle invariants, in the order the monitor runs them.
LIFECYCLE_CHECKS: dict[str, LifecycleCheck] = {
    "cancel_takes_effect": cancel_takes_effect,
    "phase_order": phase_order,
    "order_ids_unique": order_ids_unique,
    "stray_cancels_logged": stray_cancels_logged,
}

#: Engine attribute -> the invariant it turns off when set to False. An adapter for an
#: engine that deviates on purpose declares it, as ``reserves_cash = False`` does.
DECLARATIONS: dict[str, str] = {
    "cancels_immediately": "cancel_takes_effect",
    "logs_documented_phase_order": "phase_order",
    "unique_order_ids": "order_ids_unique",
    "logs_every_cancel": "stray_cancels_logged",
}


def lifecycle_not_applicable(engine: object) -> tuple[str, ...]:
    """The lifecycle invariants ``engine`` declares it does not follow."""
    return tuple(name for flag, name in DECLARATIONS.items() if not getattr(engine, flag, True))


class LifecycleMonitor:
    """Runs the selected lifecycle checks on each event, then folds it into the log."""

    __slots__ = ("_checks", "log")

    def __init__(self, selected: Iterable[str]) -> None:
        chosen = set(selected)
        self._checks = [(n, c) for n, c in LIFECYCLE_CHECKS.items() if n in chosen]
        self.log = LifecycleLog()

    def exclude(self, names: Iterable[str]) -> None:
        dropped = set(names)
        self._checks = [(n, c) for n, c in self._checks if n not in dropped]

    def observe(
        self, before: LedgerSnapshot, event: Event, after: LedgerSnapshot
    ) -> list[tuple[str, str]]:
        """(invariant, message) for each check ``event`` breaks."""
        found = []
        for name, check in self._checks:
            message = check(self.log, before, event, after)
            if message is not None:
                found.append((name, message))
        self.log.add(event)
        return found


def cancels_answered(scenario: Scenario, events: Sequence[Event]) -> tuple[int, str] | None:
    """At the end of a run: (event index, message) when a cancel got no answer, else None."""
    answered = sum(
        1
        for event in events
        if isinstance(event, OrderCancelled | CancelIgnored) and event.cancel_index >= 0
    )
    if answered < len(scenario.cancels):
        missing = scenario.cancels[answered]
        return (
            -1,
            f"cancel {answered} (order {missing.order_id} at {missing.timestamp!r}) was never "
            f"answered: {len(scenario.cancels)} cancel(s), {answered} logged; a cancel that "
            "finds nothing to cancel is logged as CancelIgnored",
        )
    return None


__all__ = [
    "DECLARATIONS",
    "LIFECYCLE_CHECKS",
    "PHASES",
    "LifecycleLog",
    "LifecycleMonitor",
    "cancel_takes_effect",
    "cancels_answered",
    "lifecycle_not_applicable",
    "order_ids_unique",
    "phase_order",
    "stray_cancels_logged",
]
