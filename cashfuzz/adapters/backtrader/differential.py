"""Differential mode: one scenario on the reference engine and on backtrader, compared.

Both engines turn signal i into order i + 1, so orders are aligned by id. For
each order the comparison looks at its outcome (rejected at signal time and
why, refused at fill, filled, still open, cancelled, expired), its size, and its
fills (quantity, average price, commission, cash); then at final cash and
positions. Every difference gets a category and a sentence saying why the two
engines differ; ``unexplained`` marks one no rule accounts for.

The reference engine runs in reservation mode (``--engine reference``);
backtrader through ``cashfuzz.adapters.backtrader.adapter`` (see its docstring for how
its statuses map onto our events). Differences are information: they do not
make the comparison fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cashfuzz.adapters.backtrader.adapter import backtrader_factory, unsupported
from cashfuzz.engines import resolve_engine
from cashfuzz.invariants import CheckResult, check_scenario
from cashfuzz.output.results import snapshot_to_json
from cashfuzz.reference_engine import (
    CancelIgnored,
    Event,
    FillAt,
    FillRefused,
    LedgerSnapshot,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderState,
    Reason,
    Scenario,
    ScenarioError,
    Side,
    Signal,
    Timestamp,
)
from cashfuzz.reference_engine.money import TICKS_PER_CENT, format_cents, format_ticks

AGAINST = ("backtrader",)

# categories, each with what it means (shown by `cashfuzz diff --help` users in the JSON)
CASH_CHECK_TIMING = "cash_check_timing"
RESERVATION = "reservation"
SIZING = "sizing"
LONG_ONLY = "long_only"
LAST_BAR = "last_bar_never_processed"
PRICE_PROTECTION = "price_protection"
DAY_EXPIRY = "day_orders_never_expire"
CANCEL_DROPPED = "cancel_not_found"
PARTICIPATION = "participation"
PRICE_ROUNDING = "price_rounding"
COMMISSION_ROUNDING = "commission_rounding"
COMMISSION_MINIMUM = "commission_minimum_per_execution"
CASH_ROUNDING = "cash_rounding"
CONSEQUENCE = "consequence"
SHORT_POSITION = "short_position"
CRASH = "crash"
UNEXPLAINED = "unexplained"

_CASH_REASONS = (Reason.INSUFFICIENT_CASH, Reason.CANNOT_COVER_FEE)
_POSITION_REASONS = (Reason.NOTHING_TO_SELL, Reason.EXCEEDS_POSITION)


@dataclass(slots=True)
class _Fill:
    timestamp: Timestamp
    quantity: int
    price: int
    commission: int
    cash_delta: int


@dataclass(slots=True)
class OrderOutcome:
    """What one engine made of one signal, read from its event log and final books."""

    order_id: int
    symbol: str
    side: Side
    placed_at: Timestamp
    requested: int
    quantity: int
    accepted: bool
    reason: Reason | None = None
    detail: str = ""
    reference_price: int = 0
    limit_price: int = 0
    state: OrderState = OrderState.NEW
    fills: list[_Fill] = field(default_factory=list)
    refused: FillRefused | None = None
    cancelled_at: Timestamp | None = None
    cancels_not_found: list[Timestamp] = field(default_factory=list)
    expired_at: Timestamp | None = None

    @property
    def filled(self) -> int:
        return sum(fill.quantity for fill in self.fills)

    @property
    def commission(self) -> int:
        return sum(fill.commission for fill in self.fills)

    @property
    def cash_flow(self) -> int:
        return sum(fill.cash_delta for fill in self.fills)

    @property
    def notional(self) -> int:
        return sum(fill.quantity * fill.price for fill in self.fills)

    @property
    def outcome(self) -> str:
        """``rejected (REASON)``, ``refused at fill``, ``filled``, ``partially filled``,
        ``open``, ``cancelled`` or ``expired``."""
        if not self.accepted:
            return f"rejected ({self.reason.value if self.reason else '?'})"
        if self.refused is not None:
            return "refused at fill"
        return {
            OrderState.FILLED: "filled",
            OrderState.PARTIALLY_FILLED: "partially filled",
            OrderState.ACCEPTED: "open",
            OrderState.CANCELLED: "cancelled",
            OrderState.EXPIRED: "expired",
        }.get(self.state, self.state.value.lower())

    def average_price(self) -> str:
        """The fills' average price in ticks as a decimal string (rounded to the tick)."""
        filled = self.filled
        return format_ticks(round(self.notional / filled)) if filled else "-"

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "symbol": self.symbol,
            "side": self.side.value,
            "placed_at": self.placed_at,
            "requested": self.requested,
            "quantity": self.quantity,
            "outcome": self.outcome,
            "reason": None if self.reason is None else self.reason.value,
            "detail": self.detail,
            "state": self.state.value,
            "filled": self.filled,
            "average_price": self.average_price() if self.fills else None,
            "commission": format_cents(self.commission),
            "cash_flow": format_cents(self.cash_flow),
            "fills": [
                {
                    "timestamp": fill.timestamp,
                    "quantity": fill.quantity,
                    "price": format_ticks(fill.price),
                    "commission": format_cents(fill.commission),
                    "cash_delta": format_cents(fill.cash_delta),
                }
                for fill in self.fills
            ],
        }


def order_outcomes(
    events: Sequence[Event], final: LedgerSnapshot | None
) -> dict[int, OrderOutcome]:
    """Every order in ``events`` by id, with its final state from ``final``."""
    orders: dict[int, OrderOutcome] = {}
    for event in events:
        if isinstance(event, OrderAccepted):
            orders[event.order_id] = OrderOutcome(
                order_id=event.order_id,
                symbol=event.symbol,
                side=event.side,
                placed_at=event.timestamp,
                requested=event.requested,
                quantity=event.quantity,
                accepted=True,
                reason=event.reason,
                reference_price=event.reference_price,
                limit_price=event.limit_price,
                state=OrderState.ACCEPTED,
            )
        elif isinstance(event, OrderRejected):
            orders[event.order_id] = OrderOutcome(
                order_id=event.order_id,
                symbol=event.symbol,
                side=event.side,
                placed_at=event.timestamp,
                requested=event.requested,
                quantity=0,
                accepted=False,
                reason=event.reason,
                detail=event.detail,
                state=OrderState.REJECTED,
            )
        elif isinstance(event, OrderFilled) and event.order_id in orders:
            orders[event.order_id].fills.append(
                _Fill(
                    event.timestamp, event.quantity, event.price, event.commission, event.cash_delta
                )
            )
        elif isinstance(event, FillRefused) and event.order_id in orders:
            orders[event.order_id].refused = event
        elif isinstance(event, OrderCancelled) and event.order_id in orders:
            orders[event.order_id].cancelled_at = event.timestamp
        elif (
            isinstance(event, CancelIgnored)
            and event.order_id in orders
            and event.state is not None
            and event.state not in (OrderState.REJECTED,)
            and event.reason is Reason.UNKNOWN_ORDER
        ):
            orders[event.order_id].cancels_not_found.append(event.timestamp)
        elif isinstance(event, OrderExpired) and event.order_id in orders:
            orders[event.order_id].expired_at = event.timestamp
    if final is not None:
        for view in final.orders:
            if view.order_id in orders:
                orders[view.order_id].state = view.state
    return orders


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the engines differ: on ``subject`` (``order 3``, ``final cash``,
    ``position AAPL``), in ``field``, with each side's value, a category and why."""

    subject: str
    field: str
    reference: str
    other: str
    category: str
    explanation: str
    order_id: int | None = None

    def to_dict(self, against: str = "backtrader") -> dict[str, Any]:
        return {
            "subject": self.subject,
            "order_id": self.order_id,
            "field": self.field,
            "reference": self.reference,
            against: self.other,
            "category": self.category,
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """The two runs and their differences (empty when the engines agree)."""

    scenario: Scenario
    against: str
    reference: CheckResult
    other: CheckResult
    reference_orders: dict[int, OrderOutcome]
    other_orders: dict[int, OrderOutcome]
    differences: tuple[Difference, ...]

    @property
    def agree(self) -> bool:
        return not self.differences


# --- running -------------------------------------------------------------------------------


def compare(scenario: Scenario, *, against: str = "backtrader") -> Comparison:
    """Run ``scenario`` on the reference engine and on ``against`` and compare them.

    Raises ScenarioError when ``against`` cannot run the scenario (the message names
    the field) or is not a known engine to compare with.
    """
    if against not in AGAINST:
        raise ScenarioError(f"--against {against!r} is not supported; choose from {AGAINST}")
    problem = unsupported(scenario)
    if problem is not None:
        raise ScenarioError(f"backtrader cannot run this scenario: {problem}")
    reference = check_scenario(scenario, resolve_engine("reference"), determinism=False)
    other = check_scenario(scenario, backtrader_factory, determinism=False)
    ref_orders = order_outcomes(reference.events, reference.final)
    other_orders = order_outcomes(other.events, other.final)
    differences = _differences(scenario, reference, other, ref_orders, other_orders)
    return Comparison(
        scenario, against, reference, other, ref_orders, other_orders, tuple(differences)
    )


def _signals_by_order(scenario: Scenario) -> dict[int, tuple[int, Signal, int]]:
    """order id -> (signal index, signal, step index): ids follow the handling order."""
    found: dict[int, tuple[int, Signal, int]] = {}
    for step_index, step in enumerate(scenario.steps()):
        for signal in step.signals:
            order_id = len(found) + 1
            found[order_id] = (order_id - 1, signal, step_index)
    return found


@dataclass(frozen=True, slots=True)
class _Context:
    scenario: Scenario
    last_step: int
    steps_of: dict[Timestamp, int]
    signals: dict[int, tuple[int, Signal, int]]


def _differences(
    scenario: Scenario,
    reference: CheckResult,
    other: CheckResult,
    ref_orders: dict[int, OrderOutcome],
    other_orders: dict[int, OrderOutcome],
) -> list[Difference]:
    if other.crash is not None or reference.crash is not None:
        return [
            Difference(
                "run",
                "crash",
                reference.crash or "ran",
                other.crash or "ran",
                CRASH,
                "an engine raised instead of finishing the scenario",
            )
        ]
    steps = scenario.steps()
    context = _Context(
        scenario,
        len(steps) - 1,
        {step.timestamp: i for i, step in enumerate(steps)},
        _signals_by_order(scenario),
    )
    found: list[Difference] = []
    for order_id in sorted(set(ref_orders) | set(other_orders)):
        ref, oth = ref_orders.get(order_id), other_orders.get(order_id)
        if ref is None or oth is None:
            found.append(
                Difference(
                    f"order {order_id}",
                    "exists",
                    "yes" if ref else "no",
                    "yes" if oth else "no",
                    UNEXPLAINED,
                    f"order {order_id} exists on one side only",
                    order_id,
                )
            )
            continue
        found.extend(_order_differences(context, ref, oth))
    found.extend(_final_differences(reference, other, ref_orders, other_orders, found))
    return found


# --- one order ---------------------------------------------------------------------------------


def _signal_name(context: _Context, order_id: int) -> str:
    index, signal, _ = context.signals[order_id]
    size = "" if signal.quantity is None else f" {signal.quantity}"
    return f"signal {index} ({signal.side.value}{size} {signal.symbol})"


def _outcome_text(order: OrderOutcome) -> str:
    if not order.fills:
        return order.outcome
    return f"{order.outcome}: {order.filled} @ {order.average_price()}"


def _rejection_text(order: OrderOutcome) -> str:
    reason = order.reason.value if order.reason else "?"
    text = f"{reason}: {order.detail}" if order.detail else reason
    if order.reason is Reason.TARGET_REACHED:
        text += "; it counts pending buys toward the sizer's target"
    return text


def _refusal_text(refused: FillRefused) -> str:
    return (
        f"Margin: needed {format_cents(refused.needed)} against cash {format_cents(refused.cash)}"
    )


def _order_differences(context: _Context, ref: OrderOutcome, oth: OrderOutcome) -> list[Difference]:
    order_id = ref.order_id
    subject = f"order {order_id}"
    name = _signal_name(context, order_id)
    found: list[Difference] = []

    def add(field_name: str, left: str, right: str, category: str, why: str) -> None:
        found.append(Difference(subject, field_name, left, right, category, why, order_id))

    if ref.outcome != oth.outcome or ref.filled != oth.filled:
        category, why = _explain_outcome(context, ref, oth, name)
        add(
            "outcome",
            _outcome_text(ref),
            _outcome_text(oth),
            category,
            why,
        )
        if ref.accepted and oth.accepted and ref.quantity != oth.quantity:
            category, why = _explain_size(context, ref, oth, name)
            add("quantity", str(ref.quantity), str(oth.quantity), category, why)
        if ref.filled and oth.filled:
            found.extend(_money_differences(context, ref, oth, subject, consequence=True))
        return found
    if ref.accepted and oth.accepted and ref.quantity != oth.quantity:
        category, why = _explain_size(context, ref, oth, name)
        add("quantity", str(ref.quantity), str(oth.quantity), category, why)
    if not ref.accepted and ref.reason != oth.reason:
        add(
            "reason",
            f"{ref.reason}: {ref.detail}",
            f"{oth.reason}: {oth.detail}",
            SIZING,
            f"both engines rejected {name}, for different reasons: the reference sizes from "
            "available cash and a position that counts pending orders, backtrader's strategy "
            "from the broker's cash and filled position",
        )
    if ref.filled:
        found.extend(_money_differences(context, ref, oth, subject, consequence=False))
    return found


def _explain_outcome(
    context: _Context, ref: OrderOutcome, oth: OrderOutcome, name: str
) -> tuple[str, str]:
    order_id = ref.order_id
    step_index = context.signals[order_id][2]
    config = context.scenario.config
    on_last_bar = step_index == context.last_step
    if oth.refused is not None:
        refused = oth.refused
        at_submission = refused.price == oth.reference_price
        where = (
            "at its submission check when the next bar arrived"
            if at_submission
            else "at execution, where the fill price had moved above the close it was sized at"
        )
        cascade = (
            " Its submission check prices all of a bar's orders against one running cash "
            "figure and does not give back the cost of an order it refused, so the figure was "
            "already negative."
            if refused.cash < 0
            else ""
        )
        if ref.accepted:
            return CASH_CHECK_TIMING, (
                f"backtrader checks cash at execution, not at signal time: it refused order "
                f"{order_id} {where} ({_refusal_text(refused)}) after accepting it, because it "
                "reserves nothing for the orders placed before it, whose combined cost exceeded "
                "its cash; the reference engine reserved the order's worst-case cost when it "
                f"accepted it, so the order was funded.{cascade}"
            )
        return CASH_CHECK_TIMING, (
            f"backtrader checks cash at execution, not at signal time: the reference engine "
            f"rejected {name} before any fill ({_rejection_text(ref)}) while backtrader accepted "
            f"it as order {order_id} and refused it {where} ({_refusal_text(refused)}).{cascade}"
        )
    if ref.state is OrderState.CANCELLED and oth.cancels_not_found:
        return CANCEL_DROPPED, (
            f"backtrader's broker.cancel() only cancels orders it has accepted; order "
            f"{order_id} was still in its submission queue (placed in the bar of the cancel), "
            f"so the cancel found nothing and the order stayed live ({oth.outcome})"
        )
    if oth.accepted and not oth.fills and oth.state is OrderState.ACCEPTED and on_last_bar:
        return LAST_BAR, (
            f"backtrader fills orders placed on the last bar never: it handles a bar's orders "
            f"only when the next bar arrives (in cheat-on-close mode too), so order {order_id}, "
            f"placed on the last bar, stays accepted and unprocessed, while the reference "
            f"engine's order ended {ref.outcome}"
        )
    if not ref.accepted:
        if ref.reason in _CASH_REASONS:
            later = (
                "the broker's cash when it executed covered it (earlier fills, a short sale's "
                "proceeds included, had changed it)"
                if oth.fills
                else f"has not checked it yet (it is {oth.outcome}: it never got to execute)"
            )
            return CASH_CHECK_TIMING, (
                f"backtrader checks cash at execution, not at signal time: the reference engine "
                f"rejected {name} before any fill ({_rejection_text(ref)}) while backtrader "
                f"accepted it as order {order_id} and {later}"
            )
        if ref.reason in _POSITION_REASONS:
            return LONG_ONLY, (
                f"the reference engine is long-only and rejected {name} ({ref.reason.value}: "
                f"{ref.detail}); backtrader sells the quantity given, beyond the position "
                "(a short sale credits its value to cash)"
            )
        return SIZING, (
            f"the reference engine rejected {name} ({ref.reason}: {ref.detail}); backtrader's "
            "strategy sizes from the filled position only, not counting pending orders, and "
            "placed it"
        )
    if not oth.accepted:
        if oth.reason in _POSITION_REASONS:
            return SIZING, (
                f"backtrader's strategy had no filled position to sell for {name} "
                f"({oth.reason.value}), the reference engine had one at that point "
                "(its fills happened earlier or later than backtrader's)"
            )
        return SIZING, (
            f"backtrader's strategy rejected {name} ({oth.reason}: {oth.detail}) where the "
            "reference engine accepted it: they sized from different cash and positions"
        )
    if (
        ref.side is Side.BUY
        and ref.filled < ref.quantity
        and oth.fills
        and max(fill.price for fill in oth.fills) > ref.limit_price
    ):
        top = max(fill.price for fill in oth.fills)
        return PRICE_PROTECTION, (
            f"price protection: the reference engine did not fill order {order_id} above its "
            f"limit {format_ticks(ref.limit_price)} (the close it was sized at plus the maximum "
            f"slippage), so its DAY order expired or its GTC order waits; backtrader's market "
            f"order filled at {format_ticks(top)}"
        )
    if ref.state is OrderState.EXPIRED and oth.state is not OrderState.EXPIRED:
        return DAY_EXPIRY, (
            f"backtrader never expires market orders (Order.expire() is False for them), so "
            f"DAY order {order_id} stayed live after its first chance to fill and ended "
            f"{oth.outcome}; the reference engine expired its remainder then"
        )
    if config.max_participation is not None and (ref.filled != oth.filled or len(ref.fills) > 1):
        mode_note = (
            " In same_close mode backtrader caps by the volume of the bar it processes the order "
            "on, the next one."
            if config.fill_at is FillAt.SAME_CLOSE
            else ""
        )
        return PARTICIPATION, (
            f"the participation cap split order {order_id} differently: the reference caps each "
            "fill at floor(volume x max_participation) and expires a DAY remainder, backtrader's "
            f"filler caps each execution and keeps the order alive.{mode_note}"
        )
    if ref.quantity != oth.quantity:
        return SIZING, (
            f"the engines sized {name} differently ({ref.quantity} vs {oth.quantity}); "
            "see the quantity difference"
        )
    return UNEXPLAINED, (
        f"order {order_id} ended {ref.outcome} on the reference engine and {oth.outcome} on "
        "backtrader; no known cause: compare the two ledgers (cashfuzz run --engine ...)"
    )


def _explain_size(
    context: _Context, ref: OrderOutcome, oth: OrderOutcome, name: str
) -> tuple[str, str]:
    _, signal, _ = context.signals[ref.order_id]
    if signal.quantity is not None:
        if ref.reason in _POSITION_REASONS:
            return LONG_ONLY, (
                f"the reference engine cut {name} to the {ref.quantity} shares held and not "
                f"pending sale ({ref.reason.value}); backtrader places the quantity as given"
            )
        return RESERVATION, (
            f"the reference engine checks an explicit quantity against available cash (cash "
            f"minus reservations) at signal time and shrank {name} to {ref.quantity} "
            f"({ref.reason}); backtrader places the quantity as given and checks cash later"
        )
    if signal.side is Side.SELL:
        return SIZING, (
            f"for {name} the reference engine sells the position not already pending sale "
            f"({ref.quantity}); backtrader's strategy sells the filled position ({oth.quantity}), "
            "ignoring pending orders"
        )
    return SIZING, (
        f"the reference engine sized {name} to {ref.quantity} shares from available cash (cash "
        "minus the reservations of open orders) and a position that counts pending buys; "
        f"backtrader's strategy sized it to {oth.quantity} from the broker's cash and value, "
        "which do not reflect orders placed earlier and not yet filled (the seed's race)"
    )


#: The fixed explanations of the rounding and fee categories.
_WHY = {
    PRICE_ROUNDING: (
        "price rounding: the reference rounds a slipped buy price up (a sell price down) to "
        "the tick of 0.0001; backtrader keeps a float, converted here with round(price x 10000)"
    ),
    COMMISSION_ROUNDING: (
        "commission rounding: the reference rounds the commission up to the cent, on the "
        "order's cumulative notional; backtrader charges a float per execution (converted "
        "here to the nearest cent)"
    ),
    COMMISSION_MINIMUM: (
        "commission minimum: backtrader's commission info (as set up here) charges the "
        "minimum on every execution, and on both parts of one that closes a short and opens "
        "a long (or the reverse); the reference charges it once per order"
    ),
    CASH_ROUNDING: (
        "cash rounding: the reference rounds a slipped price to the tick (up to 1 tick a "
        "share) and a cost up, proceeds down, to the cent; backtrader's cash is a float, "
        "converted here with round(cash x 100) after each event"
    ),
}


def _money_differences(
    context: _Context,
    ref: OrderOutcome,
    oth: OrderOutcome,
    subject: str,
    *,
    consequence: bool,
) -> list[Difference]:
    found: list[Difference] = []
    order_id = ref.order_id
    fills = max(len(ref.fills), len(oth.fills))
    same_fills = ref.filled == oth.filled
    # within a tick per share per fill: a rounded price on one side, a float on the other
    rounding = same_fills and abs(ref.notional - oth.notional) <= fills * ref.filled
    # ... which moves cash by up to that many ticks, plus a cent of rounding per amount
    cents = fills * (2 + -(-ref.filled // TICKS_PER_CENT))
    follows = consequence or not same_fills

    def add(field_name: str, left: str, right: str, category: str, why: str) -> None:
        found.append(Difference(subject, field_name, left, right, category, why, order_id))

    def classify(fitting: bool, category: str, unexplained: str) -> tuple[str, str]:
        if fitting:
            return category, _WHY[category]
        if follows or not rounding:
            return CONSEQUENCE, "follows from the fill differences above"
        return UNEXPLAINED, unexplained

    if ref.notional != oth.notional:
        category, why = classify(
            rounding,
            PRICE_ROUNDING,
            "the same quantity filled at different prices: on different bars or price sources",
        )
        add("price", ref.average_price(), oth.average_price(), category, why)
    commission_gap = oth.commission - ref.commission
    if commission_gap:
        if (
            context.scenario.config.costs.commission_min
            and commission_gap > 0
            and not (rounding and commission_gap <= cents)
        ):
            category, why = COMMISSION_MINIMUM, _WHY[COMMISSION_MINIMUM]
        else:
            category, why = classify(
                rounding and abs(commission_gap) <= cents,
                COMMISSION_ROUNDING,
                "commissions differ beyond rounding",
            )
        add(
            "commission",
            format_cents(ref.commission),
            format_cents(oth.commission),
            category,
            why,
        )
    if ref.cash_flow != oth.cash_flow:
        # a commission paid is cash gone: what is left after it is the rounding
        beyond_fees = oth.cash_flow - ref.cash_flow + commission_gap
        if rounding and abs(commission_gap) > cents and abs(beyond_fees) <= cents:
            category, why = CONSEQUENCE, "follows from the commission difference above"
        else:
            category, why = classify(
                rounding and abs(oth.cash_flow - ref.cash_flow) <= cents,
                CASH_ROUNDING,
                "cash flows differ beyond rounding",
            )
        add("cash", format_cents(ref.cash_flow), format_cents(oth.cash_flow), category, why)
    return found


# --- final books -------------------------------------------------------------------------------


def _final_differences(
    reference: CheckResult,
    other: CheckResult,
    ref_orders: dict[int, OrderOutcome],
    other_orders: dict[int, OrderOutcome],
    order_differences: list[Difference],
) -> list[Difference]:
    assert reference.final is not None
    assert other.final is not None
    found: list[Difference] = []
    ref_cash, other_cash = reference.final.cash, other.final.cash
    if ref_cash != other_cash:
        gap = other_cash - ref_cash
        flows = sum(o.cash_flow for o in other_orders.values()) - sum(
            o.cash_flow for o in ref_orders.values()
        )
        if flows == gap and order_differences:
            category, why = (
                CONSEQUENCE,
                (f"the orders' cash differences above add up to exactly {format_cents(gap)}"),
            )
        else:
            category, why = (
                UNEXPLAINED,
                (
                    f"the final cash differs by {format_cents(gap)} but the orders' fills account "
                    f"for {format_cents(flows)}"
                ),
            )
        found.append(
            Difference(
                "final cash",
                "cash",
                format_cents(ref_cash),
                format_cents(other_cash),
                category,
                why,
            )
        )
    ref_positions = {p.symbol: p.quantity for p in reference.final.positions if p.quantity}
    other_positions = {p.symbol: p.quantity for p in other.final.positions if p.quantity}
    for symbol in sorted(set(ref_positions) | set(other_positions)):
        left, right = ref_positions.get(symbol, 0), other_positions.get(symbol, 0)
        if left == right:
            continue
        involved = sorted(
            order_id
            for order_id, order in ref_orders.items()
            if order.symbol == symbol
            and order_id in other_orders
            and order.filled != other_orders[order_id].filled
        )
        if right < 0:
            category, why = (
                SHORT_POSITION,
                (
                    f"backtrader holds a short position in {symbol}: it lets a SELL exceed the "
                    "position, which the reference engine (long-only) never does"
                ),
            )
        elif involved:
            listed = ", ".join(str(i) for i in involved)
            category, why = CONSEQUENCE, f"follows from the fills of order(s) {listed} above"
        else:
            category, why = UNEXPLAINED, "the fills of the orders do not explain it"
        found.append(
            Difference(f"position {symbol}", "shares", str(left), str(right), category, why)
        )
    return found


# --- output ------------------------------------------------------------------------------


def side_to_json(result: CheckResult, orders: dict[int, OrderOutcome]) -> dict[str, Any]:
    """One engine's run: invariants, final books and every order's outcome."""
    return {
        "ok": result.ok,
        "violations": [violation.to_dict() for violation in result.violations],
        "crash": result.crash,
        "final": None if result.final is None else snapshot_to_json(result.final),
        "orders": [orders[order_id].to_dict() for order_id in sorted(orders)],
    }


def comparison_to_json(comparison: Comparison) -> dict[str, Any]:
    """``{"agree", "differences", "reference", "<against>"}``, money as decimal strings."""
    return {
        "agree": comparison.agree,
        "differences": [d.to_dict(comparison.against) for d in comparison.differences],
        "reference": side_to_json(comparison.reference, comparison.reference_orders),
        comparison.against: side_to_json(comparison.other, comparison.other_orders),
    }


__all__ = [
    "AGAINST",
    "Comparison",
    "Difference",
    "OrderOutcome",
    "compare",
    "comparison_to_json",
    "order_outcomes",
    "side_to_json",
]
