"""Helpers for the invariant tests: hand-written scenarios and recorded runs.

Scenarios are written as plain dicts (the scenario-file form) and read with
``scenario_from_dict``; one symbol ``X`` unless said, timestamps 1, 2, 3, ...
A recorded run keeps, for every event, what the monitor hands each check:
the snapshot before, the event, the snapshot after and the log's totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cashfuzz.engines import reference_engine_factory
from cashfuzz.examples import load_example
from cashfuzz.invariants import LogTotals
from cashfuzz.reference_engine import (
    EngineFactory,
    Event,
    LedgerSnapshot,
    Scenario,
    run_scenario,
    scenario_from_dict,
)


def bar(
    timestamp: int, close: str, *, symbol: str = "X", volume: int = 1_000_000, open_: str = ""
) -> dict[str, Any]:
    """A bar whose high and low are its open and close (open defaults to close)."""
    opening = open_ or close
    low, high = sorted((opening, close), key=float)
    return {
        "timestamp": timestamp,
        "symbol": symbol,
        "open": opening,
        "high": high,
        "low": low,
        "close": close,
        "volume": volume,
    }


def buy(timestamp: int, quantity: int | None = None, **extra: Any) -> dict[str, Any]:
    """A BUY signal for ``X`` (or ``symbol=``)."""
    return _signal("BUY", timestamp, quantity, extra)


def sell(timestamp: int, quantity: int | None = None, **extra: Any) -> dict[str, Any]:
    """A SELL signal for ``X`` (or ``symbol=``); without a quantity it closes the position."""
    return _signal("SELL", timestamp, quantity, extra)


def _signal(
    side: str, timestamp: int, quantity: int | None, extra: dict[str, Any]
) -> dict[str, Any]:
    body: dict[str, Any] = {"timestamp": timestamp, "symbol": "X", "side": side}
    if quantity is not None:
        body["quantity"] = quantity
    body.update(extra)
    return body


def cancel(timestamp: int, order_id: int) -> dict[str, Any]:
    return {"timestamp": timestamp, "order_id": order_id}


def scenario(
    signals: list[dict[str, Any]],
    *,
    bars: list[dict[str, Any]] | None = None,
    cancels: list[dict[str, Any]] | None = None,
    **settings: Any,
) -> Scenario:
    """A scenario with 1000.00 of cash, fills at the same bar's close and one bar of
    ``X`` at 10.00, unless ``settings`` / ``bars`` say otherwise."""
    raw: dict[str, Any] = {
        "initial_cash": "1000",
        "fill_at": "same_close",
        "bars": bars if bars is not None else [bar(1, "10")],
        "signals": signals,
        "cancels": cancels or [],
    }
    raw.update(settings)
    return scenario_from_dict(raw)


def rich_scenario() -> Scenario:
    """Two symbols over four bars with commission, a minimum fee, slippage and a volume
    cap: partial fills, a sale, a rejection, a cancel, an ignored cancel and an expiry."""
    bars_ = [bar(t, "100", volume=10) for t in (1, 2, 3, 4)]
    bars_ += [
        bar(t, close, symbol="Y") for t, close in ((1, "50"), (2, "50"), (3, "49"), (4, "51"))
    ]
    return scenario(
        [
            buy(1, 8, time_in_force="GTC"),
            buy(1, 10, symbol="Y"),
            buy(1, 5, symbol="Y", time_in_force="GTC"),
            sell(1),
            sell(2, symbol="Y"),
            buy(3, 20),
        ],
        bars=bars_,
        cancels=[cancel(1, 3), cancel(4, 1)],
        initial_cash="5000",
        fill_at="next_open",
        max_participation="0.5",
        costs={"commission_rate": "0.001", "commission_min": "1", "slippage_bps": "5"},
    )


@dataclass(frozen=True, slots=True)
class Transition:
    """What the monitor hands the checks for event ``index``."""

    index: int
    before: LedgerSnapshot
    event: Event
    after: LedgerSnapshot
    totals: LogTotals


def opening(initial_cash: int) -> LedgerSnapshot:
    """The books before the first event: initial cash and nothing else."""
    return LedgerSnapshot(initial_cash, initial_cash, 0, initial_cash * 100, (), (), ())


def record(
    scenario_: Scenario, factory: EngineFactory = reference_engine_factory
) -> list[Transition]:
    """Run ``scenario_`` and keep every (before, event, after, totals) the monitor would see."""
    transitions: list[Transition] = []
    totals = LogTotals()
    previous = [opening(scenario_.config.initial_cash)]

    def observer(event: Event, after: LedgerSnapshot) -> None:
        totals.add(event)
        copy = LogTotals(totals.cash_delta, dict(totals.shares))
        transitions.append(Transition(len(transitions), previous[-1], event, after, copy))
        previous.append(after)

    run_scenario(scenario_, factory, observer)
    return transitions


def real_runs() -> dict[str, list[Transition]]:
    """Recorded reference runs: the two GOOGL/AAPL examples and ``rich_scenario``."""
    return {
        "googl-aapl": record(load_example("googl-aapl")),
        "googl-aapl-kelly": record(load_example("googl-aapl-kelly")),
        "rich": record(rich_scenario()),
    }
