"""The lifecycle invariants through the adapter kit: each fires on a broker that breaks it,
where the broker (not the kit) decides; where the kit decides, it holds by construction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cashfuzz.adapters import Account, Factory, StepEngine, WholeRunEngine
from cashfuzz.adapters.kit import KitMisuse
from cashfuzz.invariants import check_scenario
from cashfuzz.reference_engine import EngineConfig, FillAt, OrderAccepted, Side, Step
from cashfuzz.search.gate import run_gate
from tests.adapters.engine_kit import kinds, scenario


class QueueBroker:
    """Market orders wait for the next bar of their symbol and fill at its open."""

    def __init__(self, cash: float) -> None:
        self.cash = cash
        self.positions: dict[str, int] = {}
        self.queue: dict[int, tuple[str, int]] = {}
        self.last_id = 0

    def order(self, symbol: str, quantity: int) -> int:
        self.last_id += 1
        self.queue[self.last_id] = (symbol, quantity)
        return self.last_id

    def cancel(self, order_id: int) -> bool:
        return self.queue.pop(order_id, None) is not None

    def open(self, opens: dict[str, float]) -> list[tuple[int, int, float]]:
        """Fill the queued orders of these symbols: (order id, signed quantity, price)."""
        filled = []
        for order_id, (symbol, quantity) in list(self.queue.items()):
            if symbol in opens:
                del self.queue[order_id]
                self.cash -= quantity * opens[symbol]
                self.positions[symbol] = self.positions.get(symbol, 0) + quantity
                filled.append((order_id, quantity, opens[symbol]))
        return filled


class QueueEngine(StepEngine):
    """QueueBroker behind the kit, in the documented phase order."""

    reports_equity = False

    def __init__(self, config: EngineConfig, observer: Any = None) -> None:
        super().__init__(config, observer)
        self.broker = QueueBroker(config.initial_cash / 100)

    def account(self) -> Account:
        return Account(self.broker.cash, dict(self.broker.positions))

    def on_step(self, step: Step) -> None:
        self.fill_at_open(step)
        self.place(step)
        self.tape.cancels(self.broker.cancel)

    def fill_at_open(self, step: Step) -> None:
        opens = {bar.symbol: bar.open / 10_000 for bar in step.bars}
        for order_id, quantity, price in self.broker.open(opens):
            self.tape.filled(order_id, abs(quantity), price)

    def place(self, step: Step) -> None:
        def order(signal: Any, quantity: int) -> int:
            signed = quantity if signal.side is Side.BUY else -quantity
            return self.broker.order(signal.symbol, signed)

        self.tape.trade(order)


class RefusesLiveCancels(QueueEngine):
    """Its broker answers every cancel 'not found' and keeps the order queued."""

    def on_step(self, step: Step) -> None:
        self.fill_at_open(step)
        self.place(step)
        self.tape.cancels(lambda order_id: False)


class KeepsFillingCancelled(QueueEngine):
    """Its broker says a cancel succeeded but leaves the order queued, so it fills later."""

    def on_step(self, step: Step) -> None:
        self.fill_at_open(step)
        self.place(step)
        self.tape.cancels(lambda order_id: order_id in self.broker.queue)


class CancelsBeforeSignals(QueueEngine):
    """Applies a step's cancels before it places the step's orders."""

    def on_step(self, step: Step) -> None:
        self.fill_at_open(step)
        self.tape.cancels(self.broker.cancel)
        self.place(step)


class ChargesRefusedCancels(QueueEngine):
    """Takes a cancel fee of 0.05 even when it refuses the cancel (an order not accepted yet)."""

    def on_step(self, step: Step) -> None:
        self.fill_at_open(step)
        for signal in step.signals:
            quantity = self.tape.size(signal)
            if quantity:
                self.tape.submitted(self.broker.order(signal.symbol, quantity), quantity)

        def refuse(order_id: int) -> bool:
            self.broker.cash -= 0.05
            return False

        self.tape.cancels(refuse)
        for key in self.tape.live():
            self.tape.accepted(key)


class ReusesOrderIds(QueueEngine):
    """Its broker hands out order id 7 for every order."""

    def place(self, step: Step) -> None:
        def order(signal: Any, quantity: int) -> int:
            self.broker.order(signal.symbol, quantity)
            return 7

        self.tape.trade(order)


class StopsAfterFirstStep(WholeRunEngine):
    """A whole-run broker that stops the run after its first step, as nautilus_trader's does
    on AccountBalanceNegative: later signals and cancels are never handled."""

    reports_equity = False

    def account(self) -> Account:
        return Account(self.config.initial_cash / 100)

    def run(self, steps: tuple[Step, ...]) -> None:
        self.tape.begin(0)
        self.tape.trade(lambda signal, quantity: signal.symbol)


def _buy_then_cancel(cancel_at: int = 1) -> Any:
    """BUY 1 at step 1 (filled at step 2's open), cancel of order 1 at ``cancel_at``."""
    return scenario(
        [(1, "AAA", "10", "10", 100), (2, "AAA", "10", "10", 100), (3, "AAA", "10", "10", 100)],
        [{"timestamp": 1, "symbol": "AAA", "side": "BUY", "quantity": 1}],
        [{"timestamp": cancel_at, "order_id": 1}],
        fill_at="next_open",
    )


def _broken(engine: type, invariant: str, cancel_at: int = 1) -> list[str]:
    result = check_scenario(_buy_then_cancel(cancel_at), Factory(engine), only=[invariant])
    return [v.message for v in result.violations if v.invariant == invariant]


def test_a_broker_in_the_documented_order_keeps_every_lifecycle_invariant() -> None:
    """QueueEngine cancels a live order in its step and answers a stray cancel as ignored."""
    for cancel_at in (1, 3):  # a live order; an order already filled
        result = check_scenario(_buy_then_cancel(cancel_at), Factory(QueueEngine))
        assert result.ok, result.violations
    live = check_scenario(_buy_then_cancel(1), Factory(QueueEngine))
    assert "OrderCancelled" in kinds(live.events)
    assert "OrderFilled" not in kinds(live.events)


def test_cancel_takes_effect_fires_on_a_broker_that_refuses_a_live_cancel() -> None:
    """A broker that answers the cancel of its queued order 'not found' breaks
    cancel_takes_effect: the kit logs CancelIgnored for an order the log has live."""
    (message,) = _broken(RefusesLiveCancels, "cancel_takes_effect")
    assert "cancel 0 of order 1" in message
    assert "was ignored" in message


def test_a_broker_that_keeps_filling_a_cancelled_order_breaks_legal_lifecycle() -> None:
    """A cancel the broker reports done but does not do shows as a fill of a CANCELLED
    order (legal_lifecycle); cancel_takes_effect saw the order CANCELLED when it was told."""
    assert _broken(KeepsFillingCancelled, "legal_lifecycle")
    assert not _broken(KeepsFillingCancelled, "cancel_takes_effect")


def test_phase_order_fires_on_a_broker_that_cancels_before_it_places() -> None:
    """Cancels applied before the step's new orders put an acceptance after a cancel's
    answer: phase_order."""
    (message,) = _broken(CancelsBeforeSignals, "phase_order")
    assert message.startswith("OrderAccepted at 1 belongs to signals")
    assert "already reached cancels" in message


def test_stray_cancels_logged_fires_when_a_refused_cancel_changes_the_books() -> None:
    """A refused cancel of an order not yet accepted is CancelIgnored; a broker that charged
    for it anyway breaks stray_cancels_logged (an ignored cancel changes nothing)."""
    (message,) = _broken(ChargesRefusedCancels, "stray_cancels_logged")
    assert "CancelIgnored for order 1" in message
    assert "changed cash 100000 -> 99995" in message


def test_stray_cancels_logged_fires_when_the_broker_stops_before_a_cancel() -> None:
    """A whole-run broker that stops after its first step never answers a later cancel."""
    (message,) = _broken(StopsAfterFirstStep, "stray_cancels_logged", cancel_at=3)
    assert "cancel 0 (order 1 at 3) was never answered" in message


def test_order_ids_are_the_kit_s_and_a_broker_id_reused_is_an_adapter_error() -> None:
    """The kit numbers orders, so order_ids_unique tests the kit, never the broker; a broker
    key reported for a second order cannot be told apart from the first, so it is the
    adapter's error (exit 2) naming the key and what to do, never an engine finding."""
    two_buys = scenario(
        [(1, "AAA", "10", "10", 100)],
        [{"timestamp": 1, "symbol": "AAA", "side": "BUY", "quantity": 1}] * 2,
        fill_at="next_open",
    )
    result = check_scenario(two_buys, Factory(QueueEngine), only=["order_ids_unique"])
    assert result.ok, result.violations
    accepted = [e.order_id for e in result.events if isinstance(e, OrderAccepted)]
    assert accepted == [1, 2]
    with pytest.raises(KitMisuse, match=r"key 7 is already order 1 \(ACCEPTED\); give each"):
        check_scenario(two_buys, Factory(ReusesOrderIds))


def test_the_gate_with_only_finds_a_refused_live_cancel_through_the_kit(tmp_path: Path) -> None:
    """`gate --only cancel_takes_effect` on the refusing broker ends with that invariant's
    shrunk counterexample, and nothing else is searched for."""
    factory = Factory(RefusesLiveCancels)
    result = run_gate(
        factory,
        seed=1,
        max_examples=300,
        shrink_examples=300,
        out_dir=tmp_path,
        engine_name="refuses",
        only=["cancel_takes_effect"],
    )
    assert result.only == ("cancel_takes_effect",)
    assert [found.invariant for found in result.counterexamples] == ["cancel_takes_effect"]
    shrunk = result.counterexamples[0].scenario
    assert len(shrunk.cancels) == 1
    assert shrunk.config.fill_at in (FillAt.NEXT_OPEN, FillAt.SAME_CLOSE)
