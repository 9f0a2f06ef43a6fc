"""backtrader's set-up, once, and the raw driver ``cashfuzz bench`` times it with.

``cerebro_for`` is the one definition of how cashfuzz runs backtrader (imported
lazily: it is an optional dependency): the cerebro options, an in-memory feed per
symbol, the broker subclass that tells a ``Watcher`` of each bar and each
notification as it happens, the commission (a rate, with an optional minimum per
execution), a fixed slippage and a volume cap. The engine adapter
(``backtrader.adapter``) and ``run_backtrader`` below both build on it.

``run_backtrader`` takes bars and market orders as plain dataclasses, replays them
through backtrader's ``BackBroker`` and reports what it did: every fill, every
rejection, the cash after each bar and the final positions. This module imports
nothing else from ``cashfuzz``.

Contract summary (details in :func:`run_backtrader`):

* Bars are *aligned*: every symbol must have exactly one bar at every
  timestamp that occurs in the input. Gaps are rejected with ``ValueError``
  rather than silently forward-filled, because backtrader's multi-feed
  clock would otherwise shift orders onto other bars.
* Timestamps are ordinals (they need not be contiguous). Timestamp ``t``
  becomes the calendar day ``2020-01-01 + t days`` inside backtrader (daily
  timeframe), and fill timestamps are mapped back the same way.
* Orders are market orders placed from the strategy's ``next()`` for the
  bar carrying their timestamp, in input-list order.
* No slippage; commission is a percentage of traded value
  (``broker.setcommission(commission=commission_rate)``, i.e. ``0.001`` =
  0.1%).

Backtrader behaviour worth knowing when comparing with another engine:

* Orders placed in bar ``t`` are handled by the broker at the start of bar
  ``t + 1``, in both modes. In ``same_close`` (cheat-on-close) mode they fill
  at bar ``t``'s close and are stamped with bar ``t``'s datetime, but they
  are only *processed* once bar ``t + 1`` arrives. Consequently orders
  placed on the last bar are never processed in either mode: backtrader
  neither fills nor rejects them. They are reported in
  :attr:`BtResult.rejected` with status ``"Submitted"``.
* The submission cash check (``checksubmit``) pseudo-executes all orders
  submitted in one bar, across all symbols, in submission order, against
  one running cash figure priced at the *creation bar's close* (commission
  included). Sells that close a long position credit cash in that running
  figure, so a SELL listed before a BUY in the same bar can fund the BUY.
  An order that would drive the running cash below zero is rejected with
  status ``"Margin"``, but its cost is *not* given back to the running
  figure: every later order in that bar that does not bring cash back
  (e.g. any later BUY, however small) is rejected too.
* Accepted orders then execute in submission order. In ``next_open`` mode
  the fill happens at the next bar's open and the broker re-checks cash at
  execution time, so an order can pass the submission check and still be
  rejected with ``"Margin"`` at execution (a gap up).
* Cash checks are exact float comparisons (``cash >= 0.0``) with no
  tolerance: buying 3 shares at 0.1 with cash 0.3 is rejected, because
  ``3 * 0.1 == 0.30000000000000004``.
* Selling more than the position opens a short (backtrader's default
  ``shortcash=True``: a short sale *adds* its value to cash). If an order
  reverses a position and the cash for the opened part is insufficient,
  backtrader executes only the closing part (a fill) and then marks the
  order ``"Margin"``, so one order index can appear in both
  :attr:`BtResult.fills` and :attr:`BtResult.rejected`.
* Cash is not rounded by backtrader; values are raw floats.
* backtrader divides by zero when the starting cash is 0 (fund-share
  accounting); the broker used here sidesteps that without touching cash.

Speed: ``seconds`` covers ``cerebro.run()`` only. The fastest setup found is
an in-memory feed whose preload fills the line buffers in bulk (``PandasData``
reads cell by cell and is about 2.5x slower per bar), ``stdstats=False``
(observers cost about 10-15%), ``preload=True`` and ``runonce=True``;
``quicknotify`` and ``exactbars`` do not help. With orders on most bars,
backtrader's own per-order work (order objects, three notification clones
per order, the check and the execution) dominates: on the benchmark of 10
symbols x 5,000 bars with a one-share order on two thirds of the
symbol-bars, about 8,000-9,000 symbol-bars/s on an idle core, against about
80,000 with no orders.
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final, Protocol

__all__ = [
    "EPOCH",
    "BrokerSettings",
    "BtBar",
    "BtFill",
    "BtOrder",
    "BtResult",
    "Watcher",
    "backtrader_module",
    "cerebro_for",
    "run_backtrader",
]

#: Calendar day that ordinal timestamp 0 is mapped to inside backtrader.
EPOCH: Final[_dt.datetime] = _dt.datetime(2020, 1, 1)

_FILL_MODES: Final[frozenset[str]] = frozenset({"next_open", "same_close"})
_SIDES: Final[frozenset[str]] = frozenset({"BUY", "SELL"})

# Cerebro options: only what a broker replay needs. No observers (stdstats),
# preloaded feeds and vectorised ("runonce") stepping, which is valid because
# no strategy here has indicators; see "Speed" in the module docstring.
_CEREBRO_OPTIONS: Final[dict[str, Any]] = {
    "stdstats": False,
    "preload": True,
    "runonce": True,
    "exactbars": False,
    "maxcpus": 1,
    "optdatas": False,
    "optreturn": False,
    "tradehistory": False,
    "quicknotify": False,
}

#: A feed's columns: datetime nums, opens, highs, lows, closes, volumes (floats).
Columns = tuple[Sequence[float], ...]


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """How the broker trades: starting ``cash`` and a ``commission_rate`` (0.001 = 0.1 %)
    charged per execution, at least ``commission_min`` per execution when non-zero;
    ``cheat_on_close`` fills market orders at their creation bar's close (``set_coc``);
    ``slippage`` a fixed fraction of the price (``set_slippage_perc``, not clamped to
    the bar); ``participation`` caps each execution at floor(bar volume x fraction)."""

    cash: float
    commission_rate: float
    commission_min: float = 0.0
    cheat_on_close: bool = False
    slippage: float = 0.0
    participation: Fraction | None = None


class Watcher(Protocol):
    """What the broker tells while ``cerebro.run()`` runs."""

    def bar(self) -> None:
        """The next bar is in; the broker has not processed it yet."""

    def notified(self, order: Any) -> None:
        """The broker notified ``order`` (a clone: its pending executions are the new
        ones); its cash and positions are as that notification left them."""


@dataclass(frozen=True, slots=True)
class BtBar:
    """One OHLCV bar for one symbol.

    ``timestamp`` is an ordinal step (0, 1, 2, ...); it is mapped to the
    day ``EPOCH + timestamp days``.
    """

    timestamp: int
    symbol: str
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class BtOrder:
    """A market order for ``quantity`` (> 0) shares placed at ``timestamp``.

    ``side`` is ``"BUY"`` or ``"SELL"``.
    """

    timestamp: int
    symbol: str
    side: str
    quantity: int


@dataclass(frozen=True, slots=True)
class BtFill:
    """One execution reported by backtrader.

    ``order_index`` is the index of the order in the input list.
    ``timestamp`` is the ordinal of the execution datetime backtrader
    recorded (the creation bar in ``same_close`` mode, the next bar in
    ``next_open`` mode). ``quantity`` is the executed size (always > 0);
    ``side`` repeats the order's side. ``commission`` is the commission of
    this execution and ``cash_after`` is the broker cash immediately after
    it (before later executions in the same bar).
    """

    order_index: int
    timestamp: int
    symbol: str
    side: str
    quantity: int
    price: float
    commission: float
    cash_after: float


@dataclass(frozen=True, slots=True)
class BtResult:
    """What backtrader did with the inputs.

    * ``fills``: executions in the order backtrader performed them.
    * ``rejected``: ``(order_index, status_name)`` for every order that did
      not fully complete, in notification order; ``status_name`` is
      backtrader's ``Order.Status`` name (``"Margin"``, ``"Rejected"``,
      ``"Canceled"``, ``"Expired"``), or ``"Submitted"`` / ``"Accepted"`` /
      ``"Partial"`` for orders still alive when the data ran out (e.g.
      orders placed on the last bar).
    * ``final_cash``: broker cash after the run.
    * ``final_positions``: signed position size for every symbol that has
      bars (zero included).
    * ``cash_trail``: broker cash as seen by the strategy at each bar, one
      entry per timestamp. Entry ``t`` includes every execution processed
      when bar ``t`` arrived (i.e. orders from bar ``t - 1``), but not the
      orders placed at bar ``t``.
    * ``symbol_bars``: number of input bars (symbols x timestamps).
    * ``seconds``: wall time of ``cerebro.run()`` only (includes feed
      preloading, excludes input validation and cerebro setup).
    """

    fills: tuple[BtFill, ...]
    rejected: tuple[tuple[int, str], ...]
    final_cash: float
    final_positions: dict[str, int]
    cash_trail: tuple[float, ...]
    symbol_bars: int
    seconds: float


# Order status names (backtrader's Order.Status) that end an order without
# completing it.
_TERMINAL_FAILURES: Final[frozenset[str]] = frozenset({"Canceled", "Expired", "Margin", "Rejected"})


def _validate(
    bars: Sequence[BtBar],
    orders: Sequence[BtOrder],
    fill_at: str,
    initial_cash: float,
    commission_rate: float,
) -> tuple[list[int], dict[str, list[BtBar]]]:
    if fill_at not in _FILL_MODES:
        msg = f"fill_at={fill_at!r} must be 'next_open' or 'same_close'"
        raise ValueError(msg)
    if not initial_cash >= 0.0:
        msg = f"initial_cash={initial_cash!r} must be a number >= 0"
        raise ValueError(msg)
    if not commission_rate >= 0.0:
        msg = f"commission_rate={commission_rate!r} must be a fraction >= 0 (0.001 means 0.1%)"
        raise ValueError(msg)

    per_symbol: dict[str, dict[int, BtBar]] = {}
    for i, bar in enumerate(bars):
        if bar.timestamp < 0:
            msg = f"bars[{i}].timestamp={bar.timestamp} must be >= 0"
            raise ValueError(msg)
        series = per_symbol.setdefault(bar.symbol, {})
        if bar.timestamp in series:
            msg = (
                f"bars[{i}] repeats symbol={bar.symbol!r} at "
                f"timestamp={bar.timestamp}; give one bar per symbol per timestamp"
            )
            raise ValueError(msg)
        series[bar.timestamp] = bar

    timestamps: list[int] = sorted({b.timestamp for b in bars})
    for symbol, series in per_symbol.items():
        if len(series) != len(timestamps):
            missing = sorted(set(timestamps) - series.keys())
            msg = (
                f"bars for symbol={symbol!r} miss timestamps {missing[:5]}"
                f"{'...' if len(missing) > 5 else ''}; every symbol needs a bar "
                "at every timestamp (aligned bars)"
            )
            raise ValueError(msg)

    known = set(timestamps)
    for i, order in enumerate(orders):
        if order.side not in _SIDES:
            msg = f"orders[{i}].side={order.side!r} must be 'BUY' or 'SELL'"
            raise ValueError(msg)
        qty = order.quantity
        if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
            msg = f"orders[{i}].quantity={qty!r} must be a positive integer"
            raise ValueError(msg)
        if order.symbol not in per_symbol:
            msg = f"orders[{i}].symbol={order.symbol!r} has no bars"
            raise ValueError(msg)
        if order.timestamp not in known:
            msg = f"orders[{i}].timestamp={order.timestamp} has no bars"
            raise ValueError(msg)

    ordered = {
        symbol: [series[t] for t in timestamps] for symbol, series in sorted(per_symbol.items())
    }
    return timestamps, ordered


class _Recorder:
    """Collects what backtrader reports while ``cerebro.run()`` is running."""

    __slots__ = ("broker", "cash_trail", "epoch_num", "fills", "placed", "refs", "rejected")

    def __init__(self, epoch_num: float) -> None:
        self.epoch_num = epoch_num
        self.broker: Any = None
        self.fills: list[BtFill] = []
        self.rejected: list[tuple[int, str]] = []
        self.cash_trail: list[float] = []
        # backtrader order ref -> (order index, symbol, side)
        self.refs: dict[int, tuple[int, str, str]] = {}
        self.placed: list[Any] = []  # live backtrader orders, submission order

    def bar(self) -> None:
        pass

    def notified(self, order: Any) -> None:
        if order.ref not in self.refs:  # Submitted, while buy()/sell() has not returned
            return
        index, symbol, side = self.refs[order.ref]
        for bit in order.executed.iterpending():
            self.fills.append(
                BtFill(
                    order_index=index,
                    # Bars sit at midnight, so the day offset is the timestamp.
                    timestamp=round(bit.dt - self.epoch_num),
                    symbol=symbol,
                    side=side,
                    quantity=abs(int(bit.size)),
                    price=float(bit.price),
                    commission=float(bit.comm),
                    cash_after=float(self.broker.cash),
                )
            )
        status = order.getstatusname()
        if status in _TERMINAL_FAILURES:
            self.rejected.append((index, status))


class _Participation:
    """A backtrader filler: each execution takes at most floor(volume x fraction) shares."""

    def __init__(self, fraction: Fraction) -> None:
        self._numerator = fraction.numerator
        self._denominator = fraction.denominator

    def __call__(self, order: Any, price: float, ago: int) -> int:
        volume = round(order.data.volume[ago])
        cap = volume * self._numerator // self._denominator
        return int(min(cap, abs(order.executed.remsize)))


@dataclass(frozen=True, slots=True)
class _Runtime:
    bt: Any
    feed: Any
    broker: Any
    minimum_commission: Any
    strategy: Any


@functools.cache
def _runtime() -> _Runtime:
    # backtrader is an optional extra: import it, and build the classes that
    # subclass it, once and only when first needed.
    bt: Any = importlib.import_module("backtrader")

    class ListFeed(bt.feed.DataBase):  # type: ignore[misc]
        # In-memory feed over pre-built columns (datetime num, o, h, l, c, v).
        params = (("columns", ()), ("symbol", ""))

        def start(self) -> None:
            super().start()
            self._rows_iter: Iterator[tuple[float, ...]] = zip(*self.p.columns, strict=True)

        def preload(self) -> None:
            # Bulk equivalent of the base preload (load() per bar, then
            # home()): this feed has no filters, no timezone and no
            # from/to dates, so every row is delivered unchanged.
            lines = self.lines
            if lines.datetime.mode == lines.datetime.QBuffer:
                super().preload()  # bounded buffers (exactbars): per bar
                return
            targets = (
                lines.datetime,
                lines.open,
                lines.high,
                lines.low,
                lines.close,
                lines.volume,
            )
            for line, column in zip(targets, self.p.columns, strict=True):
                line.array.extend(column)
            lines.openinterest.array.extend([0.0] * len(self.p.columns[0]))
            self._rows_iter = iter(())  # all rows delivered: load() must stop
            self.home()

        def _load(self) -> bool:
            # Used only when preload is off.
            row = next(self._rows_iter, None)
            if row is None:
                return False
            lines = self.lines
            (
                lines.datetime[0],
                lines.open[0],
                lines.high[0],
                lines.low[0],
                lines.close[0],
                lines.volume[0],
            ) = row
            lines.openinterest[0] = 0.0
            return True

    class Broker(bt.brokers.BackBroker):  # type: ignore[misc]
        # Tells its watcher of each bar and each notification as it happens:
        # backtrader hands notifications to the strategy only after the whole bar,
        # when cash and positions already include later executions.
        _fundshares: float
        watcher: Watcher

        def init(self) -> None:
            super().init()
            # Fund shares are cash / fundstartval and later divide the value,
            # so zero starting cash raises ZeroDivisionError. Fund accounting
            # is unused here; a non-zero share count does not touch cash.
            if not self._fundshares:
                self._fundshares = 1.0

        def next(self) -> None:
            self.watcher.bar()
            super().next()

        def notify(self, order: Any) -> None:
            clone = order.clone()
            self.notifs.append(clone)
            self.watcher.notified(clone)

        def _execute(
            self,
            order: Any,
            ago: Any = None,
            price: Any = None,
            cash: Any = None,
            position: Any = None,
            dtcoc: Any = None,
        ) -> Any:
            # Each order keeps its last cash check, (cash checked against, cash
            # needed, price), which a Margin notification is reported with.
            if ago is None:  # the submission check's pseudo-execution
                after = super()._execute(order, ago, price, cash, position, dtcoc)
                order.cashfuzz_check = (cash, cash - after, order.created.price)
                return after
            if price is not None:
                size = abs(order.executed.remsize)
                if self.p.filler is not None:
                    size = self.p.filler(order, price, ago)
                needed = self.getcommissioninfo(order.data).getcommission(size, price)
                if order.isbuy():
                    needed += size * price
                order.cashfuzz_check = (self.cash, needed, price)
            return super()._execute(order, ago, price, cash, position, dtcoc)

    class MinimumCommission(bt.CommInfoBase):  # type: ignore[misc]
        # a percentage of the traded value, at least `minimum`, per execution
        params = (
            ("stocklike", True),
            ("commtype", bt.CommInfoBase.COMM_PERC),
            ("percabs", True),
            ("minimum", 0.0),
        )

        def _getcommission(self, size: float, price: float, pseudoexec: bool) -> float:
            return float(max(abs(size) * price * self.p.commission, self.p.minimum))

    class Driver(bt.Strategy):  # type: ignore[misc]
        params = (("on_next", None),)

        def next(self) -> None:
            self.p.on_next(self)

    return _Runtime(bt, ListFeed, Broker, MinimumCommission, Driver)


def backtrader_module() -> Any:
    """The backtrader module, imported on first use; raises ImportError without it."""
    return _runtime().bt


def cerebro_for(
    settings: BrokerSettings,
    columns: Mapping[str, Columns],
    watcher: Watcher,
    on_next: Callable[[Any], None],
) -> tuple[Any, Any, dict[str, Any]]:
    """``(cerebro, broker, feeds by symbol)``: a cerebro with cashfuzz's options, a broker
    trading as ``settings`` say and telling ``watcher``, one daily in-memory feed per
    symbol of ``columns`` (in that order, named by symbol), and a strategy whose
    ``next()`` calls ``on_next(strategy)``. Raises ImportError without backtrader."""
    rt = _runtime()
    cerebro = rt.bt.Cerebro(**_CEREBRO_OPTIONS)
    broker = rt.broker()
    broker.watcher = watcher
    broker.set_cash(settings.cash)
    if settings.commission_min:
        broker.addcommissioninfo(
            rt.minimum_commission(
                commission=settings.commission_rate, minimum=settings.commission_min
            )
        )
    else:
        broker.setcommission(commission=settings.commission_rate)
    broker.set_coc(settings.cheat_on_close)
    if settings.slippage:
        broker.set_slippage_perc(
            settings.slippage, slip_open=True, slip_limit=True, slip_match=True, slip_out=True
        )
    if settings.participation is not None:
        broker.set_filler(_Participation(settings.participation))
    cerebro.setbroker(broker)
    feeds: dict[str, Any] = {}
    for symbol, symbol_columns in columns.items():
        feed = rt.feed(columns=symbol_columns, symbol=symbol, timeframe=rt.bt.TimeFrame.Days)
        cerebro.adddata(feed, name=symbol)
        feeds[symbol] = feed
    cerebro.addstrategy(rt.strategy, on_next=on_next)
    return cerebro, broker, feeds


def run_backtrader(
    bars: Iterable[BtBar],
    orders: Iterable[BtOrder],
    *,
    initial_cash: float,
    commission_rate: float,
    fill_at: str = "next_open",
) -> BtResult:
    """Replay ``orders`` against ``bars`` through backtrader's BackBroker.

    Args:
        bars: OHLCV bars. All symbols must have a bar at every timestamp
            present in the input (aligned). Input order does not matter.
        orders: Market orders. Each must name a symbol with bars and a
            timestamp that has bars, side ``"BUY"``/``"SELL"`` and an
            ``int`` quantity > 0. Orders with the same timestamp are
            submitted in list order.
        initial_cash: Starting broker cash (>= 0).
        commission_rate: Fraction of traded value charged per execution
            (``0.001`` = 0.1%), >= 0.
        fill_at: ``"next_open"`` (backtrader default: fill at the next bar's
            open) or ``"same_close"`` (cheat-on-close: fill at the creation
            bar's close, via ``broker.set_coc(True)``).

    Returns:
        A :class:`BtResult`. Orders placed on the last timestamp are never
        processed by backtrader and are listed in ``rejected`` with status
        ``"Submitted"``. Empty ``bars`` yields an empty result without
        importing or running backtrader.

    Raises:
        ValueError: if an argument is invalid or the bars are not aligned.
        ImportError: if backtrader is not installed.

    """
    bar_list = list(bars)
    order_list = list(orders)
    timestamps, series = _validate(bar_list, order_list, fill_at, initial_cash, commission_rate)
    if not timestamps:
        return BtResult(
            fills=(),
            rejected=tuple((i, "Submitted") for i in range(len(order_list))),
            final_cash=float(initial_cash),
            final_positions={},
            cash_trail=(),
            symbol_bars=0,
            seconds=0.0,
        )

    rt = _runtime()
    epoch_num = rt.bt.date2num(EPOCH)
    columns = {
        symbol: (
            [epoch_num + b.timestamp for b in sym_bars],
            [float(b.open) for b in sym_bars],
            [float(b.high) for b in sym_bars],
            [float(b.low) for b in sym_bars],
            [float(b.close) for b in sym_bars],
            [float(b.volume) for b in sym_bars],
        )
        for symbol, sym_bars in series.items()
    }
    step_of = {ts: step for step, ts in enumerate(timestamps)}
    plan: list[list[tuple[int, BtOrder]]] = [[] for _ in timestamps]
    for index, order in enumerate(order_list):
        plan[step_of[order.timestamp]].append((index, order))
    steps = iter(plan)

    recorder = _Recorder(epoch_num)
    settings = BrokerSettings(
        cash=float(initial_cash),
        commission_rate=float(commission_rate),
        cheat_on_close=fill_at == "same_close",
    )

    def place(strategy: Any) -> None:
        recorder.cash_trail.append(strategy.broker.getcash())
        for index, order in next(steps):
            buy = order.side == "BUY"
            placed = (strategy.buy if buy else strategy.sell)(
                data=feeds[order.symbol], size=order.quantity
            )
            recorder.refs[placed.ref] = (index, order.symbol, order.side)
            recorder.placed.append(placed)

    cerebro, broker, feeds = cerebro_for(settings, columns, recorder, place)
    recorder.broker = broker

    started = time.perf_counter()
    cerebro.run()
    seconds = time.perf_counter() - started

    # Orders still alive when the data ran out were never completed.
    failed = {index for index, _ in recorder.rejected}
    for order in recorder.placed:
        index = recorder.refs[order.ref][0]
        unfinished = order.alive() or order.status == order.Submitted
        if unfinished and index not in failed:
            recorder.rejected.append((index, order.getstatusname()))

    return BtResult(
        fills=tuple(recorder.fills),
        rejected=tuple(recorder.rejected),
        final_cash=float(broker.getcash()),
        final_positions={
            symbol: int(broker.getposition(feed).size) for symbol, feed in feeds.items()
        },
        cash_trail=tuple(float(c) for c in recorder.cash_trail),
        symbol_bars=len(bar_list),
        seconds=seconds,
    )
