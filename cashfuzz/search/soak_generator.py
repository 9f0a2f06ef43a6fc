"""Scenarios from a seeded ``random.Random``: the soak tier's fast generator.

No Hypothesis: every scenario is built directly from the reference engine's
types, valid by construction (a bar draws its low, then a spread, then open and
close between; a cancel names an order id 1..signals; every signal's symbol has
bars), so it loads back unchanged from its file. Scenario ``index`` of ``seed``
depends on those two numbers alone (``generate_scenario``), so a soak run is
reproducible scenario by scenario whatever else ran before it.

Sizes come from a ``SizeMix``: mostly small scenarios like the gate's, some
large (up to 50 steps, 12 symbols, 20 signals a bar), a few very long (10^4
steps) or very wide (10^2 symbols). Each scenario also switches features on and
off (swarm testing): cancels, GTC orders, partial fills, costs, explicit
quantities, gaps, calendar (ISO-8601) timestamps, large money.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

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
from cashfuzz.strategies._internal.core import MAX_VOLUME
from cashfuzz.strategies._internal.mix import (
    BIG_MAX_CASH,
    BIG_MAX_QUANTITY,
    BIG_MAX_SLIPPAGE,
    MAX_PRICE,
    MIN_PRICE,
    SMALL_MAX_LOTS,
    SMALL_MAX_QUANTITY,
    SMALL_MAX_SLIPPAGE,
)

#: Price bounds in ticks of 0.0001: the gate's (a cent to 100,000) usually, a tick to 10^7
#: when wide. Quantities, large cash and slippage share the gate's bounds too.
WIDE_MIN_PRICE, WIDE_MAX_PRICE = 1, 100_000_000_000
#: Cash in cents: up to 5,000,000.00 usually (for the soak's long runs); BIG_MAX_CASH with
#: large money.
MAX_CASH = 500_000_000
_RATE_GRID = 100_000
_NAMED = ("AAPL", "GOOGL", "MSFT", "AMZN", "NVDA", "TSLA", "META", "JPM")
_STRENGTHS = tuple(Decimal(n) / 100 for n in range(101))
#: Calendar steps: a minute, five minutes, an hour, a day.
_ISO_UNITS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(hours=1), timedelta(days=1))


def symbol_pool(count: int) -> tuple[str, ...]:
    """``count`` distinct symbols: the eight familiar tickers, then ``S008``, ``S009``, ..."""
    return _NAMED[:count] + tuple(f"S{i:03d}" for i in range(len(_NAMED), count))


@dataclass(frozen=True, slots=True)
class SizeClass:
    """Bounds of one kind of scenario: symbols, steps, signals and cancels (inclusive),
    and the most signals placed on one step when a scenario bunches them."""

    name: str
    min_symbols: int
    max_symbols: int
    min_steps: int
    max_steps: int
    max_signals: int
    max_cancels: int
    max_burst: int
    #: Optional histograms replacing the uniform draws: the weight of each count of
    #: symbols (from ``min_symbols``), steps (from ``min_steps``), signals and cancels
    #: (from 0); and a fixed chance that a symbol misses a later step.
    symbol_weights: tuple[int, ...] = ()
    step_weights: tuple[int, ...] = ()
    signal_weights: tuple[int, ...] = ()
    cancel_weights: tuple[int, ...] = ()
    gap_rate: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.min_symbols <= self.max_symbols:
            raise ValueError(f"{self.name}: symbols {self.min_symbols}..{self.max_symbols}")
        if not 1 <= self.min_steps <= self.max_steps:
            raise ValueError(f"{self.name}: steps {self.min_steps}..{self.max_steps}")
        if min(self.max_signals, self.max_cancels, self.max_burst) < 0:
            raise ValueError(f"{self.name}: signal, cancel and burst bounds must be >= 0")


#: The gate's bounds today (``strategies.scenarios()``'s defaults), counts drawn evenly.
SMALL = SizeClass("small", 1, 4, 1, 6, 8, 3, 8)
#: The gate's bounds and the gate's own distribution of sizes within them: histograms of
#: 1,000 scenarios drawn by ``scenarios()`` (seed 0; on average 3.2 to 3.4 steps, 2.0
#: symbols, 4.2 to 4.6 bars, 3.2 signals, 1.0 cancels, 7.0 to 7.3 events), and a gap rate
#: that leaves about as many bars and events (here 4.4 bars, 3.3 signals, 7.2 events).
#: ``GATE_MIX`` uses it, so throughput is compared on equal work.
GATE_SHAPED = SizeClass(
    "gate-shaped",
    1, 4, 1, 6, 8, 3, 8,
    symbol_weights=(434, 287, 191, 88),
    step_weights=(206, 194, 166, 168, 162, 104),
    signal_weights=(231, 205, 94, 79, 52, 48, 47, 40, 204),
    cancel_weights=(524, 168, 65, 243),
    gap_rate=0.3,
)  # fmt: skip
LARGE = SizeClass("large", 1, 12, 2, 50, 300, 40, 20)
LONG = SizeClass("long", 1, 3, 1_000, 10_000, 2_000, 200, 20)
WIDE = SizeClass("wide", 50, 100, 2, 100, 2_000, 200, 20)


@dataclass(frozen=True, slots=True)
class SizeMix:
    """Size classes with their weights (relative frequencies)."""

    classes: tuple[tuple[float, SizeClass], ...]

    def __post_init__(self) -> None:
        if not self.classes or any(weight <= 0 for weight, _ in self.classes):
            raise ValueError("a size mix needs at least one class, each with a positive weight")

    def pick(self, rng: random.Random) -> SizeClass:
        weights = [weight for weight, _ in self.classes]
        return rng.choices([size for _, size in self.classes], weights)[0]


#: The soak's default. One long scenario costs as much as thousands of small ones, so
#: they are rare by count; by CPU time (measured on the reference engine: 0.5 ms a small
#: one, 19 ms a large, 1.6 s a long, 0.35 s a wide one) about a quarter goes to small,
#: a quarter to large, a third to long and a tenth to wide scenarios. A one-minute soak
#: checks about 30,000 scenarios, some 900 large, a dozen long and a dozen wide.
SOAK_MIX = SizeMix(((0.97, SMALL), (0.029, LARGE), (0.0004, LONG), (0.0006, WIDE)))
#: The gate's size distribution (``GATE_SHAPED``). ``bench`` compares throughput with
#: the soak set to this mix.
GATE_MIX = SizeMix(((1.0, GATE_SHAPED),))
MIXES = {"soak": SOAK_MIX, "gate": GATE_MIX}


@dataclass(frozen=True, slots=True)
class Features:
    """What one scenario switches on (swarm testing: each combination gets tried)."""

    cancels: bool
    gtc: bool
    partial_fills: bool
    costs: bool
    explicit_quantities: bool
    gaps: bool
    iso_timestamps: bool
    large_money: bool
    wide_prices: bool
    bursts: bool

    @classmethod
    def draw(cls, rng: random.Random) -> Features:
        flip = rng.random
        return cls(
            cancels=flip() < 0.5,
            gtc=flip() < 0.5,
            partial_fills=flip() < 0.4,
            costs=flip() < 0.6,
            explicit_quantities=flip() < 0.5,
            gaps=flip() < 0.3,
            iso_timestamps=flip() < 0.3,
            large_money=flip() < 0.1,
            wide_prices=flip() < 0.1,
            bursts=flip() < 0.5,
        )


def scenario_rng(seed: int, index: int) -> random.Random:
    """The generator of scenario ``index`` of a soak run with ``seed``."""
    return random.Random(f"cashfuzz-soak:{seed}:{index}")


def generate_scenario(seed: int, index: int, mix: SizeMix = SOAK_MIX) -> Scenario:
    """Scenario ``index`` of the soak run with ``seed``: the same numbers, the same scenario."""
    return generate_case(seed, index, mix)[1]


def generate_case(seed: int, index: int, mix: SizeMix = SOAK_MIX) -> tuple[SizeClass, Scenario]:
    """``generate_scenario``'s scenario and the size class it was drawn from."""
    rng = scenario_rng(seed, index)
    size = mix.pick(rng)
    return size, draw_scenario(rng, size, Features.draw(rng))


def draw_scenario(rng: random.Random, size: SizeClass, features: Features) -> Scenario:
    """One valid scenario of ``size`` with ``features``, drawn from ``rng``."""
    config = _config(rng, features)
    symbols = symbol_pool(_count(rng, size.min_symbols, size.max_symbols, size.symbol_weights))
    steps = _count(rng, size.min_steps, size.max_steps, size.step_weights)
    timeline = _timeline(rng, steps, features.iso_timestamps)
    low, high = _price_range(rng, config.initial_cash, features.wide_prices)
    bars, listed = _bars(rng, symbols, timeline, low, high, features, size.gap_rate)
    signals = _signals(rng, size, features, timeline, symbols, listed)
    drawn_cancels = features.cancels or bool(size.cancel_weights)
    cancels = _cancels(rng, size, features, timeline, signals) if drawn_cancels else ()
    return Scenario(config=config, bars=bars, signals=signals, cancels=cancels)


def _fast_randint(random_: Callable[[], float]) -> Callable[[int, int], int]:
    """``randint`` from one float draw: several times faster than ``Random.randint``, and
    as even for every range drawn here (all far below 2**53)."""

    def between(low: int, high: int) -> int:
        return low + int(random_() * (high - low + 1))

    return between


def _count(rng: random.Random, low: int, high: int, weights: Sequence[int]) -> int:
    """low..high, evenly or by ``weights`` (of low, low + 1, ...)."""
    if not weights:
        return rng.randint(low, high)
    return rng.choices(range(low, low + len(weights)), weights)[0]


# --- configuration ---------------------------------------------------------------------


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    """An integer in low..high, spread evenly over orders of magnitude."""
    value = int(10 ** rng.uniform(0, len(str(high)) - 1 + 0.999))
    return min(high, max(low, value))


def _config(rng: random.Random, features: Features) -> EngineConfig:
    cash_top = BIG_MAX_CASH if features.large_money else MAX_CASH
    return EngineConfig(
        initial_cash=_log_uniform(rng, 1, cash_top),
        mode=Mode.RESERVATION,
        fill_at=rng.choice((FillAt.SAME_CLOSE, FillAt.NEXT_OPEN)),
        policy=rng.choice((Policy.SHRINK, Policy.REJECT)),
        max_participation=_participation(rng, features.partial_fills),
        seed=rng.randint(0, 2**16),
        costs=_costs(rng, features) if features.costs else Costs(),
        sizer=_sizer(rng, features.large_money),
    )


def _participation(rng: random.Random, partial_fills: bool) -> Fraction | None:
    if partial_fills:
        return Fraction(rng.randint(1, 99), 100)
    return rng.choice((None, Fraction(1)))


def _costs(rng: random.Random, features: Features) -> Costs:
    # one scenario in five goes past the gate's bounds, to what the file format accepts
    wide = rng.random() < 0.2
    rate_top = _RATE_GRID // 2 if wide else _RATE_GRID // 100
    minimum_top = 100_000 if wide else 500
    slippage_top = BIG_MAX_SLIPPAGE if wide else SMALL_MAX_SLIPPAGE
    return Costs(
        commission_rate=Fraction(rng.randint(0, rate_top), _RATE_GRID),
        commission_min=rng.choice((0, rng.randint(0, minimum_top))),
        max_slippage=rng.randint(0, slippage_top),
        random_slippage=rng.random() < 0.5,
    )


def _sizer(rng: random.Random, large_money: bool) -> Sizer:
    kind = rng.randrange(4)
    if kind == 0:
        top = BIG_MAX_QUANTITY if large_money else SMALL_MAX_QUANTITY
        return FixedShares(_log_uniform(rng, 1, top))
    if kind == 1:
        return PercentEquity(Fraction(rng.randint(1, 100), 100))
    if kind == 2:
        return FixedAmount(_log_uniform(rng, 1, BIG_MAX_CASH if large_money else MAX_CASH))
    payoff = rng.choice((Fraction(2), Fraction(1), Fraction(3), Fraction(1, 2)))
    return Kelly(Fraction(rng.randint(1, 100), 100), payoff)


# --- time and bars ------------------------------------------------------------------------


def _timeline(rng: random.Random, steps: int, iso: bool) -> tuple[Timestamp, ...]:
    if not iso:
        start, stride = rng.choice(((0, 1), (0, 1), (rng.randint(0, 10**9), rng.randint(1, 3600))))
        return tuple(range(start, start + stride * steps, stride))
    # several days of calendar time, naive or UTC: engines key DAY orders and sessions on it
    moment = datetime(2025, 1, 2, 9, 30) + timedelta(days=rng.randint(0, 700))
    unit = rng.choice(_ISO_UNITS)
    suffix = rng.choice(("", "+00:00"))
    stamps: list[Timestamp] = []
    for _ in range(steps):
        stamps.append(moment.isoformat() + suffix)
        moment += unit * rng.randint(1, 3)
    return tuple(stamps)


def _price_range(rng: random.Random, cash: int, wide: bool) -> tuple[int, int]:
    if wide:
        return WIDE_MIN_PRICE, WIDE_MAX_PRICE
    # prices that the cash buys 1..500 shares of, so sizing and the race are reached
    base = min(MAX_PRICE, max(MIN_PRICE, cash * 100 // rng.randint(1, SMALL_MAX_LOTS)))
    return max(MIN_PRICE, base // 2), min(MAX_PRICE, base * 2)


def _bars(
    rng: random.Random,
    symbols: Sequence[str],
    timeline: Sequence[Timestamp],
    low: int,
    high: int,
    features: Features,
    fixed_gap_rate: float | None,
) -> tuple[tuple[Bar, ...], dict[str, int]]:
    """Every symbol's bars, and the step at which each symbol's first bar is."""
    random_ = rng.random
    randint = _fast_randint(random_)
    gap_rate = rng.choice((0.1, 0.3)) if features.gaps else 0.0
    if fixed_gap_rate is not None:
        gap_rate = fixed_gap_rate
    small_volume = features.partial_fills
    bars: list[Bar] = []
    listed: dict[str, int] = {}
    last = len(timeline) - 1
    for symbol in symbols:
        # with gaps on, a symbol may list late; step 0 otherwise
        first = randint(0, last) if gap_rate and random_() < 0.3 else 0
        listed[symbol] = first
        close = randint(low, high)
        for step in range(first, len(timeline)):
            if step > first and gap_rate and random_() < gap_rate:
                continue
            move = randint(-50, 50) if random_() < 0.8 else randint(-2_000, 2_000)
            bar_low = max(low, min(high, close + close * move // 10_000))
            spread = randint(0, 100) if random_() < 0.7 else randint(0, 2_000)
            bar_high = min(high, bar_low + bar_low * spread // 10_000)
            width = bar_high - bar_low
            close = bar_low + randint(0, width)
            volume = randint(0, 20) if small_volume and random_() < 0.5 else randint(0, MAX_VOLUME)
            bars.append(
                Bar(
                    timeline[step], symbol, bar_low + randint(0, width), bar_high, bar_low, close,
                    volume,
                )
            )  # fmt: skip
    return tuple(bars), listed


# --- signals and cancels ---------------------------------------------------------------------


def _signals(
    rng: random.Random,
    size: SizeClass,
    features: Features,
    timeline: Sequence[Timestamp],
    symbols: Sequence[str],
    listed: dict[str, int],
) -> tuple[Signal, ...]:
    random_ = rng.random
    randint = _fast_randint(random_)
    count = _count(rng, 0, size.max_signals, size.signal_weights)
    last = len(timeline) - 1
    hot = [randint(0, last) for _ in range(randint(1, 3))] if features.bursts else []
    quantity_top = BIG_MAX_QUANTITY if features.large_money else SMALL_MAX_QUANTITY
    placed: list[tuple[int, Signal]] = []
    per_step: dict[int, int] = {}
    for _ in range(count):
        step = hot[int(random_() * len(hot))] if hot and random_() < 0.6 else randint(0, last)
        if per_step.get(step, 0) >= size.max_burst:
            step = randint(0, last)
        per_step[step] = per_step.get(step, 0) + 1
        symbol = symbols[int(random_() * len(symbols))]
        if listed[symbol] > step and random_() < 0.9:
            step = randint(listed[symbol], last)  # mostly after the symbol's first bar
        quantity = None
        if features.explicit_quantities and random_() < 0.6:
            quantity = randint(1, 10) if random_() < 0.5 else _log_uniform(rng, 1, quantity_top)
        strength = None if random_() < 0.3 else _STRENGTHS[randint(0, 100)]
        placed.append(
            (
                step,
                Signal(
                    timeline[step],
                    symbol,
                    Side.SELL if random_() < 1 / 3 else Side.BUY,
                    quantity,
                    strength,
                    TimeInForce.GTC if features.gtc and random_() < 0.5 else TimeInForce.DAY,
                ),
            )
        )
    # stable: file order is handling order, so order ids are 1, 2, 3, ... top to bottom
    placed.sort(key=lambda item: item[0])
    return tuple(signal for _, signal in placed)


def _cancels(
    rng: random.Random,
    size: SizeClass,
    features: Features,
    timeline: Sequence[Timestamp],
    signals: Sequence[Signal],
) -> tuple[Cancel, ...]:
    if not signals:
        return ()
    randint = _fast_randint(rng.random)
    position = {timestamp: i for i, timestamp in enumerate(timeline)}
    last = len(timeline) - 1
    found: list[tuple[int, Cancel]] = []
    top = min(size.max_cancels, 2 * len(signals))
    for _ in range(min(top, _count(rng, 0, top, size.cancel_weights))):
        index = randint(0, len(signals) - 1)
        placed = position[signals[index].timestamp]
        roll = rng.random()
        if roll < 0.5:
            step = placed  # in its own step: after the signal, before any close fill
        elif roll < 0.9 or placed == 0:
            step = min(last, placed + randint(1, 3))
        else:
            step = randint(0, placed - 1)  # before its order exists: an unknown id then
        found.append((step, Cancel(timeline[step], index + 1)))
    found.sort(key=lambda item: item[0])
    return tuple(cancel for _, cancel in found)


__all__ = [
    "GATE_MIX",
    "GATE_SHAPED",
    "LARGE",
    "LONG",
    "MIXES",
    "SMALL",
    "SOAK_MIX",
    "WIDE",
    "Features",
    "SizeClass",
    "SizeMix",
    "draw_scenario",
    "generate_case",
    "generate_scenario",
    "scenario_rng",
    "symbol_pool",
]
