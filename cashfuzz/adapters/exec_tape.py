"""Read an exec engine's tape (JSON lines, protocol 1) into events and snapshots.

The format is specified in ``docs/engine-protocol.md``. This module only reads:
every line is checked for its kind, its keys (unknown keys are an error), the
type of each value, money as decimal strings with no more decimals than the
unit holds, and timestamps that belong to the scenario, in timeline order. It
never corrects a value and never derives what an invariant checks: cash,
reservations, orders and positions are the engine's own. A tape that breaks the
format raises ``TapeError`` (exit 2) naming the line, the field and a short form
of the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cashfuzz.invariants import AdapterProtocolError
from cashfuzz.reference_engine import (
    CancelIgnored,
    Event,
    FillRefused,
    LedgerSnapshot,
    MarketUpdated,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderState,
    OrderView,
    PositionView,
    Reason,
    Scenario,
    Side,
    TimeInForce,
    Timestamp,
)
from cashfuzz.reference_engine.money import CENTS_PER_UNIT, TICKS_PER_UNIT

#: The protocol versions this cashfuzz reads.
PROTOCOL_VERSION = 1
#: Scenario features an engine may declare in its hello line as ``unsupported``.
FEATURES = (
    "random_slippage",
    "partial_fills",
    "same_close",
    "reject_policy",
    "commission_min",
    "gtc",
    "cancels",
)
#: Error codes of an ``error`` line: the first two mean the engine cannot run this
#: scenario (exit 2, like an unsupported scenario); ``internal`` is a crash (a finding).
ERROR_CODES = ("unsupported", "bad_input", "internal")

_CENTS = re.compile(r"-?(0|[1-9][0-9]{0,29})(\.[0-9]{1,2})?")
_TICKS = re.compile(r"-?(0|[1-9][0-9]{0,29})(\.[0-9]{1,4})?")
_SHORT = 60


class TapeError(AdapterProtocolError):
    """A tape that breaks the protocol: the engine's or its adapter's error, not a finding
    (exit 2; the gate stops at once). ``line`` is 1-based, 0 for the tape as a whole."""

    def __init__(self, line: int, message: str) -> None:
        where = f"tape line {line}: " if line else "tape: "
        super().__init__(where + message)
        # the exec protocol's own wording, not the Python engine protocol's
        self.args = (f"{where}{message} (the exec protocol: docs/engine-protocol.md)",)
        self.line = line
        self.detail = message


def short(value: object) -> str:
    """A value as JSON, cut to a readable length."""
    if isinstance(value, Decimal):
        return str(value)  # a JSON number read exactly: show it as written
    try:
        text = json.dumps(value, default=str)
    except ValueError:
        text = repr(value)
    return text if len(text) <= _SHORT else text[: _SHORT - 3] + "..."


@dataclass(frozen=True, slots=True)
class Hello:
    """The engine's first line: what it speaks and what its snapshots report."""

    protocol: int
    engine: str
    reserves_cash: bool
    reports_equity: bool
    unsupported: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Entry:
    """One event of the tape, the scenario step it belongs to, and the books after it."""

    step: int
    event: Event
    after: LedgerSnapshot


@dataclass(frozen=True, slots=True)
class EngineErrorLine:
    """An ``error`` line: the engine says it could not finish."""

    line: int
    code: str
    message: str


# --- one JSON line ---------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, value in pairs:
        if key in body:
            raise ValueError(f"key {key!r} appears twice")
        body[key] = value
    return body


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_line(number: int, raw: bytes) -> dict[str, Any]:
    """One tape line as a JSON object with a string ``kind``; raise TapeError."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TapeError(number, f"not UTF-8: {short(raw[:40].decode('latin-1'))}") from None
    try:
        body = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicates,
        )
    except ValueError as error:
        raise TapeError(number, f"not a JSON object ({error}): {short(text)}") from None
    if not isinstance(body, dict):
        raise TapeError(number, f"a line must be a JSON object, not {short(body)}")
    kind = body.get("kind")
    if not isinstance(kind, str):
        raise TapeError(number, f"kind={short(kind)} must be a string: hello, event, end or error")
    return body


class _Fields:
    """Typed reads of one object's fields; every error names the line and the path."""

    def __init__(self, line: int, path: str, body: Mapping[str, Any], allowed: Sequence[str]):
        self.line = line
        self.path = path
        self.body = body
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise self.error(
                unknown[0], body[unknown[0]], f"is not a field here; fields: {', '.join(allowed)}"
            )

    def error(self, key: str, value: object, problem: str) -> TapeError:
        name = f"{self.path}.{key}" if self.path else key
        return TapeError(self.line, f"{name}={short(value)} {problem}")

    def missing(self, key: str, why: str = "") -> TapeError:
        name = f"{self.path}.{key}" if self.path else key
        return TapeError(self.line, f"{name} is missing{why}")

    def has(self, key: str) -> bool:
        return key in self.body

    def get(self, key: str, read: Callable[[str], Any], default: Any = None) -> Any:
        return read(key) if key in self.body else default

    def value(self, key: str) -> object:
        """The raw value of a required field."""
        if key not in self.body:
            raise self.missing(key)
        return self.body[key]

    def integer(self, key: str, *, minimum: int | None = 0) -> int:
        value = self.value(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, value, "must be a JSON integer")
        if minimum is not None and value < minimum:
            raise self.error(key, value, f"must be >= {minimum}")
        return value

    def text(self, key: str) -> str:
        value = self.value(key)
        if not isinstance(value, str):
            raise self.error(key, value, "must be a string")
        return value

    def boolean(self, key: str) -> bool:
        value = self.value(key)
        if not isinstance(value, bool):
            raise self.error(key, value, "must be true or false")
        return value

    def _units(self, key: str, pattern: re.Pattern[str], places: int, unit: str) -> int:
        value = self.value(key)
        if not isinstance(value, str):
            raise self.error(
                key,
                value,
                f'must be a decimal string such as "12.34" ({unit}), '
                f"not a JSON {type(value).__name__}",
            )
        if pattern.fullmatch(value) is None:
            raise self.error(
                key,
                value,
                f"must be a decimal string with at most {places} decimals ({unit}); "
                "round it in the engine",
            )
        whole, _, fraction = value.lstrip("-").partition(".")
        scale: int = CENTS_PER_UNIT if places == 2 else TICKS_PER_UNIT
        units = int(whole) * scale + int(fraction.ljust(places, "0") or "0")
        return -units if value.startswith("-") else units

    def cents(self, key: str) -> int:
        return self._units(key, _CENTS, 2, "money, to the cent")

    def ticks(self, key: str) -> int:
        return self._units(key, _TICKS, 4, "a price or value, to 0.0001")

    def choice(self, key: str, kind: type[Any]) -> Any:
        value = self.text(key)
        try:
            return kind(value)
        except ValueError:
            valid = " | ".join(member.value for member in kind)
            raise self.error(key, value, f"is not one of {valid}") from None

    def zero_unless(self, key: str, flag: bool, read: Callable[[str], int], flag_name: str) -> int:
        """A field required when ``flag`` is set, and absent (or zero) when it is not."""
        if flag:
            if key not in self.body:
                raise self.missing(key, f" (required because hello says {flag_name}=true)")
            return read(key)
        if key in self.body and read(key) != 0:
            raise self.error(
                key, self.body[key], f"must be absent or zero: hello says {flag_name}=false"
            )
        return 0


# --- hello, end, error --------------------------------------------------------------


def read_hello(number: int, body: Mapping[str, Any]) -> Hello:
    """The hello line; raise TapeError for another kind, version or a bad field."""
    if body.get("kind") != "hello":
        raise TapeError(
            number,
            f'the first line must be {{"kind": "hello", ...}}, not kind={short(body.get("kind"))}',
        )
    fields = _Fields(
        number,
        "",
        body,
        ("kind", "protocol", "engine", "reserves_cash", "reports_equity", "unsupported"),
    )
    protocol = fields.integer("protocol", minimum=1)
    if protocol != PROTOCOL_VERSION:
        raise fields.error(
            "protocol",
            protocol,
            f"is not a version this cashfuzz reads (it reads {PROTOCOL_VERSION})",
        )
    engine = fields.get("engine", fields.text, "")
    unsupported = body.get("unsupported", [])
    if not isinstance(unsupported, list) or not all(isinstance(item, str) for item in unsupported):
        raise fields.error("unsupported", unsupported, "must be a list of feature names")
    for item in unsupported:
        if item not in FEATURES:
            raise fields.error(
                "unsupported", item, f"is not a feature name; features: {', '.join(FEATURES)}"
            )
    return Hello(
        protocol=protocol,
        engine=engine,
        reserves_cash=fields.boolean("reserves_cash"),
        reports_equity=fields.boolean("reports_equity"),
        unsupported=tuple(sorted(set(unsupported))),
    )


def read_end(number: int, body: Mapping[str, Any], events: int) -> None:
    """The end line; its ``events`` must count the event lines before it."""
    fields = _Fields(number, "", body, ("kind", "events"))
    count = fields.integer("events")
    if count != events:
        raise fields.error("events", count, f"but the tape has {events} event line(s)")


def read_error(number: int, body: Mapping[str, Any]) -> EngineErrorLine:
    """An error line: its code and message."""
    fields = _Fields(number, "", body, ("kind", "code", "message"))
    code = fields.text("code")
    if code not in ERROR_CODES:
        raise fields.error("code", code, f"is not one of {' | '.join(ERROR_CODES)}")
    return EngineErrorLine(number, code, fields.get("message", fields.text, ""))


# --- events -------------------------------------------------------------------------------

_EVENT_KEYS: dict[str, tuple[str, ...]] = {
    "MarketUpdated": ("marks",),
    "OrderAccepted": (
        "order_id",
        "signal_index",
        "symbol",
        "side",
        "quantity",
        "requested",
        "reference_price",
        "limit_price",
        "reserved",
        "time_in_force",
        "reason",
    ),
    "OrderRejected": (
        "order_id",
        "signal_index",
        "symbol",
        "side",
        "requested",
        "reason",
        "detail",
    ),
    "OrderFilled": (
        "order_id",
        "symbol",
        "side",
        "quantity",
        "price",
        "commission",
        "cash_delta",
        "released",
        "filled_total",
        "remaining",
    ),
    "OrderCancelled": ("order_id", "cancel_index", "released"),
    "CancelIgnored": ("order_id", "cancel_index", "reason", "state"),
    "OrderExpired": ("order_id", "released"),
    "FillRefused": ("order_id", "symbol", "side", "quantity", "price", "needed", "cash"),
}
_ORDER_KEYS = (
    "order_id",
    "symbol",
    "side",
    "quantity",
    "filled",
    "state",
    "time_in_force",
    "reserved",
    "reserved_initial",
    "released",
    "cash_flow",
    "limit_price",
)
_POSITION_KEYS = ("symbol", "quantity", "cost", "realized_pnl")
_AFTER_KEYS = ("cash", "reserved", "equity", "orders", "positions", "marks")


class TapeReader:
    """Turns a scenario's event lines into ``Entry`` values, one line at a time.

    Marks the engine announced in ``MarketUpdated`` events stand in for an ``after``
    without ``marks``; nothing else is carried from one line to the next.
    """

    def __init__(self, scenario: Scenario, hello: Hello) -> None:
        self.hello = hello
        self.initial_cash = scenario.config.initial_cash
        steps = scenario.steps()
        self._steps: dict[tuple[str, Timestamp], int] = {
            (type(step.timestamp).__name__, step.timestamp): index
            for index, step in enumerate(steps)
        }
        self._known = ", ".join(short(step.timestamp) for step in steps[:5]) + (
            ", ..." if len(steps) > 5 else ""
        )
        self._step = 0
        self._marks: dict[str, int] = {}

    def read(self, number: int, body: Mapping[str, Any]) -> Entry:
        """One ``event`` line; raise TapeError."""
        name = body.get("event")
        if name not in _EVENT_KEYS:
            raise TapeError(number, f"event={short(name)} is not one of {', '.join(_EVENT_KEYS)}")
        fields = _Fields(
            number, "", body, ("kind", "event", "timestamp", *_EVENT_KEYS[name], "after")
        )
        timestamp, step = self._timestamp(fields)
        event = getattr(self, f"_{name}")(fields, timestamp)
        if "after" not in body:
            raise fields.missing("after", " (the books after the event)")
        after = self._after(number, body["after"])
        return Entry(step, event, after)

    def _timestamp(self, fields: _Fields) -> tuple[Timestamp, int]:
        if not fields.has("timestamp"):
            raise fields.missing("timestamp")
        value = fields.body["timestamp"]
        key = (type(value).__name__, value)
        step = (
            self._steps.get(key)
            if isinstance(value, int | str) and not isinstance(value, bool)
            else None
        )
        if step is None:
            raise fields.error(
                "timestamp", value, f"is not a timestamp of the scenario ({self._known})"
            )
        if step < self._step:
            raise fields.error(
                "timestamp", value, "goes back in time: events must follow the scenario's timeline"
            )
        self._step = step
        return value, step

    def _reserved(self, fields: _Fields, key: str) -> int:
        return fields.zero_unless(key, self.hello.reserves_cash, fields.cents, "reserves_cash")

    # one reader per event kind, named after it

    def _MarketUpdated(self, fields: _Fields, timestamp: Timestamp) -> MarketUpdated:
        marks = self._marks_of(fields, "marks")
        self._marks.update(marks)
        return MarketUpdated(timestamp, marks)

    def _OrderAccepted(self, fields: _Fields, timestamp: Timestamp) -> OrderAccepted:
        order_id = fields.integer("order_id", minimum=1)
        quantity = fields.integer("quantity")
        reason = fields.get(
            "reason", lambda key: None if fields.body[key] is None else fields.choice(key, Reason)
        )
        return OrderAccepted(
            timestamp,
            order_id,
            fields.get("signal_index", fields.integer, order_id - 1),
            fields.text("symbol"),
            fields.choice("side", Side),
            quantity,
            fields.get("requested", fields.integer, quantity),
            fields.get("reference_price", fields.ticks, 0),
            fields.get("limit_price", fields.ticks, 0),
            self._reserved(fields, "reserved"),
            fields.choice("time_in_force", TimeInForce),
            reason,
        )

    def _OrderRejected(self, fields: _Fields, timestamp: Timestamp) -> OrderRejected:
        order_id = fields.integer("order_id", minimum=1)
        return OrderRejected(
            timestamp,
            order_id,
            fields.get("signal_index", fields.integer, order_id - 1),
            fields.text("symbol"),
            fields.choice("side", Side),
            fields.integer("requested"),
            fields.choice("reason", Reason),
            fields.get("detail", fields.text, ""),
        )

    def _OrderFilled(self, fields: _Fields, timestamp: Timestamp) -> OrderFilled:
        return OrderFilled(
            timestamp,
            fields.integer("order_id", minimum=1),
            fields.text("symbol"),
            fields.choice("side", Side),
            fields.integer("quantity"),
            fields.ticks("price"),
            fields.cents("commission"),
            fields.cents("cash_delta"),
            self._reserved(fields, "released"),
            fields.integer("filled_total"),
            fields.integer("remaining"),
        )

    def _OrderCancelled(self, fields: _Fields, timestamp: Timestamp) -> OrderCancelled:
        return OrderCancelled(
            timestamp,
            fields.integer("order_id", minimum=1),
            fields.integer("cancel_index"),
            self._reserved(fields, "released"),
        )

    def _CancelIgnored(self, fields: _Fields, timestamp: Timestamp) -> CancelIgnored:
        state = fields.get(
            "state",
            lambda key: None if fields.body[key] is None else fields.choice(key, OrderState),
        )
        return CancelIgnored(
            timestamp,
            fields.integer("order_id", minimum=1),
            fields.integer("cancel_index"),
            fields.choice("reason", Reason),
            state,
        )

    def _OrderExpired(self, fields: _Fields, timestamp: Timestamp) -> OrderExpired:
        return OrderExpired(
            timestamp, fields.integer("order_id", minimum=1), self._reserved(fields, "released")
        )

    def _FillRefused(self, fields: _Fields, timestamp: Timestamp) -> FillRefused:
        return FillRefused(
            timestamp,
            fields.integer("order_id", minimum=1),
            fields.text("symbol"),
            fields.choice("side", Side),
            fields.integer("quantity"),
            fields.ticks("price"),
            fields.cents("needed"),
            fields.cents("cash"),
        )

    # --- the books after the event ------------------------------------------------------

    def _marks_of(self, fields: _Fields, key: str) -> tuple[tuple[str, int], ...]:
        if not fields.has(key):
            raise fields.missing(key)
        raw = fields.body[key]
        if not isinstance(raw, dict):
            raise fields.error(key, raw, 'must be an object {"SYMBOL": "price", ...}')
        inner = _Fields(
            fields.line, f"{fields.path}.{key}" if fields.path else key, raw, tuple(raw)
        )
        return tuple((symbol, inner.ticks(symbol)) for symbol in raw)

    def _after(self, number: int, raw: object) -> LedgerSnapshot:
        if not isinstance(raw, dict):
            raise TapeError(
                number, f"after={short(raw)} must be an object with cash, orders, positions, ..."
            )
        fields = _Fields(number, "after", raw, _AFTER_KEYS)
        hello = self.hello
        cash = fields.cents("cash")
        reserved = fields.zero_unless(
            "reserved", hello.reserves_cash, fields.cents, "reserves_cash"
        )
        orders = self._orders(fields)
        positions = self._positions(fields)
        marks = dict(self._marks_of(fields, "marks")) if fields.has("marks") else dict(self._marks)
        if hello.reports_equity:
            equity = fields.ticks("equity")
        else:
            if fields.has("equity"):
                raise fields.error(
                    "equity", raw["equity"], "must be absent: hello says reports_equity=false"
                )
            # only to show in the ledger: the equity identity is skipped for this engine
            equity = cash * 100 + sum(p.quantity * marks.get(p.symbol, 0) for p in positions)
        return LedgerSnapshot(
            initial_cash=self.initial_cash,
            cash=cash,
            reserved=reserved,
            equity=equity,
            orders=orders,
            positions=positions,
            marks=tuple(sorted(marks.items())),
        )

    def _list(self, fields: _Fields, key: str) -> list[Any]:
        if not fields.has(key):
            raise fields.missing(key)
        raw = fields.body[key]
        if not isinstance(raw, list):
            raise fields.error(key, raw, "must be a list")
        return raw

    def _orders(self, fields: _Fields) -> tuple[OrderView, ...]:
        views: list[OrderView] = []
        for index, raw in enumerate(self._list(fields, "orders")):
            path = f"after.orders[{index}]"
            if not isinstance(raw, dict):
                raise TapeError(fields.line, f"{path}={short(raw)} must be an object")
            order = _Fields(fields.line, path, raw, _ORDER_KEYS)
            reserving = self.hello.reserves_cash
            view = OrderView(
                order_id=order.integer("order_id", minimum=1),
                symbol=order.text("symbol"),
                side=order.choice("side", Side),
                quantity=order.integer("quantity"),
                filled=order.integer("filled"),
                state=order.choice("state", OrderState),
                reserved=order.zero_unless("reserved", reserving, order.cents, "reserves_cash"),
                reserved_initial=order.zero_unless(
                    "reserved_initial", reserving, order.cents, "reserves_cash"
                ),
                cash_flow=order.get("cash_flow", order.cents, 0),
                released=order.zero_unless("released", reserving, order.cents, "reserves_cash"),
                time_in_force=order.choice("time_in_force", TimeInForce),
                limit_price=order.get("limit_price", order.ticks, 0),
            )
            if views and view.order_id <= views[-1].order_id:
                raise order.error(
                    "order_id",
                    view.order_id,
                    "must be greater than the previous order's: list orders by id, once each",
                )
            views.append(view)
        return tuple(views)

    def _positions(self, fields: _Fields) -> tuple[PositionView, ...]:
        positions: dict[str, PositionView] = {}
        for index, raw in enumerate(self._list(fields, "positions")):
            path = f"after.positions[{index}]"
            if not isinstance(raw, dict):
                raise TapeError(fields.line, f"{path}={short(raw)} must be an object")
            position = _Fields(fields.line, path, raw, _POSITION_KEYS)
            symbol = position.text("symbol")
            # a short position is a finding (no_oversell), not a format error: any sign
            quantity = position.integer("quantity", minimum=None)
            if symbol in positions:
                raise position.error("symbol", symbol, "appears twice in positions")
            positions[symbol] = PositionView(
                symbol,
                quantity,
                position.get("cost", position.ticks, 0),
                position.get("realized_pnl", position.ticks, 0),
            )
        return tuple(positions[symbol] for symbol in sorted(positions))


__all__ = [
    "ERROR_CODES",
    "FEATURES",
    "PROTOCOL_VERSION",
    "EngineErrorLine",
    "Entry",
    "Hello",
    "TapeError",
    "TapeReader",
    "parse_line",
    "read_end",
    "read_error",
    "read_hello",
    "short",
]
