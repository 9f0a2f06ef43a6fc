"""A Hypothesis state machine that drives an engine one step at a time.

Each rule is one ``engine.step`` at a new integer timestamp: ``advance`` brings
bars for some symbols (with a signal batch at the same timestamp, so fills at
the same bar's close are reached), ``submit`` brings a signal batch alone, and
``cancel`` names a live or a dead order id. An ``invariants.Monitor`` is the
engine's observer, so every transition check runs after every event and the
first violation fails the rule; the ``@invariant`` methods re-run the state
checks on ``engine.snapshot()`` and check the machine's own model (one order
per signal, cancels end live orders and only those).

    TestCashMachine = machine_for(reference_factory).TestCase
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from cashfuzz.invariants import RESERVATION_CHECKS, STATE_CHECKS, Monitor, not_applicable
from cashfuzz.reference_engine import (
    Bar,
    Cancel,
    CancelIgnored,
    EngineConfig,
    EngineFactory,
    EngineUnderTest,
    FillAt,
    Mode,
    OrderCancelled,
    OrderState,
    Policy,
    Signal,
)

from ._internal.core import (
    MAX_PRICE,
    MIN_PRICE,
    SYMBOL_POOL,
    bars,
    cash,
    cost_models,
    participation_caps,
    signal_batches,
    sizers,
)


def engine_configs(*, mode: Mode = Mode.RESERVATION) -> st.SearchStrategy[EngineConfig]:
    """Engine configurations (cash, costs, sizer, policy, fill timing, participation)."""
    return st.builds(
        EngineConfig,
        # mostly enough cash to trade; sometimes any amount, a penny included
        initial_cash=st.one_of(cash(min_cents=100_000, max_cents=100_000_000), cash()),
        mode=st.just(mode),
        fill_at=st.sampled_from((FillAt.SAME_CLOSE, FillAt.NEXT_OPEN)),
        policy=st.sampled_from((Policy.SHRINK, Policy.REJECT)),
        max_participation=participation_caps(),
        seed=st.integers(0, 2**16),
        costs=cost_models(),
        sizer=sizers(),
    )


class CashMachine(RuleBasedStateMachine):
    """Drives ``factory``'s engine (set by ``machine_for``) and checks it after every event."""

    factory: EngineFactory

    def __init__(self) -> None:
        super().__init__()
        self.engine: EngineUnderTest | None = None
        self.monitor = Monitor(fail_fast=True)
        self.symbols: tuple[str, ...] = ()
        self.timestamp = -1
        self.signals_sent = 0
        self.price_low = MIN_PRICE
        self.price_high = MAX_PRICE

    # --- plain methods (also used to drive the machine by hand) ----------------------

    def begin(self, config: EngineConfig, symbols: Sequence[str]) -> None:
        """Build the engine with the monitor as its observer."""
        self.engine = type(self).factory(config, self.monitor)
        self.monitor.exclude(not_applicable(self.engine))
        self.symbols = tuple(symbols)
        # prices scaled to the cash, so that orders are neither all unaffordable nor all tiny
        base = min(MAX_PRICE, max(MIN_PRICE, config.initial_cash * 100 // 20))
        self.price_low, self.price_high = max(MIN_PRICE, base // 4), min(MAX_PRICE, base * 4)

    def do_step(
        self,
        bar_list: Sequence[Bar] = (),
        signal_list: Sequence[Signal] = (),
        cancel_list: Sequence[Cancel] = (),
    ) -> None:
        """One ``engine.step`` at ``self.timestamp`` (the caller built the inputs for it)."""
        assert self.engine is not None, "begin() first"
        self.engine.step(self.timestamp, tuple(bar_list), tuple(signal_list), tuple(cancel_list))
        self.signals_sent += len(signal_list)

    def next_timestamp(self) -> int:
        self.timestamp += 1
        return self.timestamp

    # --- rules -----------------------------------------------------------------------

    @initialize(
        config=engine_configs(),
        symbols=st.lists(st.sampled_from(SYMBOL_POOL[:3]), min_size=1, max_size=3, unique=True),
        data=st.data(),
    )
    def start(self, config: EngineConfig, symbols: list[str], data: st.DataObject) -> None:
        """Build the engine and give every symbol an opening bar (so signals have prices)."""
        self.begin(config, symbols)
        timestamp = self.next_timestamp()
        opening = [
            data.draw(
                bars(
                    symbol=symbol,
                    timestamp=timestamp,
                    min_price=self.price_low,
                    max_price=self.price_high,
                ),
                label=f"bar {symbol}",
            )
            for symbol in sorted(self.symbols)
        ]
        self.do_step(opening)

    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """New bars for some symbols (a volume may cap fills), plus signals at that bar."""
        timestamp = self.next_timestamp()
        present = data.draw(
            st.lists(st.sampled_from(self.symbols), min_size=1, unique=True), label="symbols"
        )
        new_bars = [
            data.draw(
                bars(
                    symbol=symbol,
                    timestamp=timestamp,
                    min_price=self.price_low,
                    max_price=self.price_high,
                ),
                label=f"bar {symbol}",
            )
            for symbol in sorted(present)
        ]
        batch = data.draw(signal_batches(self.symbols, timestamp, max_size=3), label="signals")
        self.do_step(new_bars, batch)

    @rule(data=st.data())
    def submit(self, data: st.DataObject) -> None:
        """A batch of signals with no bar: sized on the last marks."""
        timestamp = self.next_timestamp()
        batch = data.draw(
            signal_batches(self.symbols, timestamp, min_size=1, max_size=4), label="signals"
        )
        self.do_step((), batch)

    @precondition(lambda self: self.signals_sent > 0)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        """Cancel a live order (when there is one) or any earlier order id."""
        assert self.engine is not None
        live = [o.order_id for o in self.engine.snapshot().orders if o.is_open]
        choices = st.integers(1, self.signals_sent)
        if live:
            choices = st.one_of(st.sampled_from(live), choices)
        order_id = data.draw(choices, label="order_id")
        before = self.engine.snapshot().order(order_id)
        timestamp = self.next_timestamp()
        logged = len(self.engine.events)
        self.do_step((), (), (Cancel(timestamp, order_id),))
        outcome = self.engine.events[logged:]
        after = self.engine.snapshot().order(order_id)
        if before is not None and before.is_open:
            assert any(isinstance(e, OrderCancelled) for e in outcome), (
                f"cancel of live order {order_id} logged {outcome}"
            )
            assert after is not None
            assert after.state is OrderState.CANCELLED
        else:
            assert any(isinstance(e, CancelIgnored) for e in outcome), (
                f"cancel of dead order {order_id} logged {outcome}"
            )
            assert after == before, f"cancel of dead order {order_id} changed it"

    # --- invariants ------------------------------------------------------------------

    @invariant()
    def state_checks_hold(self) -> None:
        if self.engine is None:
            return
        snapshot = self.engine.snapshot()
        reserving = getattr(self.engine, "reserves_cash", True)
        for name, check in STATE_CHECKS.items():
            if not reserving and name in RESERVATION_CHECKS:
                continue
            message = check(snapshot)
            assert message is None, f"{name}: {message}"

    @invariant()
    def every_signal_is_an_order(self) -> None:
        if self.engine is None:
            return
        orders = self.engine.snapshot().orders
        assert [o.order_id for o in orders] == list(range(1, self.signals_sent + 1)), (
            f"{self.signals_sent} signals sent but orders are {[o.order_id for o in orders]}"
        )


def machine_for(
    factory: EngineFactory, *, name: str = "CashMachine"
) -> type[RuleBasedStateMachine]:
    """A CashMachine subclass driving ``factory``'s engine; use its ``TestCase``."""
    return type(name, (CashMachine,), {"factory": staticmethod(factory)})


__all__ = ["CashMachine", "engine_configs", "machine_for"]
