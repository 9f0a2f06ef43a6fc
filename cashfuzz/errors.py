"""The command line's errors: usage and input problems exit with status 2."""

from __future__ import annotations

from reference_engine import EngineError


class CashfuzzError(EngineError):
    """Base of every error cashfuzz raises on purpose."""


class UsageError(CashfuzzError, ValueError):
    """A bad option, engine name or path; the message says what would be valid."""
