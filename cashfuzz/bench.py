"""What correct cash handling costs: sizer overhead and engine throughput.

Every figure that matters is a ratio of two measurements taken in the same
process, each the median of repeated rounds, so a slow or busy machine moves
both sides together:

- ``sizer_overhead_ratio``: time per signal of reservation-aware sizing
  (``Mode.RESERVATION``: target, pending buys, affordability against available
  cash, reservation) over naive sizing (``Mode.NAIVE``), measured on
  ``Engine.step`` calls that carry signals and no bars, so no fill dilutes it;
- ``engine_vs_backtrader``: the reference engine's symbol-bars per second over
  backtrader's, on the same bars and the same explicit-quantity orders;
- ``engine_vs_backtesting``: the same against backtesting.py on one symbol
  (it is single-asset);
- ``gate_vs_hypothesis_floor``: the gate's CPU time per example over that of a
  trivial one-integer ``@given`` test under the same Hypothesis settings;
- ``monitor_growth_exponent``: the log-log slope of a checked run's CPU time
  from about 1,000 to about 10,000 events (1.0: linear);
- and whatever other tiers register in ``EXTRA_RATIOS`` (``register_ratio``).

Timed sections run with the garbage collector as a checked run has it
(``gc_tuned``), on both sides of a comparison.

The workload is deterministic: a seeded random walk in ticks per symbol, and a
one-share order on two thirds of the symbol-bars, alternating BUY and SELL per
symbol, so every SELL has the share its BUY bought one bar earlier. Bars open at
the previous close, so a BUY (whose reservation bounds its price by the close it
was placed on) fills at the next open in the reference engine as in backtrader:
both engines fill the same orders.
"""

from __future__ import annotations

import gc
import importlib.util
import math
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from cashfuzz.adapters.backtrader.runner import BtBar, BtOrder
from cashfuzz.reference_engine import (
    Bar,
    Costs,
    Engine,
    EngineConfig,
    FixedAmount,
    FixedShares,
    Kelly,
    Mode,
    OrderFilled,
    PercentEquity,
    Scenario,
    Side,
    Signal,
    Sizer,
    gc_tuned,
)
from cashfuzz.reference_engine.money import TICKS_PER_UNIT

#: Cash and commission of every benchmark workload.
INITIAL_CASH_CENTS = 100_000_000  # 1,000,000.00
COMMISSION_RATE = Fraction(1, 1000)
_START_PRICE = 100 * TICKS_PER_UNIT
_VOLUME = 1_000_000

#: The sizers compared, parametrised so a batch of 100 BUYs all fit in the cash.
BENCH_SIZERS: dict[str, Sizer] = {
    "fixed_amount": FixedAmount(100_000),
    "percent_equity": PercentEquity(Fraction(1, 200)),
    "kelly": Kelly(Fraction(1, 100)),
    "fixed_shares": FixedShares(10),
}
BATCH_SIZES: tuple[int, ...] = (1, 10, 100)
#: The batch size whose median over sizers is the headline ``sizer_overhead_ratio``.
HEADLINE_BATCH = 10
_STRENGTH = Decimal("0.6")


# --- the workload -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkStep:
    """One timestamp of a workload: a bar per symbol, then the signals."""

    timestamp: int
    bars: tuple[Bar, ...]
    signals: tuple[Signal, ...]


@dataclass(frozen=True, slots=True)
class Workload:
    """``symbols`` x ``len(steps)`` bars with one-share orders on two thirds of them."""

    symbols: tuple[str, ...]
    steps: tuple[WorkStep, ...]
    initial_cash: int = INITIAL_CASH_CENTS
    commission_rate: Fraction = COMMISSION_RATE

    @property
    def symbol_bars(self) -> int:
        return len(self.symbols) * len(self.steps)

    @property
    def order_count(self) -> int:
        return sum(len(step.signals) for step in self.steps)

    def config(self, mode: Mode = Mode.RESERVATION) -> EngineConfig:
        """The reference engine's settings for this workload (fill at the next open)."""
        return EngineConfig(
            initial_cash=self.initial_cash,
            mode=mode,
            costs=Costs(commission_rate=self.commission_rate),
        )

    def bt_bars(self) -> list[BtBar]:
        """The same bars as backtrader runner input (prices in currency units)."""
        scale = float(TICKS_PER_UNIT)
        return [
            BtBar(
                bar.timestamp,  # type: ignore[arg-type]
                bar.symbol,
                bar.open / scale,
                bar.high / scale,
                bar.low / scale,
                bar.close / scale,
                float(bar.volume),
            )
            for step in self.steps
            for bar in step.bars
        ]

    def bt_orders(self) -> list[BtOrder]:
        """The same orders as backtrader runner input, in the same order."""
        return [
            BtOrder(step.timestamp, signal.symbol, signal.side.value, signal.quantity or 0)
            for step in self.steps
            for signal in step.signals
        ]


def symbol_names(count: int) -> tuple[str, ...]:
    """``S000``, ``S001``, ... (sorted, as the engine's bars are)."""
    return tuple(f"S{i:03d}" for i in range(count))


def make_workload(symbols: int, bars: int, *, seed: int = 0) -> Workload:
    """A deterministic workload of ``symbols`` x ``bars`` symbol-bars.

    Raises ValueError when either count is below 1.
    """
    if symbols < 1 or bars < 1:
        raise ValueError(f"symbols={symbols} and bars={bars} must both be at least 1")
    rng = random.Random(seed)
    names = symbol_names(symbols)
    closes = [_START_PRICE + rng.randint(-50_000, 50_000) for _ in names]
    sides = [Side.BUY] * symbols
    steps: list[WorkStep] = []
    for t in range(bars):
        step_bars: list[Bar] = []
        signals: list[Signal] = []
        for i, name in enumerate(names):
            previous = closes[i]
            open_ = previous
            close = max(1_000, previous + rng.randint(-500, 500))
            high = max(open_, close) + rng.randint(0, 300)
            low = max(1, min(open_, close) - rng.randint(0, 300))
            closes[i] = close
            step_bars.append(Bar(t, name, open_, high, low, close, _VOLUME))
            if (t + i) % 3 != 2:
                signals.append(Signal(t, name, sides[i], quantity=1))
                sides[i] = Side.SELL if sides[i] is Side.BUY else Side.BUY
        steps.append(WorkStep(t, tuple(step_bars), tuple(signals)))
    return Workload(names, tuple(steps))


# --- timing helpers -------------------------------------------------------------------


@contextmanager
def clean_heap() -> Iterator[None]:
    """Collect, then freeze every object alive so far for the duration: the garbage
    collector then scans only what the timed run creates, whatever else the
    process holds (Hypothesis, backtrader's modules, an earlier run's results).
    Inside, the collector runs as in a checked run (``gc_tuned``)."""
    gc.collect()
    gc.freeze()
    try:
        with gc_tuned():
            yield
    finally:
        gc.unfreeze()


def run_engine(workload: Workload, mode: Mode = Mode.RESERVATION) -> tuple[Engine, float]:
    """Run the reference engine (no observer) over ``workload``; return it and the
    CPU seconds of its step loop (in a ``clean_heap``)."""
    engine = Engine(workload.config(mode))
    step = engine.step
    with clean_heap():
        started = time.process_time()
        for work in workload.steps:
            step(work.timestamp, work.bars, work.signals)
        elapsed = time.process_time() - started
    return engine, elapsed


def workload_scenario(workload: Workload) -> Scenario:
    """``workload`` as a scenario, for checked runs."""
    return Scenario(
        workload.config(),
        tuple(bar for step in workload.steps for bar in step.bars),
        tuple(signal for step in workload.steps for signal in step.signals),
    )


def engine_throughput(workload: Workload, rounds: int) -> float:
    """Median symbol-bars per second of the reference engine over ``rounds`` runs."""
    seconds = []
    for _ in range(max(1, rounds)):
        engine, elapsed = run_engine(workload)
        del engine  # freed before the next run starts
        seconds.append(elapsed)
    return workload.symbol_bars / statistics.median(seconds)


@dataclass(frozen=True, slots=True)
class SizingCase:
    """Engines with marks set, and one batch of BUY signals (one per symbol) to
    hand each of them in a single ``step``."""

    engines: list[Engine]
    signals: tuple[Signal, ...]


def sizing_case(sizer: Sizer, batch: int, mode: Mode, engines: int) -> SizingCase:
    """``engines`` fresh engines that have seen one bar for each of ``batch`` symbols."""
    names = symbol_names(batch)
    bars = tuple(
        Bar(0, name, price, price, price, price, _VOLUME)
        for name, price in zip(
            names, range(_START_PRICE, _START_PRICE + 97 * batch, 97), strict=True
        )
    )
    config = EngineConfig(
        initial_cash=INITIAL_CASH_CENTS,
        mode=mode,
        costs=Costs(commission_rate=COMMISSION_RATE),
        sizer=sizer,
    )
    prepared = []
    for _ in range(engines):
        engine = Engine(config)
        engine.step(0, bars)
        prepared.append(engine)
    signals = tuple(Signal(1, name, Side.BUY, strength=_STRENGTH) for name in names)
    return SizingCase(prepared, signals)


def time_sizing(case: SizingCase) -> float:
    """Nanoseconds per signal to handle ``case``'s batch once on each engine."""
    signals = case.signals
    enabled = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter_ns()
        for engine in case.engines:
            engine.step(1, (), signals)
        elapsed = time.perf_counter_ns() - started
    finally:
        if enabled:
            gc.enable()
    return elapsed / (len(case.engines) * len(signals))


@dataclass(frozen=True, slots=True)
class SizingRow:
    """Per-signal nanoseconds (medians over rounds) for one sizer and batch size."""

    sizer: str
    batch: int
    reservation_ns: float
    naive_ns: float
    ratio: float


def measure_sizing(
    *,
    rounds: int,
    signals_per_round: int,
    sizers: dict[str, Sizer] = BENCH_SIZERS,
    batches: Iterable[int] = BATCH_SIZES,
) -> list[SizingRow]:
    """Per-signal time of both modes for each sizer and batch size.

    Each round measures the two modes back to back (alternating which goes
    first); a row's ratio is the median of the rounds' paired ratios.
    """
    batches = tuple(batches)
    samples: dict[tuple[str, int], tuple[list[float], list[float]]] = {
        (name, batch): ([], []) for name in sizers for batch in batches
    }
    for round_index in range(max(1, rounds)):
        for (name, batch), (reserving, naive) in samples.items():
            engines = max(1, signals_per_round // batch)
            order = (Mode.RESERVATION, Mode.NAIVE)
            if round_index % 2:
                order = order[::-1]
            for mode in order:
                case = sizing_case(sizers[name], batch, mode, engines)
                (reserving if mode is Mode.RESERVATION else naive).append(time_sizing(case))
    rows = []
    for (name, batch), (reserving, naive) in samples.items():
        ratios = [r / n for r, n in zip(reserving, naive, strict=True)]
        rows.append(
            SizingRow(
                name,
                batch,
                statistics.median(reserving),
                statistics.median(naive),
                statistics.median(ratios),
            )
        )
    return rows


def headline_ratio(rows: Iterable[SizingRow], batch: int = HEADLINE_BATCH) -> float:
    """The median over sizers of the overhead ratio at ``batch`` signals per bar."""
    return statistics.median(row.ratio for row in rows if row.batch == batch)


# --- backtrader ---------------------------------------------------------------------------


def backtrader_available() -> bool:
    """Whether the optional ``backtrader`` extra is installed."""
    return importlib.util.find_spec("backtrader") is not None


@dataclass(frozen=True, slots=True)
class Versus:
    """Both engines on one workload: medians of symbol-bars per second, the median of
    the rounds' paired ratios (reference / backtrader), and each engine's fill count."""

    reference_rate: float
    backtrader_rate: float
    ratio: float
    reference_fills: int
    backtrader_fills: int


def measure_versus(workload: Workload, rounds: int) -> Versus:
    """Run the reference engine and backtrader (``fill_at="next_open"``, no slippage,
    the same commission) on ``workload``, alternately, ``rounds`` times each.
    Raises ImportError without the ``bench`` extra."""
    from cashfuzz.adapters.backtrader.runner import run_backtrader

    bars, orders = workload.bt_bars(), workload.bt_orders()

    def backtrader_run() -> tuple[float, int]:
        started = time.process_time()
        result = run_backtrader(
            bars,
            orders,
            initial_cash=workload.initial_cash / 100,
            commission_rate=float(workload.commission_rate),
            fill_at="next_open",
        )
        return time.process_time() - started, len(result.fills)

    return _paired(workload, rounds, backtrader_run)


def measure_versus_backtesting(bars: int, rounds: int) -> Versus:
    """The reference engine and backtesting.py on one symbol x ``bars`` of the workload,
    alternately, ``rounds`` times each (CPU time; backtesting.py's ``run()`` includes
    its statistics). Raises ImportError without the ``bench`` extra."""
    from cashfuzz.bench_backtesting import run_backtesting

    workload = make_workload(1, bars)
    return _paired(workload, rounds, lambda: run_backtesting(workload))


def _paired(workload: Workload, rounds: int, other: Callable[[], tuple[float, int]]) -> Versus:
    """The reference engine and ``other`` (returning CPU seconds and fills) alternately;
    ``backtrader_*`` fields of the result hold ``other``'s figures."""
    ours: list[float] = []
    theirs: list[float] = []
    reference_fills = other_fills = 0
    for _ in range(max(1, rounds)):
        engine, seconds = run_engine(workload)
        ours.append(seconds)
        reference_fills = sum(isinstance(event, OrderFilled) for event in engine.events)
        del engine
        with clean_heap():
            seconds, other_fills = other()
        theirs.append(seconds)
    size = workload.symbol_bars
    return Versus(
        reference_rate=size / statistics.median(ours),
        backtrader_rate=size / statistics.median(theirs),
        ratio=statistics.median(b / a for a, b in zip(ours, theirs, strict=True)),
        reference_fills=reference_fills,
        backtrader_fills=other_fills,
    )


@dataclass(frozen=True, slots=True)
class Growth:
    """Checked-run CPU time at two sizes and the log-log slope between them
    (the median of the rounds' slopes)."""

    small_events: int
    large_events: int
    small_seconds: float
    large_seconds: float
    exponent: float


def measure_monitor_growth(small_bars: int, large_bars: int, rounds: int) -> Growth:
    """Check the workload (10 symbols) of ``small_bars`` and of ``large_bars`` bars under
    every per-event invariant (no determinism re-run), alternately; fit
    time = c x events^k between the two sizes."""
    from cashfuzz.invariants import check_scenario

    small = workload_scenario(make_workload(10, small_bars))
    large = workload_scenario(make_workload(10, large_bars))
    sizes: dict[int, int] = {}
    times: dict[int, list[float]] = {small_bars: [], large_bars: []}
    for _ in range(max(1, rounds)):
        for bars, scenario in ((small_bars, small), (large_bars, large)):
            gc.collect()
            started = time.process_time()
            result = check_scenario(scenario, determinism=False)
            times[bars].append(time.process_time() - started)
            sizes[bars] = len(result.events)
            del result
    events = math.log(sizes[large_bars] / sizes[small_bars])
    slopes = [
        math.log(big / little) / events
        for little, big in zip(times[small_bars], times[large_bars], strict=True)
    ]
    return Growth(
        sizes[small_bars],
        sizes[large_bars],
        statistics.median(times[small_bars]),
        statistics.median(times[large_bars]),
        statistics.median(slopes),
    )


@dataclass(frozen=True, slots=True)
class Floor:
    """CPU seconds per example of the gate and of a trivial ``@given`` test."""

    gate_examples: int
    gate_seconds_per_example: float
    floor_seconds_per_example: float
    ratio: float


def _floor_seconds_per_example(max_examples: int) -> float:
    """A trivial one-integer ``@given`` test under the gate's Hypothesis settings."""
    from hypothesis import given
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    from cashfuzz.search.gate import search_settings

    calls = [0]
    chosen = search_settings(max_examples)

    @hypothesis_seed(0)
    @chosen
    @given(st.integers())
    def trivial(value: int) -> None:
        calls[0] += 1

    started = time.process_time()
    trivial()
    return (time.process_time() - started) / max(1, calls[0])


def measure_gate_floor(max_examples: int, rounds: int) -> Floor:
    """The gate's CPU time per example on the reference engine over the floor's,
    alternately, ``rounds`` times each; the ratio is the median of the paired ones."""
    gate_times: list[float] = []
    floor_times: list[float] = []
    examples = 0
    for _ in range(max(1, rounds)):
        floor_times.append(_floor_seconds_per_example(max_examples))
        started = time.process_time()
        rate = measure_gate(max_examples)
        gate_times.append((time.process_time() - started) / max(1, rate.examples))
        examples = rate.examples
    return Floor(
        examples,
        statistics.median(gate_times),
        statistics.median(floor_times),
        statistics.median(g / f for g, f in zip(gate_times, floor_times, strict=True)),
    )


#: Ratios other tiers add to ``bench --json``: name -> measure(settings) returning the
#: ratio, or None when it cannot be measured here. Each becomes a top-level key.
ExtraRatio = Callable[["BenchSettings"], "float | None"]
EXTRA_RATIOS: dict[str, ExtraRatio] = {}


def register_ratio(name: str, measure: ExtraRatio) -> None:
    """Add a ratio to ``bench`` (e.g. ``soak_vs_gate`` from the soak tier).
    Raises ValueError for a name already taken."""
    if name in EXTRA_RATIOS:
        raise ValueError(f"bench ratio {name!r} is already registered")
    EXTRA_RATIOS[name] = measure


# --- the Hypothesis state machine ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExampleRate:
    """Hypothesis examples (and, for the state machine, engine steps) in ``seconds``."""

    examples: int
    steps: int
    seconds: float

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.seconds if self.seconds else 0.0

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0


def measure_stateful(max_examples: int) -> ExampleRate:
    """Run ``strategies.stateful``'s machine on the reference engine for ``max_examples``
    examples with the gate's Hypothesis settings (no database, no deadline, generate
    and shrink phases, health checks off; derandomized), counting examples and steps."""
    from hypothesis import HealthCheck, Phase, Verbosity, settings
    from hypothesis.stateful import run_state_machine_as_test

    from cashfuzz.reference_engine import reference_factory
    from cashfuzz.strategies.stateful import CashMachine, machine_for

    counts = {"examples": 0, "steps": 0}
    machine: type[CashMachine] = machine_for(reference_factory, name="BenchMachine")  # type: ignore[assignment]

    class Counted(machine):  # type: ignore[valid-type, misc]
        def __init__(self) -> None:
            super().__init__()
            counts["examples"] += 1

        def do_step(self, *args: Any, **kwargs: Any) -> None:
            counts["steps"] += 1
            super().do_step(*args, **kwargs)

    chosen = settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    started = time.perf_counter()
    run_state_machine_as_test(Counted, settings=chosen)
    seconds = time.perf_counter() - started
    return ExampleRate(counts["examples"], counts["steps"], seconds)


def measure_gate(max_examples: int) -> ExampleRate:
    """Run ``cashfuzz.search.gate.run_gate`` on the reference engine (seed 0) for
    ``max_examples`` scenarios, each checked under every invariant."""
    from cashfuzz.engines import resolve_engine
    from cashfuzz.search.gate import run_gate

    with tempfile.TemporaryDirectory() as out_dir:
        result = run_gate(
            resolve_engine("reference"),
            seed=0,
            budget_seconds=3_600,
            max_examples=max_examples,
            out_dir=Path(out_dir),
            engine_name="reference",
        )
    return ExampleRate(result.examples_run, 0, result.elapsed_seconds)


# --- the soak tier against the gate ---------------------------------------------------------

#: Paired rounds of ``measure_soak_vs_gate``, and soak scenarios per gate example in a round.
SOAK_VS_GATE_ROUNDS = 3
SOAK_SCENARIOS_PER_GATE_EXAMPLE = 10


def measure_soak_vs_gate(gate_examples: int, rounds: int = SOAK_VS_GATE_ROUNDS) -> dict[str, Any]:
    """Checked scenarios per CPU-second of the soak tier over the gate's, on the reference
    engine, with the soak generator set to the gate's size mix (``GATE_MIX``).

    Each round runs the gate (seed = round, ``gate_examples`` scenarios) and then a soak
    (same seed, ten times as many scenarios), each timed by ``time.process_time``; the
    figure is the median of the rounds' paired ratios. Both check every invariant,
    determinism included, fail-fast.
    """
    from cashfuzz.engines import resolve_engine
    from cashfuzz.search.gate import run_gate
    from cashfuzz.search.soak import run_soak
    from cashfuzz.search.soak_generator import GATE_MIX

    factory = resolve_engine("reference")
    ratios: list[float] = []
    gate_rates: list[float] = []
    soak_rates: list[float] = []
    for round_index in range(max(1, rounds)):
        with tempfile.TemporaryDirectory() as out_dir:
            started = time.process_time()
            gate = run_gate(
                factory,
                seed=round_index,
                budget_seconds=3_600,
                max_examples=gate_examples,
                out_dir=Path(out_dir),
                engine_name="reference",
            )
            gate_cpu = time.process_time() - started
            soak = run_soak(
                factory,
                engine_name="reference",
                out_dir=Path(out_dir),
                seed=round_index,
                scenarios=gate_examples * SOAK_SCENARIOS_PER_GATE_EXAMPLE,
                mix=GATE_MIX,
            )
        gate_rate = gate.examples_run / gate_cpu
        soak_rate = soak.scenarios_checked / soak.cpu_seconds
        gate_rates.append(gate_rate)
        soak_rates.append(soak_rate)
        ratios.append(soak_rate / gate_rate)
    return {
        "soak_vs_gate": statistics.median(ratios),
        "rounds": len(ratios),
        "ratios": ratios,
        "gate_scenarios_per_cpu_second": statistics.median(gate_rates),
        "soak_scenarios_per_cpu_second": statistics.median(soak_rates),
        "gate_examples_per_round": gate_examples,
        "soak_scenarios_per_round": gate_examples * SOAK_SCENARIOS_PER_GATE_EXAMPLE,
        "mix": "gate",
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


# --- the whole run ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BenchSettings:
    """How big and how long: ``FULL``, ``QUICK`` or ``TINY`` (the test suite's)."""

    name: str
    sizing_rounds: int
    signals_per_round: int
    #: (symbols, bars) workloads for the reference engine's throughput
    throughput: tuple[tuple[int, int], ...]
    throughput_rounds: int
    #: (symbols, bars) of the backtrader comparison
    versus: tuple[int, int]
    versus_rounds: int
    stateful_examples: int
    gate_examples: int
    #: bars of the one-symbol backtesting.py comparison
    backtesting_bars: int = 100_000
    #: (small, large) bars of the 10-symbol checked runs (about 14 events a bar)
    growth_bars: tuple[int, int] = (70, 700)
    #: rounds of the paired gate / floor and growth measurements
    ratio_rounds: int = 3


FULL = BenchSettings(
    "full", 15, 3_000, ((1, 20_000), (10, 5_000), (100, 1_000)), 5, (10, 5_000), 3, 60, 300
)
QUICK = BenchSettings(
    "quick", 7, 1_000, ((1, 3_000), (10, 500), (100, 60)), 5, (10, 300), 3, 10, 50, 20_000
)
TINY = BenchSettings(
    "tiny", 1, 20, ((1, 20), (10, 4), (100, 2)), 1, (2, 10), 1, 2, 3, 30, (3, 6), 1
)

#: What the headline ratios are meant to reach.
GOALS = {
    "sizer_overhead_ratio_at_most": 1.10,
    "engine_vs_backtrader_at_least": 50,
    "engine_vs_backtesting_at_least": 4,
    "gate_vs_hypothesis_floor_at_most": 6,
    "monitor_growth_exponent_at_most": 1.15,
    "soak_vs_gate_at_least": 20,
}


def machine_info() -> dict[str, Any]:
    """Where the figures were measured."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
    }


def run_bench(
    settings: BenchSettings, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Every measurement, as one JSON-ready object (see the module docstring);
    ``progress`` is told what runs next."""

    def say(message: str) -> None:
        if progress is not None:
            progress(message)

    say("sizing: reservation vs naive")
    rows = measure_sizing(
        rounds=settings.sizing_rounds, signals_per_round=settings.signals_per_round
    )
    throughput = []
    for symbols, bars in settings.throughput:
        say(f"reference engine: {symbols} symbols x {bars} bars")
        workload = make_workload(symbols, bars)
        throughput.append(
            {
                "symbols": symbols,
                "bars": bars,
                "symbol_bars": workload.symbol_bars,
                "symbol_bars_per_second": engine_throughput(workload, settings.throughput_rounds),
            }
        )
    versus_symbols, versus_bars = settings.versus
    workload = make_workload(versus_symbols, versus_bars)
    versus: dict[str, Any] = {
        "symbols": versus_symbols,
        "bars": versus_bars,
        "symbol_bars": workload.symbol_bars,
        "orders": workload.order_count,
        "reference_symbol_bars_per_second": None,
        "backtrader_symbol_bars_per_second": None,
        "reference_fills": None,
        "backtrader_fills": None,
    }
    ratio: float | None = None
    reason: str | None = None
    if backtrader_available():
        say(f"reference engine vs backtrader: {versus_symbols} symbols x {versus_bars} bars")
        found = measure_versus(workload, settings.versus_rounds)
        ratio = found.ratio
        versus.update(
            reference_symbol_bars_per_second=found.reference_rate,
            backtrader_symbol_bars_per_second=found.backtrader_rate,
            reference_fills=found.reference_fills,
            backtrader_fills=found.backtrader_fills,
        )
    else:
        reason = "backtrader is not installed: pip install -e '.[bench]' in a cashfuzz checkout"
    backtesting: dict[str, Any] = {"symbols": 1, "bars": settings.backtesting_bars}
    backtesting_ratio: float | None = None
    backtesting_reason: str | None = None
    from cashfuzz.bench_backtesting import backtesting_available

    if backtesting_available():
        say(f"reference engine vs backtesting.py: 1 symbol x {settings.backtesting_bars} bars")
        single = measure_versus_backtesting(settings.backtesting_bars, settings.versus_rounds)
        backtesting_ratio = single.ratio
        backtesting.update(
            reference_symbol_bars_per_second=single.reference_rate,
            backtesting_symbol_bars_per_second=single.backtrader_rate,
            reference_fills=single.reference_fills,
            backtesting_fills=single.backtrader_fills,
        )
    else:
        backtesting_reason = (
            "backtesting.py is not installed: pip install -e '.[bench]' in a cashfuzz checkout"
        )
    say("Hypothesis state machine")
    stateful = measure_stateful(settings.stateful_examples)
    say("gate (scenarios under every invariant) vs a trivial @given test")
    floor = measure_gate_floor(settings.gate_examples, settings.ratio_rounds)
    gate = ExampleRate(
        floor.gate_examples,
        0,
        floor.gate_examples * floor.gate_seconds_per_example,
    )
    say("monitor growth: checked runs of two sizes")
    growth = measure_monitor_growth(*settings.growth_bars, settings.ratio_rounds)
    say("soak tier vs gate (scenarios per CPU-second, the gate's size mix)")
    soak_vs_gate = measure_soak_vs_gate(settings.gate_examples)
    extra: dict[str, float | None] = {}
    for name, measure_extra in EXTRA_RATIOS.items():
        say(name)
        extra[name] = measure_extra(settings)
    return {
        "soak_vs_gate": soak_vs_gate["soak_vs_gate"],
        "soak": soak_vs_gate,
        "sizer_overhead_ratio": headline_ratio(rows),
        "engine_vs_backtrader": ratio,
        "engine_vs_backtesting": backtesting_ratio,
        "gate_vs_hypothesis_floor": floor.ratio,
        "monitor_growth_exponent": growth.exponent,
        **extra,
        "extra_ratios": sorted(extra),
        "engine_vs_backtrader_reason": reason,
        "engine_vs_backtesting_reason": backtesting_reason,
        "sizer_overhead_batch": HEADLINE_BATCH,
        "sizing": [
            {
                "sizer": row.sizer,
                "batch": row.batch,
                "reservation_ns_per_signal": row.reservation_ns,
                "naive_ns_per_signal": row.naive_ns,
                "ratio": row.ratio,
            }
            for row in rows
        ],
        "throughput": throughput,
        "versus_backtrader": versus,
        "versus_backtesting": backtesting,
        "monitor_growth": {
            "small_events": growth.small_events,
            "large_events": growth.large_events,
            "small_cpu_seconds": growth.small_seconds,
            "large_cpu_seconds": growth.large_seconds,
        },
        "gate_floor": {
            "gate_cpu_ms_per_example": floor.gate_seconds_per_example * 1e3,
            "floor_cpu_ms_per_example": floor.floor_seconds_per_example * 1e3,
        },
        "stateful": {
            "hypothesis_settings": "the gate's: no database, no deadline, generate+shrink",
            "examples": stateful.examples,
            "steps": stateful.steps,
            "seconds": stateful.seconds,
            "examples_per_second": stateful.examples_per_second,
            "steps_per_second": stateful.steps_per_second,
        },
        "gate": {
            "examples": gate.examples,
            "cpu_seconds": gate.seconds,
            "examples_per_cpu_second": gate.examples_per_second,
        },
        "goals": dict(GOALS),
        "settings": {
            "size": settings.name,
            "sizing_rounds": settings.sizing_rounds,
            "signals_per_round": settings.signals_per_round,
            "throughput_rounds": settings.throughput_rounds,
            "versus_rounds": settings.versus_rounds,
            "stateful_max_examples": settings.stateful_examples,
            "gate_max_examples": settings.gate_examples,
            "backtesting_bars": settings.backtesting_bars,
            "growth_bars": list(settings.growth_bars),
            "ratio_rounds": settings.ratio_rounds,
        },
        "load_average": list(os.getloadavg()),
        "machine": machine_info(),
    }
