"""engine.py: order keying, SELL and BUY sizing rules, price protection, fill timing,
input rejection and determinism.

Engines run under ``unit_kit.Books`` (reservation and cash identities after every
event). Default: 1000.00 cash, 0.1% commission, no slippage, price 100.00.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from unit_kit import CASH, PRICE, Books, bar, buy, engine, only, sell

from cashfuzz.invariants import event_log_bytes
from cashfuzz.reference_engine import (
    Bar,
    Cancel,
    Costs,
    Engine,
    FillAt,
    FixedShares,
    InputError,
    Mode,
    OrderAccepted,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderState,
    PercentEquity,
    Policy,
    Reason,
    Side,
    Signal,
    TimeInForce,
    run_scenario,
    scenario_from_dict,
)

#: 99.00: the next open in most tests, so a fill visibly differs from the reference.
LOWER = 990_000


def holding(**overrides: Any) -> tuple[Engine, Books]:
    """An engine that bought 3 A at 99.00 for 297.30 (by default cash 1000.00 - 297.30 =
    702.70) and marks A at 100.00."""
    eng, books = engine(**overrides)
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "A", 3)])
    eng.step(2, [bar(2, "A", LOWER, PRICE)])
    snap = eng.snapshot()
    initial = overrides.get("initial_cash", CASH)
    assert (snap.cash, snap.position("A"), snap.reserved) == (initial - 29_730, 3, 0)
    return eng, books


# --- the keying trap ------------------------------------------------------------------


def test_identical_buy_signals_become_two_orders_with_separate_reservations() -> None:
    """Two BUY 3 A signals with the same timestamp are orders 1 and 2, each reserving
    300.30; each fill (297.30 at 99.00) releases its own 300.30 and nothing leaks."""
    eng, books = engine()
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "A", 3), buy(1, "A", 3)])
    accepted = only(books.events, OrderAccepted)
    assert [(a.order_id, a.quantity, a.reserved) for a in accepted] == [
        (1, 3, 30_030),
        (2, 3, 30_030),
    ]
    assert eng.snapshot().reserved == 60_060
    eng.step(2, [bar(2, "A", LOWER)])
    fills = only(books.events, OrderFilled)
    assert [(f.order_id, f.cash_delta, f.released) for f in fills] == [
        (1, -29_730, 30_030),
        (2, -29_730, 30_030),
    ]
    final = eng.snapshot()
    assert (final.cash, final.reserved, final.position("A")) == (CASH - 59_460, 0, 6)


def test_identical_orders_filled_in_parts_release_each_their_own_reservation() -> None:
    """Two identical GTC BUY 3 at 100.0030, capped at 2 shares a bar each, release
    200.22 then 100.10 each (300.32 = 300.009 up + 0.31), leaving nothing reserved."""
    odd = 1_000_030
    eng, books = engine(max_participation=Fraction(1, 2))
    signal = buy(1, "A", 3, time_in_force=TimeInForce.GTC)
    eng.step(1, [bar(1, "A", odd)], [signal, signal])
    assert [a.reserved for a in only(books.events, OrderAccepted)] == [30_032, 30_032]
    eng.step(2, [bar(2, "A", odd, volume=4)])
    assert eng.snapshot().reserved == 2 * (30_032 - 20_022)
    eng.step(3, [bar(3, "A", odd, volume=4)])
    fills = only(books.events, OrderFilled)
    assert [(f.order_id, f.quantity, f.released) for f in fills] == [
        (1, 2, 20_022),
        (2, 2, 20_022),
        (1, 1, 10_010),
        (2, 1, 10_010),
    ]
    final = eng.snapshot()
    assert (final.cash, final.reserved) == (CASH - 2 * 30_032, 0)


# --- SELL rules ---------------------------------------------------------------------------


def test_sell_while_a_buy_is_pending_sells_only_what_is_held() -> None:
    """With 3 held and BUY 2 pending, a SELL without quantity sells 3, not 5."""
    eng, books = holding()
    eng.step(3, [bar(3, "A", PRICE)], [buy(3, "A", 2), sell(3, "A")])
    buy_order, sell_order = only(books.events, OrderAccepted)[-2:]
    assert (buy_order.side, buy_order.quantity, buy_order.reserved) == (Side.BUY, 2, 20_020)
    assert (sell_order.side, sell_order.quantity, sell_order.requested) == (Side.SELL, 3, 3)
    assert sell_order.reserved == 1
    eng.step(4, [bar(4, "A", PRICE)])
    assert eng.snapshot().position("A") == 2


@pytest.mark.parametrize(
    ("policy", "outcome"),
    [(Policy.SHRINK, (3, Reason.EXCEEDS_POSITION)), (Policy.REJECT, None)],
)
def test_oversized_sell_is_shrunk_or_rejected_by_policy(
    policy: Policy, outcome: tuple[int, Reason] | None
) -> None:
    """SELL 5 with 3 held and BUY 2 pending shrinks to 3 (shrink) or is rejected (reject)."""
    eng, books = holding(policy=policy)
    eng.step(3, [bar(3, "A", PRICE)], [buy(3, "A", 2), sell(3, "A", 5)])
    if outcome is None:
        (rejected,) = only(books.events, OrderRejected)
        assert (rejected.order_id, rejected.side, rejected.requested) == (3, Side.SELL, 5)
        assert rejected.reason is Reason.EXCEEDS_POSITION
    else:
        accepted = only(books.events, OrderAccepted)[-1]
        assert (accepted.order_id, accepted.requested) == (3, 5)
        assert (accepted.quantity, accepted.reason) == outcome


def test_two_sells_in_one_bar_cannot_oversell_under_shrink() -> None:
    """With 3 held, SELL 2, SELL 2 and SELL (all) become 2, 1 and a NOTHING_TO_SELL rejection."""
    eng, books = holding()
    eng.step(3, [bar(3, "A", PRICE)], [sell(3, "A", 2), sell(3, "A", 2), sell(3, "A")])
    first, second = only(books.events, OrderAccepted)[-2:]
    assert (first.quantity, first.reason) == (2, None)
    assert (second.quantity, second.requested, second.reason) == (1, 2, Reason.EXCEEDS_POSITION)
    (rejected,) = only(books.events, OrderRejected)
    assert (rejected.order_id, rejected.requested, rejected.reason) == (
        4,
        0,
        Reason.NOTHING_TO_SELL,
    )
    eng.step(4, [bar(4, "A", PRICE)])
    assert eng.snapshot().position("A") == 0


def test_two_sells_in_one_bar_cannot_oversell_under_reject() -> None:
    """With 3 held, SELL 2 is accepted, SELL 2 rejected, and SELL (all) takes the last 1."""
    eng, books = holding(policy=Policy.REJECT)
    eng.step(3, [bar(3, "A", PRICE)], [sell(3, "A", 2), sell(3, "A", 2), sell(3, "A")])
    (rejected,) = only(books.events, OrderRejected)
    assert (rejected.order_id, rejected.reason) == (3, Reason.EXCEEDS_POSITION)
    closing = only(books.events, OrderAccepted)[-1]
    assert (closing.order_id, closing.quantity) == (4, 1)
    eng.step(4, [bar(4, "A", PRICE)])
    assert eng.snapshot().position("A") == 0


def test_sell_that_cannot_cover_its_minimum_fee_is_rejected() -> None:
    """With a 5.00 minimum and all 105.00 spent on one share, a SELL cannot reserve its 5.00 fee."""
    costs = Costs(Fraction(1, 1000), commission_min=500)
    eng, books = engine(initial_cash=10_500, costs=costs)
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "A", 1)])
    eng.step(2, [bar(2, "A", PRICE)], [sell(2, "A")])
    assert eng.snapshot().cash == 0
    (rejected,) = only(books.events, OrderRejected)
    assert (rejected.side, rejected.reason) == (Side.SELL, Reason.CANNOT_COVER_FEE)


# --- BUY sizing ---------------------------------------------------------------------------


def test_buy_with_little_cash_shrinks_and_stays_a_buy() -> None:
    """BUY 3 at 100.00 with 200.00 becomes BUY 1 (2 shares need 200.20)."""
    eng, books = engine(initial_cash=20_000)
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "A", 3)])
    (accepted,) = only(books.events, OrderAccepted)
    assert (accepted.side, accepted.quantity, accepted.requested) == (Side.BUY, 1, 3)
    assert (accepted.reason, accepted.reserved) == (Reason.INSUFFICIENT_CASH, 10_010)


@pytest.mark.parametrize("policy", list(Policy))
def test_buy_without_cash_is_rejected_never_a_sell(policy: Policy) -> None:
    """With 3 held and only 5.70 available (one share needs 100.10), a BUY is rejected
    INSUFFICIENT_CASH under either policy, and nothing is sold."""
    eng, books = holding(initial_cash=29_730 + 570, policy=policy)
    eng.step(3, [bar(3, "A", PRICE)], [buy(3, "A", 3)])
    (rejected,) = only(books.events, OrderRejected)
    assert (rejected.side, rejected.reason) == (Side.BUY, Reason.INSUFFICIENT_CASH)
    eng.step(4, [bar(4, "A", PRICE)])
    assert all(o.side is Side.BUY for o in eng.snapshot().orders)
    assert eng.snapshot().position("A") == 3


def test_sizer_target_below_the_position_rejects_instead_of_selling() -> None:
    """A fixed_shares(2) BUY with 3 held is rejected TARGET_REACHED; it never becomes a SELL."""
    eng, books = holding(sizer=FixedShares(2))
    eng.step(3, [bar(3, "A", PRICE)], [buy(3, "A")])
    (rejected,) = only(books.events, OrderRejected)
    assert (rejected.side, rejected.requested, rejected.reason) == (
        Side.BUY,
        0,
        Reason.TARGET_REACHED,
    )
    assert "target 2" in rejected.detail
    eng.step(4, [bar(4, "A", PRICE)])
    assert eng.snapshot().position("A") == 3


def test_buy_target_already_reached_is_rejected() -> None:
    """A fixed_shares(3) BUY with exactly 3 held is rejected TARGET_REACHED."""
    eng, books = holding(sizer=FixedShares(3))
    eng.step(3, [bar(3, "A", PRICE)], [buy(3, "A")])
    (rejected,) = only(books.events, OrderRejected)
    assert rejected.reason is Reason.TARGET_REACHED


def test_sizer_buys_the_difference_between_target_and_position() -> None:
    """Half of equity 702.70 + 3 x 100.00 = 1002.70 targets 5 shares; with 3 held the order is 2."""
    eng, books = holding(sizer=PercentEquity(Fraction(1, 2)))
    eng.step(3, [bar(3, "A", PRICE)], [buy(3, "A")])
    accepted = only(books.events, OrderAccepted)[-1]
    assert (accepted.quantity, accepted.requested) == (2, 2)


def test_two_long_signals_in_one_bar_do_not_double_the_position() -> None:
    """Of two sized BUYs in one bar the first orders 3; the second sees 3 pending, is rejected."""
    eng, books = engine(sizer=FixedShares(3))
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "A"), buy(1, "A")])
    (accepted,) = only(books.events, OrderAccepted)
    (rejected,) = only(books.events, OrderRejected)
    assert (accepted.order_id, accepted.quantity) == (1, 3)
    assert (rejected.order_id, rejected.reason) == (2, Reason.TARGET_REACHED)
    eng.step(2, [bar(2, "A", PRICE)])
    assert eng.snapshot().position("A") == 3


def test_naive_mode_doubles_the_position_as_the_seed_did() -> None:
    """In naive mode the same two sized BUYs both order 3, so the position doubles to 6."""
    eng, books = engine(sizer=FixedShares(3), mode=Mode.NAIVE)
    assert not eng.reserves_cash
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "A"), buy(1, "A")])
    assert [a.quantity for a in only(books.events, OrderAccepted)] == [3, 3]
    assert eng.snapshot().reserved == 0
    eng.step(2, [bar(2, "A", PRICE)])
    assert eng.snapshot().position("A") == 6


def test_buy_without_a_price_is_rejected() -> None:
    """A BUY for a symbol with no bar yet is rejected NO_PRICE."""
    eng, books = engine()
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "B", 1)])
    (rejected,) = only(books.events, OrderRejected)
    assert rejected.reason is Reason.NO_PRICE


# --- price protection and fill timing -------------------------------------------------------

#: 50 bps fixed slippage: the limit for a 100.00 reference is 100.50.
SLIPPY = Costs(Fraction(1, 1000), max_slippage=5_000)


def test_gtc_buy_waits_out_a_gap_above_its_limit_then_fills_at_the_limit() -> None:
    """A GTC BUY 3 (limit 100.50, reserving 301.81) skips an open of 101.00 (101.505 with
    slippage) and fills at the next open 100.00 + 50 bps = 100.50, paying 301.50 + 0.31."""
    eng, books = engine(costs=SLIPPY)
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "A", 3, time_in_force=TimeInForce.GTC)])
    (accepted,) = only(books.events, OrderAccepted)
    assert (accepted.limit_price, accepted.reserved) == (1_005_000, 30_181)
    eng.step(2, [bar(2, "A", 1_010_000)])
    assert not only(books.events, OrderFilled)
    assert not only(books.events, OrderExpired)
    assert eng.snapshot().order(1).state is OrderState.ACCEPTED  # type: ignore[union-attr]
    assert eng.snapshot().reserved == 30_181
    eng.step(3, [bar(3, "A", PRICE)])
    (fill,) = only(books.events, OrderFilled)
    assert (fill.price, fill.cash_delta, fill.released) == (1_005_000, -30_181, 30_181)


def test_day_buy_gapped_above_its_limit_expires_unfilled() -> None:
    """A DAY BUY whose next open gaps above its limit does not fill and expires, releasing all."""
    eng, books = engine(costs=SLIPPY)
    eng.step(1, [bar(1, "A", PRICE)], [buy(1, "A", 3)])
    eng.step(2, [bar(2, "A", 1_010_000)])
    assert not only(books.events, OrderFilled)
    (expired,) = only(books.events, OrderExpired)
    assert expired.released == 30_181
    assert (eng.snapshot().cash, eng.snapshot().reserved) == (CASH, 0)


def test_next_open_fills_on_the_next_bar_before_it_marks() -> None:
    """With next_open, a BUY placed on bar 1 fills at bar 2's open (99.00), before bar 2's mark."""
    eng, books = engine(fill_at=FillAt.NEXT_OPEN)
    eng.step(1, [bar(1, "A", LOWER, PRICE)], [buy(1, "A", 3)])
    assert not only(books.events, OrderFilled)
    size = len(books.events)
    eng.step(2, [bar(2, "A", LOWER, PRICE)])
    step_two = [type(e).__name__ for e in books.events[size:]]
    assert step_two == ["OrderFilled", "MarketUpdated"]
    (fill,) = only(books.events, OrderFilled)
    assert (fill.timestamp, fill.price, fill.cash_delta) == (2, LOWER, -29_730)


def test_same_close_fills_on_the_same_bar_at_its_close() -> None:
    """With same_close, a BUY placed on bar 1 fills at its close (100.00) right after acceptance."""
    eng, books = engine(fill_at=FillAt.SAME_CLOSE)
    eng.step(1, [bar(1, "A", LOWER, PRICE)], [buy(1, "A", 3)])
    assert [type(e).__name__ for e in books.events] == [
        "MarketUpdated",
        "OrderAccepted",
        "OrderFilled",
    ]
    (fill,) = only(books.events, OrderFilled)
    assert (fill.timestamp, fill.price, fill.cash_delta, fill.released) == (
        1,
        PRICE,
        -30_030,
        30_030,
    )


def test_orders_on_a_symbol_with_a_gap_wait_for_its_next_bar() -> None:
    """A BUY for A waits through a step with only B's bar, then fills at A's next open."""
    eng, books = engine()
    eng.step(1, [bar(1, "A", PRICE), bar(1, "B", PRICE)], [buy(1, "A", 3), buy(1, "B", 1)])
    eng.step(2, [bar(2, "B", PRICE)])
    assert [f.symbol for f in only(books.events, OrderFilled)] == ["B"]
    assert eng.snapshot().order(1).state is OrderState.ACCEPTED  # type: ignore[union-attr]
    eng.step(3, [bar(3, "A", LOWER)])
    fill = only(books.events, OrderFilled)[-1]
    assert (fill.order_id, fill.timestamp, fill.price) == (1, 3, LOWER)


# --- input rejection ----------------------------------------------------------------------


def _bad_bar(**fields: Any) -> Bar:
    values: dict[str, Any] = {
        "timestamp": 2,
        "symbol": "A",
        "open": PRICE,
        "high": PRICE,
        "low": PRICE,
        "close": PRICE,
        "volume": 10,
    }
    values.update(fields)
    return Bar(**values)


_GOOD_BAR = bar(2, "A", LOWER)
_BAD_STEPS: list[tuple[dict[str, Any], tuple[str, ...]]] = [
    ({"bars": [_bad_bar(high=LOWER, low=PRICE)]}, ("bars[0]", "high=990000", "low=1000000")),
    ({"bars": [_bad_bar(low=0, open=0, close=0)]}, ("bars[0]", "low=0")),
    ({"bars": [_bad_bar(open=1_020_000)]}, ("bars[0]", "open=1020000", "low..high")),
    ({"bars": [_bad_bar(close=LOWER)]}, ("bars[0]", "close=990000")),
    ({"bars": [_bad_bar(volume=-1)]}, ("bars[0]", "volume=-1")),
    ({"bars": [_bad_bar(open=99.5)]}, ("bars[0]", "open=99.5", "integer")),
    ({"bars": [_GOOD_BAR, _bad_bar(symbol="A")]}, ("bars[1]", "symbol='A'")),
    ({"bars": [_GOOD_BAR], "signals": [buy(2, "A", 0)]}, ("signals[0].quantity=0",)),
    ({"signals": [buy(2, "A", 1), sell(2, "A", -3)]}, ("signals[1].quantity=-3",)),
    ({"signals": [buy(2, "A", 2.5)]}, ("signals[0].quantity=2.5",)),  # type: ignore[arg-type]
    ({"signals": [buy(2, "A", True)]}, ("signals[0].quantity=True",)),
    ({"signals": [buy(2, "A", strength=Fraction(3, 2))]}, ("signals[0].strength=3/2", "0..1")),
    ({"signals": [buy(2, "A", strength=float("nan"))]}, ("signals[0].strength=nan",)),
    ({"signals": [Signal(2, "A", "BUY", 1)]}, ("signals[0].side='BUY'",)),  # type: ignore[arg-type]
    (
        {"signals": [Signal(2, "A", Side.BUY, 1, time_in_force="GTC")]},  # type: ignore[arg-type]
        ("signals[0].time_in_force='GTC'",),
    ),
    ({"cancels": [Cancel(2, 1), Cancel(2, 0)]}, ("cancels[1].order_id=0",)),
    ({"cancels": [Cancel(2, -1)]}, ("cancels[0].order_id=-1",)),
]


@pytest.mark.parametrize(("step", "words"), _BAD_STEPS)
def test_bad_input_raises_input_error_and_changes_nothing(
    step: dict[str, Any], words: tuple[str, ...]
) -> None:
    """A bad bar, signal or cancel raises InputError naming the field and value, and the
    engine's log, books and later behaviour are as if the step was never tried."""
    costs = Costs(Fraction(1, 1000), max_slippage=3_000, random_slippage=True)
    eng, _ = engine(costs=costs)
    twin, _ = engine(costs=costs)
    first = ([bar(1, "A", PRICE)], [buy(1, "A", 3, time_in_force=TimeInForce.GTC)])
    eng.step(1, *first)
    twin.step(1, *first)
    events, snapshot = list(eng.events), eng.snapshot()

    with pytest.raises(InputError) as caught:
        eng.step(2, **step)
    for word in words:
        assert word in str(caught.value)
    assert eng.events == events
    assert eng.snapshot() == snapshot

    after = ([bar(2, "A", LOWER)], [sell(2, "A"), buy(2, "A", 1)], [Cancel(2, 3)])
    eng.step(2, *after)
    twin.step(2, *after)
    assert event_log_bytes(eng.events) == event_log_bytes(twin.events)


# --- determinism ----------------------------------------------------------------------------


def _random_slippage_scenario(seed: int) -> dict[str, Any]:
    bars = [
        {
            "timestamp": t,
            "symbol": symbol,
            "open": f"100.{t}0",
            "high": "101.00",
            "low": "99.00",
            "close": f"100.{50 + t}",
            "volume": 7,
        }
        for t in range(1, 7)
        for symbol in ("AAA", "BBB")
    ]
    signals = [
        {"timestamp": 1, "symbol": "AAA", "side": "BUY", "strength": "0.7"},
        {"timestamp": 1, "symbol": "BBB", "side": "BUY", "quantity": 9, "time_in_force": "GTC"},
        {"timestamp": 2, "symbol": "AAA", "side": "BUY", "strength": "0.9"},
        {"timestamp": 3, "symbol": "AAA", "side": "SELL", "quantity": 2},
        {"timestamp": 4, "symbol": "BBB", "side": "SELL"},
        {"timestamp": 5, "symbol": "AAA", "side": "SELL", "time_in_force": "GTC"},
    ]
    return {
        "initial_cash": "5000.00",
        "seed": seed,
        "max_participation": "0.5",
        "costs": {"commission_rate": "0.002", "commission_min": "0.35", "max_slippage_bps": "40"},
        "sizer": {"kind": "kelly", "fraction": "0.5"},
        "bars": bars,
        "signals": signals,
        "cancels": [{"timestamp": 3, "order_id": 2}],
    }


def test_same_scenario_and_seed_give_byte_identical_event_logs() -> None:
    """A scenario with random slippage run twice gives the same event log, byte for byte,
    and a different seed gives a different one."""
    scenario = scenario_from_dict(_random_slippage_scenario(seed=11))
    first = event_log_bytes(run_scenario(scenario).events)
    second = event_log_bytes(run_scenario(scenario_from_dict(_random_slippage_scenario(11))).events)
    assert first == second
    fills = only(list(run_scenario(scenario).events), OrderFilled)
    assert len(fills) >= 4
    assert len({f.price for f in fills}) >= 3
    other = event_log_bytes(run_scenario(scenario_from_dict(_random_slippage_scenario(12))).events)
    assert other != first
