"""A domain reducer for failing scenarios: fewer steps, symbols, signals, cancels,
bars, then simpler numbers, while the engine still fails the same way.

"The same way" (``Failure``) is the same invariant breaking, or a crash with the
same exception type. A candidate is checked with that invariant alone (so an
earlier, different violation cannot mask it) and fail-fast. Removal passes are
delta debugging over one kind of element at a time: chunks of half the list
first, then ever smaller chunks, so a failure that needs a few elements out of
n costs about O(k log n) checks. Every candidate is a valid scenario: removing
signals renumbers order ids, so each cancel is remapped to its order's new id,
or dropped with its order; a symbol's signals go with its last bar.

The reducer stops at a fixpoint, or when ``ShrinkLimits`` (seconds, checks) run
out; it then returns the smallest failing scenario seen, never a passing one.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from functools import partial
from typing import Any

from cashfuzz.invariants import ALL_INVARIANTS, AdapterProtocolError, CheckResult, check_scenario
from cashfuzz.reference_engine import (
    Bar,
    Cancel,
    Costs,
    EngineFactory,
    FixedAmount,
    FixedShares,
    Kelly,
    PercentEquity,
    Scenario,
    ScenarioError,
    Signal,
    Sizer,
    TimeInForce,
    Timestamp,
)

#: The failure name of an engine that raised instead of breaking an invariant.
CRASH = "crash"


@dataclass(frozen=True, slots=True)
class Failure:
    """How a scenario fails: an invariant's name, or ``crash`` with the exception type."""

    invariant: str
    crash_type: str | None = None

    def __str__(self) -> str:
        return f"crash ({self.crash_type})" if self.crash_type else self.invariant


def crash_type(crash: str) -> str:
    """The exception type at the head of a CheckResult's crash text."""
    return crash.split(":", 1)[0]


def failures_of(result: CheckResult) -> tuple[Failure, ...]:
    """Every way ``result`` failed, the first one first."""
    found = [Failure(violation.invariant) for violation in result.violations]
    if result.crash is not None:
        found.append(Failure(CRASH, crash_type(result.crash)))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class ShrinkLimits:
    """When the reducer stops early: wall seconds, and scenario checks."""

    seconds: float = 30.0
    checks: int = 5_000

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise ValueError(f"seconds={self.seconds!r} must be positive")
        if self.checks < 1:
            raise ValueError(f"checks={self.checks!r} must be at least 1")


#: 30 s and 5,000 checks: several times what a 1,000-step counterexample needs.
DEFAULT_LIMITS = ShrinkLimits()


@dataclass(frozen=True, slots=True)
class ScenarioSize:
    """What a counterexample is made of."""

    steps: int
    symbols: int
    bars: int
    signals: int
    cancels: int

    @classmethod
    def of(cls, scenario: Scenario) -> ScenarioSize:
        return cls(
            steps=len(scenario.steps()),
            symbols=len(scenario.symbols),
            bars=len(scenario.bars),
            signals=len(scenario.signals),
            cancels=len(scenario.cancels),
        )

    def __str__(self) -> str:
        return (
            f"{self.steps} steps, {self.symbols} symbols, {self.bars} bars, "
            f"{self.signals} signals, {self.cancels} cancels"
        )

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class ShrinkResult:
    """The smallest scenario found that still fails as ``failure`` does."""

    original: Scenario
    shrunk: Scenario
    failure: Failure
    checks: int
    seconds: float
    #: ``fixpoint`` (nothing more to remove or simplify), ``time``, ``checks`` or
    #: ``interrupted`` (Ctrl-C)
    stopped_by: str

    @property
    def before(self) -> ScenarioSize:
        return ScenarioSize.of(self.original)

    @property
    def after(self) -> ScenarioSize:
        return ScenarioSize.of(self.shrunk)


class _Exhausted(Exception):
    """A shrink limit ran out."""


class _Reducer:
    def __init__(
        self, scenario: Scenario, factory: EngineFactory, failure: Failure, limits: ShrinkLimits
    ) -> None:
        self.factory = factory
        self.failure = failure
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.checks = 0
        self.stopped_by = "fixpoint"
        self.adapt: Callable[[Scenario], Scenario] | None = getattr(factory, "adapt_scenario", None)
        self.unsupported: Callable[[Scenario], str | None] | None = getattr(
            factory, "unsupported", None
        )
        self.only = () if failure.invariant == CRASH else (failure.invariant,)
        #: the smallest failing scenario so far, for a stop in the middle of a pass
        self.best = scenario

    def run(self) -> Scenario:
        best = self.best
        try:
            best = self._truncate(best)
            while True:
                before = best
                for reduce in (
                    self._steps,
                    self._symbols,
                    self._signals,
                    self._cancels,
                    self._bars,
                    self._numbers,
                ):
                    best = reduce(best)
                if best == before:
                    return best
        except _Exhausted:
            return self.best
        except KeyboardInterrupt:
            # Ctrl-C while shrinking: the smallest failure so far is still a finding
            self.stopped_by = "interrupted"
            return self.best

    def result(self, scenario: Scenario) -> CheckResult | None:
        """The check of ``scenario`` when it fails as wanted, else None."""
        if time.monotonic() > self.deadline:
            self.stopped_by = "time"
            raise _Exhausted
        if self.checks >= self.limits.checks:
            self.stopped_by = "checks"
            raise _Exhausted
        if self.unsupported is not None and self.unsupported(scenario) is not None:
            return None
        self.checks += 1
        try:
            result = check_scenario(
                scenario,
                self.factory,
                fail_fast=True,
                determinism=self.failure.invariant == "determinism",
                only=self.only,
            )
        except (ScenarioError, AdapterProtocolError):
            # a candidate the engine cannot express, or answers off-protocol: not this failure
            return None
        return result if self.failure in failures_of(result) else None

    def interesting(self, scenario: Scenario) -> bool:
        if self.result(scenario) is None:
            return False
        self.best = scenario
        return True

    def _try(self, current: Scenario, candidate: Scenario | None) -> Scenario:
        if candidate is None or candidate == current:
            return current
        if self.adapt is not None:
            candidate = self.adapt(candidate)
        return candidate if self.interesting(candidate) else current

    def _ddmin(
        self, current: Scenario, count: int, build: Callable[[list[int]], Scenario | None]
    ) -> Scenario:
        """Remove chunks of the ``count`` elements ``build`` keeps by index: halves first,
        then smaller chunks, down to single elements."""
        keep = list(range(count))
        chunk = max(1, (count + 1) // 2)
        while keep:
            start, removed = 0, False
            while start < len(keep):
                trial = keep[:start] + keep[start + chunk :]
                candidate = build(trial)
                tried = self._try(current, candidate)
                if tried is not current:
                    current, keep, removed = tried, trial, True
                else:
                    start += chunk
            if chunk == 1 and not removed:
                break
            if not removed:
                chunk = max(1, chunk // 2)
            chunk = min(chunk, max(1, len(keep)))
        return current

    # --- removal passes ---------------------------------------------------------------------

    def _truncate(self, scenario: Scenario) -> Scenario:
        """Drop every step after the one where the failure was seen (when it was seen in
        the log; a whole-run failure needs the whole run)."""
        found = self.result(scenario)
        if found is None:
            raise ValueError(f"the scenario does not fail with {self.failure}")
        index = next(
            (v.event_index for v in found.violations if v.invariant == self.failure.invariant),
            -1,
        )
        if index < 0 or index >= len(found.events):
            return scenario
        timestamps = [step.timestamp for step in scenario.steps()]
        last = timestamps.index(found.events[index].timestamp)
        return self._try(scenario, _keep_steps(scenario, set(timestamps[: last + 1])))

    def _steps(self, scenario: Scenario) -> Scenario:
        timestamps = [step.timestamp for step in scenario.steps()]
        return self._ddmin(
            scenario,
            len(timestamps),
            lambda keep: _keep_steps(scenario, {timestamps[i] for i in keep}),
        )

    def _symbols(self, scenario: Scenario) -> Scenario:
        symbols = scenario.symbols
        return self._ddmin(
            scenario, len(symbols), lambda keep: _keep_symbols(scenario, {symbols[i] for i in keep})
        )

    def _signals(self, scenario: Scenario) -> Scenario:
        current = self._ddmin(
            scenario, len(scenario.signals), lambda keep: with_signals(scenario, keep)
        )
        # a race of several orders may need their total, not each of them: merge neighbours
        index = 0
        while index < len(current.signals) - 1:
            merged = self._try(current, merge_signals(current, index))
            if merged is current:
                index += 1
            current = merged
        return current

    def _cancels(self, scenario: Scenario) -> Scenario:
        cancels = scenario.cancels
        return self._ddmin(
            scenario,
            len(cancels),
            lambda keep: dataclasses.replace(scenario, cancels=tuple(cancels[i] for i in keep)),
        )

    def _bars(self, scenario: Scenario) -> Scenario:
        return self._ddmin(scenario, len(scenario.bars), lambda keep: _keep_bars(scenario, keep))

    # --- simpler numbers ----------------------------------------------------------------------

    def _numbers(self, scenario: Scenario) -> Scenario:
        current = scenario
        edits = (
            *CONFIG_EDITS,
            _numbered_timestamps,
            *BAR_EDITS,
            *SIGNAL_EDITS,
            *_one_signal_edits(len(scenario.signals)),
        )
        for edit in edits:
            current = self._try(current, edit(current))
        return self._smaller_quantities(current)

    def _smaller_quantities(self, scenario: Scenario) -> Scenario:
        """Each explicit quantity: the smallest that still fails, by bisection."""
        current = scenario
        for index in range(len(current.signals)):
            quantity = current.signals[index].quantity
            if quantity is None or quantity == 1:
                continue
            low, high = 1, quantity  # high fails; find the smallest that does
            while low < high:
                middle = (low + high) // 2
                candidate = _with_quantity(current, index, middle)
                tried = self._try(current, candidate)
                if tried is not current:
                    current, high = tried, middle
                else:
                    low = middle + 1
        return current


def shrink_scenario(
    scenario: Scenario,
    factory: EngineFactory,
    failure: Failure,
    limits: ShrinkLimits = DEFAULT_LIMITS,
) -> ShrinkResult:
    """Reduce ``scenario`` while ``factory``'s engine still fails with ``failure``.

    Raises ValueError when ``scenario`` does not fail that way at all (nothing to shrink).
    """
    if failure.invariant not in (*ALL_INVARIANTS, CRASH):
        raise ValueError(
            f"invariant={failure.invariant!r} is not one of {', '.join(ALL_INVARIANTS)} or crash"
        )
    started = time.monotonic()
    reducer = _Reducer(scenario, factory, failure, limits)
    shrunk = reducer.run()
    return ShrinkResult(
        original=scenario,
        shrunk=shrunk,
        failure=failure,
        checks=reducer.checks,
        seconds=time.monotonic() - started,
        stopped_by=reducer.stopped_by,
    )


# --- valid edits ------------------------------------------------------------------------------


def _time_key(timestamp: Timestamp) -> Any:
    return datetime.fromisoformat(timestamp) if isinstance(timestamp, str) else timestamp


def order_ids(signals: Sequence[Signal]) -> list[int]:
    """The order id each signal gets: 1, 2, ... by timestamp, then file order."""
    handled = sorted(range(len(signals)), key=lambda i: _time_key(signals[i].timestamp))
    ids = [0] * len(signals)
    for order_id, index in enumerate(handled, start=1):
        ids[index] = order_id
    return ids


def with_signals(scenario: Scenario, keep: Iterable[int]) -> Scenario:
    """``scenario`` with only the signals at indices ``keep``; each cancel follows its
    order to the order's new id, and a cancel of a dropped order is dropped."""
    kept = sorted(set(keep))
    old_ids = order_ids(scenario.signals)
    signals = tuple(scenario.signals[i] for i in kept)
    new_ids = order_ids(signals)
    renumber = {old_ids[i]: new for i, new in zip(kept, new_ids, strict=True)}
    cancels = tuple(
        Cancel(cancel.timestamp, renumber[cancel.order_id])
        for cancel in scenario.cancels
        if cancel.order_id in renumber
    )
    return dataclasses.replace(scenario, signals=signals, cancels=cancels)


def merge_signals(scenario: Scenario, index: int) -> Scenario | None:
    """Signals ``index`` and ``index + 1`` as one order for their total quantity, when both
    have explicit quantities, one timestamp and one side (else None)."""
    first, second = scenario.signals[index], scenario.signals[index + 1]
    if (
        first.quantity is None
        or second.quantity is None
        or first.timestamp != second.timestamp
        or first.side is not second.side
    ):
        return None
    kept = [i for i in range(len(scenario.signals)) if i != index + 1]
    merged = with_signals(scenario, kept)
    signals = list(merged.signals)
    signals[index] = first._replace(quantity=first.quantity + second.quantity)
    return dataclasses.replace(merged, signals=tuple(signals))


def _keep_steps(scenario: Scenario, timestamps: set[Timestamp]) -> Scenario:
    reduced = with_signals(
        scenario, [i for i, s in enumerate(scenario.signals) if s.timestamp in timestamps]
    )
    return _without_orphans(
        dataclasses.replace(
            reduced,
            bars=tuple(bar for bar in scenario.bars if bar.timestamp in timestamps),
            cancels=tuple(c for c in reduced.cancels if c.timestamp in timestamps),
        )
    )


def _keep_symbols(scenario: Scenario, symbols: set[str]) -> Scenario:
    reduced = with_signals(
        scenario, [i for i, s in enumerate(scenario.signals) if s.symbol in symbols]
    )
    return dataclasses.replace(
        reduced, bars=tuple(bar for bar in scenario.bars if bar.symbol in symbols)
    )


def _keep_bars(scenario: Scenario, keep: Iterable[int]) -> Scenario:
    return _without_orphans(
        dataclasses.replace(scenario, bars=tuple(scenario.bars[i] for i in sorted(set(keep))))
    )


def _without_orphans(scenario: Scenario) -> Scenario:
    """Drop the signals whose symbol has no bar left (the format refuses them)."""
    listed = {bar.symbol for bar in scenario.bars}
    if all(signal.symbol in listed for signal in scenario.signals):
        return scenario
    return with_signals(scenario, [i for i, s in enumerate(scenario.signals) if s.symbol in listed])


def _with_quantity(scenario: Scenario, index: int, quantity: int | None) -> Scenario:
    signals = list(scenario.signals)
    signals[index] = signals[index]._replace(quantity=quantity)
    return dataclasses.replace(scenario, signals=tuple(signals))


def round_significant(value: int, digits: int) -> int:
    """``value`` (> 0) rounded to ``digits`` significant digits, never below 1."""
    if value <= 0:
        return value
    scale: int = 10 ** max(0, len(str(value)) - digits)
    return max(1, (value + scale // 2) // scale * scale)


# --- simplification edits (each maps the current scenario to a simpler candidate) -------------

Edit = Callable[[Scenario], Scenario | None]


def _with_config(scenario: Scenario, **changes: Any) -> Scenario:
    return dataclasses.replace(scenario, config=dataclasses.replace(scenario.config, **changes))


def _with_costs(**changes: Any) -> Edit:
    return lambda s: _with_config(s, costs=dataclasses.replace(s.config.costs, **changes))


def _simpler_sizer(scenario: Scenario) -> Scenario | None:
    sizer: Sizer = scenario.config.sizer
    if isinstance(sizer, FixedShares):
        simpler: Sizer = FixedShares(round_significant(sizer.shares, 1))
    elif isinstance(sizer, FixedAmount):
        simpler = FixedAmount(round_significant(sizer.amount, 1))
    elif isinstance(sizer, PercentEquity | Kelly):
        simpler = dataclasses.replace(sizer, fraction=Fraction(1))
    else:
        return None
    return _with_config(scenario, sizer=simpler)


def _round_cash(digits: int) -> Edit:
    return lambda s: _with_config(s, initial_cash=round_significant(s.config.initial_cash, digits))


CONFIG_EDITS: tuple[Edit, ...] = (
    lambda s: _with_config(s, costs=Costs()),
    _with_costs(commission_min=0),
    _with_costs(commission_rate=Fraction(0)),
    _with_costs(max_slippage=0),
    _with_costs(random_slippage=False),
    lambda s: _with_config(s, max_participation=Fraction(1)),
    lambda s: _with_config(s, max_participation=None),
    lambda s: _with_config(s, seed=0),
    lambda s: _with_config(s, sizer=FixedShares(1)),
    _simpler_sizer,
    _round_cash(1),
    _round_cash(2),
    _round_cash(3),
)


def _numbered_timestamps(scenario: Scenario) -> Scenario | None:
    """Calendar timestamps or a sparse numbering as 0, 1, 2, ..."""
    timestamps = [step.timestamp for step in scenario.steps()]
    if timestamps == list(range(len(timestamps))):
        return None
    number = {timestamp: i for i, timestamp in enumerate(timestamps)}
    return dataclasses.replace(
        scenario,
        bars=tuple(b._replace(timestamp=number[b.timestamp]) for b in scenario.bars),
        signals=tuple(s._replace(timestamp=number[s.timestamp]) for s in scenario.signals),
        cancels=tuple(Cancel(number[c.timestamp], c.order_id) for c in scenario.cancels),
    )


def _flat(bar: Bar, digits: int | None) -> Bar:
    price = bar.close if digits is None else round_significant(bar.close, digits)
    return bar._replace(open=price, high=price, low=price, close=price)


def _rounded(bar: Bar, digits: int) -> Bar:
    low, high = round_significant(bar.low, digits), round_significant(bar.high, digits)
    high = max(high, low)
    return bar._replace(
        low=low,
        high=high,
        open=min(high, max(low, round_significant(bar.open, digits))),
        close=min(high, max(low, round_significant(bar.close, digits))),
    )


def _bar_edit(change: Callable[[Bar], Bar]) -> Edit:
    return lambda s: dataclasses.replace(s, bars=tuple(change(bar) for bar in s.bars))


BAR_EDITS: tuple[Edit, ...] = (
    *(_bar_edit(partial(_flat, digits=digits)) for digits in (1, 2, None)),
    *(_bar_edit(partial(_rounded, digits=digits)) for digits in (1, 2, 3)),
    _bar_edit(lambda bar: bar._replace(volume=round_significant(bar.volume, 1))),
)


def _signal_edit(change: Callable[[Signal], Signal]) -> Edit:
    return lambda s: dataclasses.replace(s, signals=tuple(change(sig) for sig in s.signals))


def _one_symbol(scenario: Scenario, which: int) -> Scenario | None:
    """Every signal on the scenario's ``which``-th symbol (the others' bars can then go)."""
    symbols = scenario.symbols
    if not scenario.signals or which >= len(symbols):
        return None
    symbol = symbols[which]
    return dataclasses.replace(
        scenario,
        signals=tuple(sig._replace(symbol=symbol) for sig in scenario.signals),
    )


def _one_step(scenario: Scenario, which: int) -> Scenario | None:
    """Every signal at the ``which``-th signal's timestamp; cancels follow their orders."""
    if which >= len(scenario.signals):
        return None
    timestamp = scenario.signals[which].timestamp
    signals = tuple(sig._replace(timestamp=timestamp) for sig in scenario.signals)
    return _renumbered(scenario, signals)


def _renumbered(scenario: Scenario, signals: tuple[Signal, ...]) -> Scenario:
    """``scenario`` with ``signals`` (the same signals, moved in time) and each cancel
    naming its order's id under the new handling order."""
    renumber = dict(zip(order_ids(scenario.signals), order_ids(signals), strict=True))
    cancels = tuple(Cancel(c.timestamp, renumber[c.order_id]) for c in scenario.cancels)
    return dataclasses.replace(scenario, signals=signals, cancels=cancels)


#: How many symbols and signal timestamps the gathering edits try as the target.
_GATHER_TRIES = 4

SIGNAL_EDITS: tuple[Edit, ...] = (
    *(partial(_one_symbol, which=which) for which in range(_GATHER_TRIES)),
    *(partial(_one_step, which=which) for which in range(_GATHER_TRIES)),
    _signal_edit(lambda sig: sig._replace(strength=None)),
    _signal_edit(lambda sig: sig._replace(time_in_force=TimeInForce.DAY)),
)


def _one_signal_edits(count: int) -> Iterable[Edit]:
    for index in range(count):
        yield partial(_replace_signal, index=index, strength=None)
        yield partial(_replace_signal, index=index, time_in_force=TimeInForce.DAY)


def _replace_signal(scenario: Scenario, index: int, **changes: Any) -> Scenario | None:
    if index >= len(scenario.signals):
        return None
    signals = list(scenario.signals)
    signals[index] = signals[index]._replace(**changes)
    return dataclasses.replace(scenario, signals=tuple(signals))


__all__ = [
    "CRASH",
    "DEFAULT_LIMITS",
    "Failure",
    "ScenarioSize",
    "ShrinkLimits",
    "ShrinkResult",
    "crash_type",
    "failures_of",
    "merge_signals",
    "order_ids",
    "round_significant",
    "shrink_scenario",
    "with_signals",
]
