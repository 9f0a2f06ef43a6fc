"""cashfuzz: the command line, engine resolution, adapters and the bug zoo."""

from .errors import CashfuzzError, UsageError

__version__ = "0.1.0"

__all__ = ["CashfuzzError", "UsageError", "__version__"]
