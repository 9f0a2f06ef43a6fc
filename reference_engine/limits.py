"""Input limits of scenario files, and the short form of a value used in every refusal.

Every limit is checked before the work it protects (a count before its items are
read, a number's digits and exponent before it is converted), so no input can make
the loader hang or allocate much more than the file it read. Each limit admits the
largest sizes cashfuzz is used with (a million bars, a hundred thousand signals in one
bar, cash to 10^10, quantities to 10^7) with room to spare. README "Scenario input
limits" lists them.
"""

from __future__ import annotations

import re
from decimal import Decimal

from .errors import ScenarioError

#: Bytes of a scenario file, and of a bars CSV file.
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_BARS = 2_000_000
MAX_SIGNALS = 2_000_000
MAX_CANCELS = 2_000_000
MAX_SYMBOLS = 100_000
#: Characters of a number, written as a JSON literal or as a decimal string.
MAX_NUMBER_CHARS = 48
#: Digits of an integer literal (Python's own limit is 4,300, and far too slow before it).
MAX_INTEGER_DIGITS = 40
#: A decimal's exponent (``1e-999999999`` would take hours to expand).
MAX_EXPONENT = 40
#: Every number's magnitude is below 10**MAX_MAGNITUDE (a 64-bit timestamp fits).
MAX_MAGNITUDE = 20
#: Money (cash, amounts, commissions) and prices, in currency units, below this.
MAX_MONEY = 10**15
#: Shares in one signal or sizer, a bar's volume and an order id fit a signed 64-bit
#: integer (an adapter may still refuse what its engine cannot hold: JavaScript past 2**53).
MAX_QUANTITY = 2**63 - 1
#: Integer timestamps fit a signed 64-bit integer (nanoseconds since 1970 do).
MAX_INTEGER_TIMESTAMP = 2**63 - 1
MAX_SYMBOL_CHARS = 64
#: A timestamp string, an enum value (``mode``, ``side``, ...), a key.
MAX_NAME_CHARS = 64
MAX_DESCRIPTION_CHARS = 65_536
#: Any other string (inside ``provenance``, for instance); its depth is
#: ``scenario.MAX_PROVENANCE_DEPTH``, and every other key has a fixed shape.
MAX_STRING_CHARS = 65_536

_SHORT_CHARS = 40
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_FRACTION = re.compile(r"[+-]?\d+/[+-]?\d+", re.ASCII)
_NOT_FINITE = re.compile(r"[+-]?(?:nan|snan|inf|infinity)", re.IGNORECASE)


def short(value: object) -> str:
    """``repr(value)``, cut to about 40 characters with the full length said, so a
    refusal never echoes a huge value; control characters come out escaped."""
    if isinstance(value, str | bytes) and len(value) > _SHORT_CHARS:
        unit = "chars" if isinstance(value, str) else "bytes"
        return f"{value[:_SHORT_CHARS]!r}…({len(value)} {unit})"
    if isinstance(value, list | tuple | dict):
        kind = type(value).__name__
        items = value.values() if isinstance(value, dict) else value
        # repr only a small flat container: a nested one could be as deep as the parser allows
        if len(value) > 4 or any(isinstance(item, list | tuple | dict) for item in items):
            return f"<{kind} of {len(value)} items>"
        text = repr(value)
        return text if len(text) <= 2 * _SHORT_CHARS else f"<{kind} of {len(value)} items>"
    if isinstance(value, int) and value.bit_length() > 1000:
        # repr of an int past 4,300 digits raises; its size is what matters here
        return f"<an integer of about {int(value.bit_length() * 0.30103):,} digits>"
    text = repr(value)
    if len(text) > 2 * _SHORT_CHARS:
        return f"{text[:_SHORT_CHARS]}…({len(text)} chars)"
    return text


class Refused:
    """A JSON value the decoder would not convert (a number past its limits, or a
    NaN/Infinity literal); the loader reports it with its key path."""

    __slots__ = ("reason", "text")

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason

    def __repr__(self) -> str:
        if len(self.text) <= _SHORT_CHARS:
            return self.text
        return f"{self.text[:_SHORT_CHARS]}…({len(self.text)} chars)"


def number_problem(text: str) -> str | None:
    """Why the number written as ``text`` is refused, or None when it is within limits.

    Cheap whatever the text: its length is checked first, then its form, then its
    exponent, without ever expanding it. ``"1/3"`` (an exact fraction) is a number too."""
    if len(text) > MAX_NUMBER_CHARS:
        return f"has {len(text)} characters; a number has at most {MAX_NUMBER_CHARS}"
    stripped = text.strip()
    if "/" in stripped:
        return None if _FRACTION.fullmatch(stripped) else "is not a fraction like '1/3'"
    if not _NUMBER.fullmatch(stripped):
        if _NOT_FINITE.fullmatch(stripped):
            return None  # the converters say "not a finite number"
        return "is not a decimal number (digits, one '.', an optional exponent)"
    return decimal_problem(Decimal(stripped))


def decimal_problem(value: Decimal) -> str | None:
    """Why a finite Decimal is refused (its exponent or magnitude), or None; O(1)."""
    if not value.is_finite():
        return None  # the converters say "not a finite number"
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if not -MAX_EXPONENT <= exponent <= MAX_EXPONENT:
        return f"has exponent {exponent}; exponents are within ±{MAX_EXPONENT}"
    if value and value.adjusted() >= MAX_MAGNITUDE:
        return f"is 1e{MAX_MAGNITUDE} or more; numbers are below 1e{MAX_MAGNITUDE}"
    return None


def check_number(value: object, where: str) -> None:
    """Refuse a number (string, Decimal, int or float) past the number limits before
    anything converts it. Other types are left to the converters. Raises ScenarioError."""
    problem: str | None = None
    if isinstance(value, Refused):
        problem = value.reason
    elif isinstance(value, str):
        problem = number_problem(value)
    elif isinstance(value, Decimal):
        problem = decimal_problem(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**MAX_MAGNITUDE:
            problem = f"is 1e{MAX_MAGNITUDE} or more; numbers are below 1e{MAX_MAGNITUDE}"
    elif isinstance(value, float) and abs(value) >= 10.0**MAX_MAGNITUDE:
        problem = f"is 1e{MAX_MAGNITUDE} or more; numbers are below 1e{MAX_MAGNITUDE}"
    if problem is not None:
        raise ScenarioError(f"{where}={short(value)} {problem}")


def check_string(value: str, where: str, limit: int) -> str:
    """Refuse a string longer than ``limit`` or holding a lone surrogate. Raises ScenarioError."""
    if len(value) > limit:
        raise ScenarioError(f"{where}={short(value)} is longer than {limit} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ScenarioError(
            f"{where}={short(value)} holds a lone surrogate at character {error.start}"
        ) from None
    return value


def check_count(items: list[object], where: str, limit: int) -> None:
    """Refuse a list with more than ``limit`` items. Raises ScenarioError."""
    if len(items) > limit:
        raise ScenarioError(f"{where} has {len(items):,} items; at most {limit:,} are allowed")
