"""The strategies behind ``strategies``: valid by construction, shrinking to simple.

Everything is drawn so that it is valid without filtering: a bar draws its low,
then a spread, then open and close between; a cancel picks a real order id and a
timestamp at or after that order's signal. Integers shrink toward their lower
bound and ``sampled_from``/``one_of`` toward their first choice, so the order
of choices below is the order of simplicity: one symbol, flat bars, no later
bar, BUY, DAY, fixed slippage, no participation cap, fills at the same bar's close.

Speed: no strategy is built while drawing. Everything whose range depends on an
earlier draw (a price within the range the cash sets, a symbol not yet taken, a
signal's timestamp, a cancel's order) is drawn as a plain integer from a strategy
built once, and mapped into that range afterwards. ``scenarios()`` and
``bar_streams()`` return one cached strategy per distinct set of bounds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any, TypeVar

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from cashfuzz.reference_engine import (
    Bar,
    Cancel,
    Costs,
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

from .mix import (
    BIG_MAX_CASH,
    BIG_MAX_QUANTITY,
    LARGE,
    SMALL,
    SYMBOLS,
    Fixed,
    clamp,
    mix_parts,
    mixed_scenarios,
)
from .mix import (
    MAX_PRICE as MAX_PRICE,
)
from .mix import (
    MIN_PRICE as MIN_PRICE,
)

T = TypeVar("T")

#: A penny to ten billion, in cents (prices: 0.01 to 100,000.00 in ticks, from ``mix``).
MIN_CASH = 1
MAX_CASH = BIG_MAX_CASH
MAX_VOLUME = 10_000_000
#: Symbols in order of simplicity (shrinking prefers the first).
SYMBOL_POOL: tuple[str, ...] = SYMBOLS
SIZER_KINDS: tuple[str, ...] = ("fixed_shares", "percent_equity", "fixed_amount", "kelly")
#: Commission rates are drawn on a grid of 1/100,000 (0.001%), so they are exact decimals.
_RATE_GRID = 100_000
_MAX_MOVE_BPS = 2_000
_MAX_SPREAD_BPS = 2_000
_POSITION_SCALE = 1_000
#: An index into a list whose length depends on earlier draws, taken modulo that
#: length. It is always exactly one choice (``sampled_from`` of a one-element list
#: draws none), so when shrinking shortens the list the later draws stay aligned.
_INDEX = st.integers(0, 255)


#: Three times in four an optional element is present; 0, its simplest value, is absent.
_PRESENT = st.integers(0, 3)


@st.composite
def _optional(draw: st.DrawFn, strategy: st.SearchStrategy[T]) -> T | None:
    """``strategy``'s values three times in four, else None, which is the simplest.

    Hypothesis deletes list elements of more than a few choices poorly (it cannot
    cut one out of the middle of a list), but it readily sets a whole element to
    its simplest form: for an element drawn from this, that form is None, which the
    caller drops, and the remaining two-choice element is then easy to delete.
    """
    return draw(strategy) if draw(_PRESENT) else None


def _check_int(name: str, value: object, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an integer")
    if minimum is not None and value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be at least {minimum}")
    return value


def _check_range(low_name: str, low: int, high_name: str, high: int) -> None:
    if low > high:
        raise InvalidArgument(
            f"{low_name}={low!r} is greater than {high_name}={high!r}: no value fits; "
            f"raise {high_name} or lower {low_name}"
        )


def _check_symbols(symbols: Sequence[str]) -> tuple[str, ...]:
    if isinstance(symbols, str):
        raise InvalidArgument(f"symbols={symbols!r} must be a sequence of symbols, not one string")
    result = tuple(symbols)
    if not result:
        raise InvalidArgument("symbols=() must name at least one symbol")
    for symbol in result:
        if not isinstance(symbol, str) or not symbol.strip():
            raise InvalidArgument(f"symbols contains {symbol!r}; a symbol is a non-empty string")
    if len(set(result)) != len(result):
        raise InvalidArgument(f"symbols={result!r} repeats a symbol; give each once")
    return result


def _check_timestamp(timestamp: object) -> Timestamp:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | str):
        raise InvalidArgument(f"timestamp={timestamp!r} must be an integer or an ISO-8601 string")
    return timestamp


# --- prices, bars, bar streams ------------------------------------------------------


def prices(*, min_price: int = MIN_PRICE, max_price: int = MAX_PRICE) -> st.SearchStrategy[int]:
    """Prices in ticks of 0.0001 (default 0.01 to 100,000), shrinking toward ``min_price``.

    Raises InvalidArgument unless 1 <= min_price <= max_price.
    """
    _check_int("min_price", min_price, minimum=1)
    _check_int("max_price", max_price, minimum=1)
    _check_range("min_price", min_price, "max_price", max_price)
    return st.integers(min_price, max_price)


def volumes(*, min_volume: int = 0, max_volume: int = MAX_VOLUME) -> st.SearchStrategy[int]:
    """Bar volumes, often tiny (0 and a few shares, so participation caps bite)."""
    _check_int("min_volume", min_volume, minimum=0)
    _check_int("max_volume", max_volume, minimum=0)
    _check_range("min_volume", min_volume, "max_volume", max_volume)
    small = st.integers(min_volume, min(max_volume, min_volume + 20))
    return st.one_of(small, st.integers(min_volume, max_volume))


def _bar_from(
    symbol: str,
    timestamp: Timestamp,
    low: int,
    shape: tuple[int, int, int, int],
    max_price: int,
) -> Bar:
    spread_bps, open_at, close_at, volume = shape
    high = min(max_price, low + low * spread_bps // 10_000)
    width = high - low
    return Bar(
        timestamp=timestamp,
        symbol=symbol,
        open=low + width * open_at // _POSITION_SCALE,
        high=high,
        low=low,
        close=low + width * close_at // _POSITION_SCALE,
        volume=volume,
    )


@cache
def _shapes(min_volume: int, max_volume: int) -> st.SearchStrategy[tuple[int, int, int, int]]:
    """(spread in bps above the low, open and close positions in the range, volume)."""
    return st.tuples(
        st.one_of(st.integers(0, 100), st.integers(0, _MAX_SPREAD_BPS)),
        st.integers(0, _POSITION_SCALE),
        st.integers(0, _POSITION_SCALE),
        volumes(min_volume=min_volume, max_volume=max_volume),
    )


def bars(
    *,
    symbol: str = "AAPL",
    timestamp: Timestamp = 0,
    min_price: int = MIN_PRICE,
    max_price: int = MAX_PRICE,
    min_volume: int = 0,
    max_volume: int = MAX_VOLUME,
) -> st.SearchStrategy[Bar]:
    """Consistent OHLCV bars: low within the bounds, high up to 20% above it (capped at
    ``max_price``), open and close between; volume includes 0 and small values.

    Raises InvalidArgument on bad bounds or an empty symbol.
    """
    _check_symbols((symbol,))
    _check_timestamp(timestamp)
    low_prices = prices(min_price=min_price, max_price=max_price)
    shapes = _shapes(min_volume, max_volume)
    return st.builds(
        lambda low, shape: _bar_from(symbol, timestamp, low, shape, max_price),
        low_prices,
        shapes,
    )


def _moved(close: int, move_bps: int, min_price: int, max_price: int) -> int:
    return max(min_price, min(max_price, close + close * move_bps // 10_000))


def _within(offset: int, low: int, high: int) -> int:
    """``offset`` mapped into low..high; offset 0 is ``low``, so it shrinks toward ``low``."""
    return low + offset % (high - low + 1)


_Shape = tuple[int, int, int, int]
#: One symbol's bars: the offset of its first low within the price range, its first
#: shape, then per later step None (no bar) or a move and a shape.
_Series = tuple[int, _Shape, list[tuple[int, _Shape] | None]]
#: A first low is drawn as an offset into whatever price range the scenario allows,
#: so the strategy does not depend on that range (which depends on the drawn cash).
_OFFSETS = st.integers(0, MAX_PRICE - MIN_PRICE)


@cache
def _series(*, min_later: int, max_later: int, max_volume: int) -> st.SearchStrategy[_Series]:
    shapes = _shapes(0, max_volume)
    # mostly small moves, so orders placed at a close often fill at the next open
    moves = st.one_of(st.integers(-50, 50), st.integers(-_MAX_MOVE_BPS, _MAX_MOVE_BPS))
    # None first: shrinking turns a later bar into a gap (and drops its draws), so
    # counterexamples keep only the bars they need
    later = st.one_of(st.none(), st.tuples(moves, shapes))
    return st.tuples(_OFFSETS, shapes, st.lists(later, min_size=min_later, max_size=max_later))


def _assemble(
    columns: Sequence[tuple[str, _Series]], min_price: int, max_price: int
) -> tuple[tuple[Bar, ...], ...]:
    """Bars per timestamp 0, 1, ... from per-symbol series (in ``columns`` order)."""
    length = 1 + max(len(series[2]) for _, series in columns)
    steps: list[list[Bar]] = [[] for _ in range(length)]
    for name, (offset, shape, later) in columns:
        low = _within(offset, min_price, max_price)
        bar = _bar_from(name, 0, low, shape, max_price)
        steps[0].append(bar)
        close = bar.close
        for timestamp, drawn in enumerate(later, start=1):
            if drawn is None:
                continue
            move, later_shape = drawn
            bar = _bar_from(
                name, timestamp, _moved(close, move, min_price, max_price), later_shape, max_price
            )
            close = bar.close
            steps[timestamp].append(bar)
    return tuple(tuple(step) for step in steps)


def bar_streams(
    *,
    symbols: Sequence[str] = ("AAPL",),
    min_steps: int = 1,
    max_steps: int = 6,
    min_price: int = MIN_PRICE,
    max_price: int = MAX_PRICE,
    max_volume: int = MAX_VOLUME,
) -> st.SearchStrategy[tuple[tuple[Bar, ...], ...]]:
    """Aligned bars for ``symbols`` at timestamps 0, 1, 2, ...: one tuple per step.

    Every symbol has a bar at step 0; later a symbol may miss a step (a gap, or
    its series ends early), and prices walk up to 20% per step from the last
    close, shrinking toward flat and toward gaps. Raises InvalidArgument on bad
    bounds or symbols.
    """
    names = _check_symbols(symbols)
    _check_int("min_steps", min_steps, minimum=1)
    _check_int("max_steps", max_steps, minimum=1)
    _check_range("min_steps", min_steps, "max_steps", max_steps)
    prices(min_price=min_price, max_price=max_price)
    _check_int("max_volume", max_volume, minimum=0)
    return _bar_streams(names, min_steps, max_steps, min_price, max_price, max_volume)


@cache
def _bar_streams(
    names: tuple[str, ...],
    min_steps: int,
    max_steps: int,
    min_price: int,
    max_price: int,
    max_volume: int,
) -> st.SearchStrategy[tuple[tuple[Bar, ...], ...]]:
    # each symbol's whole series is one contiguous draw, so shrinking can drop it
    one = _series(min_later=min_steps - 1, max_later=max_steps - 1, max_volume=max_volume)
    return st.tuples(*(one for _ in names)).map(
        lambda drawn: _assemble(list(zip(names, drawn, strict=True)), min_price, max_price)
    )


# --- signals and cancels ------------------------------------------------------------


# two BUYs to one SELL: a SELL needs a position first
_sides = st.integers(0, 2).map(lambda n: Side.SELL if n == 2 else Side.BUY)
_TIME_IN_FORCE = st.sampled_from((TimeInForce.DAY, TimeInForce.GTC))


_STRENGTHS = st.integers(0, 100).map(lambda n: Decimal(n) / 100)


def strengths() -> st.SearchStrategy[Decimal]:
    """Signal strengths 0.00..1.00 in hundredths (exact decimals)."""
    return _STRENGTHS


@cache
def _quantities(max_quantity: int) -> st.SearchStrategy[int | None]:
    return st.one_of(st.none(), st.integers(1, min(10, max_quantity)), st.integers(1, max_quantity))


#: A signal's fields after its timestamp and symbol: side, quantity, strength, time in force.
_SignalBody = tuple[Side, int | None, Decimal | None, TimeInForce]


@cache
def _signal_bodies(max_quantity: int) -> st.SearchStrategy[_SignalBody]:
    return st.tuples(
        _sides, _quantities(max_quantity), st.one_of(st.none(), _STRENGTHS), _TIME_IN_FORCE
    )


def signals(
    *,
    symbols: Sequence[str],
    timestamp: Timestamp,
    max_quantity: int = 1_000,
) -> st.SearchStrategy[Signal]:
    """One signal: BUY or SELL, with or without an explicit quantity and strength,
    DAY or GTC. Raises InvalidArgument on empty symbols or a bad bound."""
    names = _check_symbols(symbols)
    _check_timestamp(timestamp)
    _check_int("max_quantity", max_quantity, minimum=1)
    return st.builds(
        lambda symbol, body: Signal(timestamp, symbol, *body),
        st.sampled_from(names),
        _signal_bodies(max_quantity),
    )


def signal_batches(
    symbols: Sequence[str],
    timestamp: Timestamp,
    *,
    min_size: int = 0,
    max_size: int = 4,
    max_quantity: int = 1_000,
) -> st.SearchStrategy[tuple[Signal, ...]]:
    """Signals for one timestamp, in the order the engine handles them: duplicates,
    mixed sides, sized and unsized. Raises InvalidArgument on bad sizes."""
    _check_int("min_size", min_size, minimum=0)
    _check_int("max_size", max_size, minimum=0)
    _check_range("min_size", min_size, "max_size", max_size)
    one = signals(symbols=symbols, timestamp=timestamp, max_quantity=max_quantity)
    return st.lists(one, min_size=min_size, max_size=max_size).map(tuple)


def order_ids_by_signal(
    signal_list: Sequence[Signal], timestamps: Sequence[Timestamp]
) -> list[int]:
    """The order id each signal gets: ids run 1, 2, ... by timestamp, then file order."""
    position = {timestamp: i for i, timestamp in enumerate(timestamps)}
    handled = sorted(range(len(signal_list)), key=lambda i: position[signal_list[i].timestamp])
    ids = [0] * len(signal_list)
    for order_id, index in enumerate(handled, start=1):
        ids[index] = order_id
    return ids


def cancels(
    *,
    signals: Sequence[Signal],
    timestamps: Sequence[Timestamp],
    max_size: int = 3,
) -> st.SearchStrategy[tuple[Cancel, ...]]:
    """Cancels naming real order ids (1..len(signals)), each at or after its signal's
    timestamp, in timestamp order. ``timestamps`` is the timeline, in time order.

    Raises InvalidArgument when a signal's timestamp is not on the timeline.
    """
    _check_int("max_size", max_size, minimum=0)
    timeline = tuple(timestamps)
    if len(set(timeline)) != len(timeline):
        raise InvalidArgument(f"timestamps={timeline!r} repeats a timestamp")
    position = {timestamp: i for i, timestamp in enumerate(timeline)}
    for i, signal in enumerate(signals):
        if signal.timestamp not in position:
            raise InvalidArgument(
                f"signals[{i}].timestamp={signal.timestamp!r} is not in timestamps={timeline!r}"
            )
    if not signals or max_size == 0:
        return st.just(())
    chosen = tuple(signals)
    return _cancel_picks(max_size).map(lambda picks: _resolve_cancels(picks, chosen, timeline))


#: A cancel as two indices: which signal's order, and which step at or after it.
_CancelPick = tuple[int, int]


@cache
def _cancel_picks(max_size: int) -> st.SearchStrategy[list[_CancelPick]]:
    return st.lists(st.tuples(_INDEX, _INDEX), max_size=max_size)


def _resolve_cancels(
    picks: Sequence[_CancelPick], signal_list: Sequence[Signal], timeline: Sequence[Timestamp]
) -> tuple[Cancel, ...]:
    """Cancels in timestamp order, each of a real order at or after its signal's step."""
    position = {timestamp: i for i, timestamp in enumerate(timeline)}
    ids = order_ids_by_signal(signal_list, timeline)
    found = []
    for which, when in picks:
        index = which % len(signal_list)
        later = timeline[position[signal_list[index].timestamp] :]
        found.append(Cancel(later[when % len(later)], ids[index]))
    # stable: cancels at one timestamp keep their drawn order
    return tuple(sorted(found, key=lambda cancel: position[cancel.timestamp]))


# --- configuration --------------------------------------------------------------------


def cash(*, min_cents: int = MIN_CASH, max_cents: int = MAX_CASH) -> st.SearchStrategy[int]:
    """Initial cash in cents, a penny to five million by default, shrinking toward a penny."""
    _check_int("min_cents", min_cents, minimum=0)
    _check_int("max_cents", max_cents, minimum=0)
    _check_range("min_cents", min_cents, "max_cents", max_cents)
    return st.integers(min_cents, max_cents)


def _as_fraction(name: str, value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal | Fraction):
        raise InvalidArgument(f"{name}={value!r} must be a decimal string, Decimal or Fraction")
    try:
        return Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise InvalidArgument(f"{name}={value!r} is not a number") from None


def cost_models(
    *,
    max_commission_rate: str | Decimal | Fraction = "0.01",
    max_commission_min: int = 500,
    max_slippage_bps: int = 100,
) -> st.SearchStrategy[Costs]:
    """Costs: a commission rate 0..``max_commission_rate`` (default 1%) on a grid of
    0.001%, a per-order minimum 0..``max_commission_min`` cents, and slippage up to
    ``max_slippage_bps``, fixed or bounded-random. Raises InvalidArgument on bad bounds."""
    rate = _as_fraction("max_commission_rate", max_commission_rate)
    if not 0 <= rate < 1:
        raise InvalidArgument(f"max_commission_rate={max_commission_rate!r} must be in [0, 1)")
    _check_int("max_commission_min", max_commission_min, minimum=0)
    _check_int("max_slippage_bps", max_slippage_bps, minimum=0)
    if max_slippage_bps > 5_000:
        raise InvalidArgument(
            f"max_slippage_bps={max_slippage_bps} must be at most 5000 (a sell price must "
            "stay positive)"
        )
    top_rate = int(rate * _RATE_GRID)
    return st.builds(
        Costs,
        commission_rate=st.integers(0, top_rate).map(lambda n: Fraction(n, _RATE_GRID)),
        commission_min=st.one_of(st.just(0), st.integers(0, max_commission_min)),
        # millionths; 100 per basis point
        max_slippage=st.integers(0, max_slippage_bps * 100),
        random_slippage=st.booleans(),
    )


def _percent() -> st.SearchStrategy[Fraction]:
    return st.integers(1, 100).map(lambda n: Fraction(n, 100))


def sizers(*, kinds: Sequence[str] = SIZER_KINDS) -> st.SearchStrategy[Sizer]:
    """Sizers of the given ``kinds`` (default all four). Raises InvalidArgument on an
    unknown or empty selection."""
    chosen = tuple(kinds)
    if not chosen:
        raise InvalidArgument(f"kinds=() must name at least one of {', '.join(SIZER_KINDS)}")
    for kind in chosen:
        if kind not in SIZER_KINDS:
            raise InvalidArgument(f"kinds contains {kind!r}; known: {', '.join(SIZER_KINDS)}")
    options: dict[str, st.SearchStrategy[Any]] = {
        "fixed_shares": st.builds(FixedShares, st.integers(1, 1_000)),
        "percent_equity": st.builds(PercentEquity, _percent()),
        "fixed_amount": st.builds(FixedAmount, cash()),
        "kelly": st.builds(
            Kelly,
            _percent(),
            st.sampled_from((Fraction(2), Fraction(1), Fraction(3), Fraction(1, 2))),
        ),
    }
    return st.one_of(*(options[kind] for kind in SIZER_KINDS if kind in chosen))


def participation_caps() -> st.SearchStrategy[Fraction | None]:
    """A bar-volume participation cap: none, all of it, or 1%..99%."""
    return st.one_of(
        st.none(), st.just(Fraction(1)), st.integers(1, 99).map(lambda n: Fraction(n, 100))
    )


def _check_enum(name: str, value: object, kind: type[Any]) -> None:
    if value is not None and not isinstance(value, kind):
        valid = ", ".join(f"{kind.__name__}.{member.name}" for member in kind)
        raise InvalidArgument(f"{name}={value!r} must be None (draw it) or one of {valid}")


def _enum_choice(value: Any, order: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(order) if value is None else st.just(value)


# --- scenarios ------------------------------------------------------------------------


def scenarios(
    *,
    min_symbols: int = 1,
    max_symbols: int = LARGE.max_symbols,
    max_steps: int = LARGE.max_steps,
    max_signals: int = LARGE.max_signals,
    max_cancels: int = LARGE.max_cancels,
    max_quantity: int = BIG_MAX_QUANTITY,
    mode: Mode | None = Mode.RESERVATION,
    fill_at: FillAt | None = None,
    policy: Policy | None = None,
) -> st.SearchStrategy[Scenario]:
    """Whole scenarios of the size mix; ``mode``, ``fill_at`` and ``policy`` are fixed
    when given and drawn when None.

    Most are small (``SMALL``: up to 4 symbols, 6 steps, 8 signals, 3 cancels), one in
    eight large (``LARGE``: up to 12 symbols, 50 steps, 20 signals a bar, 300 signals,
    16 cancels), each within the bounds given here. Each example switches features off
    (swarm testing, ``FEATURES``), a quarter use big numbers (cash to 10^10, quantities
    to 10^7, commission to 25 %, a minimum to 100.00, slippage to 5,000 bps) and a
    quarter ISO-8601 timestamps spanning several days; some cancels name ids no signal
    issues. They shrink toward one symbol, one bar and few signals, integer timestamps
    and no costs. Several BUYs in one bar whose total cost exceeds cash (the GOOGL/AAPL
    race) are common. Every scenario survives ``scenario_to_dict`` ->
    ``scenario_from_dict`` unchanged. The same bounds give the same (cached) strategy.
    Raises InvalidArgument on impossible bounds.
    """
    _check_int("min_symbols", min_symbols, minimum=1)
    _check_int("max_symbols", max_symbols, minimum=1)
    _check_range("min_symbols", min_symbols, "max_symbols", max_symbols)
    if max_symbols > len(SYMBOL_POOL):
        raise InvalidArgument(
            f"max_symbols={max_symbols} exceeds the {len(SYMBOL_POOL)} symbols available"
        )
    _check_int("max_steps", max_steps, minimum=1)
    _check_int("max_signals", max_signals, minimum=0)
    _check_int("max_cancels", max_cancels, minimum=0)
    _check_int("max_quantity", max_quantity, minimum=1)
    _check_enum("mode", mode, Mode)
    _check_enum("fill_at", fill_at, FillAt)
    _check_enum("policy", policy, Policy)
    return _scenario_strategy(
        min_symbols,
        max_symbols,
        max_steps,
        max_signals,
        max_cancels,
        Fixed(mode=mode, fill_at=fill_at, policy=policy, max_quantity=max_quantity),
    )


@cache
def _scenario_strategy(
    min_symbols: int,
    max_symbols: int,
    max_steps: int,
    max_signals: int,
    max_cancels: int,
    fixed: Fixed,
) -> st.SearchStrategy[Scenario]:
    bounds = {
        "steps": max_steps,
        "symbols": max_symbols,
        "signals": max_signals,
        "cancels": max_cancels,
    }
    small = clamp(SMALL, **bounds)
    large = clamp(LARGE, **bounds)
    # min_symbols columns are always there, even when the small class allows fewer
    small = dataclasses.replace(small, max_symbols=max(small.max_symbols, min_symbols))
    return mixed_scenarios(mix_parts(small, large, min_symbols, fixed))
