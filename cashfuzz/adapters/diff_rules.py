"""What a differential rule sees and says: the vocabulary ``cashfuzz diff`` explains in.

``cashfuzz diff`` (``cashfuzz.search.differential``) runs one scenario on the reference
engine and on another, aligns their orders by id and, for each way they differ, asks a
:class:`Question`. Rules answer it: a rule is any callable ``rule(question)`` returning
``(category, sentence)`` or None (not mine). The engine's own rules are asked first,
then the generic ones; a difference no rule explains is ``unexplained``.

An engine declares its rules with an optional attribute of its factory, read with
``getattr`` like ``unsupported`` and ``adapt_scenario``: ``difference_rules``, a
sequence of rules. The kit's ``Factory`` passes through the engine class's
``difference_rules``. A rule describes what the engine really does, phrased from what
it did (its orders, fills and refusals) and named with ``question.engine``. It judges an
order by its ``state`` (``OrderState``) and ``reason`` (``Reason``), both re-exported
here, never by its ``outcome``, which is display text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import field as _field
from typing import Any

from cashfuzz.reference_engine import (
    CancelIgnored,
    Event,
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
    Side,
    Signal,
    Timestamp,
)
from cashfuzz.reference_engine.money import format_cents, format_ticks

# the generic categories; an engine's rules may add their own names
CASH_CHECK_TIMING = "cash_check_timing"
RESERVATION = "reservation"
SIZING = "sizing"
LONG_ONLY = "long_only"
PRICE_PROTECTION = "price_protection"
PRICE_ROUNDING = "price_rounding"
COMMISSION_ROUNDING = "commission_rounding"
CASH_ROUNDING = "cash_rounding"
PARTICIPATION = "participation"
SHORT_POSITION = "short_position"
CONSEQUENCE = "consequence"
NO_CASH_CHECK = "no_cash_check"
REASON_NAMES = "reason_names"
CRASH = "crash"
UNEXPLAINED = "unexplained"

#: rejection reasons about cash, and about the position a SELL needs
CASH_REASONS = (Reason.INSUFFICIENT_CASH, Reason.CANNOT_COVER_FEE)
POSITION_REASONS = (Reason.NOTHING_TO_SELL, Reason.EXCEEDS_POSITION)

#: ``(category, sentence)``
Explanation = tuple[str, str]

#: an order's fills are listed price by price up to this many prices
_LISTED_PRICES = 4


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order, in cashfuzz units (ticks, cents)."""

    timestamp: Timestamp
    quantity: int
    price: int
    commission: int
    cash_delta: int
    #: the engine's cash right after this fill, in cents (None when not tracked)
    cash_after: int | None = None


@dataclass(slots=True)
class OrderOutcome:
    """What one engine made of one signal, read from its event log and final books.

    For a rule, ``state`` (an ``OrderState``: ``REJECTED``, ``FILLED``, ``EXPIRED``, ...)
    and ``reason`` (a ``Reason`` or None) are the robust facts to compare; ``outcome`` is
    display text (``rejected (CANNOT_COVER_FEE)``, ``filled``) and ``refused`` the
    ``FillRefused`` of an order refused at execution (its state stays ``ACCEPTED``).
    """

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
    fills: list[Fill] = field(default_factory=list)
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
    def top_price(self) -> int:
        """The highest fill price in ticks (0 without fills)."""
        return max((fill.price for fill in self.fills), default=0)

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

    @property
    def lowest_cash(self) -> int | None:
        """The engine's lowest cash right after one of this order's fills (None without
        fills or when not tracked)."""
        seen = [fill.cash_after for fill in self.fills if fill.cash_after is not None]
        return min(seen, default=None)

    def average_price(self) -> str:
        """The fills' average price in ticks as a decimal string (rounded to the tick)."""
        filled = self.filled
        return format_ticks(round(self.notional / filled)) if filled else "-"

    def fills_text(self) -> str:
        """``1 @ 0.0100, 1 @ 0.0101``: the quantity filled at each price, in fill order
        (``-`` without fills); past four prices, the range and the average."""
        by_price: dict[int, int] = {}
        for fill in self.fills:
            by_price[fill.price] = by_price.get(fill.price, 0) + fill.quantity
        if not by_price:
            return "-"
        if len(by_price) > _LISTED_PRICES:
            low, high = format_ticks(min(by_price)), format_ticks(max(by_price))
            return (
                f"{self.filled} in {len(self.fills)} fills from {low} to {high}, "
                f"average {self.average_price()}"
            )
        return ", ".join(f"{quantity} @ {format_ticks(p)}" for p, quantity in by_price.items())

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
    events: Sequence[Event], final: LedgerSnapshot | None, initial_cash: int | None = None
) -> dict[int, OrderOutcome]:
    """Every order in ``events`` by id, with its final state from ``final``; given the
    run's ``initial_cash`` (cents), each fill records the cash right after it."""
    orders: dict[int, OrderOutcome] = {}
    cash = initial_cash
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
            continue
        if isinstance(event, OrderRejected):
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
            continue
        order = orders.get(getattr(event, "order_id", 0))
        if order is None:
            continue
        if isinstance(event, OrderFilled):
            cash = None if cash is None else cash + event.cash_delta
            order.fills.append(
                Fill(
                    event.timestamp,
                    event.quantity,
                    event.price,
                    event.commission,
                    event.cash_delta,
                    cash,
                )
            )
        elif isinstance(event, FillRefused):
            order.refused = event
        elif isinstance(event, OrderCancelled):
            order.cancelled_at = event.timestamp
        elif (
            isinstance(event, CancelIgnored)
            and event.state not in (None, OrderState.REJECTED)
            and event.reason is Reason.UNKNOWN_ORDER
        ):
            order.cancels_not_found.append(event.timestamp)
        elif isinstance(event, OrderExpired):
            order.expired_at = event.timestamp
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
class Question:
    """One difference to explain, with what a rule needs to judge it.

    ``field`` is, for an order (``order_id`` set, ``reference`` and ``other`` its two
    outcomes): ``outcome``, ``quantity``, ``reason``, ``price``, ``commission``, ``cash``
    or ``exists``; for the final books: ``cash`` (subject ``final cash``) or ``shares``
    (subject ``position SYMBOL``, ``symbol`` set). ``within_rounding``: for ``price``,
    ``commission`` and ``cash``, both sides filled the same quantity and the gap fits
    rounding to the tick and the cent (``tolerance_cents``). ``follows``: the order's
    fills already differ (an earlier difference explains this one). ``earlier``: the
    differences found before this one. ``other_broke``: the invariants the engine broke
    in this run; ``other_cash``: its final cash in cents.
    """

    engine: str
    scenario: Scenario
    subject: str
    field: str
    reference_value: str
    other_value: str
    order_id: int | None = None
    reference: OrderOutcome | None = None
    other: OrderOutcome | None = None
    signal: Signal | None = None
    signal_index: int = -1
    step_index: int = -1
    last_step: int = -1
    within_rounding: bool = False
    tolerance_cents: int = 0
    follows: bool = False
    symbol: str | None = None
    reference_orders: Mapping[int, OrderOutcome] = _field(default_factory=dict)
    other_orders: Mapping[int, OrderOutcome] = _field(default_factory=dict)
    earlier: tuple[Difference, ...] = ()
    other_broke: frozenset[str] = frozenset()
    other_cash: int = 0

    @property
    def on_last_step(self) -> bool:
        """The order was placed at the scenario's last timestamp."""
        return self.step_index >= 0 and self.step_index == self.last_step

    @property
    def name(self) -> str:
        """``signal 2 (BUY 2 AAPL)``: the signal behind the order."""
        if self.signal is None:
            return f"order {self.order_id}"
        size = "" if self.signal.quantity is None else f" {self.signal.quantity}"
        return f"signal {self.signal_index} ({self.signal.side.value}{size} {self.signal.symbol})"

    @property
    def stopped(self) -> bool:
        """The engine made no order for this signal and accepted none after it: it stopped
        (later signals may still show rejections its adapter logged without the engine)."""
        if self.order_id is None or self.other is not None:
            return False
        return not any(
            order.accepted
            for order_id, order in self.other_orders.items()
            if order_id > self.order_id
        )

    @property
    def left_unprocessed(self) -> bool:
        """An outcome question: the engine accepted the order on the last step and never
        filled, refused or closed it."""
        if self.field != "outcome" or not self.on_last_step:
            return False
        _, oth = self.orders()
        return oth.accepted and not oth.fills and oth.state is OrderState.ACCEPTED

    @property
    def expired_on_reference_only(self) -> bool:
        """An outcome question: the reference expired the order, the engine kept it live
        (then filled it, or it is still open or was cancelled)."""
        if self.field != "outcome":
            return False
        ref, oth = self.orders()
        return (
            ref.state is OrderState.EXPIRED
            and oth.accepted
            and oth.refused is None
            and oth.state is not OrderState.EXPIRED
        )

    def orders(self) -> tuple[OrderOutcome, OrderOutcome]:
        """The order's (reference, other) outcomes; ValueError for a final-books question."""
        if self.reference is None or self.other is None:
            raise ValueError(f"{self.subject} {self.field}: not an order on both sides")
        return self.reference, self.other


Rule = Callable[[Question], Explanation | None]


def rejection_text(order: OrderOutcome) -> str:
    """``INSUFFICIENT_CASH: 2 shares need ...``: why an order was rejected."""
    reason = order.reason.value if order.reason else "?"
    text = f"{reason}: {order.detail}" if order.detail else reason
    if order.reason is Reason.TARGET_REACHED:
        text += "; it counts pending buys toward the sizer's target"
    return text


def sized_then_refused(q: Question, refusal: str) -> Explanation | None:
    """When the reference rejected the signal for a reason other than cash (its target was
    reached, nothing to size), sizing is the cause and the engine's later refusal for cash
    (``refusal``: where and what it needed) its consequence; None otherwise."""
    ref, oth = q.orders()
    if ref.accepted or ref.reason in CASH_REASONS:
        return None
    return SIZING, (
        f"the reference engine rejected {q.name} at signal time ({rejection_text(ref)}), while "
        f"{q.engine}, sizing from its filled position and cash, placed it as order "
        f"{oth.order_id}; it then refused the order {refusal}, as it checks cash only at "
        "execution"
    )


def refusal_text(refused: FillRefused) -> str:
    """What a FillRefused says: what it needed against which cash, when the engine said."""
    if refused.needed:
        return f"needed {format_cents(refused.needed)} against cash {format_cents(refused.cash)}"
    return f"cash then {format_cents(refused.cash)}"


def filled_above_limit(q: Question) -> bool:
    """The reference left a BUY (partly) unfilled while the engine filled it above the
    reference's limit price: the reference's price protection."""
    if q.reference is None or q.other is None:
        return False
    ref, oth = q.orders()
    return (
        ref.accepted
        and ref.side is Side.BUY
        and ref.filled < ref.quantity
        and bool(oth.fills)
        and oth.top_price > ref.limit_price
    )


def sold_beyond_position(q: Question) -> Explanation | None:
    """An outcome question where the long-only reference rejected a SELL for want of
    shares and the engine accepted it: ``(LONG_ONLY, sentence)`` naming both, for a rule
    to extend with what the engine then did; None otherwise."""
    if q.field != "outcome" or q.reference is None or q.other is None:
        return None
    ref, oth = q.orders()
    if ref.accepted or ref.reason not in POSITION_REASONS or not oth.accepted:
        return None
    broke = " (it broke no_oversell)" if "no_oversell" in q.other_broke else ""
    return LONG_ONLY, (
        f"the reference engine is long-only and rejected {q.name} ({rejection_text(ref)}); "
        f"{q.engine} accepted it as order {ref.order_id}, a SELL beyond its position{broke}"
    )


def volume_of(scenario: Scenario) -> dict[tuple[Timestamp, str], int]:
    """Each bar's volume by (timestamp, symbol)."""
    return {(bar.timestamp, bar.symbol): bar.volume for bar in scenario.bars}


def difference_rules(factory: object) -> tuple[Rule, ...]:
    """The rules ``factory`` declares (``difference_rules``), or none.

    Raises TypeError when the attribute is not a sequence of callables.
    """
    declared = getattr(factory, "difference_rules", None)
    if declared is None:
        return ()
    if not isinstance(declared, Sequence) or not all(callable(rule) for rule in declared):
        raise TypeError(
            f"the factory's difference_rules is a {type(declared).__name__}; it must be a "
            "sequence of callables rule(question) -> (category, sentence) | None"
        )
    return tuple(declared)


__all__ = [
    "CASH_CHECK_TIMING",
    "CASH_REASONS",
    "CASH_ROUNDING",
    "COMMISSION_ROUNDING",
    "CONSEQUENCE",
    "CRASH",
    "LONG_ONLY",
    "NO_CASH_CHECK",
    "PARTICIPATION",
    "POSITION_REASONS",
    "PRICE_PROTECTION",
    "PRICE_ROUNDING",
    "REASON_NAMES",
    "RESERVATION",
    "SHORT_POSITION",
    "SIZING",
    "UNEXPLAINED",
    "Difference",
    "Explanation",
    "Fill",
    "OrderOutcome",
    "OrderState",
    "Question",
    "Reason",
    "Rule",
    "difference_rules",
    "filled_above_limit",
    "order_outcomes",
    "refusal_text",
    "rejection_text",
    "sold_beyond_position",
    "volume_of",
]
