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
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bars_file import read_bars_csv
from .config import EngineConfig, FillAt, Mode, Policy
from .costs import Costs, bps_to_millionths
from .errors import ScenarioError
from .events import Bar, Cancel, Signal, Timestamp
from .input_files import read_limited, resolve_inside
from .limits import (
    MAX_BARS,
    MAX_CANCELS,
    MAX_DESCRIPTION_CHARS,
    MAX_INTEGER_TIMESTAMP,
    MAX_MONEY,
    MAX_NAME_CHARS,
    MAX_QUANTITY,
    MAX_SIGNALS,
    MAX_STRING_CHARS,
    MAX_SYMBOL_CHARS,
    MAX_SYMBOLS,
    check_count,
    check_number,
    check_string,
    short,
)
from .money import (
    MILLIONTHS_PER_BP,
    TICKS_PER_UNIT,
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
from .strict_json import decode_json_bytes, decode_json_text, key_path

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
_BAR_KEY_SET = frozenset(BAR_KEYS)
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


def load_scenario(path: str | os.PathLike[str], *, allow_bars_outside: bool = False) -> Scenario:
    """Read a scenario file; ``bars`` may name a CSV file in its folder (anywhere with
    ``allow_bars_outside``). Every limit in ``limits`` applies. Raises ScenarioError."""
    path = Path(path)
    data = read_limited(path, "scenario")
    raw = decode_json_bytes(data, source=_shown_path(path))
    del data  # a long scenario's bytes are freed before its bars are built
    return _scenario_from_raw(raw, path.parent, allow_bars_outside=allow_bars_outside)


def scenario_from_json(
    text: str,
    *,
    base_dir: Path | None = None,
    source: str = "",
    allow_bars_outside: bool = False,
) -> Scenario:
    """Parse scenario JSON strictly (see ``strict_json``; numbers are read as exact
    decimals); a ``bars`` path is relative to ``base_dir``. Raises ScenarioError."""
    raw = decode_json_text(text, source=source)
    return _scenario_from_raw(raw, base_dir or Path.cwd(), allow_bars_outside=allow_bars_outside)


def _shown_path(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 200 else f"{text[:200]}…"


def _scenario_from_raw(raw: object, base_dir: Path, *, allow_bars_outside: bool) -> Scenario:
    if isinstance(raw, Mapping) and isinstance(raw.get("bars"), str):
        bars_path = resolve_inside(
            raw["bars"], base_dir, allow_outside=allow_bars_outside, what="bars"
        )
        rows, lines = read_bars_csv(bars_path)
        name = bars_path.name if len(bars_path.name) <= 80 else f"{bars_path.name[:80]}…"

        def where(index: int) -> tuple[str, str]:
            return f"bars file {name!r} line {lines[index]}", " column "

        return _scenario_from_mapping({**raw, "bars": rows}, bar_where=where, consume=True)
    return _scenario_from_mapping(raw, bar_where=_json_bar_where, consume=True)


def scenario_from_dict(raw: object) -> Scenario:
    """Build and validate a Scenario from plain data. Raises ScenarioError."""
    return _scenario_from_mapping(raw, bar_where=_json_bar_where, consume=False)


def _json_bar_where(index: int) -> tuple[str, str]:
    return f"bars[{index}]", "."


#: Where bar ``index`` came from, and what joins it to a key: ``("bars[3]", ".")``.
BarWhere = Callable[[int], tuple[str, str]]


def _scenario_from_mapping(raw: object, *, bar_where: BarWhere, consume: bool) -> Scenario:
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
        raise ScenarioError(f"initial_cash={short(raw['initial_cash'])} must not be negative")
    seed = raw.get("seed", 0)
    if not isinstance(seed, str):
        check_number(seed, "seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ScenarioError(f"seed={short(seed)} must be an integer")
    participation = raw.get("max_participation", "1")
    max_participation = None
    if participation is not None:
        max_participation = _fraction(participation, "max_participation")
        if not 0 < max_participation <= 1:
            raise ScenarioError(
                f"max_participation={short(participation)} must be a fraction in (0, 1], or null"
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
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(f"description={short(description)} must be a string")
    check_string(description, "description", MAX_DESCRIPTION_CHARS)
    stamps = _Timestamps()
    bars = _bars(raw.get("bars"), stamps, bar_where, consume=consume)
    symbols = {bar.symbol for bar in bars}
    signals = _signals(raw.get("signals", []), symbols, stamps)
    cancels = _cancels(raw.get("cancels", []), stamps)
    _check_timestamps(bars, signals, cancels)
    return Scenario(config, bars, signals, cancels, description, provenance)


def _format_version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScenarioError(
            f"format={short(value)} must be a positive integer (the file format version)"
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
            check_string(str(key), f"{where} key {short(key)}", MAX_NAME_CHARS)
            _plain_json(item, key_path(where, str(key)), depth - 1)
    elif isinstance(value, list):
        if depth == 0:
            raise ScenarioError(f"{where} nests deeper than {MAX_PROVENANCE_DEPTH} levels")
        for index, item in enumerate(value):
            _plain_json(item, f"{where}[{index}]", depth - 1)
    elif isinstance(value, str):
        check_string(value, where, MAX_STRING_CHARS)
    elif value is not None and not isinstance(value, int | Decimal):
        raise ScenarioError(f"{where} must hold only strings, numbers, lists and objects")
    elif value is not None:
        check_number(value, where)


def _no_unknown_keys(raw: Mapping[Any, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed, key=repr)
    if unknown:
        raise ScenarioError(
            f"{where}: unknown key {short(unknown[0])}; valid keys are {', '.join(sorted(allowed))}"
        )


def _money(value: object, where: str, convert: Callable[[object], int]) -> int:
    check_number(value, where)
    try:
        amount = to_decimal(value)
        if abs(amount) >= MAX_MONEY:
            raise ScenarioError(
                f"{where}={short(value)} must be below {MAX_MONEY:.0e} in magnitude"
            )
        return convert(value)
    except MoneyError as error:
        raise ScenarioError(f"{where}={short(value)}: {_error_text(error)}") from None


def _error_text(error: MoneyError) -> str:
    # money's messages repeat the value in full: say only what is wrong with it
    text = str(error)
    for ending in (
        "is not a decimal number",
        "is not a finite number",
        "is not a number",
        "is a boolean, not a number",
        "is not a fraction like '1/3'",
    ):
        if text.endswith(ending):
            return ending
    return text if len(text) <= 200 else f"{text[:200]}…"


def _fraction(value: object, where: str) -> Fraction:
    check_number(value, where)
    try:
        return to_fraction(value)
    except MoneyError as error:
        raise ScenarioError(f"{where}={short(value)}: {_error_text(error)}") from None


def _enum(kind: type[Any], value: object, where: str) -> Any:
    valid = " | ".join(member.value for member in kind)
    if not isinstance(value, str):
        raise ScenarioError(f"{where}={short(value)} is not one of {valid}")
    try:
        return kind(value)
    except ValueError:
        raise ScenarioError(f"{where}={short(value)} is not one of {valid}") from None


def _integer(value: object, where: str, *, minimum: int, maximum: int = MAX_QUANTITY) -> int:
    check_number(value, where)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ScenarioError(f"{where}={short(value)} must be {kind}")
    if value > maximum:
        raise ScenarioError(f"{where}={short(value)} must be at most {maximum:,}")
    return value


def _costs(raw: object) -> Costs:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"costs={short(raw)} must be an object")
    _no_unknown_keys(raw, COST_KEYS, "costs")
    rate = _fraction(raw.get("commission_rate", "0"), "costs.commission_rate")
    if not 0 <= rate < 1:
        raise ScenarioError(
            f"costs.commission_rate={short(raw.get('commission_rate'))} must be in [0, 1)"
        )
    minimum = _money(raw.get("commission_min", "0"), "costs.commission_min", to_cents)
    if minimum < 0:
        raise ScenarioError(f"costs.commission_min={short(raw.get('commission_min'))} must be >= 0")
    if "slippage_bps" in raw and "max_slippage_bps" in raw:
        raise ScenarioError(
            "costs: give slippage_bps (fixed) or max_slippage_bps (bounded random), not both"
        )
    key = "max_slippage_bps" if "max_slippage_bps" in raw else "slippage_bps"
    bps = _fraction(raw.get(key, "0"), f"costs.{key}")
    if not 0 <= bps <= MAX_SLIPPAGE_BPS:
        raise ScenarioError(
            f"costs.{key}={short(raw.get(key))} must be within 0..{MAX_SLIPPAGE_BPS}"
        )
    return Costs(
        commission_rate=rate,
        commission_min=minimum,
        max_slippage=bps_to_millionths(bps),
        random_slippage=key == "max_slippage_bps",
    )


def _sizer(raw: object) -> Sizer:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"sizer={short(raw)} must be an object with a 'kind'")
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in SIZER_KEYS:
        raise ScenarioError(f"sizer.kind={short(kind)} is not one of {' | '.join(SIZER_KEYS)}")
    _no_unknown_keys(raw, SIZER_KEYS[kind], f"sizer ({kind})")
    if kind == "fixed_amount":
        amount = _money(raw.get("amount"), "sizer.amount", to_cents)
        if amount <= 0:
            raise ScenarioError(f"sizer.amount={short(raw.get('amount'))} must be positive")
        return FixedAmount(amount)
    if kind == "fixed_shares":
        return FixedShares(_integer(raw.get("shares"), "sizer.shares", minimum=1))
    fraction = _fraction(raw.get("fraction"), "sizer.fraction")
    if not 0 < fraction <= 1:
        raise ScenarioError(f"sizer.fraction={short(raw.get('fraction'))} must be in (0, 1]")
    if kind == "percent_equity":
        return PercentEquity(fraction)
    payoff = _fraction(raw.get("payoff", "2"), "sizer.payoff")
    if payoff <= 0:
        raise ScenarioError(f"sizer.payoff={short(raw.get('payoff'))} must be positive")
    return Kelly(fraction, payoff)


class _Timestamps:
    """Reads timestamps and gives every spelling of one instant the label first seen
    for it (``2025-01-02 00:00:00`` and ``2025-01-02T00:00:00.000`` are one step)."""

    def __init__(self) -> None:
        self._labels: dict[int | datetime, Timestamp] = {}
        self._spellings: dict[str, Timestamp] = {}

    def read(self, value: object, where: str) -> Timestamp:
        if type(value) is int and -MAX_INTEGER_TIMESTAMP <= value <= MAX_INTEGER_TIMESTAMP:
            return value  # an integer is its own instant
        if type(value) is str and value in self._spellings:
            return self._spellings[value]
        label = _timestamp(value, where)
        instant = label if isinstance(label, int) else datetime.fromisoformat(label)
        canonical = self._labels.setdefault(instant, label)
        if isinstance(value, str):
            self._spellings[value] = canonical
        return canonical


def _timestamp(value: object, where: str) -> Timestamp:
    if not isinstance(value, str):
        check_number(value, where)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, bool):
        raise ScenarioError(f"{where}={short(value)} must be an integer or an ISO-8601 string")
    if isinstance(value, int):
        if abs(value) > MAX_INTEGER_TIMESTAMP:
            raise ScenarioError(
                f"{where}={short(value)} does not fit a signed 64-bit integer "
                f"(at most {MAX_INTEGER_TIMESTAMP:,} in magnitude)"
            )
        return value
    if isinstance(value, str):
        check_string(value, where, MAX_NAME_CHARS)
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ScenarioError(f"{where}={short(value)} is not an ISO-8601 timestamp") from None
        return value
    raise ScenarioError(f"{where}={short(value)} must be an integer or an ISO-8601 string")


def _symbol(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{where}={short(value)} must be a non-empty string")
    return check_string(value, where, MAX_SYMBOL_CHARS)


def _list(raw: object, where: str, limit: int, example: str) -> list[Any]:
    if not isinstance(raw, list):
        raise ScenarioError(f"{where} must be a list{example}, not {short(raw)}")
    check_count(raw, where, limit)
    return raw


def _bars(
    raw: object, stamps: _Timestamps, where_of: BarWhere, *, consume: bool = False
) -> tuple[Bar, ...]:
    if raw is None:
        raise ScenarioError("bars is required: a list of {timestamp, symbol, open, high, ...}")
    items = _list(raw, "bars", MAX_BARS, " (or the path of a CSV file)")
    bars: list[Bar] = []
    seen: set[tuple[Timestamp, str]] = set()
    symbols: set[str] = set()
    # equal prices share one int object: a long series repeats its ticks a lot
    shared: dict[int, int] = {}
    for i, item in enumerate(items):
        row, sep = where_of(i)
        if not isinstance(item, Mapping):
            raise ScenarioError(f"{row}={short(item)} must be an object")
        if len(item) != len(BAR_KEYS) or not _BAR_KEY_SET.issuperset(item):
            _no_unknown_keys(item, _BAR_KEY_SET, row)
            for key in BAR_KEYS:
                if key not in item:
                    raise ScenarioError(f"{row}{sep}{key} is missing")
        timestamp = stamps.read(item["timestamp"], f"{row}{sep}timestamp")
        symbol = item["symbol"]
        if type(symbol) is not str or symbol not in symbols:
            symbol = _symbol(symbol, f"{row}{sep}symbol")
            symbols.add(symbol)
            if len(symbols) > MAX_SYMBOLS:
                raise ScenarioError(
                    f"{row}{sep}symbol={short(symbol)} is symbol number {len(symbols):,}; "
                    f"at most {MAX_SYMBOLS:,} symbols are allowed"
                )
        low = _price(item["low"], row, sep, "low")
        high = _price(item["high"], row, sep, "high")
        if high < low:
            raise ScenarioError(
                f"{row}{sep}high={short(item['high'])} is below {row}{sep}low={short(item['low'])}"
            )
        open_ = _price(item["open"], row, sep, "open")
        close = _price(item["close"], row, sep, "close")
        for key, price in (("open", open_), ("close", close)):
            if not low <= price <= high:
                raise ScenarioError(
                    f"{row}{sep}{key}={short(item[key])} is outside low..high "
                    f"{short(item['low'])}..{short(item['high'])}"
                )
        volume = item["volume"]
        if type(volume) is not int or not 0 <= volume <= MAX_QUANTITY:
            volume = _volume(volume, f"{row}{sep}volume")
        if (timestamp, symbol) in seen:
            spelled = item["timestamp"]
            spelled = "" if timestamp == spelled else f" (spelled {short(spelled)})"
            raise ScenarioError(
                f"{row}: a second bar for symbol={short(symbol)} at {short(timestamp)}{spelled}"
            )
        seen.add((timestamp, symbol))
        bars.append(
            Bar(
                timestamp,
                symbol,
                shared.setdefault(open_, open_),
                shared.setdefault(high, high),
                shared.setdefault(low, low),
                shared.setdefault(close, close),
                volume,
            )
        )
        if consume:
            items[i] = None
    return tuple(bars)


#: A price written plainly (at most 15 digits before the point, 4 after): read
#: without Decimal, exactly as ``to_ticks`` would, since no rounding is needed.
_PLAIN_PRICE = re.compile(r"(\d{1,15})(?:\.(\d{0,4}))?", re.ASCII)


def _price(value: object, row: str, sep: str, key: str) -> int:
    if type(value) is str:
        plain = _PLAIN_PRICE.fullmatch(value)
        if plain is not None:
            ticks = int(plain[1]) * TICKS_PER_UNIT + int((plain[2] or "").ljust(4, "0"))
            if ticks > 0:
                return ticks
    where = f"{row}{sep}{key}"
    ticks = _money(value, where, to_ticks)
    if ticks <= 0:
        raise ScenarioError(f"{where}={short(value)} must be a positive price")
    return ticks


def _volume(value: object, where: str) -> int:
    check_number(value, where)
    try:
        volume = to_decimal(value)
    except MoneyError as error:
        raise ScenarioError(f"{where}={short(value)}: {_error_text(error)}") from None
    if volume < 0:
        raise ScenarioError(f"{where}={short(value)} must not be negative")
    if volume > MAX_QUANTITY:
        raise ScenarioError(f"{where}={short(value)} must be at most {MAX_QUANTITY:,}")
    # fractional volume (crypto feeds) rounds down: a fill may never exceed the bar
    return int(volume)


def _signals(raw: object, symbols: set[str], stamps: _Timestamps) -> tuple[Signal, ...]:
    items = _list(raw, "signals", MAX_SIGNALS, "")
    signals = []
    for i, item in enumerate(items):
        where = f"signals[{i}]"
        if not isinstance(item, Mapping):
            raise ScenarioError(f"{where}={short(item)} must be an object")
        _no_unknown_keys(item, SIGNAL_KEYS, where)
        for key in ("timestamp", "symbol", "side"):
            if key not in item:
                raise ScenarioError(f"{where}.{key} is missing")
        symbol = _symbol(item["symbol"], f"{where}.symbol")
        if symbol not in symbols:
            known = ", ".join(sorted(symbols)[:10]) or "none"
            more = f" and {len(symbols) - 10:,} more" if len(symbols) > 10 else ""
            raise ScenarioError(
                f"{where}.symbol={short(symbol)} has no bars (symbols: {known}{more})"
            )
        quantity = item.get("quantity")
        if quantity is not None:
            quantity = _integer(quantity, f"{where}.quantity", minimum=1)
        strength = item.get("strength")
        if strength is not None:
            check_number(strength, f"{where}.strength")
            try:
                strength = to_decimal(strength)
            except MoneyError as error:
                raise ScenarioError(
                    f"{where}.strength={short(strength)}: {_error_text(error)}"
                ) from None
            if not 0 <= strength <= 1:
                raise ScenarioError(
                    f"{where}.strength={short(item['strength'])} must be within 0..1"
                )
        signals.append(
            Signal(
                timestamp=stamps.read(item["timestamp"], f"{where}.timestamp"),
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


def _cancels(raw: object, stamps: _Timestamps) -> tuple[Cancel, ...]:
    items = _list(raw, "cancels", MAX_CANCELS, "")
    cancels = []
    for i, item in enumerate(items):
        where = f"cancels[{i}]"
        if not isinstance(item, Mapping):
            raise ScenarioError(f"{where}={short(item)} must be an object")
        _no_unknown_keys(item, CANCEL_KEYS, where)
        for key in sorted(CANCEL_KEYS, reverse=True):
            if key not in item:
                raise ScenarioError(f"{where}.{key} is missing")
        # an id no signal issues is valid input: the engine logs CancelIgnored for it
        order_id = _integer(item["order_id"], f"{where}.order_id", minimum=1)
        cancels.append(Cancel(stamps.read(item["timestamp"], f"{where}.timestamp"), order_id))
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
                f"{where}.timestamp={short(ts)} cannot be ordered against "
                f"{first_where}.timestamp={short(first_ts)}: use integers, or ISO-8601 strings "
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
        # the other columns are not shown: they could hold anything
        raise ScenarioError(
            f"bars DataFrame: missing column {missing[0]!r}; it needs {', '.join(BAR_KEYS)}"
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
