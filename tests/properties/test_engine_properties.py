"""The reference engine holds every invariant over generated scenarios and the GOOGL/AAPL race."""

from __future__ import annotations

import dataclasses

from hypothesis import example, given

from cashfuzz.engines import naive_engine_factory
from cashfuzz.examples import load_example
from cashfuzz.invariants import check_scenario
from cashfuzz.reference_engine import Mode, OrderAccepted, OrderFilled, Scenario, reference_factory
from cashfuzz.strategies import scenarios

GOOGL_AAPL = load_example("googl-aapl")
GOOGL_AAPL_KELLY = load_example("googl-aapl-kelly")


@example(GOOGL_AAPL)
@example(GOOGL_AAPL_KELLY)
@given(scenarios())
def test_reference_engine_holds_every_invariant(scenario: Scenario) -> None:
    """Every invariant, determinism included, holds on the reference engine."""
    result = check_scenario(scenario, reference_factory, determinism=True)
    assert result.crash is None, result.crash
    assert result.violations == (), [str(v) for v in result.violations]


def test_googl_aapl_race_is_prevented_and_naive_is_caught() -> None:
    """Reservation mode funds every fill of the three BUYs; naive mode breaks an invariant."""
    held = check_scenario(GOOGL_AAPL, reference_factory)
    assert held.ok
    accepted = [e for e in held.events if isinstance(e, OrderAccepted)]
    filled = sum(e.quantity for e in held.events if isinstance(e, OrderFilled))
    requested = sum(s.quantity or 0 for s in GOOGL_AAPL.signals)
    # the third AAPL BUY cannot be funded in full: it is resized or rejected before any fill
    assert filled < requested
    assert sum(a.reserved for a in accepted) <= GOOGL_AAPL.config.initial_cash
    naive = dataclasses.replace(
        GOOGL_AAPL, config=dataclasses.replace(GOOGL_AAPL.config, mode=Mode.NAIVE)
    )
    broken = check_scenario(naive, naive_engine_factory)
    assert "accepted_orders_funded" in {v.invariant for v in broken.violations}
