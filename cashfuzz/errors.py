"""The command line's errors: usage and input problems exit with status 2."""

from __future__ import annotations

from cashfuzz.reference_engine import EngineError

#: Exit statuses of every command: every invariant held; one broke (a finding in the engine);
#: bad input, adapter or usage; cashfuzz itself failed (nothing proven either way); the search
#: stopped before its budget with nothing found (a time limit: not a pass); stdout closed
#: under us (128 + SIGPIPE); interrupted (128 + SIGINT).
EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_INTERNAL, EXIT_INCOMPLETE = 0, 1, 2, 3, 4
EXIT_BROKEN_PIPE, EXIT_INTERRUPTED = 141, 130


class CashfuzzError(EngineError):
    """Base of every error cashfuzz raises on purpose."""


class UsageError(CashfuzzError, ValueError):
    """A bad option, engine name or path; the message says what would be valid."""


class Unusable(BaseException):
    """Stops a Hypothesis search at once (a BaseException is not a failure to shrink):
    the engine broke the engine protocol or the monitor failed, so no result of the
    search could mean anything. Carries that error for the search to re-raise."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error
