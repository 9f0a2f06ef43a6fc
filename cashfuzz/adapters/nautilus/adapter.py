"""nautilus_trader (``nautilus_trader==1.221.0``) as an engine under test: ``--engine nautilus``.

One ``BacktestEngine.run()`` per scenario (a whole-run engine): a simulated venue with
a CASH account in USD, NETTING positions and bar execution; one ``Equity`` per symbol
with a tick of 0.0001, a lot of 1 and ``taker_fee`` = ``costs.commission_rate`` (its
maker/taker fee model, commission rounded to the cent by nautilus). How nautilus maps
onto cashfuzz events:

* a step's bars, the first one the strategy's ``on_bar`` gets -> ``MarketUpdated``;
* once every bar of the step is in, each signal -> a market order submitted from
  ``on_bar`` (sized by the kit's naive rule against the account's balance when the
  signal has no quantity): ``OrderAccepted`` (reserved 0: a market order locks no
  balance, ``reserves_cash = False``), or ``OrderRejected`` when the risk engine
  denies it while it is submitted (``OrderDenied``);
* the venue's ``OrderFilled`` (at the bar's close: ``fill_at`` same_close) ->
  ``OrderFilled`` with nautilus's commission, the account's balance and net position;
  a venue ``OrderRejected`` after submission -> ``FillRefused``;
* a fill the cash account cannot pay: nautilus books the order FILLED, its account
  raises ``AccountBalanceNegative`` and the backtest stops, so the strategy never gets
  that fill and the balance never shows it. The adapter reports it from the engine's
  cache as the fill it is, with the balance it implies (nautilus's last balance less
  the fill's notional and commission), so ``cash_non_negative`` names it;
* scenario cancels -> ``cancel_order``, logged ``CancelIgnored``: an order of an earlier
  step has filled or been rejected by then, and one placed in this ``on_bar`` is not
  answered yet: the venue fills it, then rejects the cancel ("not found"). A venue
  ``OrderCanceled`` -> ``OrderCancelled``.

Not modelled: ``commission_min`` (no minimum in its fee model), random slippage,
``next_open`` fills, volume caps; ``adapt_scenario`` removes the first three and
gives every symbol a bar at every timestamp. Its balance is cash alone, so equity is
not reported (``reports_equity = False``).

``cashfuzz diff --against nautilus`` explains with ``NAUTILUS_RULES`` (in
``differential.py`` beside this module) before the generic rules: the backtest stops at
the fill its cash account cannot pay, a market order fills as it is submitted (so a
cancel at its timestamp is too late), and its venue fills at the bar's price with no
slippage model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar as NautilusBar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.trading.strategy import Strategy

from cashfuzz.adapters.kit import Account, Factory, Limits, WholeRunEngine
from cashfuzz.adapters.nautilus.differential import NAUTILUS_RULES
from cashfuzz.reference_engine import Bar, FillAt, Side, Step
from cashfuzz.reference_engine.money import format_cents, format_ticks

VENUE = Venue("SIM")
_DAY_NS = 86_400 * 10**9
#: Step i's bars are stamped 2020-01-01 + i days: nautilus 1.221.0 aborts the process
#: ("double free or corruption") when a backtest's data starts at timestamp 0.
_START_NS = 1_577_836_800 * 10**9
#: "... and order MarketOrder(SELL 1 AAPL.SIM MARKET GTC, status=..., ...)" at a reason's end
_ORDER_REPR = re.compile(r" and order \w*Order\(.*\)$")


class NautilusEngine(WholeRunEngine):
    """nautilus_trader's backtest venue behind the kit; see the module docstring."""

    reports_equity = False
    difference_rules = NAUTILUS_RULES
    #: nautilus answers orders after the strategy's on_bar returns, and a market order is
    #: logged as accepted at its first answer: acceptances and fills interleave
    logs_documented_phase_order = False
    limits = Limits(
        random_slippage=False, aligned=True, fill_at=FillAt.SAME_CLOSE, commission_min=False
    )

    def account(self) -> Account:
        portfolio = self.broker.portfolio
        balance = portfolio.account(VENUE).balance_total(USD).as_decimal()
        return Account(balance, {s: portfolio.net_position(i) for s, i in self.ids.items()})

    def run(self, steps: tuple[Step, ...]) -> None:
        config = self.config
        engine = BacktestEngine(
            BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True), run_analysis=False)
        )
        cash = Money.from_str(f"{format_cents(config.initial_cash)} USD")
        engine.add_venue(
            venue=VENUE, oms_type=OmsType.NETTING, account_type=AccountType.CASH,
            base_currency=USD, starting_balances=[cash], bar_execution=True,
        )  # fmt: skip
        rate = config.costs.commission_rate
        fee = Decimal(rate.numerator) / rate.denominator
        self.ids: dict[str, InstrumentId] = {}
        for symbol in sorted({bar.symbol for step in steps for bar in step.bars}):
            self.ids[symbol] = InstrumentId(Symbol(symbol), VENUE)
            engine.add_instrument(_equity(self.ids[symbol], fee))
            bar_type = BarType.from_str(f"{symbol}.SIM-1-DAY-LAST-EXTERNAL")
            stamped = ((i, b) for i, step in enumerate(steps) for b in step.bars)
            engine.add_data([_bar(bar_type, b, i) for i, b in stamped if b.symbol == symbol])
        self.broker = _Drive(self, steps)
        engine.add_strategy(self.broker)
        try:
            engine.run()
            self._unreported_fills(engine)
        finally:
            engine.dispose()

    def _unreported_fills(self, engine: BacktestEngine) -> None:
        """Fills nautilus booked on an order but stopped the backtest on (its cash
        account's AccountBalanceNegative) before the strategy or the balance saw them: each
        reported with the balance it implies after the books the strategy last saw, and
        those books' positions (the stopped engine's own books may hold later fills)."""
        balance: Decimal | None = None
        positions: Mapping[str, Any] = {}
        for order in engine.cache.orders():
            key = order.client_order_id
            if not self.tape.knows(key):
                continue
            fills = [event for event in order.events if isinstance(event, OrderFilled)]
            for fill in fills[self.broker.fills_seen.get(key, 0) :]:
                quantity, price = fill.last_qty.as_decimal(), fill.last_px.as_decimal()
                fee = fill.commission.as_decimal()
                # the balance nautilus computed for this fill, with its Money rounding,
                # after the unpaid fills before it
                sign = -1 if order.side == OrderSide.BUY else 1
                flow = Money(sign * quantity * price, USD).as_decimal()
                if balance is None:  # the books the strategy last saw, before the stop
                    balance = Decimal(str(self.tape.reported.cash))
                    positions = self.tape.reported.positions
                balance += flow - fee
                self.tape.filled(key, quantity, price, fee, cash=balance, positions=positions)


def _equity(instrument_id: InstrumentId, fee: Decimal) -> Equity:
    return Equity(
        instrument_id=instrument_id, raw_symbol=instrument_id.symbol, currency=USD,
        price_precision=4, price_increment=Price.from_str("0.0001"),
        lot_size=Quantity.from_int(1), ts_event=0, ts_init=0, taker_fee=fee, maker_fee=fee,
    )  # fmt: skip


def _bar(bar_type: BarType, bar: Bar, index: int) -> NautilusBar:
    prices = (Price.from_str(format_ticks(p)) for p in (bar.open, bar.high, bar.low, bar.close))
    ts = _START_NS + index * _DAY_NS
    return NautilusBar(bar_type, *prices, Quantity.from_int(bar.volume), ts, ts)


def _reason(event: Any) -> str:
    """nautilus's reason text without the order's repr it ends with (the log names the order)."""
    return _ORDER_REPR.sub("", str(event.reason))


class _Drive(Strategy):  # type: ignore[misc]
    """Marks a step at its first bar and trades its signals once its last bar is in."""

    def __init__(self, adapter: NautilusEngine, steps: tuple[Step, ...]) -> None:
        super().__init__()
        self.adapter, self.steps, self.seen = adapter, steps, 0
        self.fills_seen: dict[Any, int] = {}

    def on_start(self) -> None:
        for symbol in self.adapter.ids:
            self.subscribe_bars(BarType.from_str(f"{symbol}.SIM-1-DAY-LAST-EXTERNAL"))

    def on_bar(self, bar: NautilusBar) -> None:
        tape, index = self.adapter.tape, (bar.ts_event - _START_NS) // _DAY_NS
        if self.seen == 0:
            tape.begin(index)
        self.seen += 1
        if self.seen < len(self.steps[index].bars):
            return
        self.seen = 0
        for signal in tape.step.signals:
            if quantity := tape.size(signal):
                side = OrderSide.BUY if signal.side is Side.BUY else OrderSide.SELL
                instrument = self.adapter.ids[signal.symbol]
                order = self.order_factory.market(instrument, side, Quantity.from_int(quantity))
                tape.submitted(order.client_order_id, quantity)
                self.submit_order(order)
        # nautilus answers a cancel after on_bar returns, when its venue has filled (or
        # rejected) the bar's market orders: it rejects the cancel ("not found") and the
        # order is not cancelled. cancel_order returns None: the kit logs CancelIgnored.
        tape.cancels(lambda key: bool(self.cancel_order(self.cache.order(key))))

    def on_order_denied(self, event: Any) -> None:
        self.adapter.tape.rejected(event.client_order_id, _reason(event))

    def on_order_accepted(self, event: Any) -> None:
        self.adapter.tape.accepted(event.client_order_id)

    def on_order_rejected(self, event: Any) -> None:
        self.adapter.tape.rejected(event.client_order_id, _reason(event))

    def on_order_canceled(self, event: Any) -> None:
        self.adapter.tape.cancelled(event.client_order_id)

    def on_order_filled(self, event: Any) -> None:
        key = event.client_order_id
        self.fills_seen[key] = self.fills_seen.get(key, 0) + 1
        quantity, price = event.last_qty.as_decimal(), event.last_px.as_decimal()
        commission = event.commission.as_decimal()
        self.adapter.tape.filled(key, quantity, price, commission)


nautilus_factory = Factory(NautilusEngine, name="nautilus")
