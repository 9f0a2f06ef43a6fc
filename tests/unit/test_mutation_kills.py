"""Tests that kill the mutants mutmut found surviving in ledger, costs, sizers and engine.

The core is ``Shadow``: an observer that recomputes the books from the event log
(average cost, realized P&L, per-order notional, commissions priced on the
cumulative notional, pending quantities, marks, timestamps) and compares them
with the ledger after every event. The rest pins boundaries one at a time.
See MUTATION.md for the run and the mutants argued equivalent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from unit_kit import COSTS, PRICE, bar, buy, sell

from cashfuzz.reference_engine import (
    Bar,
    Cancel,
    CancelIgnored,
    Costs,
    Engine,
    EngineConfig,
    Event,
    FillAt,
    FillRefused,
    FixedShares,
    InputError,
    Kelly,
    LedgerSnapshot,
    MarketUpdated,
    Mode,
    OrderAccepted,
    OrderCancelled,
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
    Timestamp,
    run_scenario,
)
from cashfuzz.reference_engine.engine import _plainly_valid
from cashfuzz.reference_engine.ledger import Ledger, OrderView, PositionView
from cashfuzz.reference_engine.money import fee_cents
from cashfuzz.strategies import scenarios

GTC = TimeInForce.GTC


@dataclass
class _OrderBooks:
    side: Side
    symbol: str
    quantity: int
    filled: int = 0
    notional: int = 0
    cash_flow: int = 0
    released: int = 0
    commission: int = 0
    open: bool = True


@dataclass
class Shadow:
    """An observer that keeps its own books from the event log and asserts, after
    every event, that the engine's ledger and the event itself agree with them."""

    engine: Engine | None = None
    timestamp: Timestamp = 0
    bars: Sequence[Bar] = ()
    signals: list[Signal] = field(default_factory=list)
    orders: dict[int, _OrderBooks] = field(default_factory=dict)
    positions: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    closes: dict[str, int] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event, after: LedgerSnapshot) -> None:
        assert self.engine is not None
        self.events.append(event)
        assert event.timestamp == self.timestamp, event
        if isinstance(event, MarketUpdated):
            assert event.marks == tuple((b.symbol, b.close) for b in self.bars)
            self.closes.update(event.marks)
        elif isinstance(event, OrderAccepted):
            self._accepted(event, after)
        elif isinstance(event, OrderRejected):
            self._rejected(event, after)
        elif isinstance(event, OrderFilled):
            self._filled(event, after)
        elif isinstance(event, OrderCancelled | OrderExpired):
            self.orders[event.order_id].open = False
        elif isinstance(event, FillRefused):
            books = self.orders[event.order_id]
            assert (event.symbol, event.side) == (books.symbol, books.side)
            assert event.cash == after.cash
            books.open = False
        self._compare(after)

    def _signal(self, order_id: int) -> Signal:
        return self.signals[order_id - 1]

    def _accepted(self, event: OrderAccepted, after: LedgerSnapshot) -> None:
        signal = self._signal(event.order_id)
        costs = self.engine.config.costs  # type: ignore[union-attr]
        reserving = self.engine.config.mode is Mode.RESERVATION  # type: ignore[union-attr]
        mark = self.closes[signal.symbol]
        assert (event.symbol, event.side, event.time_in_force) == (
            signal.symbol,
            signal.side,
            signal.time_in_force,
        )
        assert event.reference_price == mark
        if signal.side is Side.BUY:
            assert event.limit_price == costs.limit_price(mark)
            expected = costs.buy_total(event.quantity * event.limit_price) if reserving else 0
        else:
            assert event.limit_price == 0
            expected = costs.sell_reserve() if reserving else 0
        assert event.reserved == expected
        if event.reason is None:
            assert event.quantity == event.requested
        view = after.order(event.order_id)
        assert view is not None
        assert (view.symbol, view.time_in_force, view.limit_price) == (
            signal.symbol,
            signal.time_in_force,
            event.limit_price,
        )
        self.orders[event.order_id] = _OrderBooks(signal.side, signal.symbol, event.quantity)

    def _rejected(self, event: OrderRejected, after: LedgerSnapshot) -> None:
        signal = self._signal(event.order_id)
        view = after.order(event.order_id)
        assert view is not None
        assert (view.symbol, view.side, view.time_in_force) == (
            signal.symbol,
            signal.side,
            signal.time_in_force,
        )
        assert (view.quantity, view.limit_price, view.reserved) == (event.requested, 0, 0)
        assert event.detail

    def _filled(self, event: OrderFilled, after: LedgerSnapshot) -> None:
        costs = self.engine.config.costs  # type: ignore[union-attr]
        books = self.orders[event.order_id]
        assert event.quantity > 0
        books.filled += event.quantity
        books.notional += event.quantity * event.price
        books.cash_flow += event.cash_delta
        books.released += event.released
        books.commission += event.commission
        if books.filled == books.quantity:
            books.open = False
        # the order is priced on its cumulative notional, whatever the split
        fee = fee_cents(books.notional, costs.commission_rate, costs.commission_min)
        assert books.commission == fee
        if books.side is Side.BUY:
            assert books.cash_flow == -costs.buy_total(books.notional)
        else:
            assert books.cash_flow == costs.sell_net(books.notional)
        assert (event.filled_total, event.remaining) == (
            books.filled,
            books.quantity - books.filled,
        )
        held, cost, pnl = self.positions.get(books.symbol, (0, 0, 0))
        notional = event.quantity * event.price
        if books.side is Side.BUY:
            held, cost = held + event.quantity, cost + notional
        else:
            removed = cost if event.quantity >= held else cost * event.quantity // held
            held, cost, pnl = held - event.quantity, cost - removed, pnl + notional - removed
        self.positions[books.symbol] = (held, cost, pnl)

    def _compare(self, after: LedgerSnapshot) -> None:
        ledger = self.engine.ledger  # type: ignore[union-attr]
        for order_id, books in self.orders.items():
            record = ledger.orders[order_id]
            view = after.order(order_id)
            assert view is not None
            assert (record.filled, record.notional) == (books.filled, books.notional)
            assert (view.filled, view.cash_flow, view.released) == (
                books.filled,
                books.cash_flow,
                books.released,
            )
            assert view.is_open == books.open, (order_id, view.state)
        for symbol in sorted({b.symbol for b in self.orders.values()} | set(self.closes)):
            for side, pending in (
                (Side.BUY, ledger.pending_buys),
                (Side.SELL, ledger.pending_sells),
            ):
                expected = sum(
                    b.quantity - b.filled
                    for b in self.orders.values()
                    if b.open and b.side is side and b.symbol == symbol
                )
                assert pending(symbol) == expected, (symbol, side)
        for symbol, close in self.closes.items():
            assert ledger.mark(symbol) == close
        assert dict(after.marks) == self.closes
        got = {p.symbol: (p.quantity, p.cost, p.realized_pnl) for p in after.positions}
        assert got == {s: v for s, v in self.positions.items() if s in got}
        assert all(v == (0, 0, 0) for s, v in self.positions.items() if s not in got)


Step = tuple[Timestamp, Sequence[Bar], Sequence[Signal], Sequence[Cancel]]


def drive(config: EngineConfig, steps: Sequence[Step]) -> tuple[Engine, Shadow]:
    """Run ``steps`` on a reference engine watched by a Shadow."""
    shadow = Shadow()
    engine = Engine(config, shadow)
    shadow.engine = engine
    for timestamp, bars, signals, cancels in steps:
        shadow.timestamp, shadow.bars = timestamp, bars
        shadow.signals.extend(signals)
        engine.step(timestamp, bars, signals, cancels)
    return engine, shadow


def of(events: Sequence[Event], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


# --- whole runs against the shadow books ------------------------------------------------

#: 0.1% commission with a 1.50 minimum and 25 bp of slippage.
SLIPPY = Costs(commission_rate=Fraction(1, 1000), commission_min=150, max_slippage=2_500)


def partial_fills(mode: Mode, costs: Costs = SLIPPY) -> list[Step]:
    """Buys and sells filled in parts at changing prices, cancels and an expiry."""
    moves = [0, -7_777, -1_234, -3_331, 555, -2_000, 999]
    cap = [bar(t, "A", PRICE + moves[t - 1], volume=10) for t in range(1, 8)]
    return [
        (1, [cap[0]], [buy(1, "A", 12, time_in_force=GTC), buy(1, "A", 7)], []),
        (2, [cap[1]], [], [Cancel(2, 99)]),
        (3, [cap[2]], [sell(3, "A", 7, time_in_force=GTC)], []),
        (4, [cap[3]], [sell(4, "A", time_in_force=GTC), buy(4, "A", 3, time_in_force=GTC)], []),
        (5, [cap[4]], [], [Cancel(5, 4), Cancel(5, 5), Cancel(5, 1)]),
        (6, [cap[5]], [sell(6, "A")], []),
        (7, [cap[6]], [], []),
    ]


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("costs", [SLIPPY, COSTS])
def test_partial_fills_keep_average_cost_pnl_and_pending_books_exact(
    mode: Mode, costs: Costs
) -> None:
    """Partial buys and sells, cancels and expiries leave every book as the shadow model says."""
    config = EngineConfig(
        initial_cash=1_000_000, mode=mode, costs=costs, max_participation=Fraction(1, 2)
    )
    engine, shadow = drive(config, partial_fills(mode, costs))
    fills = of(shadow.events, OrderFilled)
    assert len(fills) >= 6
    assert any(f.side is Side.SELL and f.remaining for f in fills)
    position = next(p for p in engine.snapshot().positions if p.symbol == "A")
    assert position.realized_pnl != 0
    assert of(shadow.events, OrderCancelled)
    assert of(shadow.events, OrderExpired)


def test_random_slippage_and_same_close_fills_match_the_shadow() -> None:
    """Seeded slippage on buys and sells at the close keeps the books exact."""
    costs = Costs(commission_rate=Fraction(1, 500), max_slippage=4_000, random_slippage=True)
    config = EngineConfig(initial_cash=500_000, costs=costs, fill_at=FillAt.SAME_CLOSE, seed=7)
    steps: list[Step] = [
        (t, [bar(t, "A", PRICE, PRICE + 10_000 * t), bar(t, "B", PRICE // 3)], sigs, [])
        for t, sigs in enumerate(
            [
                [buy(0, "A", 5), buy(0, "B", 40)],
                [sell(1, "A", 2), buy(1, "B", 1)],
                [sell(2, "B", 13), sell(2, "A")],
                [sell(3, "B")],
            ]
        )
    ]
    engine, shadow = drive(config, steps)
    fills = of(shadow.events, OrderFilled)
    assert {f.price for f in fills if f.side is Side.SELL} != {PRICE // 3}
    assert engine.snapshot().position("A") == 0


def test_naive_race_is_refused_with_the_shadow_books_intact() -> None:
    """In naive mode the unpaid third fill is refused and logged at its step."""
    config = EngineConfig(initial_cash=129_729, mode=Mode.NAIVE, costs=COSTS)
    steps: list[Step] = [
        (
            1,
            [bar(1, "G", 999_800), bar(1, "P", 999_800)],
            [buy(1, "G", 8), buy(1, "P", 4), buy(1, "P", 2)],
            [],
        ),
        (2, [bar(2, "G", 1_000_325), bar(2, "P", 1_000_350)], [], []),
    ]
    _, shadow = drive(config, steps)
    (refused,) = of(shadow.events, FillRefused)
    assert (refused.symbol, refused.quantity, refused.price) == ("P", 2, 1_000_350)


def test_naive_double_sell_oversells_without_crashing() -> None:
    """Naive mode lets two sells of the whole position through; the second leaves it short."""
    config = EngineConfig(initial_cash=100_000, mode=Mode.NAIVE, costs=COSTS)
    steps: list[Step] = [
        (1, [bar(1, "A", PRICE)], [buy(1, "A", 4)], []),
        (2, [bar(2, "A", PRICE)], [sell(2, "A"), sell(2, "A")], []),
        (3, [bar(3, "A", PRICE + 20_000)], [], []),
    ]
    engine, _ = drive(config, steps)
    position = engine.snapshot().positions[0]
    assert (position.quantity, position.cost) == (-4, 0)
    assert position.realized_pnl == 4 * 20_000 + 4 * (PRICE + 20_000)


@given(scenarios(mode=None, max_steps=5, max_signals=6))
def test_generated_scenarios_match_the_shadow_books(scenario: Any) -> None:
    """Any generated scenario, in either mode, keeps the books the shadow model keeps."""
    drive(scenario.config, [(s.timestamp, s.bars, s.signals, s.cancels) for s in scenario.steps()])


def test_example_scenario_runs_match_the_shadow_books() -> None:
    """The built-in GOOGL/AAPL examples keep the shadow's books."""
    from cashfuzz.examples import load_example

    for name in ("googl-aapl", "googl-aapl-kelly", "googl-aapl-two-bars"):
        scenario = load_example(name)
        drive(
            scenario.config, [(s.timestamp, s.bars, s.signals, s.cancels) for s in scenario.steps()]
        )


# --- average cost -----------------------------------------------------------------------------


def test_partial_sale_removes_its_share_of_the_cost_rounded_down() -> None:
    """Selling 1 of 3 shares bought for 302 ticks removes 100 ticks of cost, not all of it."""
    ledger = Ledger(initial_cash=10_000)
    from cashfuzz.reference_engine.ledger import OrderRecord

    first = OrderRecord(1, "A", Side.BUY, 3, GTC, 200, 1)
    ledger.accept(first, 0)
    ledger.fill(first, 1, 100, -1, 0)
    ledger.fill(first, 2, 101, -3, 0)
    ledger.set_mark("A", 100)
    sale = OrderRecord(2, "A", Side.SELL, 3, GTC, 0, 1)
    ledger.accept(sale, 0)
    ledger.fill(sale, 1, 110, 1, 0)
    assert ledger.snapshot().positions == (PositionView("A", 2, 202, 10),)
    assert ledger.pending_sells("A") == 2
    ledger.fill(sale, 2, 90, 1, 0)
    assert ledger.snapshot().positions == (PositionView("A", 0, 0, 10 + 180 - 202),)
    assert ledger.pending_sells("A") == 0


# --- costs ----------------------------------------------------------------------------------


def test_sell_of_one_tick_pays_its_rounded_commission() -> None:
    """A sale of 1 tick of notional nets -1 cent (0 proceeds, 1 cent of fee), or -minimum."""
    assert Costs(Fraction(1, 1000)).sell_net(1) == -1
    assert Costs(Fraction(1, 1000), commission_min=25).sell_net(1) == -25


@pytest.mark.parametrize("method", ["buy_fill", "sell_fill"])
def test_a_later_fill_pays_only_the_commission_increase(method: str) -> None:
    """Going from 500.00 to 1500.00 of notional charges 1.00 of commission (1.50 - 0.50)."""
    _, commission = getattr(Costs(Fraction(1, 1000)), method)(5_000_000, 15_000_000)
    assert commission == 100


@pytest.mark.parametrize(
    "costs",
    [Costs(commission_min=1_000_000), Costs(Fraction(1, 1000)), Costs(Fraction(3, 7), 5)],
)
def test_affordable_is_exact_for_a_billion_at_one_tick(costs: Costs) -> None:
    """With 1,000,000,000.00 of cash at a 1-tick price the largest affordable quantity
    (about 10**13 shares) is found exactly: its estimate is tight, not walked to."""
    cash = 10**11
    quantity = costs.affordable(cash, 1)
    assert costs.buy_total(quantity) <= cash < costs.buy_total(quantity + 1)


# --- sizers ---------------------------------------------------------------------------------


def test_percent_equity_target_is_an_exact_integer() -> None:
    """3/10 of 1000.0000 at 7.0000 is 42 shares, as an int (floor of 42.857)."""
    target = PercentEquity(Fraction(3, 10)).target(70_000, 10_000_000, Fraction(1))
    assert (target, type(target)) == (42, int)
    target = PercentEquity(Fraction(1, 10)).target(70_000, 10_000_000, Fraction(1))
    assert (target, type(target)) == (14, int)


def test_kelly_sizes_from_the_smallest_positive_equity() -> None:
    """Twice Kelly at full strength on 1 tick of equity and a 1-tick price is 2 shares."""
    assert Kelly(Fraction(2)).target(1, 1, Fraction(1)) == 2


# --- ledger reads -------------------------------------------------------------------------


def _view(order_id: int) -> OrderView:
    return OrderView(order_id, "A", Side.BUY, 1, 0, OrderState.ACCEPTED, 0, 0, 0, 0, GTC, 1)


def test_snapshot_finds_an_order_even_when_ids_are_not_positions() -> None:
    """order(1) is the order with id 1 even when it is not the first in the tuple."""
    snap = LedgerSnapshot(1, 1, 0, 100, (_view(2), _view(1)), (), ())
    assert snap.order(1) == _view(1)
    assert snap.order(2) == _view(2)
    assert snap.order(3) is None


def test_snapshot_position_of_an_unknown_symbol_is_zero() -> None:
    """A symbol never traded has position 0."""
    assert Ledger(initial_cash=5).snapshot().position("ZZZ") == 0


def test_set_mark_sets_one_mark() -> None:
    """set_mark records the price that mark() and the snapshot then report."""
    ledger = Ledger(initial_cash=5)
    ledger.set_mark("A", 1234)
    assert ledger.mark("A") == 1234
    assert ledger.snapshot().marks == (("A", 1234),)


# --- engine decisions at their boundaries ---------------------------------------------------


def _engine(**overrides: Any) -> tuple[Engine, Shadow]:
    values: dict[str, Any] = {"initial_cash": 100_000, "costs": COSTS}
    values.update(overrides)
    return drive(EngineConfig(**values), [])


def _step(
    pair: tuple[Engine, Shadow],
    timestamp: Timestamp,
    bars: Sequence[Bar] = (),
    signals: Sequence[Signal] = (),
    cancels: Sequence[Cancel] = (),
) -> list[Event]:
    engine, shadow = pair
    start = len(shadow.events)
    shadow.timestamp, shadow.bars = timestamp, bars
    shadow.signals.extend(signals)
    engine.step(timestamp, bars, signals, cancels)
    return shadow.events[start:]


def test_buy_without_a_price_is_rejected_for_zero_shares_with_a_reason() -> None:
    """A BUY before any bar is rejected NO_PRICE, requesting 0, saying no bar was seen."""
    pair = _engine()
    (event,) = _step(pair, 5, signals=[buy(5, "A", 3)])
    assert isinstance(event, OrderRejected)
    assert (event.requested, event.reason, event.detail) == (0, Reason.NO_PRICE, "no bar seen yet")


def test_sizer_one_share_short_of_target_buys_that_share() -> None:
    """Holding 2 of a 3-share target, a sized BUY asks for exactly 1 share."""
    pair = _engine(sizer=FixedShares(3))
    _step(pair, 1, [bar(1, "A", PRICE)], [buy(1, "A", 2)])
    _step(pair, 2, [bar(2, "A", PRICE)])
    (accepted,) = of(_step(pair, 3, [bar(3, "A", PRICE)], [buy(3, "A")]), OrderAccepted)
    assert (accepted.quantity, accepted.reason) == (1, None)


@pytest.mark.parametrize(("shares", "reason"), [(0, Reason.ZERO_SIZE), (1, Reason.TARGET_REACHED)])
def test_sizer_rejection_names_zero_size_or_target_reached(shares: int, reason: Reason) -> None:
    """A zero target is ZERO_SIZE; a one-share target already held is TARGET_REACHED."""
    pair = _engine(sizer=FixedShares(shares))
    _step(pair, 1, [bar(1, "A", PRICE)], [buy(1, "A", 1)])
    _step(pair, 2, [bar(2, "A", PRICE)])
    (rejected,) = of(_step(pair, 3, signals=[buy(3, "A")]), OrderRejected)
    assert (rejected.reason, rejected.requested) == (reason, 0)
    assert "target" in rejected.detail


@pytest.mark.parametrize("policy", list(Policy))
def test_buy_costing_exactly_the_available_cash_is_not_resized(policy: Policy) -> None:
    """2 shares at 100.00 plus 0.20 commission need 200.20: with exactly that, no resize."""
    pair = _engine(initial_cash=20_020, policy=policy)
    (accepted,) = of(_step(pair, 1, [bar(1, "A", PRICE)], [buy(1, "A", 2)]), OrderAccepted)
    assert (accepted.quantity, accepted.reason, accepted.reserved) == (2, None, 20_020)


def test_buy_too_big_under_reject_names_the_cash() -> None:
    """A BUY that does not fit under policy reject says how much was available."""
    pair = _engine(initial_cash=20_019, policy=Policy.REJECT)
    (rejected,) = of(_step(pair, 1, [bar(1, "A", PRICE)], [buy(1, "A", 2)]), OrderRejected)
    assert rejected.reason is Reason.INSUFFICIENT_CASH
    assert rejected.detail == "2 shares need more than the 200.19 available"


def _holding_two(**overrides: Any) -> tuple[Engine, Shadow]:
    pair = _engine(**overrides)
    _step(pair, 1, [bar(1, "A", PRICE)], [buy(1, "A", 2)])
    _step(pair, 2, [bar(2, "A", PRICE)])
    return pair


def test_sell_rejections_say_why() -> None:
    """Nothing to sell, too much under reject and an uncovered fee each give their detail."""
    pair = _holding_two(policy=Policy.REJECT, costs=Costs(commission_min=45_000))
    assert pair[0].snapshot().available == 35_000
    events = _step(pair, 3, signals=[sell(3, "B"), sell(3, "A", 3), sell(3, "A")])
    rejected = of(events, OrderRejected)
    assert [(r.reason, r.requested, r.detail) for r in rejected] == [
        (Reason.NOTHING_TO_SELL, 0, "no shares held that are not already pending sale"),
        (Reason.EXCEEDS_POSITION, 3, "only 2 shares can be sold"),
        (Reason.CANNOT_COVER_FEE, 2, "the sale needs 450.00 to cover its commission"),
    ]


def test_sell_reserving_exactly_the_available_cash_is_accepted() -> None:
    """A SELL whose 1.00 minimum fee equals the cash left is accepted, not rejected."""
    costs = Costs(commission_min=100)
    pair = _holding_two(initial_cash=2 * 10_000 + 100 + 100, costs=costs)
    assert pair[0].snapshot().available == 100
    (accepted,) = of(_step(pair, 3, signals=[sell(3, "A")]), OrderAccepted)
    assert (accepted.reserved, accepted.reference_price, accepted.limit_price) == (100, PRICE, 0)


def test_naive_sell_reserves_nothing() -> None:
    """In naive mode a SELL holds no reservation even with a commission minimum."""
    pair = _holding_two(mode=Mode.NAIVE, costs=Costs(commission_min=100))
    (accepted,) = of(_step(pair, 3, signals=[sell(3, "A")]), OrderAccepted)
    assert accepted.reserved == 0


def test_sell_with_slippage_fills_below_the_open() -> None:
    """A fixed 25 bp slippage fills a SELL at 99.75 when the open is 100.00."""
    pair = _holding_two(costs=Costs(max_slippage=2_500))
    _step(pair, 3, signals=[sell(3, "A")])
    (fill,) = of(_step(pair, 4, [bar(4, "A", PRICE)]), OrderFilled)
    assert fill.price == 997_500


def test_bar_without_volume_fills_nothing_under_a_participation_cap() -> None:
    """With a cap and a zero-volume bar no fill event is logged; the DAY order expires."""
    pair = _engine(max_participation=Fraction(1, 2))
    _step(pair, 1, [bar(1, "A", PRICE)], [buy(1, "A", 2)])
    events = _step(pair, 2, [bar(2, "A", PRICE, volume=0)])
    assert not of(events, OrderFilled)
    assert of(events, OrderExpired)


def test_cancels_are_logged_at_their_step() -> None:
    """Unknown, terminal and live cancels all carry the step's timestamp."""
    pair = _holding_two()
    _step(pair, 3, signals=[buy(3, "A", 1, time_in_force=GTC)])
    events = _step(pair, 4, cancels=[Cancel(4, 42), Cancel(4, 1), Cancel(4, 2)])
    assert [type(e) for e in events] == [CancelIgnored, CancelIgnored, OrderCancelled]
    assert {e.timestamp for e in events} == {4}


# --- input checks -------------------------------------------------------------------------------


def test_fast_path_accepts_inputs_on_every_boundary() -> None:
    """The fast validity pass says True for bars, signals and cancels that sit on each bound."""
    flat = Bar(1, "A", 1, 1, 1, 1, 0)
    wide = Bar(1, "B", 5, 9, 5, 9, 3)
    signals = [
        Signal(1, "A", Side.BUY, 1, Decimal(0)),
        Signal(1, "B", Side.SELL, None, Decimal(1)),
        Signal(1, "A", Side.BUY, None, None, GTC),
    ]
    assert _plainly_valid([flat, wide], signals, [Cancel(1, 1)])
    assert _plainly_valid([Bar(1, "A", 2, 9, 2, 2, 1)], [], [])


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"strength": Decimal("1.5")}, "signals[0].strength=1.5 must be within 0..1"),
        ({"strength": Decimal("NaN")}, "signals[0].strength=NaN must be within 0..1"),
        ({"strength": object()}, "> must be within 0..1"),
        ({"time_in_force": "GTC"}, "='GTC' must be TimeInForce.DAY or TimeInForce.GTC"),
    ],
)
def test_bad_signal_fields_raise_input_error(change: dict[str, Any], words: str) -> None:
    """A strength outside 0..1 (also as a Decimal) or a plain-string time in force is refused."""
    fields: dict[str, Any] = {"quantity": 1}
    fields.update(change)
    engine = Engine(EngineConfig(initial_cash=100))
    with pytest.raises(InputError) as error:
        engine.step(1, [bar(1, "A", PRICE)], [Signal(1, "A", Side.BUY, **fields)])
    assert str(error.value).endswith(words)


@pytest.mark.parametrize("strength", [0.0, 1.0, Fraction(1), "0"])
def test_strength_bounds_pass_the_detailed_checks(strength: Any) -> None:
    """Strengths 0 and 1 given as float, Fraction or string are valid."""
    engine = Engine(EngineConfig(initial_cash=100))
    engine.step(1, [bar(1, "A", PRICE)], [Signal(1, "A", Side.BUY, None, strength)])
    assert len(engine.snapshot().orders) == 1


@pytest.mark.parametrize(
    ("bar_", "words"),
    [
        (Bar(1, "A", 1, 1, 1, 1, 0), "signals[0].quantity=0"),
        (Bar(1, "A", 1.5, 2, 1, 1, 5), "open=1.5 must be an integer (ticks)"),  # type: ignore[arg-type]
        (Bar(1, "A", 1, 1, 1, 1, 0.5), "volume=0.5 must be an integer (shares)"),  # type: ignore[arg-type]
    ],
)
def test_detailed_checks_name_the_first_bad_field(bar_: Bar, words: str) -> None:
    """A flat 1-tick bar with zero volume is valid, so the bad signal is named; a float
    price is named in ticks and a float volume in shares."""
    engine = Engine(EngineConfig(initial_cash=100))
    with pytest.raises(InputError) as error:
        engine.step(1, [bar_], [Signal(1, "A", Side.BUY, 0)])
    assert words in str(error.value)


def test_boolean_cancel_id_is_refused() -> None:
    """A cancel naming order True (a bool, not an id) raises InputError."""
    engine = Engine(EngineConfig(initial_cash=100))
    with pytest.raises(InputError, match="order_id=True"):
        engine.step(1, cancels=[Cancel(1, True)])


def test_run_scenario_logs_every_event_at_its_step() -> None:
    """run_scenario's events all carry a timestamp of the scenario's timeline."""
    from cashfuzz.examples import load_example

    scenario = load_example("googl-aapl-two-bars")
    stamps = {s.timestamp for s in scenario.steps()}
    assert {e.timestamp for e in run_scenario(scenario).events} <= stamps
