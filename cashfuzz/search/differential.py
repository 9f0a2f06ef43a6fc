"""Differential mode: one scenario on the reference engine and on any engine, compared.

Both engines turn signal i into order i + 1, so orders are aligned by id. For each
order the comparison looks at its outcome (rejected at signal time and why, refused
at fill, filled, still open, cancelled, expired), its size and its fills (quantity,
average price, commission, cash); then at final cash and positions. Every difference
is a :class:`~cashfuzz.adapters.diff_rules.Question` put to the engine's own rules
(its factory's ``difference_rules``) and then to the generic ones here, which are
phrased from what the engines did; ``unexplained`` marks one no rule accounts for.

The reference engine runs in reservation mode. Differences are information: they do
not make the comparison fail. It lives with the search (it runs engines under the
monitor, as the gate does); the per-engine rules live with each adapter.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from cashfuzz.adapters.diff_rules import (
    CASH_CHECK_TIMING,
    CASH_REASONS,
    CASH_ROUNDING,
    COMMISSION_ROUNDING,
    CONSEQUENCE,
    CRASH,
    LONG_ONLY,
    NO_CASH_CHECK,
    PARTICIPATION,
    POSITION_REASONS,
    PRICE_PROTECTION,
    PRICE_ROUNDING,
    REASON_NAMES,
    RESERVATION,
    SHORT_POSITION,
    SIZING,
    UNEXPLAINED,
    Difference,
    Explanation,
    OrderOutcome,
    Question,
    Rule,
    difference_rules,
    filled_above_limit,
    order_outcomes,
    refusal_text,
    rejection_text,
    sized_then_refused,
    volume_of,
)
from cashfuzz.engines import resolve_engine
from cashfuzz.errors import UsageError
from cashfuzz.invariants import AdapterProtocolError, CheckResult, check_scenario
from cashfuzz.output.results import snapshot_to_json
from cashfuzz.reference_engine import (
    Scenario,
    ScenarioError,
    Side,
    Signal,
    scenario_to_dict,
)
from cashfuzz.reference_engine.money import TICKS_PER_CENT, format_cents, format_ticks

#: engine specs whose JSON key would clash with the comparison's own keys
_RESERVED_NAMES = ("reference",)


@dataclass(frozen=True, slots=True)
class Comparison:
    """The two runs and their differences (empty when the engines agree). ``adapted``:
    ``--adapt`` was asked for, and ``scenario`` is the engine's ``adapt_scenario`` of
    the given one (``changed``: it differs from it)."""

    scenario: Scenario
    against: str
    reference: CheckResult
    other: CheckResult
    reference_orders: dict[int, OrderOutcome]
    other_orders: dict[int, OrderOutcome]
    differences: tuple[Difference, ...]
    adapted: bool = False
    changed: bool = False

    @property
    def agree(self) -> bool:
        return not self.differences


class ReferenceFault(RuntimeError):
    """The reference engine crashed on a scenario: cashfuzz's own fault."""


# --- running -------------------------------------------------------------------------------


def compare(
    scenario: Scenario,
    against: str = "backtrader",
    *,
    adapt: bool = False,
    scenario_argument: str | None = None,
) -> Comparison:
    """Run ``scenario`` on the reference engine and on the engine ``against`` names (any
    ``--engine`` spec) and compare them; with ``adapt``, on the engine's
    ``adapt_scenario(scenario)`` instead. ``scenario_argument``: how the command line
    named the scenario (a quoted path, ``--example NAME``), for the commands an
    unexplained difference suggests.

    Raises UsageError for an engine that cannot be loaded or is the reference itself,
    ScenarioError when the engine cannot run the scenario (naming the field),
    AdapterProtocolError when its ``adapt_scenario`` or ``difference_rules`` break the
    protocol, and ReferenceFault when the reference engine crashes.
    """
    if against in _RESERVED_NAMES:
        raise UsageError(
            f"--against {against!r} is the reference engine itself; name another engine "
            "(backtrader, backtesting, nautilus, naive, zoo:NAME, exec:COMMAND, module:factory)"
        )
    factory = resolve_engine(against)
    try:
        rules = difference_rules(factory)
    except TypeError as error:
        raise AdapterProtocolError(str(error)) from None
    compared = _adapted(factory, scenario, against) if adapt else scenario
    if not adapt:
        problem = _unsupported(factory, scenario)
        if problem is not None:
            raise ScenarioError(
                f"{against} cannot run this scenario as given: {problem}; add --adapt to "
                "compare both engines on the nearest scenario it can run"
            )
    reference = check_scenario(compared, resolve_engine("reference"), determinism=False)
    if reference.crash is not None:
        raise ReferenceFault(f"the reference engine crashed: {reference.crash}")
    other = check_scenario(compared, factory, determinism=False)
    cash = compared.config.initial_cash
    ref_orders = order_outcomes(reference.events, reference.final, cash)
    other_orders = order_outcomes(other.events, other.final, cash)
    explain = _Explainer(compared, against, (*rules, *GENERIC_RULES))
    explain.ledgers = ledger_commands(
        against, scenario_argument, adapted=adapt and compared != scenario
    )
    differences = explain.differences(reference, other, ref_orders, other_orders)
    return Comparison(
        compared,
        against,
        reference,
        other,
        ref_orders,
        other_orders,
        tuple(differences),
        adapted=adapt,
        changed=compared != scenario,
    )


def _unsupported(factory: object, scenario: Scenario) -> str | None:
    check = getattr(factory, "unsupported", None)
    if check is None:
        return None
    problem = check(scenario)
    if problem is not None and not isinstance(problem, str):
        raise AdapterProtocolError(
            f"the factory's unsupported returned a {type(problem).__name__}, not a str or None"
        )
    return problem


def _adapted(factory: object, scenario: Scenario, against: str) -> Scenario:
    adapt = getattr(factory, "adapt_scenario", None)
    if adapt is None:
        problem = _unsupported(factory, scenario)
        if problem is None:
            return scenario
        raise ScenarioError(
            f"{against} cannot run this scenario ({problem}) and declares no adapt_scenario "
            "to make one it can run"
        )
    try:
        result = adapt(scenario)
    except ScenarioError:
        raise
    except Exception as error:
        raise AdapterProtocolError(
            f"the factory's adapt_scenario raised {type(error).__name__}: {error}; it must "
            "return the nearest Scenario the engine can run"
        ) from error
    if not isinstance(result, Scenario):
        raise AdapterProtocolError(
            f"the factory's adapt_scenario returned a {type(result).__name__}, not a Scenario"
        )
    return result


def _signals_by_order(scenario: Scenario) -> dict[int, tuple[int, Signal, int]]:
    """order id -> (signal index, signal, step index): ids follow the handling order."""
    index_of = {id(signal): i for i, signal in enumerate(scenario.signals)}
    found: dict[int, tuple[int, Signal, int]] = {}
    for step_index, step in enumerate(scenario.steps()):
        for signal in step.signals:
            order_id = len(found) + 1
            found[order_id] = (index_of.get(id(signal), order_id - 1), signal, step_index)
    return found


class _Explainer:
    """Asks each difference of one comparison to the rules, in order."""

    def __init__(self, scenario: Scenario, engine: str, rules: Sequence[Rule]) -> None:
        self.scenario, self.engine, self.rules = scenario, engine, rules
        self.last_step = len(scenario.steps()) - 1
        self.signals = _signals_by_order(scenario)
        self.found: list[Difference] = []
        self.reference_orders: dict[int, OrderOutcome] = {}
        self.other_orders: dict[int, OrderOutcome] = {}
        self.other_broke: frozenset[str] = frozenset()
        self.other_cash = 0
        self.ledgers = ledger_commands(engine, None, adapted=False)

    def ask(self, question: Question) -> None:
        category, why = UNEXPLAINED, _unexplained(question, self.ledgers)
        for rule in self.rules:
            answer = rule(question)
            if answer is not None:
                category, why = answer
                break
        self.found.append(
            Difference(
                question.subject,
                question.field,
                question.reference_value,
                question.other_value,
                category,
                why,
                question.order_id,
            )
        )

    def question(self, subject: str, field: str, left: str, right: str, **facts: Any) -> Question:
        order_id = facts.get("order_id")
        if order_id is not None and order_id in self.signals:
            index, signal, step_index = self.signals[order_id]
            facts.update(signal=signal, signal_index=index, step_index=step_index)
        facts.setdefault("reference_orders", self.reference_orders)
        facts.setdefault("other_orders", self.other_orders)
        return Question(
            self.engine,
            self.scenario,
            subject,
            field,
            left,
            right,
            last_step=self.last_step,
            earlier=tuple(self.found),
            other_broke=self.other_broke,
            other_cash=self.other_cash,
            **facts,
        )

    def differences(
        self,
        reference: CheckResult,
        other: CheckResult,
        ref_orders: dict[int, OrderOutcome],
        other_orders: dict[int, OrderOutcome],
    ) -> list[Difference]:
        self.reference_orders, self.other_orders = ref_orders, other_orders
        self.other_broke = frozenset(v.invariant for v in other.violations)
        self.other_cash = 0 if other.final is None else other.final.cash
        if other.crash is not None or other.final is None or reference.final is None:
            self.ask(self.question("run", "crash", "ran", other.crash or "no final books"))
            return self.found
        for order_id in sorted(set(ref_orders) | set(other_orders)):
            ref, oth = ref_orders.get(order_id), other_orders.get(order_id)
            if ref is None or oth is None:
                self.ask(
                    self.question(
                        f"order {order_id}",
                        "exists",
                        "yes" if ref else "no",
                        "yes" if oth else "no",
                        order_id=order_id,
                        reference=ref,
                        other=oth,
                    )
                )
                continue
            self._order(ref, oth)
        self._final(reference, other, ref_orders, other_orders)
        return self.found

    def _order(self, ref: OrderOutcome, oth: OrderOutcome) -> None:
        facts: dict[str, Any] = {"order_id": ref.order_id, "reference": ref, "other": oth}
        subject = f"order {ref.order_id}"
        differs = ref.outcome != oth.outcome or ref.filled != oth.filled
        if differs:
            self.ask(
                self.question(subject, "outcome", _outcome_text(ref), _outcome_text(oth), **facts)
            )
        if ref.accepted and oth.accepted and ref.quantity != oth.quantity:
            self.ask(
                self.question(subject, "quantity", str(ref.quantity), str(oth.quantity), **facts)
            )
        if not differs and not ref.accepted and ref.reason != oth.reason:
            left, right = f"{ref.reason}: {ref.detail}", f"{oth.reason}: {oth.detail}"
            self.ask(self.question(subject, "reason", left, right, **facts))
        if ref.filled and oth.filled:
            self._money(ref, oth, subject, facts, follows=differs)

    def _money(
        self,
        ref: OrderOutcome,
        oth: OrderOutcome,
        subject: str,
        facts: dict[str, Any],
        *,
        follows: bool,
    ) -> None:
        fills = max(len(ref.fills), len(oth.fills))
        same_fills = ref.filled == oth.filled
        # within a tick per share per fill: a rounded price on one side, a float on the other
        rounding = same_fills and abs(ref.notional - oth.notional) <= fills * ref.filled
        # ... which moves cash by up to that many ticks, plus a cent of rounding per amount
        cents = fills * (2 + -(-ref.filled // TICKS_PER_CENT))
        facts = {**facts, "follows": follows or not same_fills, "tolerance_cents": cents}
        if ref.notional != oth.notional:
            prices = ref.average_price(), oth.average_price()
            if prices[0] == prices[1]:  # averages equal to the tick: show the fills instead
                prices = ref.fills_text(), oth.fills_text()
            self.ask(
                self.question(
                    subject,
                    "price",
                    *prices,
                    within_rounding=rounding,
                    **facts,
                )
            )
        commission_gap = oth.commission - ref.commission
        if commission_gap:
            self.ask(
                self.question(
                    subject,
                    "commission",
                    format_cents(ref.commission),
                    format_cents(oth.commission),
                    within_rounding=rounding and abs(commission_gap) <= cents,
                    **facts,
                )
            )
        if ref.cash_flow != oth.cash_flow:
            self.ask(
                self.question(
                    subject,
                    "cash",
                    format_cents(ref.cash_flow),
                    format_cents(oth.cash_flow),
                    within_rounding=rounding and abs(oth.cash_flow - ref.cash_flow) <= cents,
                    **facts,
                )
            )

    def _final(
        self,
        reference: CheckResult,
        other: CheckResult,
        ref_orders: dict[int, OrderOutcome],
        other_orders: dict[int, OrderOutcome],
    ) -> None:
        assert reference.final is not None
        assert other.final is not None
        books: dict[str, Any] = {}
        if reference.final.cash != other.final.cash:
            cash = format_cents(reference.final.cash), format_cents(other.final.cash)
            self.ask(self.question("final cash", "cash", *cash, **books))
        ref_positions = {p.symbol: p.quantity for p in reference.final.positions if p.quantity}
        other_positions = {p.symbol: p.quantity for p in other.final.positions if p.quantity}
        for symbol in sorted(set(ref_positions) | set(other_positions)):
            held = ref_positions.get(symbol, 0), other_positions.get(symbol, 0)
            if held[0] != held[1]:
                shares = str(held[0]), str(held[1])
                subject = f"position {symbol}"
                self.ask(self.question(subject, "shares", *shares, symbol=symbol, **books))


def _outcome_text(order: OrderOutcome) -> str:
    """``filled: 1 @ 0.0100, 1 @ 0.0101``: the outcome and every fill price."""
    if not order.fills:
        return order.outcome
    return f"{order.outcome}: {order.fills_text()}"


def ledger_commands(against: str, scenario_argument: str | None, *, adapted: bool) -> str:
    """How to print the two ledgers of the scenario both engines ran: the ``cashfuzz run``
    commands, after saving the adapted scenario to a file when ``adapted``."""
    engine = shlex.quote(against)
    named = scenario_argument or "SCENARIO"
    if adapted:
        saved = "adapted.json"
        return (
            f"save the adapted scenario both engines ran with cashfuzz diff {named} --against "
            f"{engine} --adapt --save-adapted {saved}, then compare the two ledgers: "
            f"cashfuzz run {saved} --engine {engine} and cashfuzz run {saved} --engine reference"
        )
    return (
        f"compare the two ledgers: cashfuzz run {named} --engine {engine} and cashfuzz run "
        f"{named} --engine reference"
    )


def _unexplained(question: Question, ledgers: str) -> str:
    if question.field == "crash":
        return "no rule explains it"
    if question.reference is not None and question.other is not None:
        ref, oth = question.orders()
        return (
            f"order {ref.order_id} differs in {question.field} ({ref.outcome} on the reference "
            f"engine, {oth.outcome} on {question.engine}); no known cause: {ledgers}"
        )
    if question.order_id is not None:
        return f"order {question.order_id} exists on one side only; {ledgers}"
    if question.subject == "final cash":
        return f"the final cash differs by more than the orders' fills account for; {ledgers}"
    return f"the fills of the orders do not explain it; {ledgers}"


# --- generic rules: each phrased from what the engines did ------------------------------------


def crashed(q: Question) -> Explanation | None:
    """The engine raised (or ended without books) instead of finishing the scenario."""
    if q.field != "crash":
        return None
    return CRASH, f"{q.engine} raised instead of finishing the scenario: {q.other_value}"


def refused_after_acceptance(q: Question) -> Explanation | None:
    """A FillRefused after acceptance: the engine checks cash at execution."""
    if q.field != "outcome":
        return None
    ref, oth = q.orders()
    if oth.refused is None:
        return None
    refused = refusal_text(oth.refused)
    sizing = sized_then_refused(q, f"later ({refused})")
    if sizing is not None:
        return sizing
    if ref.accepted:
        return CASH_CHECK_TIMING, (
            f"{q.engine} checks cash at execution, not at signal time: it accepted order "
            f"{ref.order_id} and refused it later ({refused}), having reserved nothing for it "
            "or for the orders before it; the reference engine reserved the order's worst-case "
            "cost when it accepted it, so the order was funded"
        )
    return CASH_CHECK_TIMING, (
        f"{q.engine} checks cash at execution, not at signal time: the reference engine "
        f"rejected {q.name} before any fill ({rejection_text(ref)}) while {q.engine} accepted "
        f"it as order {ref.order_id} and refused it later ({refused})"
    )


def rejected_by_reference(q: Question) -> Explanation | None:
    """The reference rejected at signal time what the engine placed."""
    if q.field != "outcome":
        return None
    ref, oth = q.orders()
    if ref.accepted:
        return None
    if not oth.accepted:
        return same_refusal(q) or (
            SIZING,
            f"both engines rejected {q.name}, for different reasons ({rejection_text(ref)}; "
            f"{q.engine}: {rejection_text(oth)}): they sized from different cash and positions",
        )
    if ref.reason in CASH_REASONS:
        return _cash_rejected_but_placed(q, ref, oth)
    if ref.reason in POSITION_REASONS:
        return LONG_ONLY, (
            f"the reference engine is long-only and rejected {q.name} ({rejection_text(ref)}); "
            f"{q.engine} sells the quantity given, beyond the position (a short sale credits "
            "its value to cash)"
        )
    return SIZING, (
        f"the reference engine rejected {q.name} ({rejection_text(ref)}); {q.engine} sized it "
        "from its filled position and cash, not counting pending orders, and placed it"
    )


def _cash_rejected_but_placed(q: Question, ref: OrderOutcome, oth: OrderOutcome) -> Explanation:
    """The reference rejected for cash; the engine placed the order and (maybe) filled it."""
    placed = (
        f"the reference engine rejected {q.name} before any fill ({rejection_text(ref)}) while "
        f"{q.engine} accepted it as order {ref.order_id}"
    )
    lowest = oth.lowest_cash
    if lowest is not None and lowest < 0:
        what = "for it" if oth.side is Side.BUY else "the sale's commission"
        return NO_CASH_CHECK, (
            f"{q.engine} did not check this order against its cash, at signal time or at "
            f"execution: {placed} and filled it ({oth.fills_text()}) although its cash could "
            f"not pay {what}: its cash went to {format_cents(lowest)}"
        )
    later = (
        "its cash when it executed covered it (earlier fills, a short sale's proceeds "
        "included, had changed it)"
        if oth.fills
        else f"never got to check it (it is {oth.outcome})"
    )
    return CASH_CHECK_TIMING, (
        f"{q.engine} checks cash at execution, not at signal time: {placed} and {later}"
    )


def same_refusal(q: Question) -> Explanation | None:
    """Both engines rejected the signal for the same want (shares to sell, or cash) under
    different reason names."""
    if q.field not in ("outcome", "reason"):
        return None
    ref, oth = q.orders()
    if ref.accepted or oth.accepted or ref.reason in (None, oth.reason) or oth.reason is None:
        return None
    for family, want in ((POSITION_REASONS, "shares to sell"), (CASH_REASONS, "cash")):
        if ref.reason in family and oth.reason in family:
            return REASON_NAMES, (
                f"both engines refused {q.name} for want of {want}, under different reason "
                f"names: the reference engine {rejection_text(ref)}; {q.engine} "
                f"{rejection_text(oth)}"
            )
    return None


def rejected_by_engine(q: Question) -> Explanation | None:
    """The engine rejected at signal time what the reference placed."""
    if q.field != "outcome":
        return None
    ref, oth = q.orders()
    if oth.accepted:
        return None
    if oth.reason in POSITION_REASONS:
        return SIZING, (
            f"{q.engine} had no filled position to sell for {q.name} ({oth.reason.value}); the "
            "reference engine had one at that point (its fills happened earlier or later)"
        )
    return SIZING, (
        f"{q.engine} rejected {q.name} ({rejection_text(oth)}) where the reference engine "
        f"accepted it ({ref.outcome}): they sized from different cash and positions"
    )


def price_protection(q: Question) -> Explanation | None:
    """The reference does not fill a BUY above its limit; a market order does."""
    if q.field != "outcome" or not filled_above_limit(q):
        return None
    ref, oth = q.orders()
    return PRICE_PROTECTION, (
        f"price protection: the reference engine did not fill order {ref.order_id} above its "
        f"limit {format_ticks(ref.limit_price)} (the close it was sized at plus the maximum "
        f"slippage), so its DAY order expired or its GTC order waits; {q.engine} filled it at "
        f"{format_ticks(oth.top_price)}"
    )


def filled_later_below_limit(q: Question) -> Explanation | None:
    """The reference held a GTC BUY back above its limit and filled it later, cheaper."""
    if q.field != "price" or q.order_id is None:
        return None
    ref, oth = q.orders()
    if ref.side is not Side.BUY or not ref.fills or not oth.fills:
        return None
    if oth.top_price <= ref.limit_price or ref.fills[0].timestamp == oth.fills[0].timestamp:
        return None
    return PRICE_PROTECTION, (
        f"price protection: the reference engine did not fill order {ref.order_id} above its "
        f"limit {format_ticks(ref.limit_price)} and filled it later at {ref.average_price()}; "
        f"{q.engine} filled it at once at {oth.average_price()}"
    )


def volume_cap(q: Question) -> Explanation | None:
    """The engine filled more in one bar than ``max_participation`` of its volume allows."""
    cap = q.scenario.config.max_participation
    if q.field != "outcome" or cap is None:
        return None
    ref, oth = q.orders()
    if not (ref.accepted and oth.accepted) or oth.filled <= ref.filled:
        return None
    volumes = volume_of(q.scenario)
    per_bar: dict[Any, int] = {}
    for fill in oth.fills:
        per_bar[fill.timestamp] = per_bar.get(fill.timestamp, 0) + fill.quantity
    for timestamp, filled in per_bar.items():
        allowed = int(volumes.get((timestamp, ref.symbol), 0) * cap)
        if filled > allowed:
            return PARTICIPATION, (
                f"{q.engine} filled {filled} shares of order {ref.order_id} on the bar at "
                f"{timestamp!r}, where max_participation allows {allowed}: it does not cap "
                "fills by the bar's volume; the reference fills at most floor(volume x "
                f"max_participation) a bar, so its order ended {ref.outcome}"
            )
    return None


def sized_differently(q: Question) -> Explanation | None:
    """An outcome that differs because the orders had different sizes."""
    if q.field != "outcome":
        return None
    ref, oth = q.orders()
    if ref.quantity == oth.quantity:
        return None
    return SIZING, (
        f"the engines sized {q.name} differently ({ref.quantity} vs {oth.quantity}); see the "
        "quantity difference"
    )


def quantity(q: Question) -> Explanation | None:
    """Why both engines placed the order, at different sizes."""
    if q.field != "quantity":
        return None
    ref, oth = q.orders()
    signal = q.signal
    if signal is not None and signal.quantity is not None:
        if ref.reason in POSITION_REASONS:
            return LONG_ONLY, (
                f"the reference engine cut {q.name} to the {ref.quantity} shares held and not "
                f"pending sale ({ref.reason.value}); {q.engine} placed the quantity as given"
            )
        return RESERVATION, (
            f"the reference engine checks an explicit quantity against available cash (cash "
            f"minus reservations) at signal time and shrank {q.name} to {ref.quantity} "
            f"({ref.reason}); {q.engine} placed {oth.quantity}"
        )
    if ref.side is Side.SELL:
        return SIZING, (
            f"for {q.name} the reference engine sells the position not already pending sale "
            f"({ref.quantity}); {q.engine} sold {oth.quantity}, the position it held filled, "
            "ignoring pending orders"
        )
    return SIZING, (
        f"the reference engine sized {q.name} to {ref.quantity} shares from available cash (cash "
        "minus the reservations of open orders) and a position that counts pending buys; "
        f"{q.engine} sized it to {oth.quantity}, from cash and value that do not reflect orders "
        "placed earlier and not yet filled (the seed's race)"
    )


def different_reason(q: Question) -> Explanation | None:
    """Both rejected the signal, for different reasons."""
    if q.field != "reason":
        return None
    if (named := same_refusal(q)) is not None:
        return named
    return SIZING, (
        f"both engines rejected {q.name}, for different reasons: the reference sizes from "
        f"available cash and a position that counts pending orders, {q.engine} from its cash "
        "and filled position"
    )


def rounding(q: Question) -> Explanation | None:
    """Money within rounding of the same fills: a tick per share, a cent per amount."""
    if not q.within_rounding:
        return None
    if q.field == "price":
        return PRICE_ROUNDING, (
            "price rounding: the same quantity filled within a tick per share; the reference "
            f"rounds a slipped buy price up (a sell price down) to the tick of 0.0001, "
            f"{q.engine} rounds differently"
        )
    if q.field == "commission":
        return COMMISSION_ROUNDING, (
            "commission rounding: the reference rounds the commission up to the cent, on the "
            f"order's cumulative notional; {q.engine}'s differs by at most "
            f"{format_cents(q.tolerance_cents)}"
        )
    if q.field == "cash":
        return CASH_ROUNDING, (
            "cash rounding: the reference rounds a slipped price to the tick and a cost up, "
            f"proceeds down, to the cent; {q.engine}'s cash differs by at most "
            f"{format_cents(q.tolerance_cents)}"
        )
    return None


def cash_after_fees(q: Question) -> Explanation | None:
    """An order's cash gap that is its commission gap, within rounding."""
    if q.field != "cash" or q.reference is None or q.other is None:
        return None
    ref, oth = q.orders()
    commission_gap = oth.commission - ref.commission
    beyond_fees = oth.cash_flow - ref.cash_flow + commission_gap
    if commission_gap and ref.filled == oth.filled and abs(beyond_fees) <= q.tolerance_cents:
        return CONSEQUENCE, "follows from the commission difference above"
    return None


def money_from_price(q: Question) -> Explanation | None:
    """A commission or cash gap that the same order's explained price gap accounts for:
    the commission at the scenario's rate on the notional gap, the cash that gap plus
    the commission gap (within rounding)."""
    if q.field not in ("commission", "cash") or q.reference is None or q.other is None:
        return None
    ref, oth = q.orders()
    price = [d for d in q.earlier if d.order_id == ref.order_id and d.field == "price"]
    if not price or price[0].category == UNEXPLAINED or ref.filled != oth.filled:
        return None
    notional_gap = Fraction(oth.notional - ref.notional, TICKS_PER_CENT)
    commission_gap = oth.commission - ref.commission
    slack = q.tolerance_cents + len(ref.fills) + len(oth.fills)
    if q.field == "commission":
        expected = notional_gap * q.scenario.config.costs.commission_rate
        if abs(commission_gap - expected) > slack:
            return None
        return CONSEQUENCE, "follows from the price difference above, at the commission rate"
    sign = -1 if ref.side is Side.BUY else 1
    expected = sign * notional_gap - commission_gap
    if abs(oth.cash_flow - ref.cash_flow - expected) > slack:
        return None
    return CONSEQUENCE, "follows from the price (and commission) differences above"


def follows_from_fills(q: Question) -> Explanation | None:
    """Money of an order whose fills already differ."""
    if q.field in ("price", "commission", "cash") and q.order_id is not None and q.follows:
        return CONSEQUENCE, "follows from the fill differences above"
    return None


def final_cash(q: Question) -> Explanation | None:
    """Final cash that the orders' cash flows account for exactly."""
    if q.subject != "final cash":
        return None
    flows = sum(o.cash_flow for o in q.other_orders.values()) - sum(
        o.cash_flow for o in q.reference_orders.values()
    )
    gap = _cents(q.other_value) - _cents(q.reference_value)
    if flows == gap and q.earlier:
        return (
            CONSEQUENCE,
            f"the orders' cash differences above add up to exactly {format_cents(gap)}",
        )
    return None


def short_position(q: Question) -> Explanation | None:
    """A final short position, which the long-only reference never holds."""
    if q.symbol is None or int(q.other_value) >= 0:
        return None
    return SHORT_POSITION, (
        f"{q.engine} holds a short position in {q.symbol}: it lets a SELL exceed the position, "
        "which the reference engine (long-only) never does"
    )


def position_from_fills(q: Question) -> Explanation | None:
    """A final position that differs because some order filled differently."""
    if q.symbol is None:
        return None
    involved = sorted(
        order_id
        for order_id, order in q.reference_orders.items()
        if order.symbol == q.symbol
        and order.filled != (q.other_orders[order_id].filled if order_id in q.other_orders else 0)
    )
    if not involved:
        return None
    listed = ", ".join(str(i) for i in involved)
    return CONSEQUENCE, f"follows from the fills of order(s) {listed} above"


def _cents(text: str) -> int:
    units, _, cents = text.lstrip("-").partition(".")
    value = int(units) * 100 + int(cents or 0)
    return -value if text.startswith("-") else value


#: The rules every engine gets, after its own.
GENERIC_RULES: tuple[Rule, ...] = (
    crashed,
    refused_after_acceptance,
    rejected_by_reference,
    rejected_by_engine,
    price_protection,
    filled_later_below_limit,
    volume_cap,
    sized_differently,
    quantity,
    different_reason,
    rounding,
    cash_after_fees,
    money_from_price,
    follows_from_fills,
    final_cash,
    short_position,
    position_from_fills,
)


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
    """``{"agree", "against", "adapted", "differences", "reference", "<against>"}`` (and
    ``adapted_scenario`` when adapted), money as decimal strings."""
    payload: dict[str, Any] = {
        "agree": comparison.agree,
        "against": comparison.against,
        "adapted": comparison.adapted,
        "differences": [d.to_dict(comparison.against) for d in comparison.differences],
        "reference": side_to_json(comparison.reference, comparison.reference_orders),
        comparison.against: side_to_json(comparison.other, comparison.other_orders),
    }
    if comparison.adapted:
        payload["adapted_scenario"] = scenario_to_dict(comparison.scenario)
    return payload


def category_counts(comparison: Comparison) -> dict[str, int]:
    """How many differences fall in each category."""
    counts: dict[str, int] = {}
    for difference in comparison.differences:
        counts[difference.category] = counts.get(difference.category, 0) + 1
    return counts


__all__ = [
    "GENERIC_RULES",
    "Comparison",
    "ReferenceFault",
    "category_counts",
    "compare",
    "comparison_to_json",
    "ledger_commands",
    "side_to_json",
]
