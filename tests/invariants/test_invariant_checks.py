"""Each pure check fires on a deliberately bad snapshot or event, naming the values,
and stays quiet on every transition of real reference runs.

Bad inputs are real snapshots and events from ``invariant_kit.rich_scenario``
changed by hand with ``dataclasses.replace``. Money in messages is decimal
(cents formatted as ``12.34``), equity in ticks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import pytest
from invariant_kit import Transition, real_runs

from cashfuzz.invariants import STATE_CHECKS, TRANSITION_CHECKS, LogTotals
from cashfuzz.reference_engine import (
    FillRefused,
    LedgerSnapshot,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderState,
    PositionView,
    Side,
)
from cashfuzz.reference_engine.money import format_cents as money

RUNS = real_runs()
RICH = RUNS["rich"]


E = TypeVar("E")


def _event(transition: Transition, kind: type[E]) -> E:
    """The transition's event, typed as ``kind``."""
    event = transition.event
    assert isinstance(event, kind)
    return event


def _find(kind: type, order_id: int | None = None) -> Transition:
    """The first transition of the rich run whose event is ``kind`` (for ``order_id``)."""
    for transition in RICH:
        event = transition.event
        if isinstance(event, kind) and order_id in (None, getattr(event, "order_id", None)):
            return transition
    raise LookupError(f"no {kind.__name__} for order {order_id} in the rich run")


def _with_order(snapshot: LedgerSnapshot, order_id: int, **changes: Any) -> LedgerSnapshot:
    orders = tuple(
        replace(order, **changes) if order.order_id == order_id else order
        for order in snapshot.orders
    )
    return replace(snapshot, orders=orders)


def _with_position(snapshot: LedgerSnapshot, symbol: str, quantity: int) -> LedgerSnapshot:
    positions = tuple(
        replace(p, quantity=quantity) if p.symbol == symbol else p for p in snapshot.positions
    )
    return replace(snapshot, positions=positions)


#: order 1 (BUY 8 X, GTC) fills 5 of 8 under the volume cap
PARTIAL = _find(OrderFilled, 1)
#: order 1 accepted, reserving its worst case
ACCEPTED = _find(OrderAccepted, 1)
#: order 3 cancelled in its own bar
CANCELLED = _find(OrderCancelled, 3)
#: order 5 (SELL all 10 Y) accepted: Y is held and pending sale
SELLING = _find(OrderAccepted, 5)
FINAL = RICH[-1].after


@dataclass(frozen=True, slots=True)
class BadCase:
    """A check, a way to call it on bad input, and the fragments its message must contain."""

    check: str
    id: str
    call: Callable[[], str | None]
    expected: tuple[str, ...]


def _state(name: str, snapshot: LedgerSnapshot) -> Callable[[], str | None]:
    return lambda: STATE_CHECKS[name](snapshot)


def _transition(
    name: str,
    base: Transition,
    *,
    before: LedgerSnapshot | None = None,
    event: Any = None,
    after: LedgerSnapshot | None = None,
    totals: LogTotals | None = None,
) -> Callable[[], str | None]:
    return lambda: TRANSITION_CHECKS[name](
        before or base.before, event or base.event, after or base.after, totals or base.totals
    )


def _bad_cases() -> list[BadCase]:
    s = SELLING.after
    fill = _event(PARTIAL, OrderFilled)
    accepted = _event(ACCEPTED, OrderAccepted)
    filled = PARTIAL.after.order(1)
    assert filled is not None
    cancel = _event(CANCELLED, OrderCancelled)
    held = CANCELLED.before.order(3)
    assert held is not None
    refused = FillRefused(2, 7, "X", Side.BUY, 2, 1_000_000, 20_000, 10_000)
    shares_off = LogTotals(PARTIAL.totals.cash_delta, {"X": 6})
    cash_off = LogTotals(PARTIAL.totals.cash_delta - 1, dict(PARTIAL.totals.shares))
    # a cancel whose books released one cent less than the order held, and logged that
    short_release = _with_order(
        replace(CANCELLED.after, reserved=CANCELLED.after.reserved + 1), 3, reserved=1
    )
    return [
        BadCase(
            "cash_non_negative",
            "negative",
            _state("cash_non_negative", replace(s, cash=-1)),
            ("cash=-0.01",),
        ),
        BadCase(
            "reserved_within_cash",
            "negative",
            _state("reserved_within_cash", replace(s, reserved=-5)),
            ("reserved=-0.05",),
        ),
        BadCase(
            "reserved_within_cash",
            "above-cash",
            _state("reserved_within_cash", replace(s, reserved=s.cash + 1)),
            (f"reserved={money(s.cash + 1)}", f"cash={money(s.cash)}", "available=-0.01"),
        ),
        BadCase(
            "reserved_matches_orders",
            "total-off",
            _state("reserved_matches_orders", replace(s, reserved=s.reserved + 7)),
            (f"reserved={money(s.reserved + 7)}", f"hold {money(s.reserved)}", "difference 0.07"),
        ),
        BadCase(
            "reserved_matches_orders",
            "negative-order",
            _state("reserved_matches_orders", _with_order(s, 4, reserved=-3)),
            ("order 4", "negative reservation -0.03"),
        ),
        BadCase(
            "terminal_orders_hold_nothing",
            "cancelled-holds",
            _state("terminal_orders_hold_nothing", _with_order(FINAL, 3, reserved=123)),
            ("order 3 is CANCELLED yet still holds 1.23",),
        ),
        BadCase(
            "no_oversell",
            "short",
            _state("no_oversell", _with_position(s, "X", -3)),
            ("position X=-3 is short",),
        ),
        BadCase(
            "no_oversell",
            "pending-sells",
            _state("no_oversell", _with_position(s, "Y", 4)),
            ("pending sells of Y=10 exceed the position 4",),
        ),
        BadCase(
            "equity_identity",
            "off-by-one",
            _state("equity_identity", replace(s, equity=s.equity + 1)),
            (f"equity={s.equity + 1} ticks", f"= {s.equity} ticks"),
        ),
        BadCase(
            "equity_identity",
            "no-mark",
            _state("equity_identity", replace(s, marks=())),
            ("position X=5 has no mark",),
        ),
        BadCase(
            "accepted_orders_funded",
            "fill-refused",
            _transition("accepted_orders_funded", PARTIAL, event=refused),
            ("order 7 (BUY 2 X)", "needed 200.00 with cash 100.00"),
        ),
        BadCase(
            "fill_within_reservation",
            "overspent",
            _transition(
                "fill_within_reservation",
                PARTIAL,
                after=_with_order(PARTIAL.after, 1, cash_flow=-(filled.released + 1)),
            ),
            (
                f"cost {money(filled.released + 1)}",
                f"released only {money(filled.released)}",
                f"of the {money(filled.reserved_initial)} reserved",
                f"limit {filled.limit_price}",
            ),
        ),
        BadCase(
            "fill_within_reservation",
            "partial-releases-too-much",
            _transition(
                "fill_within_reservation",
                PARTIAL,
                after=_with_order(PARTIAL.after, 1, reserved=filled.reserved - 1),
            ),
            (
                f"holds {money(filled.reserved - 1)}",
                f"the {money(3 * filled.limit_price // 100)} its 3 remaining shares",
                f"limit {filled.limit_price} ticks",
            ),
        ),
        BadCase(
            "fill_within_reservation",
            "negative-release",
            _transition("fill_within_reservation", PARTIAL, event=replace(fill, released=-1)),
            ("order 1 released a negative -0.01",),
        ),
        BadCase(
            "fill_within_reservation",
            "no-such-order",
            _transition("fill_within_reservation", PARTIAL, event=replace(fill, order_id=99)),
            ("order 99, which does not exist",),
        ),
        BadCase(
            "release_exact",
            "fill-misreports",
            _transition("release_exact", PARTIAL, event=replace(fill, released=fill.released + 1)),
            (f"event released {money(fill.released + 1)}",),
        ),
        BadCase(
            "release_exact",
            "accept-misreports",
            _transition(
                "release_exact",
                ACCEPTED,
                event=replace(accepted, reserved=accepted.reserved + 1),
            ),
            (
                f"moved by {money(accepted.reserved)} on OrderAccepted",
                f"accounts for {money(accepted.reserved + 1)}",
            ),
        ),
        BadCase(
            "release_exact",
            "cancel-keeps-some",
            _transition(
                "release_exact",
                CANCELLED,
                after=short_release,
                event=replace(cancel, released=cancel.released - 1),
            ),
            (
                f"ended holding {money(held.reserved)}",
                f"OrderCancelled released {money(cancel.released - 1)}",
            ),
        ),
        BadCase(
            "release_exact",
            "refused-keeps-reservation",
            _transition(
                "release_exact", SELLING, event=replace(refused, order_id=1), after=SELLING.before
            ),
            ("on FillRefused",),
        ),
        BadCase(
            "cash_conservation",
            "cash-off",
            _transition("cash_conservation", PARTIAL, totals=cash_off),
            (
                f"cash={money(PARTIAL.after.cash)}",
                f"logged fills ({money(cash_off.cash_delta)})",
                f"is {money(PARTIAL.after.initial_cash + cash_off.cash_delta)}",
            ),
        ),
        BadCase(
            "cash_conservation",
            "negative-commission",
            _transition("cash_conservation", PARTIAL, event=replace(fill, commission=-1)),
            ("order 1 has a negative commission",),
        ),
        BadCase(
            "cash_conservation",
            "debit-below-commission",
            _transition(
                "cash_conservation", PARTIAL, event=replace(fill, commission=-fill.cash_delta + 1)
            ),
            (
                f"debited {money(-fill.cash_delta)}",
                f"less than its commission {money(-fill.cash_delta + 1)}",
            ),
        ),
        BadCase(
            "position_conservation",
            "shares-off",
            _transition("position_conservation", PARTIAL, totals=shares_off),
            ("position X=5 but its fills add up to 6",),
        ),
        BadCase(
            "legal_lifecycle",
            "filled-to-cancelled",
            _transition(
                "legal_lifecycle",
                RICH[-1],
                before=FINAL,
                after=_with_order(FINAL, 1, state=OrderState.CANCELLED),
            ),
            ("order 1 moved FILLED -> CANCELLED",),
        ),
        BadCase(
            "legal_lifecycle",
            "filled-goes-down",
            _transition(
                "legal_lifecycle",
                PARTIAL,
                before=PARTIAL.after,
                after=_with_order(PARTIAL.after, 1, filled=4),
            ),
            ("order 1 filled went from 5 down to 4",),
        ),
        BadCase(
            "legal_lifecycle",
            "overfilled",
            _transition("legal_lifecycle", PARTIAL, after=_with_order(PARTIAL.after, 1, filled=9)),
            ("order 1 filled=9 of quantity=8",),
        ),
        BadCase(
            "legal_lifecycle",
            "born-filled",
            _transition(
                "legal_lifecycle",
                ACCEPTED,
                after=_with_order(ACCEPTED.after, 1, state=OrderState.FILLED),
            ),
            ("order 1 appeared as FILLED",),
        ),
        BadCase(
            "legal_lifecycle",
            "resized",
            _transition(
                "legal_lifecycle", PARTIAL, after=_with_order(PARTIAL.after, 1, quantity=7)
            ),
            ("order 1 changed from BUY 8 X",),
        ),
        BadCase(
            "legal_lifecycle",
            "terminal-edited",
            _transition(
                "legal_lifecycle", RICH[-1], before=FINAL, after=_with_order(FINAL, 1, cash_flow=0)
            ),
            ("order 1 changed after reaching FILLED",),
        ),
        BadCase(
            "legal_lifecycle",
            "orders-vanish",
            _transition(
                "legal_lifecycle",
                RICH[-1],
                before=FINAL,
                after=replace(FINAL, orders=FINAL.orders[:-1]),
            ),
            (f"orders vanished: {len(FINAL.orders)} before, {len(FINAL.orders) - 1} after",),
        ),
        BadCase(
            "new_orders_match_events",
            "not-created",
            _transition("new_orders_match_events", ACCEPTED, after=ACCEPTED.before),
            ("OrderAccepted for order 1 did not create that order",),
        ),
        BadCase(
            "new_orders_match_events",
            "wrong-state",
            _transition(
                "new_orders_match_events",
                ACCEPTED,
                after=_with_order(ACCEPTED.after, 1, state=OrderState.REJECTED),
            ),
            ("order 1 is REJECTED after OrderAccepted",),
        ),
        BadCase(
            "new_orders_match_events",
            "wrong-reservation",
            _transition(
                "new_orders_match_events",
                ACCEPTED,
                after=_with_order(ACCEPTED.after, 1, reserved=5),
            ),
            ("order 1 holds 0.05", f"not the {money(accepted.reserved)}"),
        ),
    ]


BAD_CASES = _bad_cases()


@pytest.mark.parametrize("case", BAD_CASES, ids=[f"{c.check}-{c.id}" for c in BAD_CASES])
def test_check_names_the_offending_values(case: BadCase) -> None:
    """A check handed a deliberately bad snapshot or event returns a message naming the values."""
    message = case.call()
    assert message is not None, f"{case.check} stayed quiet on {case.id}"
    for fragment in case.expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_every_check_has_a_bad_case() -> None:
    """Every state and transition check is fed at least one bad input above."""
    assert {case.check for case in BAD_CASES} == set(STATE_CHECKS) | set(TRANSITION_CHECKS)


@pytest.mark.parametrize("run", sorted(RUNS))
@pytest.mark.parametrize("name", sorted(STATE_CHECKS))
def test_state_check_passes_real_snapshots(name: str, run: str) -> None:
    """A state check returns None on every snapshot of a real reference run."""
    check = STATE_CHECKS[name]
    found = [(t.index, check(t.after)) for t in RUNS[run]]
    assert [(index, message) for index, message in found if message is not None] == []


@pytest.mark.parametrize("run", sorted(RUNS))
@pytest.mark.parametrize("name", sorted(TRANSITION_CHECKS))
def test_transition_check_passes_real_events(name: str, run: str) -> None:
    """A transition check returns None on every event of a real reference run."""
    check = TRANSITION_CHECKS[name]
    found = [(t.index, check(t.before, t.event, t.after, t.totals)) for t in RUNS[run]]
    assert [(index, message) for index, message in found if message is not None] == []


def test_real_runs_exercise_every_event_kind_checked() -> None:
    """The real runs include partial fills, sales, rejections, cancels and expiries."""
    kinds = {type(t.event).__name__ for t in RICH}
    assert {
        "OrderAccepted",
        "OrderRejected",
        "OrderFilled",
        "OrderCancelled",
        "OrderExpired",
        "CancelIgnored",
        "MarketUpdated",
    } <= kinds
    assert any(isinstance(t.event, OrderFilled) and t.event.side is Side.SELL for t in RICH)
    assert any(isinstance(t.event, OrderFilled) and t.event.remaining for t in RICH)
    assert any(isinstance(p, PositionView) and p.quantity for p in FINAL.positions)
