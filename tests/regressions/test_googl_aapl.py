"""The seed's race (three BUYs in one bar against 1297.29), on both built-in examples.

Both examples: cash 1297.29, 0.1% commission, both closes 99.98, fills at the
same bar's close, signals GOOGL 8, AAPL 4, AAPL 2 (quantities in ``googl-aapl``;
a full-Kelly sizer with strengths 0.78, 0.56, 0.46 in ``googl-aapl-kelly``).
"""

from __future__ import annotations

import dataclasses

import pytest

from cashfuzz.examples import load_example
from cashfuzz.invariants import Monitor, check_scenario
from cashfuzz.reference_engine import (
    Event,
    FillRefused,
    LedgerSnapshot,
    Mode,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    OrderState,
    Reason,
    Scenario,
    run_scenario,
)


def _naive(scenario: Scenario) -> Scenario:
    return dataclasses.replace(
        scenario, config=dataclasses.replace(scenario.config, mode=Mode.NAIVE)
    )


def _run_monitored(scenario: Scenario) -> tuple[list[Event], list[LedgerSnapshot]]:
    """Run under a fail-fast Monitor (every invariant after every event) and record the books."""
    monitor = Monitor(fail_fast=True)
    events: list[Event] = []
    snapshots: list[LedgerSnapshot] = []

    def observe(event: Event, after: LedgerSnapshot) -> None:
        monitor(event, after)
        events.append(event)
        snapshots.append(after)

    result = run_scenario(scenario, observer=observe)
    assert list(result.events) == events
    assert monitor.violations == []
    return events, snapshots


def _assert_race_prevented(
    events: list[Event], snapshots: list[LedgerSnapshot], reason: Reason
) -> tuple[OrderFilled, OrderFilled]:
    accepted = [e for e in events if isinstance(e, OrderAccepted)]
    assert [(a.order_id, a.symbol, a.quantity) for a in accepted] == [
        (1, "GOOGL", 8),
        (2, "AAPL", 4),
    ]
    (rejected,) = [e for e in events if isinstance(e, OrderRejected)]
    assert (rejected.order_id, rejected.symbol, rejected.reason) == (3, "AAPL", reason)
    fills = [e for e in events if isinstance(e, OrderFilled)]
    assert [(f.order_id, f.quantity) for f in fills] == [(1, 8), (2, 4)]
    # the third signal is decided before any fill, not refused at fill time
    assert events.index(rejected) < events.index(fills[0])
    assert not any(isinstance(e, FillRefused) for e in events)
    assert all(s.cash >= 0 and 0 <= s.reserved <= s.cash for s in snapshots)
    final = snapshots[-1]
    assert final.reserved == 0
    assert all(not o.is_open for o in final.orders)
    assert (final.position("GOOGL"), final.position("AAPL")) == (8, 4)
    return fills[0], fills[1]


def test_quantity_example_rejects_the_third_buy_before_any_fill() -> None:
    """googl-aapl (6 bps of seeded random slippage): orders 1 and 2 reserve 801.13 and 400.57,
    order 3 (AAPL 2) is rejected for cash, and the two fills leave exactly 95.98.

    Limit 99.98 x 1.0006 = 100.039988 -> 100.0400. GOOGL: 8 x 100.04 = 800.32 + 0.81 =
    801.13 reserved; AAPL: 400.16 + 0.41 = 400.57; available 1297.29 - 1201.70 = 95.59,
    below one more share (100.04 + 0.11 = 100.15). Seed 7 draws slippage 331 and 154
    millionths: GOOGL fills at 99.98 x 1.000331 = 100.01309 -> 100.0131, 8 shares
    800.1048 -> 800.11 + 0.81 = 800.92; AAPL at 99.98 x 1.000154 = 99.99540 -> 99.9954,
    4 shares 399.9816 -> 399.99 + 0.40 = 400.39. Cash 1297.29 - 800.92 - 400.39 = 95.98.
    """
    events, snapshots = _run_monitored(load_example("googl-aapl"))
    accepted = [e for e in events if isinstance(e, OrderAccepted)]
    assert [(a.limit_price, a.reserved) for a in accepted] == [
        (1_000_400, 80_113),
        (1_000_400, 40_057),
    ]
    googl, aapl = _assert_race_prevented(events, snapshots, Reason.INSUFFICIENT_CASH)
    assert (googl.price, googl.commission, googl.cash_delta, googl.released) == (
        1_000_131,
        81,
        -80_092,
        80_113,
    )
    assert (aapl.price, aapl.commission, aapl.cash_delta, aapl.released) == (
        999_954,
        40,
        -40_039,
        40_057,
    )
    assert snapshots[-1].cash == 9_598


def test_kelly_example_sizes_8_and_4_and_refuses_the_third() -> None:
    """googl-aapl-kelly (fixed 5 bps): Kelly asks 8 GOOGL and 4 AAPL; the third signal's target
    of 2 AAPL is already covered by the 4 pending, so it is rejected; cash ends at 95.71.

    Limit = fill price = 99.98 x 1.0005 = 100.02999 -> 100.0300. GOOGL 8: 800.24 + 0.81 =
    801.05; AAPL 4: 400.12 + 0.41 = 400.53. Cash 1297.29 - 801.05 - 400.53 = 95.71.
    """
    events, snapshots = _run_monitored(load_example("googl-aapl-kelly"))
    accepted = [e for e in events if isinstance(e, OrderAccepted)]
    assert [(a.requested, a.reserved) for a in accepted] == [(8, 80_105), (4, 40_053)]
    googl, aapl = _assert_race_prevented(events, snapshots, Reason.TARGET_REACHED)
    assert (googl.price, googl.cash_delta) == (1_000_300, -80_105)
    assert (aapl.price, aapl.cash_delta) == (1_000_300, -40_053)
    assert snapshots[-1].cash == 9_571


@pytest.mark.parametrize("name", ["googl-aapl", "googl-aapl-kelly"])
def test_reservation_mode_holds_every_invariant(name: str) -> None:
    """check_scenario finds no violation in either example in reservation mode."""
    result = check_scenario(load_example(name))
    assert result.ok, result.violations


@pytest.mark.parametrize(
    ("name", "needed", "cash"),
    [
        # third draw 404 millionths: 99.98 x 1.000404 = 100.02039 -> 100.0204; 2 shares
        # 200.0408 -> 200.05 + 0.21
        ("googl-aapl", 20_026, 9_598),
        # 2 x 100.03 = 200.06 + 0.21
        ("googl-aapl-kelly", 20_027, 9_571),
    ],
)
def test_naive_mode_is_caught_refusing_the_third_fill(name: str, needed: int, cash: int) -> None:
    """In naive mode all three BUYs are accepted, the third fill is refused for cash, and
    check_scenario reports accepted_orders_funded and legal_lifecycle at that event."""
    result = check_scenario(_naive(load_example(name)))
    assert not result.ok
    accepted = [e for e in result.events if isinstance(e, OrderAccepted)]
    assert [(a.order_id, a.quantity) for a in accepted] == [(1, 8), (2, 4), (3, 2)]
    (refused,) = [e for e in result.events if isinstance(e, FillRefused)]
    assert (refused.order_id, refused.quantity, refused.needed, refused.cash) == (
        3,
        2,
        needed,
        cash,
    )
    at = result.events.index(refused)
    found = {v.invariant: v.event_index for v in result.violations}
    assert found.get("accepted_orders_funded") == at
    assert found.get("legal_lifecycle") == at
    assert result.final is not None
    order = result.final.order(3)
    assert order is not None
    assert order.state is OrderState.REJECTED
