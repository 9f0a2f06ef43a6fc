"""cashfuzz's reference engine: an event-driven backtester that gets cash right.

Money is exact (integer cents, prices in ticks of 0.0001; see ``money``),
every accepted BUY reserves its worst-case cost, and every change is an event.
This package imports nothing else of cashfuzz.
"""

from .config import EngineConfig, FillAt, Mode, Policy
from .costs import Costs
from .engine import Engine
from .errors import EngineError, InputError, ScenarioError
from .events import (
    EVENT_TYPES,
    Bar,
    Cancel,
    CancelIgnored,
    Event,
    FillRefused,
    MarketUpdated,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    Signal,
    Timestamp,
    event_to_dict,
)
from .gc_tuning import RUN_GC_THRESHOLD, gc_tuned
from .ledger import Ledger, LedgerSnapshot, OrderRecord, PositionView
from .order_views import OrderViews, orders_changed
from .orders import (
    LEGAL_TRANSITIONS,
    TERMINAL_STATES,
    OrderState,
    OrderView,
    Reason,
    Side,
    TimeInForce,
    is_legal_transition,
)
from .protocol import EngineFactory, EngineUnderTest, Observer
from .run import RunResult, begin_run, reference_factory, run_scenario
from .scenario import (
    SCENARIO_FORMAT,
    Scenario,
    Step,
    bars_from_csv,
    bars_from_dataframe,
    load_scenario,
    scenario_digest,
    scenario_from_dict,
    scenario_from_json,
    scenario_to_dict,
    scenario_to_json,
    scenario_with_bars,
    write_atomic,
    write_scenario,
)
from .sizers import FixedAmount, FixedShares, Kelly, PercentEquity, Sizer

__all__ = [
    "EVENT_TYPES",
    "LEGAL_TRANSITIONS",
    "RUN_GC_THRESHOLD",
    "SCENARIO_FORMAT",
    "TERMINAL_STATES",
    "Bar",
    "Cancel",
    "CancelIgnored",
    "Costs",
    "Engine",
    "EngineConfig",
    "EngineError",
    "EngineFactory",
    "EngineUnderTest",
    "Event",
    "FillAt",
    "FillRefused",
    "FixedAmount",
    "FixedShares",
    "InputError",
    "Kelly",
    "Ledger",
    "LedgerSnapshot",
    "MarketUpdated",
    "Mode",
    "Observer",
    "OrderAccepted",
    "OrderCancelled",
    "OrderExpired",
    "OrderFilled",
    "OrderRecord",
    "OrderRejected",
    "OrderState",
    "OrderView",
    "OrderViews",
    "PercentEquity",
    "Policy",
    "PositionView",
    "Reason",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Side",
    "Signal",
    "Sizer",
    "Step",
    "TimeInForce",
    "Timestamp",
    "bars_from_csv",
    "bars_from_dataframe",
    "begin_run",
    "event_to_dict",
    "gc_tuned",
    "is_legal_transition",
    "load_scenario",
    "orders_changed",
    "reference_factory",
    "run_scenario",
    "scenario_digest",
    "scenario_from_dict",
    "scenario_from_json",
    "scenario_to_dict",
    "scenario_to_json",
    "scenario_with_bars",
    "write_atomic",
    "write_scenario",
]
