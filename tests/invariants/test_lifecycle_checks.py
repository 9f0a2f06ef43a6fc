"""Each lifecycle check fires on a deliberately bad event log, naming the values, and
stays quiet on every event of real reference runs; engines that declare a deviation
see the check skipped and reported as not applicable.

Bad logs are real reference logs (``invariant_kit.rich_scenario`` and the GOOGL/AAPL
examples) changed by hand: an event moved, repeated, replaced or dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from invariant_kit import Transition, buy, cancel, real_runs, rich_scenario, scenario

from cashfuzz.engines import reference_engine_factory
from cashfuzz.invariants import (
    LIFECYCLE_CHECKS,
    LifecycleMonitor,
    check_scenario,
    not_applicable,
)
from cashfuzz.reference_engine import (
    CancelIgnored,
    Engine,
    EngineConfig,
    EngineUnderTest,
    Event,
    LedgerSnapshot,
    Observer,
    OrderAccepted,
    OrderCancelled,
    OrderState,
    Reason,
)

RUNS = real_runs()
RICH = RUNS["rich"]


def _findings(
    transitions: Sequence[tuple[LedgerSnapshot, Event, LedgerSnapshot]],
) -> list[tuple[int, str, str]]:
    """(event index, invariant, message) of every lifecycle finding over a log."""
    monitor = LifecycleMonitor(LIFECYCLE_CHECKS)
    found = []
    for index, (before, event, after) in enumerate(transitions):
        found += [(index, name, message) for name, message in monitor.observe(before, event, after)]
    return found


def _log(run: list[Transition]) -> list[tuple[LedgerSnapshot, Event, LedgerSnapshot]]:
    return [(t.before, t.event, t.after) for t in run]


def _first(run: list[Transition], kind: type) -> int:
    return next(t.index for t in run if isinstance(t.event, kind))


@pytest.mark.parametrize("name", sorted(RUNS))
def test_lifecycle_checks_hold_on_every_event_of_real_runs(name: str) -> None:
    """No lifecycle check fires on a reference run."""
    assert _findings(_log(RUNS[name])) == []


def test_rich_run_has_a_live_cancel_and_an_ignored_cancel() -> None:
    """The base log cancels a live order and ignores a cancel of a terminal one."""
    events = [t.event for t in RICH]
    assert any(isinstance(e, OrderCancelled) for e in events)
    assert any(isinstance(e, CancelIgnored) for e in events)


def test_cancel_takes_effect_fires_when_a_live_order_cancel_is_ignored() -> None:
    """A CancelIgnored answering a cancel of a live order breaks cancel_takes_effect."""
    log = _log(RICH)
    at = _first(RICH, OrderCancelled)
    before, event, _ = log[at]
    assert isinstance(event, OrderCancelled)
    ignored = CancelIgnored(
        event.timestamp, event.order_id, event.cancel_index, Reason.ALREADY_TERMINAL, None
    )
    log[at] = (before, ignored, before)
    found = _findings(log[: at + 1])
    assert [(i, n) for i, n, _ in found] == [(at, "cancel_takes_effect")]
    assert f"order {event.order_id}" in found[0][2]
    assert "ALREADY_TERMINAL" in found[0][2]


def test_cancel_takes_effect_fires_when_the_order_stays_live_after_its_cancel() -> None:
    """An OrderCancelled after which the order is still ACCEPTED breaks cancel_takes_effect."""
    log = _log(RICH)
    at = _first(RICH, OrderCancelled)
    before, event, _ = log[at]
    log[at] = (before, event, before)
    found = _findings(log[: at + 1])
    assert [(i, n) for i, n, _ in found] == [(at, "cancel_takes_effect")]
    assert "not CANCELLED" in found[0][2]


def test_phase_order_fires_when_a_signal_comes_after_the_steps_cancels() -> None:
    """A step whose acceptance follows its cancel breaks phase_order, naming both phases."""
    log = _log(RICH)
    at = _first(RICH, OrderCancelled)
    accepted = next(i for i, (_, e, _) in enumerate(log) if isinstance(e, OrderAccepted))
    # the cancel answered before an acceptance of the same step
    step = log[at][1].timestamp
    assert log[accepted][1].timestamp == step
    moved = [log[at], *log[:at], *log[at + 1 :]]
    first_signal = next(i for i, (_, e, _) in enumerate(moved) if isinstance(e, OrderAccepted))
    found = [f for f in _findings(moved) if f[1] == "phase_order"]
    assert found
    assert found[0][0] <= first_signal
    assert "cancels" in found[0][2]


def test_phase_order_fires_when_marks_follow_close_fills() -> None:
    """A MarketUpdated logged after the step's fills at the close breaks phase_order."""
    log = _log(RUNS["googl-aapl"])
    market = log[0]
    assert type(market[1]).__name__ == "MarketUpdated"
    found = [f for f in _findings([*log[1:], market]) if f[1] == "phase_order"]
    assert found
    assert found[0][0] == len(log) - 1
    assert "belongs to marks" in found[0][2]
    assert "fills at the close" in found[0][2]


def test_order_ids_unique_fires_on_a_second_acceptance_of_an_id() -> None:
    """An acceptance reusing an issued id breaks order_ids_unique, naming the id."""
    log = _log(RUNS["googl-aapl"])
    first = _first(RUNS["googl-aapl"], OrderAccepted)
    before, event, after = log[first + 1]
    assert isinstance(event, OrderAccepted)
    log[first + 1] = (before, replace(event, order_id=1), after)
    found = [f for f in _findings(log) if f[1] == "order_ids_unique"]
    assert [i for i, _, _ in found] == [first + 1]
    assert "reuses order id 1" in found[0][2]


def test_stray_cancels_logged_fires_when_an_ignored_cancel_changes_the_books() -> None:
    """A CancelIgnored whose snapshot moved cash breaks stray_cancels_logged."""
    log = _log(RICH)
    at = _first(RICH, CancelIgnored)
    before, event, after = log[at]
    log[at] = (before, event, replace(after, cash=after.cash - 1))
    found = _findings(log[: at + 1])
    assert [(i, n) for i, n, _ in found] == [(at, "stray_cancels_logged")]
    assert "cash" in found[0][2]
    assert "changes nothing" in found[0][2]


def test_stray_cancels_logged_fires_when_a_terminal_order_is_cancelled() -> None:
    """An OrderCancelled for an order already terminal breaks stray_cancels_logged."""
    log = _log(RICH)
    at = _first(RICH, CancelIgnored)
    before, event, after = log[at]
    assert isinstance(event, CancelIgnored)
    assert event.state is not None
    log[at] = (
        before,
        OrderCancelled(event.timestamp, event.order_id, event.cancel_index, 0),
        after,
    )
    found = _findings(log[: at + 1])
    assert [(i, n) for i, n, _ in found] == [(at, "stray_cancels_logged")]
    assert "already terminal" in found[0][2]


def test_stray_cancels_logged_fires_when_a_cancel_goes_unanswered() -> None:
    """Dropping the answer to one cancel breaks stray_cancels_logged at the next answer."""
    log = _log(RICH)
    first = _first(RICH, OrderCancelled)
    found = _findings([*log[:first], *log[first + 1 :]])
    assert [n for _, n, _ in found] == ["stray_cancels_logged"]
    assert "cancel 0 was never answered" in found[0][2]


def test_an_unanswered_last_cancel_is_found_at_the_end_of_the_run() -> None:
    """check_scenario reports a last cancel that got no answer, as a whole-run finding."""

    class DropsLastCancel(Engine):
        def _handle_cancel(self, timestamp: object, cancel: object) -> None:
            self._cancels_seen += 1

    def factory(config: EngineConfig, observer: Observer | None) -> EngineUnderTest:
        return DropsLastCancel(config, observer)

    result = check_scenario(scenario([buy(1, 1)], cancels=[cancel(1, 9)]), factory)
    assert [(v.invariant, v.event_index) for v in result.violations] == [
        ("stray_cancels_logged", -1)
    ]
    assert "cancel 0 (order 9" in result.violations[0].message


def test_declared_deviations_skip_the_check_and_show_as_not_applicable() -> None:
    """An engine declaring cancels_immediately = False is not checked for it, and says so."""

    class LazyCancels(Engine):
        cancels_immediately = False

        def _handle_cancel(self, timestamp: object, cancel: object) -> None:
            index = self._cancels_seen
            self._cancels_seen += 1
            order = self.ledger.orders.get(cancel.order_id)  # type: ignore[attr-defined]
            state = None if order is None else order.state
            self._emit(
                CancelIgnored(
                    timestamp,  # type: ignore[arg-type]
                    cancel.order_id,  # type: ignore[attr-defined]
                    index,
                    Reason.UNKNOWN_ORDER,
                    state,
                )
            )

    def factory(config: EngineConfig, observer: Observer | None) -> EngineUnderTest:
        return LazyCancels(config, observer)

    checked = check_scenario(rich_scenario(), factory)
    assert checked.not_applicable == ("cancel_takes_effect",)
    assert "cancel_takes_effect" not in {v.invariant for v in checked.violations}
    assert not_applicable(LazyCancels) == ("cancel_takes_effect",)
    undeclared = check_scenario(rich_scenario(), reference_engine_factory)
    assert undeclared.ok
    assert undeclared.not_applicable == ()


def test_orders_state_after_reference_cancel_is_cancelled() -> None:
    """In the base log the cancelled order is CANCELLED right after its OrderCancelled."""
    at = _first(RICH, OrderCancelled)
    event = RICH[at].event
    assert isinstance(event, OrderCancelled)
    order = RICH[at].after.order(event.order_id)
    assert order is not None
    assert order.state is OrderState.CANCELLED


def test_phase_order_names_the_events_that_placed_a_fill_at_the_close() -> None:
    """An engine that expires before it fills has its fill counted at the close; the
    message names the fill and the expiry it followed, not a phase the engine never has."""
    from cashfuzz.reference_engine import MarketUpdated, OrderExpired, OrderFilled, Side

    snapshot = RICH[0].before
    events: list[Event] = [
        OrderExpired(5, 1, 0),
        OrderFilled(5, 2, "AAPL", Side.BUY, 1, 100, 0, -1, 1, 1, 0),
        MarketUpdated(5, (("AAPL", 100),)),
    ]
    found = [
        f for f in _findings([(snapshot, e, snapshot) for e in events]) if f[1] == "phase_order"
    ]
    assert [index for index, _, _ in found] == [2]
    message = found[0][2]
    assert message.startswith("MarketUpdated at 5 belongs to marks, but the step had already ")
    assert "logged OrderFilled of order 2, which counts among fills at the close" in message
    assert "because it came after OrderExpired of order 1" in message
    assert "already reached" not in message
