"""The state machine drives the reference engine step by step with every invariant on."""

from __future__ import annotations

import pytest
from hypothesis import settings

from cashfuzz.engines import naive_engine_factory, reference_engine_factory
from cashfuzz.examples import load_example
from cashfuzz.invariants import InvariantViolation
from cashfuzz.reference_engine import OrderState, reference_factory
from cashfuzz.strategies.stateful import CashMachine, machine_for

TestCashMachine = machine_for(reference_factory).TestCase
TestCashMachine.settings = settings(TestCashMachine.settings, stateful_step_count=12)


def _drive_googl_aapl(machine: CashMachine) -> None:
    """Feed the machine the GOOGL/AAPL scenario: its one bar and three BUYs in one step."""
    scenario = load_example("googl-aapl")
    machine.begin(scenario.config, scenario.symbols)
    (step,) = scenario.steps()
    machine.timestamp = step.timestamp  # type: ignore[assignment]
    machine.do_step(step.bars, step.signals)
    machine.state_checks_hold()
    machine.every_signal_is_an_order()


def test_machine_on_reference_funds_the_googl_aapl_race() -> None:
    """On the reference engine the three GOOGL/AAPL BUYs pass every check, none refused."""
    machine = machine_for(reference_engine_factory)()
    _drive_googl_aapl(machine)
    assert machine.engine is not None
    states = [o.state for o in machine.engine.snapshot().orders]
    assert OrderState.REJECTED not in states[:2]
    assert machine.monitor.violations == []


def test_machine_on_naive_engine_fails_the_googl_aapl_race() -> None:
    """On the naive engine the monitor stops the GOOGL/AAPL step at the refused fill."""
    machine = machine_for(naive_engine_factory)()
    with pytest.raises(InvariantViolation, match="accepted_orders_funded"):
        _drive_googl_aapl(machine)


def test_machine_for_binds_the_factory() -> None:
    """Each machine class builds its engine with the factory it was made for."""
    machine = machine_for(naive_engine_factory, name="NaiveMachine")()
    scenario = load_example("googl-aapl")
    machine.begin(scenario.config, scenario.symbols)
    assert type(machine).__name__ == "NaiveMachine"
    assert getattr(machine.engine, "reserves_cash", True) is False
