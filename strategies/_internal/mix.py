"""Whole scenarios from few, wide draws: a size mix, swarm features, byte records.

Hypothesis spends most of a gate's time per drawn value, so a scenario is drawn
as a handful of fixed-size byte strings instead of about ninety small values:
one header (the size class, the swarm features, every setting), then per symbol
a first bar and a list of bar records, a list of signal records and a list of
cancel records. Each byte shrinks toward 0 on its own and every list element is
one record, so shrinking still deletes whole bars, signals and cancels and
zeroes each field; a 0 byte always decodes to the simplest value (a gap, a flat
move, DAY, no quantity, no strength, no costs, integer timestamps, the small
size class, one bar per record and one signal per record).

The size mix: most examples (``1 - LARGE_SHARE``) use ``SMALL``, the others
``LARGE``, where a bar record may repeat over up to ``LARGE.max_bar_run`` steps
and a signal record may be a burst of up to ``LARGE.max_burst`` signals in one
bar: large scenarios come from few records, and shrinking a run or a burst to 1
is one byte. Swarm testing: each feature in ``FEATURES`` is switched off for a
whole example with probability ``FEATURE_OFF_SHARE``. ``BIG_SHARE`` of examples
use big numbers: cash to ``BIG_MAX_CASH``, cheap prices so that quantities reach
``BIG_MAX_QUANTITY``, and costs beyond the usual (commission to
``BIG_MAX_COMMISSION_RATE``, a minimum to ``BIG_MAX_COMMISSION_MIN``, slippage to
the format's limit). ``ISO_SHARE`` of examples are stamped with ISO-8601 times
spanning several days. The constants are public so that other generators (the
soak tier) can draw the same mix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from cashfuzz.reference_engine import (
    Bar,
    Cancel,
    Costs,
    EngineConfig,
    FillAt,
    FixedAmount,
    FixedShares,
    Kelly,
    Mode,
    PercentEquity,
    Policy,
    Scenario,
    Side,
    Signal,
    Sizer,
    TimeInForce,
    Timestamp,
)


@dataclass(frozen=True, slots=True)
class SizeClass:
    """Upper bounds of one size class. A bar record covers 1..``max_bar_run`` steps
    and a signal record 1..``max_burst`` signals in one bar."""

    max_steps: int
    max_symbols: int
    max_signals: int
    max_cancels: int
    max_bar_run: int
    max_burst: int
    #: list lengths (records), from which runs and bursts build the scenario
    max_signal_records: int
    max_cancel_records: int


#: Most examples: up to 6 steps, 4 symbols, 8 signals, 3 cancels.
SMALL = SizeClass(
    max_steps=6,
    max_symbols=4,
    max_signals=8,
    max_cancels=3,
    max_bar_run=1,
    max_burst=1,
    max_signal_records=8,
    max_cancel_records=3,
)
#: Some examples: up to 50 steps, 12 symbols, 20 signals a bar, 300 signals, 16 cancels.
LARGE = SizeClass(
    max_steps=50,
    max_symbols=12,
    max_signals=300,
    max_cancels=16,
    max_bar_run=12,
    max_burst=20,
    max_signal_records=16,
    max_cancel_records=16,
)
#: The share of examples drawn from ``LARGE``.
LARGE_SHARE = Fraction(1, 8)
#: Swarm features, each switched off for a whole example with ``FEATURE_OFF_SHARE``.
FEATURES: tuple[str, ...] = (
    "cancels",
    "gtc",
    "partial_fills",
    "costs",
    "explicit_quantities",
    "gaps",
    "strengths",
    "sells",
)
FEATURE_OFF_SHARE = Fraction(1, 4)
#: The share of examples with big numbers, and their bounds (cents; shares; fraction).
BIG_SHARE = Fraction(1, 4)
SMALL_MAX_CASH = 10**9
BIG_MAX_CASH = 10**12
SMALL_MAX_QUANTITY = 1_000
BIG_MAX_QUANTITY = 10**7
SMALL_MAX_LOTS = 500
SMALL_MAX_COMMISSION_RATE = Fraction(1, 100)
BIG_MAX_COMMISSION_RATE = Fraction(1, 4)
SMALL_MAX_COMMISSION_MIN = 500
BIG_MAX_COMMISSION_MIN = 10_000
#: slippage in millionths: 100 bps usually, the scenario format's 5,000 bps when big
SMALL_MAX_SLIPPAGE = 10_000
BIG_MAX_SLIPPAGE = 500_000
#: The share of examples stamped with ISO-8601 times, and their step spacings.
ISO_SHARE = Fraction(1, 4)
ISO_START = datetime(2025, 1, 2, 9, 30)
ISO_SPACINGS: tuple[timedelta, ...] = (
    timedelta(days=1),
    timedelta(hours=4),
    timedelta(hours=1),
    timedelta(minutes=15),
)

#: Symbols in order of simplicity (shrinking prefers the first).
SYMBOLS: tuple[str, ...] = (
    "AAPL",
    "GOOGL",
    "MSFT",
    "AMZN",
    "NVDA",
    "TSLA",
    "META",
    "JPM",
    "BRK",
    "XOM",
    "UNH",
    "V",
)

MIN_PRICE = 100
MAX_PRICE = 1_000_000_000
_RATE_GRID = 100_000
_POSITION_SCALE = 1_000
_MAX_MOVE_BPS = 2_000
_MAX_SPREAD_BPS = 2_000
_WIDE_VOLUME = 10_000_000

# header byte offsets
_FEATURES_LO, _FEATURES_HI, _SHARES, _CHOICES = 1, 2, 3, 4
_CASH_DIGITS, _CASH = 5, 6  # 5 bytes
_LOTS = 11  # 3 bytes
_CAP, _SEED = 14, 15  # seed: 2 bytes
_RATE, _MIN, _SLIPPAGE, _SLIPPAGE_KIND = 17, 20, 23, 26  # 3, 3, 3, 1 bytes
_SIZER, _SIZER_ARG = 27, 28  # 5 bytes
_ISO_START = 33
_HEADER = 34
_COLUMN = 10  # pick, low offset (4), first bar shape (5)
_BAR = 8  # gap/move kind, move, spread, open, close, volume (2), run
_SIGNAL = 9  # step, symbol, kind, quantity kind, quantity (3), strength, burst
_CANCEL = 3  # which, when, kind


def _uint(data: bytes, start: int, length: int) -> int:
    return int.from_bytes(data[start : start + length], "big")


def _share(field: int, bits: int, share: Fraction) -> bool:
    """True for the top ``share`` of a ``bits``-bit field (so 0, the simplest, is False)."""
    return field >= (1 << bits) - share * (1 << bits)


def _zigzag(value: int) -> int:
    """0, 1, 2, 3, ... -> 0, 1, -1, 2, ...: 0 stays the simplest."""
    return (value + 1) // 2 if value % 2 else -(value // 2)


@dataclass(frozen=True, slots=True)
class _Shape:
    spread_bps: int
    open_at: int
    close_at: int
    volume: int


def _shape(data: bytes, start: int) -> _Shape:
    spread = data[start]
    spread_bps = spread % 101 if spread < 128 else (spread - 128) * _MAX_SPREAD_BPS // 127
    volume = _uint(data, start + 3, 2)
    # half tiny (participation caps bite), half anywhere up to ten million
    amount = volume % 21 if volume < 32_768 else (volume - 32_768) * _WIDE_VOLUME // 32_767
    return _Shape(
        spread_bps,
        data[start + 1] * _POSITION_SCALE // 255,
        data[start + 2] * _POSITION_SCALE // 255,
        amount,
    )


def _bar(symbol: str, timestamp: Timestamp, low: int, shape: _Shape, max_price: int) -> Bar:
    high = min(max_price, low + low * shape.spread_bps // 10_000)
    width = high - low
    return Bar(
        timestamp,
        symbol,
        low + width * shape.open_at // _POSITION_SCALE,
        high,
        low,
        low + width * shape.close_at // _POSITION_SCALE,
        shape.volume,
    )


@dataclass(frozen=True, slots=True)
class _Switches:
    """What one example switched on: features, big numbers, ISO times, the size class."""

    on: frozenset[str]
    big: bool
    iso: bool
    size: SizeClass


def _switches(head: bytes, size: int, small: SizeClass, large: SizeClass) -> _Switches:
    fields = _uint(head, _FEATURES_LO, 2)
    # a 2-bit field per feature; 3 (the top quarter) switches it off, 0 leaves it on
    on = frozenset(
        name
        for i, name in enumerate(FEATURES)
        if not _share((fields >> (2 * i)) & 3, 2, FEATURE_OFF_SHARE)
    )
    shares = head[_SHARES]
    return _Switches(
        on=on,
        big=_share(shares & 3, 2, BIG_SHARE),
        iso=_share((shares >> 2) & 3, 2, ISO_SHARE),
        size=large if _share(size, 3, LARGE_SHARE) else small,
    )


def _costs(head: bytes, switches: _Switches) -> Costs:
    if "costs" not in switches.on:
        return Costs()
    big = switches.big
    top_rate = int((BIG_MAX_COMMISSION_RATE if big else SMALL_MAX_COMMISSION_RATE) * _RATE_GRID)
    top_min = BIG_MAX_COMMISSION_MIN if big else SMALL_MAX_COMMISSION_MIN
    top_slippage = BIG_MAX_SLIPPAGE if big else SMALL_MAX_SLIPPAGE
    minimum = _uint(head, _MIN, 3)
    kind = head[_SLIPPAGE_KIND]
    return Costs(
        commission_rate=Fraction(_uint(head, _RATE, 3) % (top_rate + 1), _RATE_GRID),
        # half the examples have no minimum at all
        commission_min=0 if minimum < 1 << 23 else (minimum - (1 << 23)) % (top_min + 1),
        max_slippage=_uint(head, _SLIPPAGE, 3) % (top_slippage + 1),
        random_slippage=bool(kind & 1),
    )


_PAYOFFS = (Fraction(2), Fraction(1), Fraction(3), Fraction(1, 2))


def _sizer(head: bytes, max_cash: int) -> Sizer:
    kind = head[_SIZER] % 4
    argument = _uint(head, _SIZER_ARG, 5)
    if kind == 0:
        return FixedShares(1 + argument % 1_000)
    if kind == 1:
        return PercentEquity(Fraction(1 + argument % 100, 100))
    if kind == 2:
        return FixedAmount(1 + argument % max_cash)
    return Kelly(Fraction(1 + argument % 100, 100), _PAYOFFS[head[_SIZER] // 4 % 4])


def _cap(head: bytes, switches: _Switches) -> Fraction | None:
    if "partial_fills" not in switches.on:
        return None
    choice = head[_CAP]
    if choice % 3 == 0:
        return None
    if choice % 3 == 1:
        return Fraction(1)
    return Fraction(1 + choice // 3 % 99, 100)


def _choose(fixed: Any, bit: int, order: tuple[Any, Any]) -> Any:
    return order[bit] if fixed is None else fixed


@dataclass(frozen=True, slots=True)
class Fixed:
    """Settings a caller fixed (None: drawn)."""

    mode: Mode | None
    fill_at: FillAt | None
    policy: Policy | None
    max_quantity: int


def _config(head: bytes, switches: _Switches, fixed: Fixed) -> EngineConfig:
    choices = head[_CHOICES]
    max_cash = BIG_MAX_CASH if switches.big else SMALL_MAX_CASH
    digits = 1 + head[_CASH_DIGITS] % len(str(max_cash - 1))
    return EngineConfig(
        initial_cash=1 + _uint(head, _CASH, 5) % min(max_cash, 10**digits),
        mode=_choose(fixed.mode, choices & 1, (Mode.RESERVATION, Mode.NAIVE)),
        fill_at=_choose(fixed.fill_at, choices >> 1 & 1, (FillAt.SAME_CLOSE, FillAt.NEXT_OPEN)),
        policy=_choose(fixed.policy, choices >> 2 & 1, (Policy.SHRINK, Policy.REJECT)),
        max_participation=_cap(head, switches),
        seed=_uint(head, _SEED, 2),
        costs=_costs(head, switches),
        sizer=_sizer(head, max_cash),
    )


def _price_range(head: bytes, switches: _Switches, cash: int) -> tuple[int, int]:
    """Mostly prices the cash buys 1..500 lots of at the first close (10^7 with big
    numbers), so sizing and the race are reached; half the time the whole range."""
    if head[_CHOICES] >> 3 & 1:
        return MIN_PRICE, MAX_PRICE
    lots_max = BIG_MAX_QUANTITY if switches.big else SMALL_MAX_LOTS
    lots = 1 + _uint(head, _LOTS, 3) % lots_max
    base = min(MAX_PRICE, max(MIN_PRICE, cash * 100 // lots))
    return max(MIN_PRICE, base // 2), min(MAX_PRICE, base * 2)


def _timeline(head: bytes, switches: _Switches, steps: int) -> tuple[Timestamp, ...]:
    if not switches.iso:
        return tuple(range(steps))
    spacing = ISO_SPACINGS[head[_ISO_START] % len(ISO_SPACINGS)]
    start = ISO_START + timedelta(days=head[_ISO_START] // len(ISO_SPACINGS) % 28)
    return tuple((start + spacing * i).isoformat() for i in range(steps))


_Column = tuple[bytes, list[bytes]]


def _series_steps(records: Sequence[bytes], size: SizeClass) -> list[bytes | None]:
    """The later steps of one symbol: each record repeated over its run (LARGE only)."""
    steps: list[bytes | None] = []
    for record in records:
        run = 1 + record[7] % size.max_bar_run
        steps.extend([record] * run)
        if len(steps) >= size.max_steps - 1:
            break
    return steps[: size.max_steps - 1]


def _stream(
    columns: Sequence[tuple[str, _Column]],
    switches: _Switches,
    low: int,
    high: int,
    head: bytes,
) -> tuple[tuple[Timestamp, ...], list[list[Bar]]]:
    gaps = "gaps" in switches.on
    later = [
        (name, first, _series_steps(records, switches.size)) for name, (first, records) in columns
    ]
    length = 1 + max(len(steps) for _, _, steps in later)
    timeline = _timeline(head, switches, length)
    stream: list[list[Bar]] = [[] for _ in range(length)]
    for name, first, steps in later:
        bar = _bar(
            name, timeline[0], low + _uint(first, 1, 4) % (high - low + 1), _shape(first, 5), high
        )
        stream[0].append(bar)
        close = bar.close
        for index, record in enumerate(steps, start=1):
            assert record is not None
            kind = record[0]
            # below 128 a gap (0, the simplest, is one): shrinking drops bars it does not need
            if gaps and kind < 128:
                continue
            # mostly small moves, so orders placed at a close often fill at the next open
            if kind & 1:
                move = _zigzag(record[1]) * _MAX_MOVE_BPS // 128
            else:
                move = _zigzag(record[1] % 101)
            moved = max(low, min(high, close + close * move // 10_000))
            bar = _bar(name, timeline[index], moved, _shape(record, 2), high)
            close = bar.close
            stream[index].append(bar)
    return timeline, stream


def _signals(
    records: Sequence[bytes],
    switches: _Switches,
    timeline: Sequence[Timestamp],
    symbols: Sequence[str],
    max_quantity: int,
) -> list[Signal]:
    on = switches.on
    size = switches.size
    top_quantity = min(max_quantity, BIG_MAX_QUANTITY if switches.big else SMALL_MAX_QUANTITY)
    found: list[tuple[int, int, Signal]] = []
    for number, record in enumerate(records):
        step = record[0] % len(timeline)
        kind = record[2]
        # two BUYs to one SELL: a SELL needs a position first
        side = Side.SELL if "sells" in on and kind % 3 == 2 else Side.BUY
        gtc = "gtc" in on and kind // 3 % 2 == 1
        quantity: int | None = None
        if "explicit_quantities" in on:
            choice = record[3] % 3
            if choice == 1:
                quantity = 1 + record[4] % min(10, top_quantity)
            elif choice == 2:
                quantity = 1 + _uint(record, 4, 3) % top_quantity
        strength_byte = record[7]
        strength = (
            Decimal((strength_byte - 128) % 101) / 100
            if "strengths" in on and strength_byte >= 128
            else None
        )
        burst = 1 + record[8] % size.max_burst
        spread_symbols = kind >= 128
        for j in range(burst):
            symbol = symbols[(record[1] + (j if spread_symbols else 0)) % len(symbols)]
            signal = Signal(
                timeline[step],
                symbol,
                side,
                quantity,
                strength,
                TimeInForce.GTC if gtc else TimeInForce.DAY,
            )
            found.append((step, number, signal))
    # stable by step: file order = handling order, so order ids read top to bottom
    found.sort(key=lambda item: item[0])
    return [signal for _, _, signal in found[: size.max_signals]]


def _cancels(
    records: Sequence[tuple[int, int, int]],
    signal_list: Sequence[Signal],
    timeline: Sequence[Timestamp],
) -> tuple[Cancel, ...]:
    """Cancels in time order: mostly of real orders at or after their signal's step;
    a quarter of them name an id no signal issues."""
    position = {timestamp: i for i, timestamp in enumerate(timeline)}
    found = []
    for which, when, kind in records:
        if signal_list and kind < 192:
            index = which % len(signal_list)
            start = position[signal_list[index].timestamp]
            step = start + when % (len(timeline) - start)
            # ids run 1, 2, ... in handling order, which is list order here
            found.append((step, Cancel(timeline[step], index + 1)))
        else:
            step = when % len(timeline)
            found.append((step, Cancel(timeline[step], len(signal_list) + 1 + which % 8)))
    found.sort(key=lambda item: item[0])
    return tuple(cancel for _, cancel in found)


@dataclass(frozen=True, slots=True)
class MixParts:
    """Every strategy a mixed scenario draws from, built once per set of bounds.

    Both size classes draw the same lists in the same order; the large class only
    adds its extra symbols and cancels at the very end. So when the shrinker turns
    a large example small (one header byte), every earlier draw keeps its meaning
    and the scenario collapses to its small core instead of being scrambled.
    """

    fixed: Fixed
    small: SizeClass
    large: SizeClass
    required: st.SearchStrategy[tuple[_Column, ...]]
    optional: st.SearchStrategy[list[_Column]]
    signals: st.SearchStrategy[list[bytes]]
    cancels: st.SearchStrategy[list[bytes]]
    extra_columns: st.SearchStrategy[list[_Column]]
    extra_cancels: st.SearchStrategy[list[bytes]]


_SIZES = st.integers(0, 7)
_HEADERS = st.binary(min_size=_HEADER, max_size=_HEADER)
_COLUMNS = st.binary(min_size=_COLUMN, max_size=_COLUMN)
_BARS = st.binary(min_size=_BAR, max_size=_BAR)
_SIGNALS = st.binary(min_size=_SIGNAL, max_size=_SIGNAL)
_CANCELS = st.binary(min_size=_CANCEL, max_size=_CANCEL)


def clamp(size: SizeClass, *, steps: int, symbols: int, signals: int, cancels: int) -> SizeClass:
    """``size`` within the caller's bounds."""
    return SizeClass(
        max_steps=min(size.max_steps, steps),
        max_symbols=min(size.max_symbols, symbols),
        max_signals=min(size.max_signals, signals),
        max_cancels=min(size.max_cancels, cancels),
        max_bar_run=size.max_bar_run,
        max_burst=size.max_burst,
        max_signal_records=min(size.max_signal_records, signals),
        max_cancel_records=min(size.max_cancel_records, cancels),
    )


def mix_parts(small: SizeClass, large: SizeClass, min_symbols: int, fixed: Fixed) -> MixParts:
    """The strategies for scenarios of the size mix ``small``/``large``."""
    # a symbol's later bars: as many records as a small scenario has later steps; the
    # large class stretches each record over a run of steps
    column = st.tuples(_COLUMNS, st.lists(_BARS, max_size=max(0, small.max_steps - 1)))
    return MixParts(
        fixed=fixed,
        small=small,
        large=large,
        required=st.tuples(*(column for _ in range(min_symbols))),
        optional=st.lists(column, max_size=max(0, small.max_symbols - min_symbols)),
        signals=st.lists(
            _SIGNALS, max_size=max(small.max_signal_records, large.max_signal_records)
        ),
        cancels=st.lists(_CANCELS, max_size=small.max_cancel_records),
        extra_columns=st.lists(
            column, max_size=max(0, large.max_symbols - max(small.max_symbols, min_symbols))
        ),
        extra_cancels=st.lists(
            _CANCELS, max_size=max(0, large.max_cancel_records - small.max_cancel_records)
        ),
    )


@st.composite
def mixed_scenarios(draw: st.DrawFn, parts: MixParts) -> Scenario:
    """One scenario of the size mix (see the module docstring)."""
    # the size class is a draw of its own, first: the shrinker tries 0 (small) early,
    # and everything drawn after keeps its meaning (see MixParts)
    size = draw(_SIZES)
    head = draw(_HEADERS)
    switches = _switches(head, size, parts.small, parts.large)
    large = switches.size is parts.large
    drawn = [*draw(parts.required), *draw(parts.optional)]
    signal_records = draw(parts.signals)
    cancelling = "cancels" in switches.on and switches.size.max_cancels > 0
    cancel_records = draw(parts.cancels) if cancelling else []
    if large:
        drawn += draw(parts.extra_columns)
        if cancelling:
            cancel_records += draw(parts.extra_cancels)
    config = _config(head, switches, parts.fixed)
    low, high = _price_range(head, switches, config.initial_cash)
    pool = list(SYMBOLS[: max(switches.size.max_symbols, len(drawn))])
    columns = [(pool.pop(first[0] % len(pool)), (first, records)) for first, records in drawn]
    timeline, stream = _stream(columns, switches, low, high, head)
    symbols = [name for name, _ in columns]
    signal_list = _signals(signal_records, switches, timeline, symbols, parts.fixed.max_quantity)
    cancel_list = _cancels([(r[0], r[1], r[2]) for r in cancel_records], signal_list, timeline)[
        : switches.size.max_cancels
    ]
    return Scenario(
        config=config,
        bars=tuple(bar for step in stream for bar in step),
        signals=tuple(signal_list),
        cancels=cancel_list,
    )
