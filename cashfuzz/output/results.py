"""One checked scenario as data: the JSON result object and the per-event ledger.

``result_to_json`` is the ``--json`` form shared by ``run``, ``gate`` and
``replay``: money as decimal strings (cents with two decimals, prices and
equity in ticks with four), every config setting with its value, defaults
included. ``check_recorded`` runs ``invariants.check_scenario`` while keeping
each event with the snapshot the engine reported after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cashfuzz.invariants import (
    ALL_INVARIANTS,
    ORACLE_REFERENCE,
    CheckResult,
    check_factory,
    check_scenario,
    with_oracle,
)
from cashfuzz.reference_engine import (
    CancelIgnored,
    EngineConfig,
    EngineFactory,
    EngineUnderTest,
    Event,
    FillRefused,
    LedgerSnapshot,
    Observer,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    Scenario,
    scenario_to_dict,
)
from cashfuzz.reference_engine.money import format_cents, format_ticks

#: Keys of ``scenario_to_dict`` that are data, not settings.
_DATA_KEYS = ("format", "provenance", "description", "bars", "signals", "cancels")


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One logged event and the books right after it; ``index`` matches Violation.event_index.

    ``after`` leaves the order views out (``orders`` is empty): a row shows money,
    positions and marks, and keeping every event's orders would make a long run's
    memory grow with events x orders."""

    index: int
    event: Event
    after: LedgerSnapshot


@dataclass(frozen=True, slots=True)
class RecordedCheck:
    """A CheckResult plus the ledger row of every event the engine reported to its
    observer, and the names of the invariants that were actually checked."""

    result: CheckResult
    rows: tuple[LedgerRow, ...]
    invariants: tuple[str, ...]


def check_recorded(
    scenario: Scenario,
    factory: EngineFactory,
    *,
    determinism: bool = True,
    oracle: EngineFactory | None = None,
    record_rows: bool = True,
) -> RecordedCheck:
    """Check ``scenario`` on ``factory``'s engine, collecting every violation (not fail-fast).

    With ``oracle``, the log must also equal that engine's (``oracle_reference``).
    The engine's observer is the invariant monitor with a recorder in front of
    it, so the rows are exactly what the monitor saw (none with
    ``record_rows=False``, for output that does not show them). An engine or
    factory crash ends up in ``result.crash`` and ``result.traceback``; a protocol
    breach raises AdapterProtocolError (see ``check_scenario``).
    """
    rows: list[LedgerRow] = []
    engines: list[EngineUnderTest] = []
    check_factory(factory)  # the wrapper below would hide a wrong signature

    def recording_factory(config: EngineConfig, observer: Observer | None) -> EngineUnderTest:
        # only the first engine is the monitored one; the determinism re-run is not recorded
        first = not engines
        tee = observer
        if first and record_rows:

            def tee(event: Event, after: LedgerSnapshot) -> None:
                # a malformed snapshot is kept as it is: the protocol guard names it
                kept = after._replace(orders=()) if type(after) is LedgerSnapshot else after
                rows.append(LedgerRow(len(rows), event, kept))
                if observer is not None:
                    observer(event, after)

        engine = factory(config, tee)
        engines.append(engine)
        return engine

    result = check_scenario(scenario, recording_factory, fail_fast=False, determinism=determinism)
    if oracle is not None:
        result = with_oracle(result, oracle)
    skipped = set() if determinism else {"determinism"}
    skipped.update(result.not_applicable)
    checked = tuple(name for name in ALL_INVARIANTS if name not in skipped)
    if oracle is not None:
        checked += (ORACLE_REFERENCE,)
    return RecordedCheck(result, tuple(rows), checked)


def config_to_json(config_source: Scenario) -> dict[str, Any]:
    """Every setting of the scenario with its value (defaults filled in), money as strings."""
    return {
        key: value
        for key, value in scenario_to_dict(config_source).items()
        if key not in _DATA_KEYS
    }


def positions_to_json(snapshot: LedgerSnapshot) -> dict[str, int]:
    """Symbol -> shares held, for every symbol the books have seen."""
    return {position.symbol: position.quantity for position in snapshot.positions}


def snapshot_to_json(snapshot: LedgerSnapshot) -> dict[str, Any]:
    """Cash, reserved, available (cents) and equity (ticks) as decimal strings, and positions."""
    return {
        "cash": format_cents(snapshot.cash),
        "reserved": format_cents(snapshot.reserved),
        "available": format_cents(snapshot.available),
        "equity": format_ticks(snapshot.equity),
        "positions": positions_to_json(snapshot),
    }


def _fill(event: OrderFilled) -> dict[str, Any]:
    return {
        "order_id": event.order_id,
        "symbol": event.symbol,
        "side": event.side.value,
        "quantity": event.quantity,
        "price": format_ticks(event.price),
        "commission": format_cents(event.commission),
        "cash_delta": format_cents(event.cash_delta),
        "released": format_cents(event.released),
        "remaining": event.remaining,
        "timestamp": event.timestamp,
    }


def _rejection(event: OrderRejected) -> dict[str, Any]:
    return {
        "order_id": event.order_id,
        "signal_index": event.signal_index,
        "symbol": event.symbol,
        "side": event.side.value,
        "requested": event.requested,
        "reason": event.reason.value,
        "detail": event.detail,
        "timestamp": event.timestamp,
    }


def _resized(event: OrderAccepted) -> dict[str, Any]:
    return {
        "order_id": event.order_id,
        "signal_index": event.signal_index,
        "symbol": event.symbol,
        "side": event.side.value,
        "requested": event.requested,
        "quantity": event.quantity,
        "reason": None if event.reason is None else event.reason.value,
        "timestamp": event.timestamp,
    }


def _cancel(event: OrderCancelled | CancelIgnored) -> dict[str, Any]:
    if isinstance(event, OrderCancelled):
        return {
            "event": "OrderCancelled",
            "order_id": event.order_id,
            "cancel_index": event.cancel_index,
            "released": format_cents(event.released),
            "timestamp": event.timestamp,
        }
    return {
        "event": "CancelIgnored",
        "order_id": event.order_id,
        "cancel_index": event.cancel_index,
        "reason": event.reason.value,
        "state": None if event.state is None else event.state.value,
        "timestamp": event.timestamp,
    }


def _refused(event: FillRefused) -> dict[str, Any]:
    return {
        "order_id": event.order_id,
        "symbol": event.symbol,
        "side": event.side.value,
        "quantity": event.quantity,
        "price": format_ticks(event.price),
        "needed": format_cents(event.needed),
        "cash": format_cents(event.cash),
        "timestamp": event.timestamp,
    }


def result_to_json(result: CheckResult, *, engine: str | None = None) -> dict[str, Any]:
    """The JSON-ready result of checking one scenario.

    Keys: ok, engine, violations, fills, rejections, cancels (OrderCancelled and
    CancelIgnored), expired, refused_fills, resized, config, final (None when
    the engine crashed), events (the count), crash (None or the error text, naming the
    file and line it was raised at), traceback (None or the engine's formatted traceback),
    provenance (what found the scenario, as its file records it, or None).
    """
    events = result.events
    return {
        "ok": result.ok,
        "engine": engine,
        "violations": [violation.to_dict() for violation in result.violations],
        "fills": [_fill(e) for e in events if isinstance(e, OrderFilled)],
        "rejections": [_rejection(e) for e in events if isinstance(e, OrderRejected)],
        "cancels": [_cancel(e) for e in events if isinstance(e, OrderCancelled | CancelIgnored)],
        "expired": [
            {"order_id": e.order_id, "released": format_cents(e.released), "timestamp": e.timestamp}
            for e in events
            if isinstance(e, OrderExpired)
        ],
        "refused_fills": [_refused(e) for e in events if isinstance(e, FillRefused)],
        "resized": [
            _resized(e)
            for e in events
            if isinstance(e, OrderAccepted) and e.quantity != e.requested
        ],
        "config": config_to_json(result.scenario),
        "provenance": (
            None if result.scenario.provenance is None else dict(result.scenario.provenance)
        ),
        "final": None if result.final is None else snapshot_to_json(result.final),
        "events": len(events),
        "crash": result.crash,
        "traceback": result.traceback,
        "not_applicable": list(result.not_applicable),
    }


__all__ = [
    "LedgerRow",
    "RecordedCheck",
    "check_recorded",
    "config_to_json",
    "positions_to_json",
    "result_to_json",
    "snapshot_to_json",
]
