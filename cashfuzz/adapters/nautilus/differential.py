"""How ``cashfuzz diff --against nautilus`` explains nautilus_trader's differences from the
reference engine: asked before the generic rules (``cashfuzz.search.differential``).
"""

from __future__ import annotations

from cashfuzz.adapters.diff_rules import Explanation, Question, Rule
from cashfuzz.reference_engine import OrderState, Side


def backtest_stopped(q: Question) -> Explanation | None:
    """The cash account raised AccountBalanceNegative at a fill and the engine stopped the
    backtest: no later signal reached the strategy."""
    if q.field != "exists" or not q.stopped or "cash_non_negative" not in q.other_broke:
        return None
    return "backtest_stopped", (
        "nautilus stopped the backtest at a fill its cash account could not pay (the balance "
        "went negative: AccountBalanceNegative), so neither "
        f"{q.name} nor any later signal reached the strategy"
    )


def fills_on_submission(q: Question) -> Explanation | None:
    """A market order fills as it is submitted (bar execution), before any cancel."""
    if q.field != "outcome":
        return None
    ref, oth = q.orders()
    if ref.state is not OrderState.CANCELLED or not oth.fills:
        return None
    if ref.cancelled_at != ref.placed_at:
        return None
    return "fills_on_submission", (
        f"nautilus's venue fills a market order as soon as it is submitted (bar execution, at "
        f"the bar's price), so the scenario's cancel at the same timestamp found order "
        f"{ref.order_id} already {oth.outcome.split(':')[0]}; the reference engine cancels it "
        "before it fills"
    )


def no_slippage(q: Question) -> Explanation | None:
    """The venue fills at the bar's close, the part beyond its volume share a tick worse,
    with no slippage model; the reference adds the scenario's fixed slippage."""
    if q.field != "price" or q.order_id is None or not q.scenario.config.costs.max_slippage:
        return None
    ref, oth = q.orders()
    closes = {(bar.timestamp, bar.symbol): bar.close for bar in q.scenario.bars}
    tick = 1 if ref.side is Side.BUY else -1
    for fill in oth.fills:
        close = closes.get((fill.timestamp, oth.symbol))
        if close is None or fill.price not in (close, close + tick):
            return None
    return "no_slippage", (
        "nautilus's venue (bar execution, no slippage model set here) fills a market order "
        "at the bar's close, the part beyond the bar's volume share one tick worse; the "
        f"reference engine adds the scenario's slippage: {ref.average_price()} against "
        f"{oth.average_price()}"
    )


#: Asked before the generic rules, in this order.
NAUTILUS_RULES: tuple[Rule, ...] = (backtest_stopped, fills_on_submission, no_slippage)

__all__ = ["NAUTILUS_RULES"]
