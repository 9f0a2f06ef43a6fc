"""Scenario files: the unit of replay, regression and exchange.

A scenario is JSON with the keys in ``TOP_LEVEL_KEYS``; unknown keys, bad
values and impossible combinations raise ScenarioError naming the key and the
value. ``scenario_to_dict`` writes money as decimal strings, so a scenario
written and read back is the same scenario.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import EngineConfig, FillAt, Mode, Policy
from .costs import Costs, bps_to_millionths
from .errors import ScenarioError
from .events import Bar, Cancel, Signal, Timestamp
from .money import (
    MILLIONTHS_PER_BP,
    MoneyError,
    format_cents,
    format_fraction,
    format_ticks,
    to_cents,
    to_decimal,
    to_fraction,
    to_ticks,
)
from .orders import Side, TimeInForce
from .sizers import FixedAmount, FixedShares, Kelly, PercentEquity, Sizer

if TYPE_CHECKING:
    import pandas as pd

TOP_LEVEL_KEYS = frozenset(
    {
        "format",
        "provenance",
        "description",
        "initial_cash",
        "mode",
        "fill_at",
        "policy",
        "max_participation",
        "seed",
        "costs",
        "sizer",
        "bars",
        "signals",
        "cancels",
    }
)
COST_KEYS = frozenset({"commission_rate", "commission_min", "slippage_bps", "max_slippage_bps"})
BAR_KEYS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")
SIGNAL_KEYS = frozenset({"timestamp", "symbol", "side", "quantity", "strength", "time_in_force"})
CANCEL_KEYS = frozenset({"timestamp", "order_id"})
SIZER_KEYS: dict[str, frozenset[str]] = {
    "fixed_amount": frozenset({"kind", "amount"}),
    "percent_equity": frozenset({"kind", "fraction"}),
    "kelly": frozenset({"kind", "fraction", "payoff"}),
    "fixed_shares": frozenset({"kind", "shares"}),
}
#: Slippage above this is refused: a sell price must stay positive.
MAX_SLIPPAGE_BPS = 5_000
#: The scenario-file format this version writes; a file without ``format`` is version 1
#: (the same keys, before ``provenance`` existed), and a newer one is refused.
SCENARIO_FORMAT = 2
#: ``provenance`` is the finder's record (engine, invariants, versions, ...): plain JSON data,
#: kept as it is, never interpreted by the engine; this bounds how deep it may nest.
MAX_PROVENANCE_DEPTH = 4


@dataclass(frozen=True, slots=True)
class Step:
    """Everything that happens at one timestamp, in the order it is handled."""

    timestamp: Timestamp
    bars: tuple[Bar, ...]
    signals: tuple[Signal, ...]
    cancels: tuple[Cancel, ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    config: EngineConfig
    bars: tuple[Bar, ...]
    signals: tuple[Signal, ...] = ()
    cancels: tuple[Cancel, ...] = ()
    description: str = ""
    #: what found this scenario, as written by cashfuzz (see ``cashfuzz.provenance``);
    #: never part of what the engine runs, nor of ``scenario_digest``
    provenance: Mapping[str, Any] | None = field(default=None, compare=False)
    # a cache of steps(); init=False so dataclasses.replace never carries a stale one over
    _steps: tuple[Step, ...] = field(default=(), init=False, compare=False, repr=False)

    def steps(self) -> tuple[Step, ...]:
        """The timeline: one Step per distinct timestamp, in time order; signals
        and cancels keep file order within a timestamp."""
        if self._steps:
            return self._steps
        steps = _build_steps(self.bars, self.signals, self.cancels)
        object.__setattr__(self, "_steps", steps)
        return steps

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(sorted({bar.symbol for bar in self.bars}))


def _timestamp_key(timestamp: Timestamp) -> Any:
    if isinstance(timestamp, str):
        return datetime.fromisoformat(timestamp)
    return timestamp


def _build_steps(
    bars: Iterable[Bar], signals: Iterable[Signal], cancels: Iterable[Cancel]
) -> tuple[Step, ...]:
    # one dict per kind: a timestamp with only a bar (most of a long run) costs one list
    by_bar: dict[Timestamp, list[Bar]] = {}
    by_signal: dict[Timestamp, list[Signal]] = {}
    by_cancel: dict[Timestamp, list[Cancel]] = {}
    for bar in bars:
        by_bar.setdefault(bar.timestamp, []).append(bar)
    for signal in signals:
        by_signal.setdefault(signal.timestamp, []).append(signal)
    for cancel in cancels:
        by_cancel.setdefault(cancel.timestamp, []).append(cancel)
    timestamps = list(by_bar)
    timestamps.extend(ts for ts in by_signal if ts not in by_bar)
    timestamps.extend(ts for ts in by_cancel if ts not in by_bar and ts not in by_signal)
    timestamps.sort(key=_timestamp_key)
    return tuple(
        Step(
            ts,
            tuple(sorted(by_bar.get(ts, ()), key=_symbol_of)),
            tuple(by_signal.get(ts, ())),
            tuple(by_cancel.get(ts, ())),
        )
        for ts in timestamps
    )


def _symbol_of(bar: Bar) -> str:
    return bar.symbol


# --- reading -------------------------------------------------------------------------


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario file; ``bars`` may name a CSV file beside it. Raises ScenarioError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"cannot read scenario {str(path)!r}: {error.strerror}") from None
    raw = _parse_json(text, str(path))
    del text  # a long scenario's text is freed before its bars are built
    return _scenario_from_raw(raw, path.parent)


def scenario_from_json(text: str, *, base_dir: Path | None = None, source: str = "") -> Scenario:
    """Parse scenario JSON (numbers are read as exact decimals). Raises ScenarioError."""
    return _scenario_from_raw(_parse_json(text, source), base_dir)


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        where = f"{source}: " if source else ""
        raise ScenarioError(
            f"{where}malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None


def _scenario_from_raw(raw: Any, base_dir: Path | None) -> Scenario:
    if isinstance(raw, Mapping) and isinstance(raw.get("bars"), str):
        csv_path = Path(raw["bars"])
        if base_dir is not None and not csv_path.is_absolute():
            csv_path = base_dir / csv_path
        raw = {**raw, "bars": bars_from_csv(csv_path)}
    return _scenario_from_dict(raw, consume=True)


def scenario_from_dict(raw: object) -> Scenario:
    """Build and validate a Scenario from plain data. Raises ScenarioError."""
    return _scenario_from_dict(raw, consume=False)


def _scenario_from_dict(raw: object, *, consume: bool) -> Scenario:
    # consume: the caller parsed ``raw`` itself, so each bar's dict may be dropped as
    # soon as its Bar exists (a file of a million bars then never holds both in full)
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"a scenario must be a JSON object, not {type(raw).__name__}")
    _no_unknown_keys(raw, TOP_LEVEL_KEYS, "scenario")
    _format_version(raw.get("format", 1))
    provenance = _provenance(raw.get("provenance"))
    if "initial_cash" not in raw:
        raise ScenarioError('initial_cash is required (a decimal string such as "10000.00")')
    initial_cash = _money(raw["initial_cash"], "initial_cash", to_cents)
    if initial_cash < 0:
        raise ScenarioError(f"initial_cash={raw['initial_cash']!r} must not be negative")
    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ScenarioError(f"seed={seed!r} must be an integer")
    participation = raw.get("max_participation", "1")
    max_participation = None
    if participation is not None:
        max_participation = _fraction(participation, "max_participation")
        if not 0 < max_participation <= 1:
            raise ScenarioError(
                f"max_participation={participation!r} must be a fraction in (0, 1], or null"
            )
    config = EngineConfig(
        initial_cash=initial_cash,
        mode=_enum(Mode, raw.get("mode", Mode.RESERVATION.value), "mode"),
        fill_at=_enum(FillAt, raw.get("fill_at", FillAt.NEXT_OPEN.value), "fill_at"),
        policy=_enum(Policy, raw.get("policy", Policy.SHRINK.value), "policy"),
        max_participation=max_participation,
        seed=seed,
        costs=_costs(raw.get("costs", {})),
        sizer=_sizer(raw.get("sizer", {"kind": "percent_equity", "fraction": "0.1"})),
    )
    bars = _bars(raw.get("bars"), consume=consume)
    symbols = {bar.symbol for bar in bars}
    signals = _signals(raw.get("signals", []), symbols)
    cancels = _cancels(raw.get("cancels", []))
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(f"description={description!r} must be a string")
    _check_timestamps(bars, signals, cancels)
    return Scenario(config, bars, signals, cancels, description, provenance)


def _format_version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScenarioError(
            f"format={value!r} must be a positive integer (the file format version)"
        )
    if value > SCENARIO_FORMAT:
        raise ScenarioError(
            f"format={value} is newer than this cashfuzz reads ({SCENARIO_FORMAT}): "
            "upgrade cashfuzz to replay this file"
        )
    return value


def _provenance(raw: object) -> Mapping[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"provenance must be an object, not {type(raw).__name__}")
    _plain_json(raw, "provenance", MAX_PROVENANCE_DEPTH)
    ready: dict[str, Any] = _json_ready(raw)
    return ready


def _plain_json(value: object, where: str, depth: int) -> None:
    if isinstance(value, Mapping):
        if depth == 0:
            raise ScenarioError(f"{where} nests deeper than {MAX_PROVENANCE_DEPTH} levels")
        for key, item in value.items():
            _plain_json(item, f"{where}.{key}", depth - 1)
    elif isinstance(value, list):
        if depth == 0:
            raise ScenarioError(f"{where} nests deeper than {MAX_PROVENANCE_DEPTH} levels")
        for index, item in enumerate(value):
            _plain_json(item, f"{where}[{index}]", depth - 1)
    elif value is not None and not isinstance(value, str | int | Decimal):
        raise ScenarioError(f"{where} must hold only strings, numbers, lists and objects")


def _no_unknown_keys(raw: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ScenarioError(
            f"{where}: unknown key {unknown[0]!r}; valid keys are {', '.join(sorted(allowed))}"
        )


def _money(value: object, where: str, convert: Callable[[object], int]) -> int:
    try:
        return convert(value)
    except MoneyError as error:
        raise ScenarioError(f"{where}={value!r}: {error}") from None


def _fraction(value: object, where: str) -> Fraction:
    try:
        return to_fraction(value)
    except MoneyError as error:
        raise ScenarioError(f"{where}={value!r}: {error}") from None


def _enum(kind: type[Any], value: object, where: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        valid = " | ".join(member.value for member in kind)
        raise ScenarioError(f"{where}={value!r} is not one of {valid}") from None


def _integer(value: object, where: str, *, minimum: int) -> int:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ScenarioError(f"{where}={value!r} must be {kind}")
    return value


def _costs(raw: object) -> Costs:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"costs={raw!r} must be an object")
    _no_unknown_keys(raw, COST_KEYS, "costs")
    rate = _fraction(raw.get("commission_rate", "0"), "costs.commission_rate")
    if not 0 <= rate < 1:
        raise ScenarioError(
            f"costs.commission_rate={raw.get('commission_rate')!r} must be in [0, 1)"
        )
    minimum = _money(raw.get("commission_min", "0"), "costs.commission_min", to_cents)
    if minimum < 0:
        raise ScenarioError(f"costs.commission_min={raw.get('commission_min')!r} must be >= 0")
    if "slippage_bps" in raw and "max_slippage_bps" in raw:
        raise ScenarioError(
            "costs: give slippage_bps (fixed) or max_slippage_bps (bounded random), not both"
        )
    key = "max_slippage_bps" if "max_slippage_bps" in raw else "slippage_bps"
    bps = _fraction(raw.get(key, "0"), f"costs.{key}")
    if not 0 <= bps <= MAX_SLIPPAGE_BPS:
        raise ScenarioError(f"costs.{key}={raw.get(key)!r} must be within 0..{MAX_SLIPPAGE_BPS}")
    return Costs(
        commission_rate=rate,
        commission_min=minimum,
        max_slippage=bps_to_millionths(bps),
        random_slippage=key == "max_slippage_bps",
    )


def _sizer(raw: object) -> Sizer:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"sizer={raw!r} must be an object with a 'kind'")
    kind = raw.get("kind")
    if kind not in SIZER_KEYS:
        raise ScenarioError(f"sizer.kind={kind!r} is not one of {' | '.join(SIZER_KEYS)}")
    _no_unknown_keys(raw, SIZER_KEYS[kind], f"sizer ({kind})")
    if kind == "fixed_amount":
        amount = _money(raw.get("amount"), "sizer.amount", to_cents)
        if amount <= 0:
            raise ScenarioError(f"sizer.amount={raw.get('amount')!r} must be positive")
        return FixedAmount(amount)
    if kind == "fixed_shares":
        return FixedShares(_integer(raw.get("shares"), "sizer.shares", minimum=1))
    fraction = _fraction(raw.get("fraction"), "sizer.fraction")
    if not 0 < fraction <= 1:
        raise ScenarioError(f"sizer.fraction={raw.get('fraction')!r} must be in (0, 1]")
    if kind == "percent_equity":
        return PercentEquity(fraction)
    payoff = _fraction(raw.get("payoff", "2"), "sizer.payoff")
    if payoff <= 0:
        raise ScenarioError(f"sizer.payoff={raw.get('payoff')!r} must be positive")
    return Kelly(fraction, payoff)


def _timestamp(value: object, where: str) -> Timestamp:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool):
        raise ScenarioError(f"{where}={value!r} must be an integer or an ISO-8601 string")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(f"{where}={value!r} is not an ISO-8601 timestamp") from None
        return value
    raise ScenarioError(f"{where}={value!r} must be an integer or an ISO-8601 string")


def _symbol(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{where}={value!r} must be a non-empty string")
    return value


def _bars(raw: object, *, consume: bool = False) -> tuple[Bar, ...]:
    if raw is None:
        raise ScenarioError("bars is required: a list of {timestamp, symbol, open, high, ...}")
    if not isinstance(raw, list):
        raise ScenarioError(f"bars must be a list (or the path of a CSV file), not {raw!r}")
    bars: list[Bar] = []
    seen: set[tuple[Timestamp, str]] = set()
    # equal prices share one int object: a long series repeats its ticks a lot
    shared: dict[int, int] = {}
    for i, item in enumerate(raw):
        where = f"bars[{i}]"
        if not isinstance(item, Mapping):
            raise ScenarioError(f"{where}={item!r} must be an object")
        _no_unknown_keys(item, frozenset(BAR_KEYS), where)
        for key in BAR_KEYS:
            if key not in item:
                raise ScenarioError(f"{where}.{key} is missing")
        timestamp = _timestamp(item["timestamp"], f"{where}.timestamp")
        symbol = _symbol(item["symbol"], f"{where}.symbol")
        prices = {}
        for key in ("open", "high", "low", "close"):
            ticks = _money(item[key], f"{where}.{key}", to_ticks)
            if ticks <= 0:
                raise ScenarioError(f"{where}.{key}={item[key]!r} must be a positive price")
            prices[key] = shared.setdefault(ticks, ticks)
        if prices["high"] < prices["low"]:
            raise ScenarioError(
                f"{where}.high={item['high']!r} is below {where}.low={item['low']!r}"
            )
        for key in ("open", "close"):
            if not prices["low"] <= prices[key] <= prices["high"]:
                raise ScenarioError(
                    f"{where}.{key}={item[key]!r} is outside low..high "
                    f"{item['low']!r}..{item['high']!r}"
                )
        volume = _volume(item["volume"], f"{where}.volume")
        if (timestamp, symbol) in seen:
            raise ScenarioError(f"{where}: a second bar for symbol={symbol!r} at {timestamp!r}")
        seen.add((timestamp, symbol))
        bars.append(Bar(timestamp, symbol, volume=volume, **prices))
        if consume:
            raw[i] = None
    return tuple(bars)


def _volume(value: object, where: str) -> int:
    try:
        volume = to_decimal(value)
    except MoneyError as error:
        raise ScenarioError(f"{where}={value!r}: {error}") from None
    if volume < 0:
        raise ScenarioError(f"{where}={value!r} must not be negative")
    # fractional volume (crypto feeds) rounds down: a fill may never exceed the bar
    return int(volume)


def _signals(raw: object, symbols: set[str]) -> tuple[Signal, ...]:
    if not isinstance(raw, list):
        raise ScenarioError(f"signals must be a list, not {raw!r}")
    signals = []
    for i, item in enumerate(raw):
        where = f"signals[{i}]"
        if not isinstance(item, Mapping):
            raise ScenarioError(f"{where}={item!r} must be an object")
        _no_unknown_keys(item, SIGNAL_KEYS, where)
        for key in ("timestamp", "symbol", "side"):
            if key not in item:
                raise ScenarioError(f"{where}.{key} is missing")
        symbol = _symbol(item["symbol"], f"{where}.symbol")
        if symbol not in symbols:
            known = ", ".join(sorted(symbols)) or "none"
            raise ScenarioError(f"{where}.symbol={symbol!r} has no bars (symbols: {known})")
        quantity = item.get("quantity")
        if quantity is not None:
            quantity = _integer(quantity, f"{where}.quantity", minimum=1)
        strength = item.get("strength")
        if strength is not None:
            try:
                strength = to_decimal(strength)
            except MoneyError as error:
                raise ScenarioError(f"{where}.strength={strength!r}: {error}") from None
            if not 0 <= strength <= 1:
                raise ScenarioError(f"{where}.strength={item['strength']!r} must be within 0..1")
        signals.append(
            Signal(
                timestamp=_timestamp(item["timestamp"], f"{where}.timestamp"),
                symbol=symbol,
                side=_enum(Side, item["side"], f"{where}.side"),
                quantity=quantity,
                strength=strength,
                time_in_force=_enum(
                    TimeInForce, item.get("time_in_force", "DAY"), f"{where}.time_in_force"
                ),
            )
        )
    return tuple(signals)


def _cancels(raw: object) -> tuple[Cancel, ...]:
    if not isinstance(raw, list):
        raise ScenarioError(f"cancels must be a list, not {raw!r}")
    cancels = []
    for i, item in enumerate(raw):
        where = f"cancels[{i}]"
        if not isinstance(item, Mapping):
            raise ScenarioError(f"{where}={item!r} must be an object")
        _no_unknown_keys(item, CANCEL_KEYS, where)
        for key in CANCEL_KEYS:
            if key not in item:
                raise ScenarioError(f"{where}.{key} is missing")
        # an id no signal issues is valid input: the engine logs CancelIgnored for it
        order_id = _integer(item["order_id"], f"{where}.order_id", minimum=1)
        cancels.append(Cancel(_timestamp(item["timestamp"], f"{where}.timestamp"), order_id))
    return tuple(cancels)


def _check_timestamps(
    bars: tuple[Bar, ...], signals: tuple[Signal, ...], cancels: tuple[Cancel, ...]
) -> None:
    stamps: list[tuple[str, Timestamp]] = [
        *((f"bars[{i}]", bar.timestamp) for i, bar in enumerate(bars)),
        *((f"signals[{i}]", signal.timestamp) for i, signal in enumerate(signals)),
        *((f"cancels[{i}]", cancel.timestamp) for i, cancel in enumerate(cancels)),
    ]
    if not stamps:
        return
    first_where, first_ts = stamps[0]
    first_kind = _timestamp_kind(first_ts)
    for where, ts in stamps[1:]:
        if _timestamp_kind(ts) != first_kind:
            raise ScenarioError(
                f"{where}.timestamp={ts!r} cannot be ordered against "
                f"{first_where}.timestamp={first_ts!r}: use integers, or ISO-8601 strings "
                "all with (or all without) a UTC offset"
            )


def _timestamp_kind(timestamp: Timestamp) -> str:
    if isinstance(timestamp, int):
        return "int"
    return "aware" if datetime.fromisoformat(timestamp).tzinfo is not None else "naive"


# --- pandas and CSV -----------------------------------------------------------------


def bars_from_dataframe(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Long-format bars (one row per timestamp and symbol) as scenario ``bars``.

    Columns: timestamp, symbol, open, high, low, close, volume (a DatetimeIndex
    or a ``timestamp`` index counts as the timestamp column). Floats are
    converted to ticks with ``round(x * 10_000)``. Raises ScenarioError.
    """
    import pandas as pd

    # only a named or datetime index holds timestamps: a RangeIndex is row numbers
    if "timestamp" not in frame.columns and (
        frame.index.name == "timestamp" or isinstance(frame.index, pd.DatetimeIndex)
    ):
        frame = frame.reset_index().rename(columns={"index": "timestamp"})
    missing = [key for key in BAR_KEYS if key not in frame.columns]
    if missing:
        raise ScenarioError(
            f"bars DataFrame: missing column {missing[0]!r}; columns are {list(frame.columns)}"
        )
    rows: list[dict[str, Any]] = []
    for record in frame[list(BAR_KEYS)].to_dict("records"):
        timestamp = record["timestamp"]
        if isinstance(timestamp, pd.Timestamp):
            timestamp = timestamp.isoformat()
        elif hasattr(timestamp, "item"):
            timestamp = timestamp.item()
        row: dict[str, Any] = {str(key): value for key, value in record.items()}
        row["timestamp"] = timestamp
        for key in ("open", "high", "low", "close", "volume"):
            value = row[key]
            if isinstance(value, float) and math.isnan(value):
                index = len(rows)
                raise ScenarioError(f"bars[{index}].{key}=nan: a bar needs every price and volume")
            row[key] = value.item() if hasattr(value, "item") else value
        rows.append(row)
    return rows


def bars_from_csv(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read long-format bars from a CSV file (see ``bars_from_dataframe``)."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype={"symbol": str, "timestamp": str})
    except (OSError, ValueError) as error:
        raise ScenarioError(f"bars: cannot read CSV {str(path)!r}: {error}") from None
    numeric = frame["timestamp"].str.fullmatch(r"-?\d+") if "timestamp" in frame else None
    if numeric is not None and bool(numeric.all()):
        frame["timestamp"] = frame["timestamp"].astype(int)
    return bars_from_dataframe(frame)


def scenario_with_bars(raw: Mapping[str, Any], frame: pd.DataFrame) -> Scenario:
    """A scenario whose ``bars`` come from a long-format DataFrame."""
    return scenario_from_dict({**raw, "bars": bars_from_dataframe(frame)})


# --- writing ------------------------------------------------------------------------


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """Plain, JSON-ready data that ``scenario_from_dict`` reads back unchanged."""
    config = scenario.config
    costs = config.costs
    slippage_key = "max_slippage_bps" if costs.random_slippage else "slippage_bps"
    out: dict[str, Any] = {"format": SCENARIO_FORMAT}
    if scenario.description:
        out["description"] = scenario.description
    out.update(
        {
            "initial_cash": format_cents(config.initial_cash),
            "mode": config.mode.value,
            "fill_at": config.fill_at.value,
            "policy": config.policy.value,
            "max_participation": (
                None
                if config.max_participation is None
                else format_fraction(config.max_participation)
            ),
            "seed": config.seed,
            "costs": {
                "commission_rate": format_fraction(costs.commission_rate),
                "commission_min": format_cents(costs.commission_min),
                slippage_key: format_fraction(Fraction(costs.max_slippage, MILLIONTHS_PER_BP)),
            },
            "sizer": config.sizer.to_dict(),
            "bars": [
                {
                    "timestamp": bar.timestamp,
                    "symbol": bar.symbol,
                    "open": format_ticks(bar.open),
                    "high": format_ticks(bar.high),
                    "low": format_ticks(bar.low),
                    "close": format_ticks(bar.close),
                    "volume": bar.volume,
                }
                for bar in scenario.bars
            ],
            "signals": [_signal_to_dict(signal) for signal in scenario.signals],
            "cancels": [
                {"timestamp": cancel.timestamp, "order_id": cancel.order_id}
                for cancel in scenario.cancels
            ],
        }
    )
    if scenario.provenance is not None:
        out["provenance"] = _json_ready(scenario.provenance)
    return out


def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def _signal_to_dict(signal: Signal) -> dict[str, Any]:
    out: dict[str, Any] = {
        "timestamp": signal.timestamp,
        "symbol": signal.symbol,
        "side": signal.side.value,
    }
    if signal.quantity is not None:
        out["quantity"] = signal.quantity
    if signal.strength is not None:
        out["strength"] = str(signal.strength)
    out["time_in_force"] = signal.time_in_force.value
    return out


def scenario_digest(scenario: Scenario) -> str:
    """The SHA-256 of the scenario's file form without its provenance: equal scenarios,
    equal digests, whoever found them."""
    data = scenario_to_dict(scenario)
    data.pop("provenance", None)
    return hashlib.sha256((json.dumps(data, indent=2) + "\n").encode()).hexdigest()


def scenario_to_json(scenario: Scenario) -> str:
    return json.dumps(scenario_to_dict(scenario), indent=2) + "\n"


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a reader sees the old file or the new one,
    never a part, and a crash leaves no temporary file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes owner-only files; these are for sharing (CI artefacts, corpora)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_scenario(scenario: Scenario, path: str | os.PathLike[str]) -> Path:
    """Write ``scenario`` atomically (see ``write_atomic``)."""
    return write_atomic(path, scenario_to_json(scenario).encode("utf-8"))
