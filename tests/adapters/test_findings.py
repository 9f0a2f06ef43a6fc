"""Every checked-in finding in a real engine still fails, on the pinned version, as it says;
and what each adapter declares does not apply to its engine is what the engine does."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from cashfuzz.engines import resolve_engine
from cashfuzz.invariants import ALL_INVARIANTS, DECLARATIONS, check_scenario
from cashfuzz.reference_engine import OrderAccepted, OrderFilled, OrderRejected, load_scenario
from tests.adapters.engine_kit import kinds, require_engine, scenario

FINDINGS = Path(__file__).resolve().parents[2] / "examples" / "findings"
#: engine name in the file name -> (package, pytest marker)
ENGINES = {
    "backtrader": ("backtrader", pytest.mark.backtrader),
    "backtesting": ("backtesting", pytest.mark.backtesting),
    "nautilus": ("nautilus_trader", pytest.mark.nautilus),
}


def cases() -> list[object]:
    found = []
    for path in sorted(FINDINGS.glob("*.json")):
        engine, _, invariant = path.stem.partition("-")
        package, marker = ENGINES[engine]
        found.append(pytest.param(path, engine, invariant, package, id=path.stem, marks=marker))
    return found


def test_every_finding_file_names_an_engine_and_an_invariant() -> None:
    """File names are ENGINE-INVARIANT.json with a known engine and invariant."""
    names = [path.stem.partition("-") for path in FINDINGS.glob("*.json")]
    assert names, "no findings checked in"
    for engine, sep, invariant in names:
        assert sep
        assert engine in ENGINES
        assert invariant in ALL_INVARIANTS


@pytest.mark.parametrize(("path", "engine", "invariant", "package"), cases())
def test_finding_still_fails(path: Path, engine: str, invariant: str, package: str) -> None:
    """Replayed on its engine, the finding breaks the invariant its name gives; its
    description names that invariant and, in an "Engine behaviour:" sentence, what the
    engine did."""
    require_engine(package)
    found = load_scenario(path)
    result = check_scenario(found, resolve_engine(engine), fail_fast=False)
    assert invariant in {v.invariant for v in result.violations}, result.violations
    assert f"{invariant} broke" in found.description
    said = found.description.partition("Engine behaviour: ")[2]
    assert len(said.split()) >= 8, found.description


def _declared_away(engine: str) -> set[str]:
    adapter = type(resolve_engine(engine)(load_scenario(next(FINDINGS.glob(f"{engine}-*"))).config))
    return {name for flag, name in DECLARATIONS.items() if not getattr(adapter, flag, True)}


@pytest.mark.backtesting
def test_backtesting_declares_no_lifecycle_deviation() -> None:
    """backtesting.py's adapter opts out of none of the four lifecycle invariants."""
    require_engine("backtesting")
    assert _declared_away("backtesting") == set()


@pytest.mark.nautilus
def test_nautilus_answers_each_order_after_filling_the_one_before() -> None:
    """nautilus declares phase_order away, and truly: its venue answers a bar's market
    orders after the strategy's on_bar returns, each accepted and filled before it looks at
    the next (a SELL is judged against the position the BUY before it just made), and a
    cancel asked in on_bar meets an order it has not answered yet. With the declaration
    off, phase_order fires on exactly that."""
    require_engine("nautilus_trader")
    assert _declared_away("nautilus") == {"phase_order"}
    buy_sell_buy = scenario(
        [(1, "AAA", "10", "10", 100)],
        [
            {"timestamp": 1, "symbol": "AAA", "side": "BUY", "quantity": 3},
            {"timestamp": 1, "symbol": "AAA", "side": "SELL", "quantity": 5},
            {"timestamp": 1, "symbol": "AAA", "side": "BUY", "quantity": 1},
        ],
        [{"timestamp": 1, "order_id": 1}],
    )
    factory = resolve_engine("nautilus")
    result = check_scenario(buy_sell_buy, factory)
    assert result.ok, result.violations
    assert "phase_order" in result.not_applicable
    assert kinds(result.events) == [
        "MarketUpdated",
        "CancelIgnored",  # asked in on_bar, before the venue saw order 1
        "OrderAccepted",
        "OrderFilled",
        "OrderRejected",  # judged after order 1's fill ...
        "OrderAccepted",
        "OrderFilled",
    ]
    (rejected,) = [e for e in result.events if isinstance(e, OrderRejected)]
    assert "LONG 3" in rejected.detail  # ... against the position that fill made
    filled = [e.order_id for e in result.events if isinstance(e, OrderFilled | OrderAccepted)]
    assert filled == [1, 1, 3, 3]

    from cashfuzz.adapters.kit import Factory
    from cashfuzz.adapters.nautilus import NautilusEngine

    undeclared = type("Undeclared", (NautilusEngine,), {"logs_documented_phase_order": True})
    checked = check_scenario(buy_sell_buy, Factory(undeclared), only=["phase_order"])
    assert [v.invariant for v in checked.violations] == ["phase_order"]


@pytest.mark.backtesting
def test_backtesting_cancels_are_what_its_queue_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cancel of a queued order is OrderCancelled because backtesting.py took it off its
    queue: with an Order.cancel() that keeps the order queued, cancel_takes_effect fires."""
    require_engine("backtesting")
    import backtesting

    buy_then_cancel = scenario(
        [(1, "AAA", "10", "10", 100), (2, "AAA", "10", "10", 100)],
        [{"timestamp": 1, "symbol": "AAA", "side": "BUY", "quantity": 1}],
        [{"timestamp": 1, "order_id": 1}],
        fill_at="next_open",
    )
    factory = resolve_engine("backtesting")
    result = check_scenario(buy_then_cancel, factory)
    assert result.ok, result.violations
    assert "OrderCancelled" in kinds(result.events)
    assert "OrderFilled" not in kinds(result.events)
    monkeypatch.setattr(backtesting.backtesting.Order, "cancel", lambda order: None)
    kept = check_scenario(buy_then_cancel, factory, only=["cancel_takes_effect"])
    assert [v.invariant for v in kept.violations] == ["cancel_takes_effect"]


@pytest.mark.nautilus
def test_the_readme_search_reproduces_its_checked_in_finding(tmp_path: Path) -> None:
    """The README's `gate --engine nautilus --seed 1 --max-examples 200 --only
    stray_cancels_logged` shrinks to the very scenario checked in for that finding."""
    require_engine("nautilus_trader")
    from cashfuzz.search.gate import run_gate

    result = run_gate(
        resolve_engine("nautilus"),
        seed=1,
        max_examples=200,
        out_dir=tmp_path,
        engine_name="nautilus",
        only=["stray_cancels_logged"],
    )
    (found,) = result.counterexamples
    checked_in = load_scenario(FINDINGS / "nautilus-stray_cancels_logged.json")
    assert dataclasses.replace(found.scenario, description="") == dataclasses.replace(
        checked_in, description=""
    )


@pytest.mark.nautilus
def test_nautilus_locks_nothing_for_market_orders_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """nautilus's reserves_cash = False is what its CASH account does: with two market BUYs
    for 600.00 submitted and not yet answered, nothing of the 1,000.00 is locked."""
    require_engine("nautilus_trader")
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.enums import OrderStatus

    from cashfuzz.adapters.nautilus import adapter as nautilus

    seen: list[tuple[str, str, list[object]]] = []
    on_bar = nautilus._Drive.on_bar

    def watching(drive: Any, bar: Any) -> None:
        on_bar(drive, bar)
        account = drive.portfolio.account(nautilus.VENUE)
        statuses = [order.status for order in drive.cache.orders()]
        seen.append((str(account.balance_locked(USD)), str(account.balance_free(USD)), statuses))

    monkeypatch.setattr(nautilus._Drive, "on_bar", watching)
    two_buys = scenario(
        [(1, "AAA", "10", "10", 100)],
        [{"timestamp": 1, "symbol": "AAA", "side": "BUY", "quantity": 30}] * 2,
    )
    assert check_scenario(two_buys, resolve_engine("nautilus"), determinism=False).ok
    assert seen == [("0.00 USD", "1000.00 USD", [OrderStatus.SUBMITTED] * 2)]


@pytest.mark.nautilus
def test_the_gate_reports_what_nautilus_declares_away_as_not_applicable() -> None:
    """The gate's JUnit applicability for nautilus leaves out what its adapter declares
    (its lifecycle declaration too), built for a scenario it can run."""
    require_engine("nautilus_trader")
    from cashfuzz.commands.gate import applicable_invariants

    applicable = applicable_invariants(resolve_engine("nautilus"))
    left_out = set(ALL_INVARIANTS) - set(applicable)
    assert left_out == {"equity_identity", "fill_within_reservation", "phase_order"}
