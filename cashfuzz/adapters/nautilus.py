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
* scenario cancels -> ``cancel_order`` (market orders have filled by then, so they are
  ``CancelIgnored``); a venue ``OrderCanceled`` -> ``OrderCancelled``.

Not modelled: ``commission_min`` (no minimum in its fee model), random slippage,
``next_open`` fills, volume caps; ``adapt_scenario`` removes the first three and
gives every symbol a bar at every timestamp. Its balance is cash alone, so equity is
not reported (``reports_equity = False``).
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from cashfuzz.adapters.kit import Account, Factory, Limits, WholeRunEngine
from cashfuzz.reference_engine import FillAt, Side, Step
from cashfuzz.reference_engine.money import format_cents, format_ticks

_DAY_NS = 86_400 * 10**9
#: Step i's bars are stamped 2020-01-01 + i days: nautilus 1.221.0 aborts the process
#: ("double free or corruption") when a backtest's data starts at timestamp 0.
_START_NS = 1_577_836_800 * 10**9


class NautilusEngine(WholeRunEngine):
    """nautilus_trader's backtest venue behind the kit; see the module docstring."""

    reports_equity = False
    limits = Limits(
        random_slippage=False, aligned=True, fill_at=FillAt.SAME_CLOSE, commission_min=False
    )

    def account(self) -> Account:
        portfolio, nt = self.strategy.portfolio, _nautilus()
        balance = portfolio.account(nt.venue).balance_total(nt.USD).as_decimal()
        return Account(balance, {s: portfolio.net_position(i) for s, i in self.ids.items()})

    def run(self, steps: tuple[Step, ...]) -> None:
        nt, config = _nautilus(), self.config
        engine = nt.BacktestEngine(
            nt.BacktestEngineConfig(
                logging=nt.LoggingConfig(bypass_logging=True), run_analysis=False
            )
        )
        engine.add_venue(
            venue=nt.venue, oms_type=nt.OmsType.NETTING, account_type=nt.AccountType.CASH,
            base_currency=nt.USD, starting_balances=[nt.Money.from_str(f"{format_cents(config.initial_cash)} USD")],
            bar_execution=True,
        )  # fmt: skip
        self.ids = {}
        rate = (
            Decimal(config.costs.commission_rate.numerator)
            / config.costs.commission_rate.denominator
        )
        for symbol in sorted({bar.symbol for step in steps for bar in step.bars}):
            self.ids[symbol] = nt.InstrumentId(nt.Symbol(symbol), nt.venue)
            engine.add_instrument(nt.equity(self.ids[symbol], rate))
            bar_type = nt.BarType.from_str(f"{symbol}.SIM-1-DAY-LAST-EXTERNAL")
            engine.add_data(
                [
                    nt.bar(bar_type, b, _START_NS + i * _DAY_NS)
                    for i, s in enumerate(steps)
                    for b in s.bars
                    if b.symbol == symbol
                ]
            )
        self.strategy = nt.Drive(self, steps)
        engine.add_strategy(self.strategy)
        try:
            engine.run()
            self._unreported_fills(engine)
        finally:
            engine.dispose()

    def _unreported_fills(self, engine: Any) -> None:
        nt = _nautilus()
        for order in engine.cache.orders():
            key = order.client_order_id
            if self.tape.knows(key) and self.tape.is_open(key) and order.filled_qty > 0:
                price, quantity = Decimal(str(order.avg_px)), order.filled_qty.as_decimal()
                fee = sum((money.as_decimal() for money in order.commissions()), Decimal(0))
                # the balance nautilus computed, and refused, for this fill (its Money rounding)
                flow = nt.Money(
                    quantity * price * (-1 if order.side == nt.OrderSide.BUY else 1), nt.USD
                )
                cash = Decimal(str(self.account().cash)) + flow.as_decimal() - fee
                self.tape.filled(key, quantity, price, fee, cash=cash)


@functools.cache
def _nautilus() -> Any:
    """nautilus_trader's names and the strategy class, imported on first use."""
    from types import SimpleNamespace  # noqa: PLC0415

    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.data import Bar, BarType
    from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
    from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
    from nautilus_trader.model.instruments import Equity
    from nautilus_trader.model.objects import Money, Price, Quantity
    from nautilus_trader.trading.strategy import Strategy

    def equity(instrument_id: Any, fee: Decimal) -> Any:
        return Equity(
            instrument_id=instrument_id, raw_symbol=instrument_id.symbol, currency=USD,
            price_precision=4, price_increment=Price.from_str("0.0001"),
            lot_size=Quantity.from_int(1), ts_event=0, ts_init=0, taker_fee=fee, maker_fee=fee,
        )  # fmt: skip

    def bar(bar_type: Any, b: Any, ts: int) -> Any:
        prices = (Price.from_str(format_ticks(p)) for p in (b.open, b.high, b.low, b.close))
        return Bar(bar_type, *prices, Quantity.from_int(b.volume), ts, ts)

    class Drive(Strategy):  # type: ignore[misc]
        def __init__(self, adapter: NautilusEngine, steps: tuple[Step, ...]) -> None:
            super().__init__()
            self.adapter, self.steps, self.seen, self.denied = adapter, steps, 0, ""

        def on_start(self) -> None:
            for symbol in self.adapter.ids:
                self.subscribe_bars(BarType.from_str(f"{symbol}.SIM-1-DAY-LAST-EXTERNAL"))

        def on_bar(self, bar: Any) -> None:
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
                    order = self.order_factory.market(
                        self.adapter.ids[signal.symbol], side, Quantity.from_int(quantity)
                    )
                    self.submit_order(order)  # the risk engine may deny it, synchronously
                    if self.denied:
                        tape.rejected(order.client_order_id, self.denied)
                    else:
                        tape.placed(order.client_order_id, quantity)
                    self.denied = ""
            tape.cancels(lambda key: bool(self.cancel_order(self.cache.order(key))))

        def on_order_denied(self, event: Any) -> None:
            self.denied = str(event.reason)

        def on_order_rejected(self, event: Any) -> None:
            self.adapter.tape.rejected(event.client_order_id, str(event.reason))

        def on_order_canceled(self, event: Any) -> None:
            self.adapter.tape.cancelled(event.client_order_id)

        def on_order_filled(self, event: Any) -> None:
            commission = event.commission.as_decimal()
            self.adapter.tape.filled(
                event.client_order_id,
                event.last_qty.as_decimal(),
                event.last_px.as_decimal(),
                commission,
            )

    return SimpleNamespace(**locals(), venue=Venue("SIM"))


nautilus_factory = Factory(NautilusEngine, name="nautilus")
unsupported = NautilusEngine.limits.unsupported
adapt_scenario = NautilusEngine.limits.adapt

__all__ = ["NautilusEngine", "adapt_scenario", "nautilus_factory", "unsupported"]
