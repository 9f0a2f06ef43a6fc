"""backtrader's differential rules: what it does differently from the reference engine.

``cashfuzz diff --against backtrader`` asks these before the generic rules
(``cashfuzz.search.differential``); see ``cashfuzz.adapters.diff_rules`` for the rule
API. Each rule names a backtrader behaviour, as its adapter's docstring describes it:
its submission check (a bar's orders priced against one running cash figure), a
cancel that finds nothing in its submission queue, orders on the last bar never
processed, market orders that never expire, its participation filler, the
commission minimum charged per execution, and its float prices, commissions and cash.
"""

from __future__ import annotations

from cashfuzz.adapters.diff_rules import (
    CASH_CHECK_TIMING,
    CASH_ROUNDING,
    COMMISSION_ROUNDING,
    PARTICIPATION,
    PRICE_ROUNDING,
    Explanation,
    Question,
    Rule,
    filled_above_limit,
    rejection_text,
    sized_then_refused,
    sold_beyond_position,
)
from cashfuzz.reference_engine import FillAt, FillRefused, OrderState
from cashfuzz.reference_engine.money import format_cents

# backtrader's own categories
LAST_BAR = "last_bar_never_processed"
DAY_EXPIRY = "day_orders_never_expire"
CANCEL_DROPPED = "cancel_not_found"
COMMISSION_MINIMUM = "commission_minimum_per_execution"


def _margin(refused: FillRefused) -> str:
    return (
        f"Margin: needed {format_cents(refused.needed)} against cash {format_cents(refused.cash)}"
    )


def margin_refusal(q: Question) -> Explanation | None:
    """``Margin`` at the submission check or at execution, after backtrader accepted."""
    if q.field != "outcome":
        return None
    ref, oth = q.orders()
    refused = oth.refused
    if refused is None:
        return None
    where = (
        "at its submission check when the next bar arrived"
        if refused.price == oth.reference_price
        else "at execution, where the fill price had moved above the close it was sized at"
    )
    cascade = (
        " Its submission check prices all of a bar's orders against one running cash figure "
        "and does not give back the cost of an order it refused, so the figure was already "
        "negative."
        if refused.cash < 0
        else ""
    )
    sizing = sized_then_refused(q, f"{where} ({_margin(refused)})")
    if sizing is not None:
        return (sizing[0], f"{sizing[1]}.{cascade}") if cascade else sizing
    if ref.accepted:
        return CASH_CHECK_TIMING, (
            f"backtrader checks cash at execution, not at signal time: it refused order "
            f"{ref.order_id} {where} ({_margin(refused)}) after accepting it, because it "
            "reserves nothing for the orders placed before it, whose combined cost exceeded "
            "its cash; the reference engine reserved the order's worst-case cost when it "
            f"accepted it, so the order was funded.{cascade}"
        )
    return CASH_CHECK_TIMING, (
        f"backtrader checks cash at execution, not at signal time: the reference engine "
        f"rejected {q.name} before any fill ({rejection_text(ref)}) while backtrader accepted "
        f"it as order {ref.order_id} and refused it {where} ({_margin(refused)}).{cascade}"
    )


def cancel_not_found(q: Question) -> Explanation | None:
    """``broker.cancel()`` finds nothing for an order still in the submission queue."""
    if q.field != "outcome":
        return None
    ref, oth = q.orders()
    if ref.state is not OrderState.CANCELLED or not oth.cancels_not_found or oth.refused:
        return None
    return CANCEL_DROPPED, (
        f"backtrader's broker.cancel() only cancels orders it has accepted; order "
        f"{ref.order_id} was still in its submission queue (placed in the bar of the cancel), "
        f"so the cancel found nothing and the order stayed live ({oth.outcome})"
    )


def last_bar(q: Question) -> Explanation | None:
    """Orders placed on the last bar are never processed (no next bar arrives); a SELL
    beyond the position is first of all a long-only difference."""
    if not q.left_unprocessed:
        return None
    ref, _ = q.orders()
    handles = "a bar's orders only when the next bar arrives (in cheat-on-close mode too)"
    oversold = sold_beyond_position(q)
    if oversold is not None:
        category, sentence = oversold
        return category, (
            f"{sentence}; backtrader is not long-only (it sells short). Placed on the last "
            f"bar, the order was then never processed: backtrader handles {handles}"
        )
    return LAST_BAR, (
        f"backtrader never processes an order placed on the last bar: it handles {handles}, "
        f"so order {ref.order_id} stays accepted and unprocessed, while the reference "
        f"engine's order ended {ref.outcome}"
    )


def day_orders_never_expire(q: Question) -> Explanation | None:
    """A DAY market order the reference expired stays live in backtrader."""
    if not q.expired_on_reference_only or filled_above_limit(q):
        return None
    ref, oth = q.orders()
    return DAY_EXPIRY, (
        f"backtrader never expires market orders (Order.expire() is False for them), so "
        f"DAY order {ref.order_id} stayed live after its first chance to fill and ended "
        f"{oth.outcome}; the reference engine expired its remainder then"
    )


def participation_filler(q: Question) -> Explanation | None:
    """The volume cap splits an order differently from the reference's."""
    config = q.scenario.config
    if q.field != "outcome" or config.max_participation is None or filled_above_limit(q):
        return None
    ref, oth = q.orders()
    if not (ref.accepted and oth.accepted and oth.refused is None):
        return None
    if ref.filled == oth.filled and len(ref.fills) <= 1:
        return None
    mode_note = (
        " In same_close mode backtrader caps by the volume of the bar it processes the order "
        "on, the next one."
        if config.fill_at is FillAt.SAME_CLOSE
        else ""
    )
    return PARTICIPATION, (
        f"the participation cap split order {ref.order_id} differently: the reference caps each "
        "fill at floor(volume x max_participation) and expires a DAY remainder, backtrader's "
        f"filler caps each execution and keeps the order alive.{mode_note}"
    )


def commission_minimum(q: Question) -> Explanation | None:
    """The minimum commission charged on every execution, not once per order."""
    if q.field != "commission" or q.order_id is None:
        return None
    ref, oth = q.orders()
    if not q.scenario.config.costs.commission_min or oth.commission <= ref.commission:
        return None
    if q.within_rounding:
        return None
    return COMMISSION_MINIMUM, (
        "commission minimum: backtrader's commission info (as set up here) charges the "
        "minimum on every execution, and on both parts of one that closes a short and opens "
        "a long (or the reverse); the reference charges it once per order"
    )


_FLOATS = {
    "price": (
        PRICE_ROUNDING,
        "price rounding: the reference rounds a slipped buy price up (a sell price down) to "
        "the tick of 0.0001; backtrader keeps a float, converted here with round(price x 10000)",
    ),
    "commission": (
        COMMISSION_ROUNDING,
        "commission rounding: the reference rounds the commission up to the cent, on the "
        "order's cumulative notional; backtrader charges a float per execution (converted "
        "here to the nearest cent)",
    ),
    "cash": (
        CASH_ROUNDING,
        "cash rounding: the reference rounds a slipped price to the tick (up to 1 tick a "
        "share) and a cost up, proceeds down, to the cent; backtrader's cash is a float, "
        "converted here with round(cash x 100) after each event",
    ),
}


def float_rounding(q: Question) -> Explanation | None:
    """backtrader's float prices, commissions and cash, against the reference's ticks and cents."""
    if q.order_id is None or not q.within_rounding:
        return None
    return _FLOATS.get(q.field)


#: Asked before the generic rules, in this order.
BACKTRADER_RULES: tuple[Rule, ...] = (
    margin_refusal,
    cancel_not_found,
    last_bar,
    day_orders_never_expire,
    participation_filler,
    commission_minimum,
    float_rounding,
)

__all__ = [
    "BACKTRADER_RULES",
    "CANCEL_DROPPED",
    "COMMISSION_MINIMUM",
    "DAY_EXPIRY",
    "LAST_BAR",
]
