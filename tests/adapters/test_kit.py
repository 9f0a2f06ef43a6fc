"""The adapter kit: broker facts in, events and snapshots out, with nothing derived."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cashfuzz.adapters import Account, Factory, Limits, StepEngine, WholeRunEngine, reason_for
from cashfuzz.invariants import check_scenario
from cashfuzz.reference_engine import (
    EngineConfig,
    FillAt,
    FillRefused,
    OrderAccepted,
    OrderFilled,
    OrderRejected,
    OrderState,
    Reason,
    ScenarioError,
    Side,
    Step,
    run_scenario,
)
from tests.adapters.engine_kit import broken, kinds, scenario


class Ledger:
    """A float broker that fills every order in full at the bar's close of its placement."""

    def __init__(self, cash: float) -> None:
        self.cash = cash
        self.positions: dict[str, float] = {}

    def trade(self, symbol: str, quantity: int, price: float, fee: float) -> None:
        self.cash -= quantity * price + fee
        self.positions[symbol] = self.positions.get(symbol, 0) + quantity


class CloseFiller(StepEngine):
    """Places each signal and fills it at once at the step's close, with a 1.5 % fee."""

    reports_equity = False

    def __init__(self, config: EngineConfig, observer: Any = None) -> None:
        super().__init__(config, observer)
        self.broker = Ledger(config.initial_cash / 100)
        self.next_key = 100

    def account(self) -> Account:
        return Account(self.broker.cash, dict(self.broker.positions))

    def on_step(self, step: Step) -> None:
        closes = {bar.symbol: bar.close / 10_000 for bar in step.bars}
        placed = []
        for signal in step.signals:
            quantity = self.tape.size(signal)
            if not quantity:
                continue
            self.next_key += 1
            key = f"broker-{self.next_key}"
            self.tape.placed(key, quantity)
            placed.append((key, signal, quantity))
        self.tape.cancels(lambda key: False)
        for key, signal, quantity in placed:  # fills at the close come after the signals
            signed = quantity if signal.side is Side.BUY else -quantity
            price = closes[signal.symbol]
            fee = abs(signed) * price * 0.015
            self.broker.trade(signal.symbol, signed, price, fee)
            self.tape.filled(key, quantity, price, fee)


def two_steps(**settings: Any) -> Any:
    return scenario(
        [(1, "AAA", "10", "10", 100), (2, "AAA", "10", "12.34565", 100)],
        [
            {"timestamp": 1, "symbol": "AAA", "side": "BUY", "quantity": 3},
            {"timestamp": 2, "symbol": "AAA", "side": "BUY", "quantity": 1},
            {"timestamp": 2, "symbol": "AAA", "side": "SELL"},
        ],
        **settings,
    )


def test_ids_follow_signal_order_whatever_the_broker_calls_its_orders() -> None:
    """Orders 1, 2, 3 are the scenario's signals in order; the broker's keys map onto them."""
    result = run_scenario(two_steps(), Factory(CloseFiller))
    accepted = [e for e in result.events if isinstance(e, OrderAccepted)]
    assert [(e.order_id, e.signal_index, e.side) for e in accepted] == [
        (1, 0, Side.BUY),
        (2, 1, Side.BUY),
        (3, 2, Side.SELL),
    ]
    # a SELL without quantity sells the broker's position: 3, the BUY of 1 is not filled yet
    assert accepted[2].quantity == 3


def test_fill_units_round_half_even_and_cash_delta_is_the_reported_change() -> None:
    """Price to ticks and commission to cents half-to-even; cash_delta is the broker's change."""
    result = run_scenario(two_steps(), Factory(CloseFiller))
    fills = [e for e in result.events if isinstance(e, OrderFilled)]
    assert fills[1].price == 123456  # 12.34565 -> 12.3456 (half-to-even)
    assert fills[0].commission == 45  # 3 x 10 x 0.015 = 0.45
    assert fills[0].cash_delta == -3045
    assert result.final.cash == 100_000 + sum(f.cash_delta for f in fills)
    assert result.final.positions[0].quantity == 1


def test_cash_moving_without_a_fill_is_a_finding_not_absorbed() -> None:
    """A broker whose cash drifts from what its fills say breaks cash_conservation."""

    class Skimming(CloseFiller):
        def on_step(self, step: Step) -> None:
            self.broker.cash -= 0.25  # before any fill of the step: no fill explains it
            super().on_step(step)

    held = check_scenario(two_steps(), Factory(CloseFiller))
    assert held.ok, held.violations
    skimmed = check_scenario(two_steps(), Factory(Skimming))
    assert broken(skimmed.violations)[0] == ("cash_conservation", 0)
    assert "cash=999.75" in skimmed.violations[0].message


def test_rejection_text_maps_to_a_reason_and_a_later_rejection_is_fill_refused() -> None:
    """A broker's words pick the Reason; rejecting a live order is FillRefused, flagged."""
    assert reason_for("Insufficient margin") is Reason.INSUFFICIENT_CASH
    assert reason_for("would go short") is Reason.EXCEEDS_POSITION
    assert reason_for("???") is Reason.ZERO_SIZE

    class Refuser(CloseFiller):
        def on_step(self, step: Step) -> None:
            for index, _signal in enumerate(step.signals):
                if index == 0:
                    self.tape.rejected(None, "not enough cash")
                else:
                    self.tape.placed(("k", index), 1)
                    self.tape.rejected(("k", index), "margin", needed="12.345", price=12)

    raw = scenario(
        [(1, "AAA", "10", "10", 100)],
        [{"timestamp": 1, "symbol": "AAA", "side": "BUY", "quantity": 2}] * 2,
    )
    result = check_scenario(raw, Factory(Refuser))
    expected = ["MarketUpdated", "OrderRejected", "OrderAccepted", "FillRefused"]
    assert kinds(result.events) == expected
    rejected = result.events[1]
    assert isinstance(rejected, OrderRejected)
    assert rejected.reason is Reason.INSUFFICIENT_CASH
    assert broken(result.violations)[0] == ("accepted_orders_funded", 3)
    assert result.final is not None
    assert result.final.orders[1].state is OrderState.REJECTED


def test_a_refusal_names_the_cash_the_broker_checked_against() -> None:
    """``checked=`` is the FillRefused's cash (a broker's running check), not the cash now."""

    class Checker(CloseFiller):
        def on_step(self, step: Step) -> None:
            for index, _signal in enumerate(step.signals):
                self.tape.placed(index, 2)
                checked = None if index == 0 else "3.456"
                self.tape.rejected(index, "Margin", needed=20, price=10, checked=checked)

    raw = scenario(
        [(1, "AAA", "10", "10", 100)],
        [{"timestamp": 1, "symbol": "AAA", "side": "BUY", "quantity": 2}] * 2,
    )
    refused = [e for e in run_scenario(raw, Factory(Checker)).events if isinstance(e, FillRefused)]
    assert [(e.needed, e.price, e.cash) for e in refused] == [
        (2000, 100000, 100000),
        (2000, 100000, 346),
    ]


def test_a_refusal_rounds_what_it_needed_up_to_the_cent() -> None:
    """A broker refusing a fill that needs 0.0101 against cash of 0.01 (backtrader's exact
    float check) logs needed 0.02, not a "needed 0.01 with cash 0.01" that reads as funded."""

    class Refuser(CloseFiller):
        def on_step(self, step: Step) -> None:
            for index, _signal in enumerate(step.signals):
                self.tape.placed(index, 1)
                self.tape.rejected(index, "Margin", needed=0.0101, price=0.0101)

    raw = scenario(
        [(1, "AAA", "0.0101", "0.0101", 100)],
        [{"timestamp": 1, "symbol": "AAA", "side": "BUY", "quantity": 1}],
        initial_cash="0.01",
    )
    refused = [e for e in run_scenario(raw, Factory(Refuser)).events if isinstance(e, FillRefused)]
    assert [(e.needed, e.price, e.cash) for e in refused] == [(2, 101, 1)]


def test_a_shrunk_order_is_accepted_as_resized_from_what_the_sizer_wanted() -> None:
    """With the cash cap, OrderAccepted keeps the sizer's quantity as ``requested``."""
    raw = scenario(
        [(1, "AAA", "10", "10", 100)],
        [{"timestamp": 1, "symbol": "AAA", "side": "BUY"}],
        initial_cash="35",
        sizer={"kind": "fixed_shares", "shares": 5},
    )
    accepted = [
        e for e in run_scenario(raw, Factory(CloseFiller)).events if isinstance(e, OrderAccepted)
    ]
    assert [(e.quantity, e.requested, e.reason) for e in accepted] == [
        (3, 5, Reason.INSUFFICIENT_CASH)
    ]


def test_an_account_s_equity_sizes_and_its_costs_are_the_positions_cost() -> None:
    """Given, the broker's equity is what the sizer sizes from even when the engine does
    not report equity (the snapshot still derives it), and ``costs`` fills each cost."""

    class RichOnPaper(CloseFiller):
        def account(self) -> Account:
            positions = dict(self.broker.positions)
            costs = {symbol: quantity * 9.5 for symbol, quantity in positions.items()}
            return Account(self.broker.cash, positions, equity=2000, costs=costs)

    raw = scenario(
        [(1, "AAA", "10", "10", 100)],
        [{"timestamp": 1, "symbol": "AAA", "side": "BUY"}],
        sizer={"kind": "percent_equity", "fraction": "0.5"},
    )
    result = run_scenario(raw, Factory(RichOnPaper))
    accepted = [e for e in result.events if isinstance(e, OrderAccepted)]
    assert [e.quantity for e in accepted] == [100]  # half of 2000 at 10 (cash alone: 50)
    assert result.final.positions[0].cost == 100 * 95000
    assert result.final.equity == result.final.cash * 100 + 100 * 100000


def test_limits_name_the_slippage_value_and_a_timestamp_without_bars() -> None:
    """Unsupported settings are named with their value; a signal at a bar-less timestamp too."""
    limits = Limits(random_slippage=False, aligned=True)
    slipping = two_steps(costs={"max_slippage_bps": "6.5"})
    assert "costs.max_slippage_bps=6.5 draws" in (limits.unsupported(slipping) or "")
    gap = scenario(
        [(1, "AAA", "10", "10", 100), (3, "AAA", "10", "10", 100)],
        [{"timestamp": 2, "symbol": "AAA", "side": "BUY", "quantity": 1}],
    )
    assert "timestamp=2 has signals or cancels but no bars" in (limits.unsupported(gap) or "")
    assert limits.unsupported(limits.adapt(gap)) is None


def test_a_fractional_quantity_is_an_adapter_error() -> None:
    """Shares are whole: a fill of 1.5 shares is a crash of the adapter, reported as such."""

    class Fractional(CloseFiller):
        def on_step(self, step: Step) -> None:
            for _ in step.signals:
                self.tape.placed("x", 1)
                self.tape.filled("x", 1.5, 10)

    result = check_scenario(
        scenario([(1, "AAA", "10", "10", 1)], [{"timestamp": 1, "symbol": "AAA", "side": "BUY"}]),
        Factory(Fractional),
    )
    assert result.crash is not None
    assert "not a whole number" in result.crash


def test_reported_equity_is_taken_as_reported() -> None:
    """With reports_equity, the snapshot's equity is the broker's, so a wrong one is caught."""

    class WrongEquity(CloseFiller):
        reports_equity = True

        def account(self) -> Account:
            return Account(self.broker.cash, dict(self.broker.positions), Decimal("1"))

    result = check_scenario(two_steps(), Factory(WrongEquity))
    assert broken(result.violations)[0] == ("equity_identity", 0)


class CountingWholeRun(WholeRunEngine):
    """A whole-run engine that counts its runs and fills nothing."""

    runs = 0
    reports_equity = False

    def account(self) -> Account:
        return Account(self.config.initial_cash / 100)

    def run(self, steps: tuple[Step, ...]) -> None:
        type(self).runs += 1
        for index in range(len(steps)):
            self.tape.begin(index)
            self.tape.trade(lambda signal, quantity, at=index: (at, signal.symbol))


def test_a_whole_run_engine_runs_once_per_scenario() -> None:
    """begin() runs it once for a ten-step scenario; each step delivers its own events."""
    bars = [(t, "AAA", "10", "10", 1) for t in range(10)]
    signals = [{"timestamp": t, "symbol": "AAA", "side": "BUY", "quantity": 1} for t in range(10)]
    CountingWholeRun.runs = 0
    result = check_scenario(scenario(bars, signals), Factory(CountingWholeRun), determinism=False)
    assert CountingWholeRun.runs == 1
    assert result.ok, result.violations
    assert kinds(result.events).count("OrderAccepted") == 10
    engine = CountingWholeRun(EngineConfig(initial_cash=1000))
    steps = scenario(bars, signals).steps()
    engine.begin(scenario(bars, signals))
    engine.step(steps[0].timestamp)
    assert kinds(engine.events) == ["MarketUpdated", "OrderAccepted"]


def test_a_whole_run_engine_stepped_by_hand_runs_at_its_snapshot() -> None:
    """Driven with step(), it collects the steps and runs once, at snapshot(); not twice."""
    engine = CountingWholeRun(EngineConfig(initial_cash=1000))
    CountingWholeRun.runs = 0
    for step in two_steps().steps():
        engine.step(step.timestamp, step.bars, step.signals, step.cancels)
    assert engine.events == []
    assert engine.snapshot().cash == 1000
    assert CountingWholeRun.runs == 1
    assert len(engine.events) == 5
    with pytest.raises(RuntimeError, match="runs once"):
        engine.begin(two_steps())


def test_limits_project_onto_one_symbol_and_renumber_cancels() -> None:
    """adapt keeps the first symbol, its signals, and cancels renumbered to the new ids."""
    limits = Limits(max_symbols=1, aligned=True, fill_at=FillAt.SAME_CLOSE)
    raw = scenario(
        [(1, "AAA", "10", "10", 1), (1, "BBB", "5", "5", 1), (2, "BBB", "5", "5", 1)],
        [
            {"timestamp": 1, "symbol": "BBB", "side": "BUY"},
            {"timestamp": 1, "symbol": "AAA", "side": "BUY"},
        ],
        [{"timestamp": 2, "order_id": 2}, {"timestamp": 2, "order_id": 1}],
        fill_at="next_open",
    )
    assert "at most 1" in (limits.unsupported(raw) or "")
    adapted = limits.adapt(raw)
    assert adapted.symbols == ("AAA",)
    assert [s.symbol for s in adapted.signals] == ["AAA"]
    assert [(c.timestamp, c.order_id) for c in adapted.cancels] == [(2, 1)]
    assert [(b.timestamp, b.close) for b in adapted.bars] == [(1, 100000), (2, 100000)]
    assert adapted.config.fill_at is FillAt.SAME_CLOSE
    assert limits.unsupported(adapted) is None
    assert limits.adapt(adapted) is adapted


def test_a_config_the_engine_cannot_run_is_bad_input() -> None:
    """An engine's limits reject a config at construction with the field named."""
    limits = Limits(commission_min=False)

    class NoMinimum(CountingWholeRun):
        pass

    NoMinimum.limits = limits
    raw = two_steps(costs={"commission_min": "1"})
    with pytest.raises(ScenarioError, match=r"costs\.commission_min=1\.00"):
        check_scenario(raw, Factory(NoMinimum))
