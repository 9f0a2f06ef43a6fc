"""The monitor: fail-fast raises at the broken event, collect mode keeps the first
violation per invariant, ``only`` selects checks and rejects unknown names."""

from __future__ import annotations

import pytest
from invariant_kit import bar, buy, record, scenario

from cashfuzz.invariants import (
    ALL_INVARIANTS,
    RESERVATION_CHECKS,
    STATE_CHECKS,
    InvariantViolation,
    Monitor,
    Violation,
    check_scenario,
)
from cashfuzz.invariants.checks import LogTotals, accepted_orders_funded
from cashfuzz.reference_engine import FillRefused, LedgerSnapshot, Scenario, Side
from cashfuzz.zoo import ZOO

#: two BUYs of 2 at 100.00 with 300.00: the naive engine's second fill (event 4) is refused
RACE = scenario([buy(1, 2), buy(1, 2)], bars=[bar(1, "100")], initial_cash="300")
#: a BUY in each of four bars, filled at the next open: the lump engine wipes the
#: reservation after every step, so several events break the same invariants
WIPED = scenario(
    [buy(t, 1) for t in (1, 2, 3, 4)],
    bars=[bar(t, "10") for t in (1, 2, 3, 4, 5)],
    fill_at="next_open",
)


def _drive(scenario_: Scenario, engine_name: str, monitor: Monitor) -> list[object]:
    engine = ZOO[engine_name].factory(scenario_.config, monitor)
    if not getattr(engine, "reserves_cash", True):
        monitor.exclude(RESERVATION_CHECKS)  # as check_scenario does
    for step in scenario_.steps():
        engine.step(step.timestamp, step.bars, step.signals, step.cancels)
    return list(engine.events)


def test_fail_fast_raises_at_the_broken_event() -> None:
    """A fail-fast monitor raises InvariantViolation carrying the invariant and event index."""
    monitor = Monitor(fail_fast=True)
    with pytest.raises(InvariantViolation) as caught:
        _drive(RACE, "naive_sizing", monitor)
    violation = caught.value.violation
    assert (violation.invariant, violation.event_index) == ("accepted_orders_funded", 4)
    assert "order 2" in str(caught.value)
    assert monitor.violations == [violation]
    assert monitor.events_seen == 5


def test_collect_mode_keeps_the_first_violation_per_invariant() -> None:
    """Without fail-fast, each broken invariant is reported once, at the first event it broke."""
    monitor = Monitor(fail_fast=False)
    events = _drive(WIPED, "lump_reservation_wiped", monitor)
    names = [v.invariant for v in monitor.violations]
    assert len(names) == len(set(names))
    # recompute where each state check first fires, straight from the recorded snapshots
    transitions = record(WIPED, ZOO["lump_reservation_wiped"].factory)
    assert len(transitions) == len(events) == monitor.events_seen
    firsts: dict[str, int] = {}
    repeats = 0
    for transition in transitions:
        for name, check in STATE_CHECKS.items():
            if check(transition.after) is not None:
                repeats += name in firsts
                firsts.setdefault(name, transition.index)
    assert repeats > 0, "the scenario must break an invariant more than once"
    reported = {v.invariant: v.event_index for v in monitor.violations}
    assert {name: reported[name] for name in firsts} == firsts


def test_only_runs_the_selected_invariants() -> None:
    """A monitor restricted with ``only`` reports nothing outside its selection."""
    monitor = Monitor(fail_fast=False, only=["cash_non_negative", "no_oversell"])
    _drive(RACE, "naive_sizing", monitor)
    assert monitor.violations == []
    chosen = Monitor(fail_fast=False, only=["legal_lifecycle"])
    _drive(RACE, "naive_sizing", chosen)
    assert [(v.invariant, v.event_index) for v in chosen.violations] == [("legal_lifecycle", 4)]


def test_unknown_invariant_name_is_rejected() -> None:
    """Monitor(only=["nope"]) raises ValueError naming the unknown name and the known ones."""
    with pytest.raises(ValueError, match="'nope'") as caught:
        Monitor(only=["nope"])
    assert all(name in str(caught.value) for name in ALL_INVARIANTS)


def test_exclude_drops_checks() -> None:
    """An excluded check is no longer run."""
    monitor = Monitor(fail_fast=False)
    monitor.exclude(["accepted_orders_funded", "legal_lifecycle"])
    _drive(RACE, "naive_sizing", monitor)
    assert monitor.violations == []


def test_check_scenario_fail_fast_stops_the_run() -> None:
    """check_scenario with fail_fast keeps only the first violation and the events up to it."""
    result = check_scenario(WIPED, ZOO["lump_reservation_wiped"].factory, fail_fast=True)
    assert len(result.violations) == 1
    assert len(result.events) == result.violations[0].event_index + 1
    collected = check_scenario(WIPED, ZOO["lump_reservation_wiped"].factory)
    assert len(collected.violations) > 1
    assert collected.violations[0] == result.violations[0]


def test_violation_reads_as_a_sentence() -> None:
    """A Violation names the invariant and where it broke, and serialises to a dict."""
    at_event = Violation("cash_non_negative", 3, "cash=-0.01 is negative")
    whole_run = Violation("signals_accounted", -1, "signal 0 was dropped")
    assert str(at_event) == "cash_non_negative broke at event 3: cash=-0.01 is negative"
    assert str(whole_run).startswith("signals_accounted broke at the run")
    assert at_event.to_dict() == {
        "invariant": "cash_non_negative",
        "event_index": 3,
        "message": "cash=-0.01 is negative",
    }


def _refusal_message(scenario_: Scenario) -> str:
    monitor = Monitor(fail_fast=False)
    _drive(scenario_, "naive_sizing", monitor)
    found = [v for v in monitor.violations if v.invariant == "accepted_orders_funded"]
    assert found, monitor.violations
    return found[0].message


def test_a_lone_unfunded_order_is_not_called_a_race() -> None:
    """With one order and no other fill, the message states the facts, not 'the race'."""
    # a gap up between the signal's close and the next open: one order, never funded
    gap = scenario(
        [buy(1, 100)], bars=[bar(1, "10"), bar(2, "11")], initial_cash="1000", fill_at="next_open"
    )
    message = _refusal_message(gap)
    assert "race" not in message
    assert "same cash" not in message
    assert message.startswith("order 1 (BUY 100 X) was accepted but its fill needed 1100.00")
    assert "its acceptance reserved nothing" in message


def test_a_race_names_the_orders_that_spent_the_cash() -> None:
    """When another order's fill took the cash, the message names that order."""
    message = _refusal_message(RACE)
    assert "order 2 (BUY 2 X) was accepted" in message
    assert "order 1 was filled from the same cash" in message


def test_a_refusal_without_an_amount_says_the_engine_gave_none() -> None:
    """A FillRefused with needed 0 (an engine that drops an order silently) is not
    described as a fill that 'needed 0.00'."""
    books = LedgerSnapshot(1, 1, 0, 100, (), (), ())
    dropped = FillRefused(0, 2, "AAPL", Side.BUY, 1, 100, 0, 0)
    message = accepted_orders_funded(books, dropped, books, LogTotals())
    assert message is not None
    assert "needed 0.00" not in message
    assert message.startswith("order 2 (BUY 1 AAPL) was accepted, then refused at fill time")
    assert "the engine did not say what the fill needed" in message


def test_a_not_applicable_invariant_names_the_declaration_behind_it() -> None:
    """Output says which class attribute made a check not apply, so a user who declared
    nothing sees it is the default (the kit's reserves_cash = False), not a deviation."""
    from cashfuzz.invariants.monitor import declarations_text, declared_by

    assert declared_by("fill_within_reservation") == "reserves_cash = False"
    assert declared_by("equity_identity") == "reports_equity = False"
    assert declared_by("phase_order") == "logs_documented_phase_order = False"
    assert declarations_text(["equity_identity", "cancel_takes_effect"]) == (
        "equity_identity (reports_equity = False), "
        "cancel_takes_effect (cancels_immediately = False)"
    )
