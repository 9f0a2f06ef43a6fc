"""How ``cashfuzz diff --against backtesting`` explains backtesting.py's differences from the
reference engine: asked before the generic rules (``cashfuzz.search.differential``).
"""

from __future__ import annotations

from cashfuzz.adapters.diff_rules import Explanation, Question, Rule, sold_beyond_position
from cashfuzz.reference_engine import FillAt, Side


def out_of_money(q: Question) -> Explanation | None:
    """backtesting.py stops once equity is zero or less: it closes every trade at the last
    price, sets cash to 0 and never calls the strategy again (``_OutOfMoneyError``)."""
    if q.other_cash != 0:
        return None
    stopped = "backtesting.py stops the run once its equity is zero or less: it closes every "
    if q.field == "exists" and q.stopped:
        return "out_of_money", (
            f"{stopped}trade at the last price, sets its cash to 0 and never calls the strategy "
            f"again, so neither {q.name} nor any later signal became an order"
        )
    went_under = "cash_non_negative" in q.other_broke or _any_missing(q)
    if q.order_id is None and went_under and q.field in ("cash", "shares"):
        if q.field == "shares" and q.other_value != "0":
            return None
        how = (
            "here after its cash went below zero"
            if "cash_non_negative" in q.other_broke
            else "here once its equity reached zero"
        )
        return "out_of_money", (
            f"{stopped}trade at the last price and sets its cash to 0 ({how}), so its books "
            "end with no cash and no positions"
        )
    return None


def _any_missing(q: Question) -> bool:
    return any(order_id not in q.other_orders for order_id in q.reference_orders)


def spread_at_entry(q: Question) -> Explanation | None:
    """backtesting.py charges its spread (our fixed slippage) when a trade opens and closes
    trades at the bar's unadjusted price."""
    if q.field != "price" or q.order_id is None or not q.scenario.config.costs.max_slippage:
        return None
    ref, oth = q.orders()
    if ref.side is not Side.SELL or ref.filled != oth.filled:
        return None
    on_close = q.scenario.config.fill_at is FillAt.SAME_CLOSE
    bars = {(bar.timestamp, bar.symbol): bar for bar in q.scenario.bars}
    placed = bars.get((oth.placed_at, oth.symbol))
    for fill in oth.fills:
        bar = placed if on_close else bars.get((fill.timestamp, oth.symbol))
        if bar is None or fill.price != (bar.close if on_close else bar.open):
            return None
    return "spread_at_entry", (
        "backtesting.py charges its spread (the scenario's slippage) when a trade opens and "
        "closes trades at the bar's unadjusted price, so this SELL, which closed trades, got "
        f"{oth.average_price()} where the reference engine slipped it to {ref.average_price()}"
    )


def next_bar_never_came(q: Question) -> Explanation | None:
    """An order placed on the last bar: backtesting.py executes a bar's orders only when
    the next bar arrives (at its open, or at the order bar's close with trade_on_close)."""
    if not q.left_unprocessed:
        return None
    ref, _ = q.orders()
    executes = (
        "backtesting.py executes a bar's orders only when the next bar arrives (at its open, "
        "or with trade_on_close at the order bar's close)"
    )
    oversold = sold_beyond_position(q)
    if oversold is not None:
        category, sentence = oversold
        return category, (
            f"{sentence}; backtesting.py sells short. Placed on the last bar, the order then "
            f"stayed queued: {executes}"
        )
    return "last_bar_never_processed", (
        f"{executes}, so order {ref.order_id}, placed on the last bar, stays queued; the "
        f"reference engine's order ended {ref.outcome}"
    )


def orders_never_expire(q: Question) -> Explanation | None:
    """backtesting.py has no time in force: an order stays queued until it fills or is
    cancelled, where the reference expires a DAY order after its first chance."""
    if not q.expired_on_reference_only:
        return None
    ref, oth = q.orders()
    return "orders_never_expire", (
        f"backtesting.py has no time in force: its orders stay queued until they fill or are "
        f"cancelled, so DAY order {ref.order_id}, which the reference engine expired after its "
        f"first chance to fill, ended {oth.outcome}"
    )


def commission_per_trade(q: Question) -> Explanation | None:
    """Commission, with its minimum, charged on each trade an order opens or closes."""
    if q.field != "commission" or q.order_id is None or q.within_rounding:
        return None
    ref, oth = q.orders()
    if not q.scenario.config.costs.commission_min or oth.commission <= ref.commission:
        return None
    return "commission_per_trade", (
        "backtesting.py charges its commission function, minimum included, on every trade "
        "an order opens and on every trade it closes (a SELL closing three BUY trades pays "
        "three minimums); the reference charges the minimum once per order"
    )


#: Asked before the generic rules, in this order.
BACKTESTING_RULES: tuple[Rule, ...] = (
    out_of_money,
    next_bar_never_came,
    orders_never_expire,
    commission_per_trade,
    spread_at_entry,
)

__all__ = ["BACKTESTING_RULES"]
