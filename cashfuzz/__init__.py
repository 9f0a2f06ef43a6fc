"""cashfuzz: the command line, engine resolution, adapters and the bug zoo."""

from cashfuzz.errors import CashfuzzError, UsageError

__version__ = "0.3.0"

__all__ = ["CashfuzzError", "UsageError", "__version__"]
