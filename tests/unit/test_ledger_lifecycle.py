"""Every lifecycle path releases exactly its reservation.

Each engine here runs under ``unit_kit.Books``, which checks after every event
that reserved == sum of open orders' reservations, terminal orders hold
nothing, and cash == initial cash + the logged fills' cash deltas. Money in
cents, prices in ticks; 0.1% commission, no minimum, no slippage unless said.
"""

from __future__ import annotations

from fractions import Fraction

from unit_kit import CASH, COSTS, PRICE, bar, buy, engine, only, sell

from cashfuzz.reference_engine import (
    Cancel,
    CancelIgnored,
    Costs,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderState,
    Policy,
    Reason,
    TimeInForce,
)

#: 100.0030: a price whose notionals need rounding.
ODD = 1_000_030
HALF = Fraction(1, 2)


def test_full_fill_releases_the_whole_reservation() -> None:
    """BUY 3 at 100.00 reserves 300.00 + 0.30; filling at 99.00 costs 297.00 + 0.30
    (0.297 rounded up) and releases all 300.30."""
    eng, books = engine()
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "A", 3)])
    (accepted,) = only(books.events, OrderAccepted)
    assert (accepted.order_id, accepted.quantity, accepted.reserved) == (1, 3, 30_030)
    assert eng.snapshot().reserved == 30_030
    assert eng.snapshot().available == CASH - 30_030

    eng.step(2, [bar(2, "A", 990_000)])
    (fill,) = only(books.events, OrderFilled)
    assert (fill.quantity, fill.price, fill.commission) == (3, 990_000, 30)
    assert (fill.cash_delta, fill.released, fill.remaining) == (-29_730, 30_030, 0)
    final = eng.snapshot()
    assert (final.cash, final.reserved) == (CASH - 29_730, 0)
    assert final.order(1) is not None
    assert final.order(1).state is OrderState.FILLED  # type: ignore[union-attr]
    assert final.position("A") == 3


def test_partial_fills_release_the_filled_part_and_hold_the_rest() -> None:
    """BUY 5 GTC at 100.0030 capped at 2 shares a bar reserves 500.53; the fills of
    2, 2 and 1 release 200.22, 200.21 and the last 100.10, each equal to what it paid.

    Reservation: 5 x 100.0030 = 500.015 -> 500.02 + 0.51 = 500.53. Cumulative totals:
    2 shares 200.01 + 0.21 = 200.22, 4 shares 400.02 + 0.41 = 400.43.
    """
    eng, books = engine(max_participation=HALF)
    eng.step(1, [bar(1, "A", ODD)], [buy(1, "A", 5, time_in_force=TimeInForce.GTC)])
    assert eng.snapshot().reserved == 50_053

    eng.step(2, [bar(2, "A", ODD, volume=4)])
    first = only(books.events, OrderFilled)[-1]
    assert (first.quantity, first.cash_delta, first.released) == (2, -20_022, 20_022)
    snap = eng.snapshot()
    assert snap.reserved == 30_031
    assert snap.order(1).state is OrderState.PARTIALLY_FILLED  # type: ignore[union-attr]

    eng.step(3, [bar(3, "A", ODD, volume=4)])
    second = only(books.events, OrderFilled)[-1]
    assert (second.quantity, second.cash_delta, second.released) == (2, -20_021, 20_021)
    assert eng.snapshot().reserved == 10_010

    eng.step(4, [bar(4, "A", ODD, volume=4)])
    last = only(books.events, OrderFilled)[-1]
    assert (last.quantity, last.cash_delta, last.released, last.remaining) == (
        1,
        -10_010,
        10_010,
        0,
    )
    final = eng.snapshot()
    assert (final.cash, final.reserved) == (CASH - 50_053, 0)
    # three fills pay exactly what one fill of 5 pays
    assert sum(f.cash_delta for f in only(books.events, OrderFilled)) == -COSTS.buy_total(5 * ODD)
    assert final.order(1).state is OrderState.FILLED  # type: ignore[union-attr]


def test_partial_sell_fills_pay_what_one_sale_pays() -> None:
    """SELL 5 at 100.0030 capped at 2 a bar nets 199.79, 199.81 and 99.90: together
    500.01 - 0.51 = 499.50, one sale's net; its 0.01 fee reserve is released at the end."""
    eng, books = engine(max_participation=HALF)
    eng.step(1, [bar(1, "A", ODD)], [buy(1, "A", 5)])
    eng.step(2, [bar(2, "A", ODD)])
    assert only(books.events, OrderFilled)[-1].cash_delta == -50_053
    eng.step(3, [bar(3, "A", ODD)], [sell(3, "A", time_in_force=TimeInForce.GTC)])
    sale = only(books.events, OrderAccepted)[-1]
    assert (sale.order_id, sale.quantity, sale.reserved) == (2, 5, 1)
    for ts in (4, 5, 6):
        eng.step(ts, [bar(ts, "A", ODD, volume=4)])
    sells = [f for f in only(books.events, OrderFilled) if f.order_id == 2]
    assert [f.quantity for f in sells] == [2, 2, 1]
    assert [f.cash_delta for f in sells] == [19_979, 19_981, 9_990]
    assert [f.released for f in sells] == [0, 0, 1]
    assert sum(f.cash_delta for f in sells) == COSTS.sell_net(5 * ODD) == 49_950
    final = eng.snapshot()
    assert (final.cash, final.reserved, final.position("A")) == (CASH - 50_053 + 49_950, 0, 0)


def test_partial_sale_with_a_negative_net_releases_its_fee_reserve_as_used() -> None:
    """SELL 5 at 0.01 with a 5.00 minimum reserves 5.00; its fills of 2, 2 and 1 net
    0.02 - 5.00 = -4.98 (releasing 4.98), then +0.02 and +0.01 (releasing 0 and the last 0.02)."""
    eng, books = engine(costs=Costs(Fraction(1, 1000), commission_min=500), max_participation=HALF)
    eng.step(1, [bar(1, "A", 100)], [buy(1, "A", 5)])
    # 5 x 0.01 = 0.05 + the 5.00 minimum
    assert only(books.events, OrderAccepted)[0].reserved == 505
    eng.step(2, [bar(2, "A", 100)], [sell(2, "A", time_in_force=TimeInForce.GTC)])
    sale = only(books.events, OrderAccepted)[-1]
    assert (sale.order_id, sale.quantity, sale.reserved) == (2, 5, 500)
    for ts in (3, 4, 5):
        eng.step(ts, [bar(ts, "A", 100, volume=4)])
    sells = [f for f in only(books.events, OrderFilled) if f.order_id == 2]
    assert [f.quantity for f in sells] == [2, 2, 1]
    assert [f.cash_delta for f in sells] == [-498, 2, 1]
    assert [f.released for f in sells] == [498, 0, 2]
    final = eng.snapshot()
    assert (final.cash, final.reserved) == (CASH - 505 - 495, 0)


def test_day_order_partially_filled_expires_releasing_the_rest() -> None:
    """A DAY BUY 5 that fills 2 on its first bar expires there, releasing the 300.31 it held."""
    eng, books = engine(max_participation=HALF)
    eng.step(1, [bar(1, "A", ODD)], [buy(1, "A", 5)])
    eng.step(2, [bar(2, "A", ODD, volume=4)])
    (fill,) = only(books.events, OrderFilled)
    (expired,) = only(books.events, OrderExpired)
    assert (fill.quantity, fill.released) == (2, 20_022)
    assert (expired.order_id, expired.released) == (1, 30_031)
    assert books.events.index(fill) < books.events.index(expired)
    final = eng.snapshot()
    assert (final.cash, final.reserved, final.position("A")) == (CASH - 20_022, 0, 2)
    order = final.order(1)
    assert order is not None
    assert (order.state, order.filled, order.reserved) == (OrderState.EXPIRED, 2, 0)


def test_day_order_expires_only_after_its_first_fill_chance() -> None:
    """A DAY BUY lives through steps without a bar for its symbol; it expires after the next one."""
    costs = Costs(Fraction(1, 1000), max_slippage=5_000)
    eng, books = engine(costs=costs)
    eng.step(1, [bar(1, "A", PRICE), bar(1, "B", PRICE)], [buy(1, "A", 3)])
    # limit 100.50: 3 x 100.50 = 301.50 + 0.31 (0.3015 up)
    assert only(books.events, OrderAccepted)[0].reserved == 30_181
    eng.step(2, [bar(2, "B", PRICE)])
    assert not only(books.events, OrderExpired)
    assert eng.snapshot().order(1).state is OrderState.ACCEPTED  # type: ignore[union-attr]
    # gap up: 101.00 + 50 bps = 101.505 > the 100.50 limit, so no fill, then expiry
    eng.step(3, [bar(3, "A", 1_010_000)])
    assert not only(books.events, OrderFilled)
    (expired,) = only(books.events, OrderExpired)
    assert (expired.timestamp, expired.released) == (3, 30_181)
    assert (eng.snapshot().cash, eng.snapshot().reserved) == (CASH, 0)


def test_cancel_in_a_later_step_releases_what_the_order_still_holds() -> None:
    """A GTC BUY 5 filled 2 then cancelled in the same later step releases its remaining 300.31."""
    eng, books = engine(max_participation=HALF)
    eng.step(1, [bar(1, "A", ODD)], [buy(1, "A", 5, time_in_force=TimeInForce.GTC)])
    eng.step(2, [bar(2, "A", ODD, volume=4)], cancels=[Cancel(2, 1)])
    (cancelled,) = only(books.events, OrderCancelled)
    assert (cancelled.order_id, cancelled.cancel_index, cancelled.released) == (1, 0, 30_031)
    final = eng.snapshot()
    assert (final.cash, final.reserved, final.position("A")) == (CASH - 20_022, 0, 2)
    assert final.order(1).state is OrderState.CANCELLED  # type: ignore[union-attr]
    # a cancelled order never fills again
    eng.step(3, [bar(3, "A", ODD, volume=4)])
    assert len(only(books.events, OrderFilled)) == 1


def test_cancel_of_an_unfilled_order_releases_everything() -> None:
    """A GTC order cancelled before any bar of its symbol releases its whole reservation."""
    eng, books = engine()
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "A", 3, time_in_force=TimeInForce.GTC)])
    eng.step(2, cancels=[Cancel(2, 1)])
    (cancelled,) = only(books.events, OrderCancelled)
    assert cancelled.released == 30_030
    assert (eng.snapshot().cash, eng.snapshot().reserved) == (CASH, 0)


def test_rejection_holds_nothing() -> None:
    """BUY 100 at 100.00 with 1000.00 under the reject policy is rejected and reserves nothing."""
    eng, books = engine(policy=Policy.REJECT)
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "A", 100)])
    (rejected,) = only(books.events, OrderRejected)
    assert (rejected.order_id, rejected.requested, rejected.reason) == (
        1,
        100,
        Reason.INSUFFICIENT_CASH,
    )
    snap = eng.snapshot()
    order = snap.order(1)
    assert order is not None
    assert (order.state, order.reserved, order.reserved_initial) == (OrderState.REJECTED, 0, 0)
    assert (snap.cash, snap.reserved) == (CASH, 0)
    eng.step(2, [bar(2, "A", PRICE)])
    assert not only(books.events, OrderFilled)


def test_shrink_cuts_to_what_available_cash_reserves() -> None:
    """Under shrink, BUY 100 at 100.00 with 1000.00 becomes 9 shares reserving 900.90
    (10 would need 1001.00)."""
    eng, books = engine()
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "A", 100)])
    (accepted,) = only(books.events, OrderAccepted)
    assert (accepted.quantity, accepted.requested, accepted.reserved) == (9, 100, 90_090)
    assert accepted.reason is Reason.INSUFFICIENT_CASH


def test_cancel_of_unknown_or_terminal_orders_is_ignored() -> None:
    """Cancels of an unknown id, a filled, a rejected and an already cancelled order
    each log CancelIgnored with the reason and state, and move no money."""
    eng, books = engine(policy=Policy.REJECT)
    eng.step(
        1,
        [bar(1, "A", PRICE)],
        [buy(1, "A", 1), buy(1, "A", 1_000), buy(1, "A", 1, time_in_force=TimeInForce.GTC)],
    )
    eng.step(2, cancels=[Cancel(2, 3)])
    eng.step(3, [bar(3, "A", PRICE)])
    before = eng.snapshot()
    eng.step(4, cancels=[Cancel(4, 99), Cancel(4, 1), Cancel(4, 2), Cancel(4, 3)])
    ignored = only(books.events, CancelIgnored)
    assert [(c.order_id, c.cancel_index, c.reason, c.state) for c in ignored] == [
        (99, 1, Reason.UNKNOWN_ORDER, None),
        (1, 2, Reason.ALREADY_TERMINAL, OrderState.FILLED),
        (2, 3, Reason.ALREADY_TERMINAL, OrderState.REJECTED),
        (3, 4, Reason.ALREADY_TERMINAL, OrderState.CANCELLED),
    ]
    assert eng.snapshot() == before
