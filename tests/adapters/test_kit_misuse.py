"""The adapter kit's honesty: what an adapter reports that cannot have happened is the
adapter's error (exit 2, saying what to change), reservations are checked only when the
engine declares them, and a signal before its symbol's first bar never crashes the kit."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.adapters import Account, Factory, KitMisuse, Limits, StepEngine, WholeRunEngine
from cashfuzz.cli import main
from cashfuzz.engines import resolve_engine
from cashfuzz.invariants import AdapterProtocolError, check_scenario
from cashfuzz.reference_engine import (
    EngineConfig,
    OrderFilled,
    OrderRejected,
    Reason,
    ScenarioError,
    Step,
    run_scenario,
    write_scenario,
)
from tests.adapters.engine_kit import kinds, require_engine, scenario


class HoldingBroker:
    """Holds back quantity x price x 2 for a BUY until it fills, at the next bar's open
    (``partial``: one share per bar)."""

    def __init__(self, cash: Decimal, partial: bool) -> None:
        self.cash = cash
        self.partial = partial
        self.positions: dict[str, int] = {}
        self.orders: dict[int, list[Any]] = {}  # id -> [symbol, open shares, held]
        self.last_id = 0

    def order(self, symbol: str, quantity: int, price: Decimal) -> tuple[int, Decimal]:
        self.last_id += 1
        held = quantity * price * 2
        self.orders[self.last_id] = [symbol, quantity, held]
        return self.last_id, held

    def open(self, opens: dict[str, Decimal]) -> list[tuple[int, int, Decimal, Decimal]]:
        """Fill what it can: (id, shares, price, released) per fill."""
        fills = []
        for order_id, order in list(self.orders.items()):
            symbol, quantity, held = order
            if symbol not in opens:
                continue
            shares = 1 if self.partial else quantity
            released = held * shares / quantity
            order[1], order[2] = quantity - shares, held - released
            if order[1] == 0:
                del self.orders[order_id]
            self.cash -= shares * opens[symbol]
            self.positions[symbol] = self.positions.get(symbol, 0) + shares
            fills.append((order_id, shares, opens[symbol], released))
        return fills


class Holding(StepEngine):
    """HoldingBroker behind the kit; the class attributes choose what it tells the tape."""

    reserves_cash = True
    reports_equity = False
    partial = False
    tells_released = False

    def __init__(self, config: EngineConfig, observer: Any = None) -> None:
        super().__init__(config, observer)
        self.broker = HoldingBroker(Decimal(config.initial_cash) / 100, self.partial)
        self.closes: dict[str, Decimal] = {}

    def account(self) -> Account:
        return Account(self.broker.cash, dict(self.broker.positions))

    def on_step(self, step: Step) -> None:
        opens = {bar.symbol: Decimal(bar.open) / 10_000 for bar in step.bars}
        for order_id, shares, price, released in self.broker.open(opens):
            freed = released if self.tells_released else None
            self.tape.filled(order_id, shares, price, released=freed)
        self.closes.update({bar.symbol: Decimal(bar.close) / 10_000 for bar in step.bars})
        for signal in step.signals:
            if quantity := self.tape.size(signal):
                key, held = self.broker.order(signal.symbol, quantity, self.closes[signal.symbol])
                self.tape.placed(key, quantity, reserved=held)


def one_buy(quantity: int = 1) -> Any:
    return scenario(
        [(t, "AAA", "0.01", "0.01", 100) for t in range(4)],
        [{"timestamp": 0, "symbol": "AAA", "side": "BUY", "quantity": quantity}],
        initial_cash="0.50",
        fill_at="next_open",
    )


def test_a_completing_fill_releases_the_rest_in_its_event_and_in_the_order_view() -> None:
    """Without released=, the fill that completes the order releases all it holds, and the
    order view says so too: fill_within_reservation holds, as the ledger reads."""
    result = check_scenario(one_buy(), Factory(Holding))
    assert "fill_within_reservation" not in result.not_applicable
    assert result.ok, result.violations
    fill = next(e for e in result.events if isinstance(e, OrderFilled))
    assert fill.released == 2
    assert result.final is not None
    order = result.final.orders[0]
    assert (order.released, order.reserved, order.cash_flow) == (2, 0, -1)


def test_partial_fills_need_released_and_then_hold() -> None:
    """A fill that leaves shares open while the order holds cash must say what it
    released; told, the reservation check holds; not told, it is the adapter's error."""

    class Partial(Holding):
        partial = True

    class PartialTold(Partial):
        tells_released = True

    held = check_scenario(one_buy(3), Factory(PartialTold))
    assert held.ok, held.violations
    released = [e.released for e in held.events if isinstance(e, OrderFilled)]
    assert released == [2, 2, 2]
    with pytest.raises(KitMisuse, match=r"leaves 2 share\(s\) open: pass released= to tape"):
        check_scenario(one_buy(3), Factory(Partial))


def test_a_reservation_without_reserves_cash_is_an_adapter_error(tmp_path: Path) -> None:
    """reserved= (or released=) while reserves_cash is False would have the reservation
    check skipped in silence: exit 2, telling the user to set reserves_cash = True."""

    class Undeclared(Holding):
        reserves_cash = False

    with pytest.raises(KitMisuse, match=r"reserves_cash is False.*set reserves_cash = True"):
        check_scenario(one_buy(), Factory(Undeclared))
    tape = Undeclared(one_buy().config).tape
    tape.steps.append(one_buy().steps()[0])
    tape.begin(0)
    tape.placed("k", 1)
    with pytest.raises(KitMisuse, match=r"released='0\.02'\) but the engine's reserves_cash"):
        tape.filled("k", 1, "0.01", released="0.02")


def test_the_cli_names_the_misreport_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cashfuzz run` on an adapter that reserves without declaring it: exit 2, no finding."""
    adapter = tmp_path / "undeclared_adapter.py"
    adapter.write_text(
        "from cashfuzz.adapters import Factory\n"
        "from tests.adapters.test_kit_misuse import Holding\n\n\n"
        "class Undeclared(Holding):\n    reserves_cash = False\n\n\n"
        "factory = Factory(Undeclared)\n",
        encoding="utf-8",
    )
    path = write_scenario(one_buy(), tmp_path / "one.json")
    assert main(["run", str(path), "--engine", f"{adapter}:factory"]) == 2
    err = capsys.readouterr().err
    assert "set reserves_cash = True" in err
    assert "CRASHED" not in err


class Rejects(StepEngine):
    """Rejects every signal, under the key the class names (None: the documented way)."""

    reports_equity = False
    key: Any = "same-key"

    def account(self) -> Account:
        return Account(self.config.initial_cash / 100)

    def on_step(self, step: Step) -> None:
        for _signal in step.signals:
            self.tape.rejected(self.key, "insufficient cash")


class RejectsWithoutKey(Rejects):
    key = None


def two_buys() -> Any:
    return scenario(
        [(1, "AAA", "10", "10", 100)],
        [{"timestamp": 1, "symbol": "AAA", "side": "BUY", "quantity": 1}] * 2,
    )


def test_a_key_reused_for_another_signal_is_an_adapter_error() -> None:
    """A second rejected(key) (or placed, submitted) with a key already used is the
    adapter's error naming the key, the order and tape.rejected(None, reason); with None
    each signal is its own rejected order."""
    with pytest.raises(KitMisuse) as raised:
        check_scenario(two_buys(), Factory(Rejects))
    assert isinstance(raised.value, AdapterProtocolError)
    assert str(raised.value) == (
        "the adapter misreports to the kit: key 'same-key' is already order 1 (REJECTED); "
        "give each order its own key, or reject a signal that never became an order with "
        "tape.rejected(None, reason)"
    )
    result = check_scenario(two_buys(), Factory(RejectsWithoutKey))
    assert result.ok, result.violations
    rejected = [e for e in result.events if isinstance(e, OrderRejected)]
    assert [(e.order_id, e.reason) for e in rejected] == [
        (1, Reason.INSUFFICIENT_CASH),
        (2, Reason.INSUFFICIENT_CASH),
    ]

    class PlacesTwice(Rejects):
        def on_step(self, step: Step) -> None:
            for _signal in step.signals:
                self.tape.placed("k", 1)

    with pytest.raises(KitMisuse, match=r"key 'k' is already order 1 \(ACCEPTED\)"):
        check_scenario(two_buys(), Factory(PlacesTwice))


def test_reports_the_kit_cannot_place_are_adapter_errors() -> None:
    """A fill of an order never placed, a signal reported twice, and a broker without
    equity under reports_equity each say what to change, as KitMisuse."""

    class FillsStranger(Rejects):
        def on_step(self, step: Step) -> None:
            self.tape.filled("stranger", 1, 10)

    class TooMany(Rejects):
        key = None

        def on_step(self, step: Step) -> None:
            for _ in range(len(step.signals) + 1):
                self.tape.rejected(None, "no")

    class NoEquity(Rejects):
        reports_equity = True

    cases = (
        (FillsStranger, "order 'stranger' was never placed: report each order"),
        (TooMany, "order 3 was reported beyond them: report each signal once"),
        (NoEquity, "gave no equity: return Account"),
    )
    for engine, message in cases:
        with pytest.raises(KitMisuse, match=message):
            check_scenario(two_buys(), Factory(engine))


class Sizes(StepEngine):
    """Sizes every signal with tape.size and places what it says, filling nothing."""

    reports_equity = False

    def account(self) -> Account:
        return Account(self.config.initial_cash / 100)

    def on_step(self, step: Step) -> None:
        self.tape.trade(lambda signal, quantity: (step.timestamp, signal.symbol))


def early_signals() -> Any:
    return scenario(
        [(1, "AAA", "1", "1", 1000)],
        [
            {"timestamp": 0, "symbol": "AAA", "side": "BUY"},
            {"timestamp": 0, "symbol": "AAA", "side": "BUY", "quantity": 2},
            {"timestamp": 0, "symbol": "AAA", "side": "SELL"},
        ],
        initial_cash="100",
        fill_at="next_open",
    )


def test_a_buy_before_its_symbol_s_first_bar_is_rejected_no_price_as_the_reference() -> None:
    """tape.size logs the reference engine's NO_PRICE rejection for a BUY with no bar yet
    (sized or not) instead of crashing; both engines log the same rejections."""
    result = check_scenario(early_signals(), Factory(Sizes))
    assert result.crash is None
    assert result.ok, result.violations
    ours = [(e.order_id, e.reason, e.requested) for e in result.events if _rejected(e)]
    reference = run_scenario(early_signals())
    theirs = [(e.order_id, e.reason, e.requested) for e in reference.events if _rejected(e)]
    assert (
        ours
        == theirs
        == [
            (1, Reason.NO_PRICE, 0),
            (2, Reason.NO_PRICE, 0),
            (3, Reason.NOTHING_TO_SELL, 0),
        ]
    )


def _rejected(event: object) -> bool:
    return isinstance(event, OrderRejected)


def test_an_order_placed_without_a_mark_is_accepted() -> None:
    """placed() needs no mark: an adapter whose broker takes an order before any price may
    report it (a limit of 0, no reservation)."""

    class PlacesBlind(Sizes):
        def on_step(self, step: Step) -> None:
            for signal in step.signals:
                self.tape.placed(("k", self.tape.timestamp, id(signal)), 1)

    result = check_scenario(early_signals(), Factory(PlacesBlind), determinism=False)
    assert result.crash is None
    assert kinds(result.events)[:3] == ["OrderAccepted"] * 3


class Unaligned(WholeRunEngine):
    """A whole-run engine that needs a bar for every symbol at every timestamp."""

    reports_equity = False
    limits = Limits(aligned=True)
    runs = 0

    def account(self) -> Account:
        return Account(self.config.initial_cash / 100)

    def run(self, steps: tuple[Step, ...]) -> None:
        type(self).runs += 1
        for index, _step in enumerate(steps):
            self.tape.begin(index)
            self.tape.trade(lambda signal, quantity: signal)


def test_a_whole_run_engine_refuses_signals_at_a_timestamp_without_bars() -> None:
    """Its limits see the signals and cancels, not only the bars: a timestamp with signals
    but no bars is a ScenarioError naming it, before the broker runs."""
    Unaligned.runs = 0
    with pytest.raises(ScenarioError, match="timestamp=0 has signals or cancels but no bars"):
        check_scenario(early_signals(), Factory(Unaligned))
    assert Unaligned.runs == 0
    cancelled = scenario(
        [(0, "AAA", "1", "1", 1000), (2, "AAA", "1", "1", 1000)],
        cancels=[{"timestamp": 1, "order_id": 1}],
    )
    with pytest.raises(ScenarioError, match="timestamp=1 has signals or cancels but no bars"):
        check_scenario(cancelled, Factory(Unaligned))


@pytest.mark.parametrize(
    ("engine", "package"),
    [("backtesting", "backtesting"), ("backtrader", "backtrader"), ("nautilus", "nautilus_trader")],
)
def test_engine_adapters_refuse_a_signal_before_any_bar_as_bad_input(
    engine: str, package: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cashfuzz run` of a scenario whose first signal comes before any bar exits 2 naming
    the timestamp on each engine's adapter, instead of crashing inside it."""
    require_engine(package)
    late = scenario(
        [(1, "AAA", "1", "1", 1000)],
        [{"timestamp": 0, "symbol": "AAA", "side": "BUY", "quantity": 1}],
        initial_cash="100",
    )
    path = write_scenario(late, tmp_path / "late.json")
    assert resolve_engine(engine).unsupported(late) is not None  # type: ignore[attr-defined]
    assert main(["run", str(path), "--engine", engine]) == 2
    err = capsys.readouterr().err
    assert "timestamp=0 has signals or cancels but no bars" in err


def test_a_whole_run_misreport_is_still_the_adapter_s_and_a_broker_error_a_crash() -> None:
    """A misreport inside a whole-run broker's run surfaces as KitMisuse at its step; an
    exception of the broker's own stays a crash of the engine (a finding, exit 1)."""

    class ReusesInRun(Unaligned):
        limits = Limits()

        def run(self, steps: tuple[Step, ...]) -> None:
            for index, _step in enumerate(steps):
                self.tape.begin(index)
                self.tape.trade(lambda signal, quantity: "one-key")

    class BrokerFails(Unaligned):
        limits = Limits()

        def run(self, steps: tuple[Step, ...]) -> None:
            self.tape.begin(0)
            raise RuntimeError("broker exploded")

    with pytest.raises(KitMisuse, match="key 'one-key' is already order 1"):
        check_scenario(two_buys(), Factory(ReusesInRun))
    crashed = check_scenario(two_buys(), Factory(BrokerFails))
    assert crashed.crash is not None
    assert "RuntimeError: broker exploded" in crashed.crash
