"""Named cash-management invariants, an online monitor, and ``check_scenario``.

Each invariant is a pure function over a ledger snapshot (state checks) or
over (before, event, after) plus the log's running totals (transition checks);
two look at a whole run. Imports only the reference engine's public types.
"""

from .checks import (
    STATE_CHECKS,
    TRANSITION_CHECKS,
    LogTotals,
    accepted_orders_funded,
    cash_conservation,
    cash_non_negative,
    equity_identity,
    fill_within_reservation,
    legal_lifecycle,
    new_orders_match_events,
    no_oversell,
    position_conservation,
    release_exact,
    reserved_matches_orders,
    reserved_within_cash,
    terminal_orders_hold_nothing,
)
from .monitor import (
    ALL_INVARIANTS,
    EQUITY_CHECKS,
    RESERVATION_CHECKS,
    RUN_CHECKS,
    CheckResult,
    InvariantViolation,
    Monitor,
    Violation,
    check_scenario,
    event_log_bytes,
    first_difference,
    signals_accounted,
)
from .protocol import (
    AdapterProtocolError,
    MonitorFault,
    check_engine,
    check_factory,
    snapshot_problem,
)

__all__ = [
    "ALL_INVARIANTS",
    "EQUITY_CHECKS",
    "RESERVATION_CHECKS",
    "RUN_CHECKS",
    "STATE_CHECKS",
    "TRANSITION_CHECKS",
    "AdapterProtocolError",
    "CheckResult",
    "InvariantViolation",
    "LogTotals",
    "Monitor",
    "MonitorFault",
    "Violation",
    "accepted_orders_funded",
    "cash_conservation",
    "cash_non_negative",
    "check_engine",
    "check_factory",
    "check_scenario",
    "equity_identity",
    "event_log_bytes",
    "fill_within_reservation",
    "first_difference",
    "legal_lifecycle",
    "new_orders_match_events",
    "no_oversell",
    "position_conservation",
    "release_exact",
    "reserved_matches_orders",
    "reserved_within_cash",
    "signals_accounted",
    "snapshot_problem",
    "terminal_orders_hold_nothing",
]
