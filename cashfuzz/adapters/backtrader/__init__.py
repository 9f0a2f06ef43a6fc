"""backtrader behind the engine protocol: its runner, adapter and differential rules."""

from cashfuzz.adapters.backtrader.adapter import backtrader_factory
from cashfuzz.adapters.backtrader.differential import BACKTRADER_RULES

# The factory declares its rules as every engine does (``difference_rules``); set here
# until the adapter's engine class declares them itself, which the kit's Factory passes on.
if getattr(backtrader_factory, "difference_rules", None) is None:
    backtrader_factory.difference_rules = BACKTRADER_RULES  # type: ignore[attr-defined]
